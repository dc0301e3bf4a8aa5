using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Commissioning;
using Gateway.Configuration;
using Gateway.Drivers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Commissioning;

/// <summary>Issue 16: the preview reads proposed tags once through a temporary driver and shows them as published.</summary>
public sealed class TagPreviewTests
{
    private static readonly JsonObject s_document = new()
    {
        ["gateway"] = new JsonObject { ["id"] = "gw-test", ["enterprise"] = "acme", ["site"] = "lyon", ["area"] = "assembly", ["line"] = "line-1" },
        ["drivers"] = new JsonArray(),
        ["oee"] = new JsonObject { ["machines"] = new JsonArray(new JsonObject { ["name"] = "ghost", ["stateTag"] = "nowhere" }) },
    };

    private static JsonObject Simulated() => new()
    {
        ["name"] = "sim",
        ["type"] = "simulated",
        ["intervalMs"] = 50,
        ["machines"] = new JsonArray(new JsonObject { ["name"] = "m1", ["idealCycleMs"] = 50, ["alwaysRunning"] = true }),
    };

    private static GatewayConfig Running(MqttFormat format) => new()
    {
        Gateway = new GatewayIdentity { Id = "gw-test", Enterprise = "acme", Site = "lyon", Area = "assembly", Line = "line-1" },
        Mqtt = new MqttOptions { Format = format },
    };

    private static DriverContext Context() => new(TimeProvider.System, NullLoggerFactory.Instance);

    [Fact]
    public async Task Preview_BothFormats_GivesTheUnsTopicAndPayload_AndTheSparkplugMetricAndDatatype_OfARealSample()
    {
        var (samples, problems) = await TagPreview.RunAsync(s_document, Simulated(), Running(MqttFormat.Both), BuiltInDrivers.Factories, Context(), CancellationToken.None);

        Assert.Empty(problems);
        var counter = Assert.Single(samples, s => s.Tag == "total-count");
        Assert.Equal("Good", counter.Quality);
        Assert.Equal("acme/lyon/assembly/line-1/m1/total-count", counter.Topic);
        var payload = JsonDocument.Parse(counter.Payload!).RootElement;
        Assert.Equal(JsonValueKind.Number, payload.GetProperty("value").ValueKind);
        Assert.Equal(counter.Timestamp, payload.GetProperty("timestamp").GetString());
        Assert.Equal("total-count", counter.Metric);
        Assert.Equal("spBv1.0/lyon/DDATA/gw-test/m1", counter.SparkplugTopic);
        Assert.NotEqual("Unknown", counter.Datatype);
    }

    [Fact]
    public async Task Preview_UnsOnly_HasNoSparkplugFields_AndAnInvalidDriverGivesItsProblemsWithJsonPaths()
    {
        var (samples, _) = await TagPreview.RunAsync(s_document, Simulated(), Running(MqttFormat.Uns), BuiltInDrivers.Factories, Context(), CancellationToken.None);
        var bad = Simulated();
        bad["intervalMz"] = 5;
        var (none, problems) = await TagPreview.RunAsync(s_document, bad, Running(MqttFormat.Uns), BuiltInDrivers.Factories, Context(), CancellationToken.None);

        Assert.All(samples, s => Assert.Null(s.Metric));
        Assert.NotEmpty(samples);
        Assert.Empty(none);
        Assert.Contains(problems, p => p.Path == "drivers[0].intervalMz");
    }
}
