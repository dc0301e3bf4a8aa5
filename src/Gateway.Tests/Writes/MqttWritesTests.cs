using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Tests.Abstractions;
using Gateway.Writes;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;

namespace Gateway.Tests.Writes;

/// <summary>The UNS write side without a broker: topics, payloads, answers, and what is refused before any driver.</summary>
public sealed class MqttWritesTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 10, 0, 0, 123, TimeSpan.Zero));
    private readonly RateLimitedLogTests.ListLogger _log = new();

    private MqttWrites Create(Action<GatewayConfig>? change = null)
    {
        var config = new GatewayConfig
        {
            Drivers =
            [
                new DriverConfig
                {
                    Name = "plc",
                    Type = "modbus-tcp",
                    Machine = "press",
                    Tags =
                    [
                        new TagConfig { Name = "setpoint", Type = "int16", Writable = true, MinWriteIntervalMs = 0 },
                        new TagConfig { Name = "count", Type = "uint32" },
                    ],
                },
            ],
        };
        change?.Invoke(config);
        return new MqttWrites(new WriteGate(config, new NoDrivers(), _time, _log), tag => "uns/" + tag.Key, _log);
    }

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void SetTopics_EveryConfiguredTag_NoneWhenWritesAreOff()
    {
        Assert.Equal(["uns/press/setpoint/set", "uns/press/count/set"], Create().SetTopics);
        Assert.Empty(Create(c => c.Writes.Enabled = false).SetTopics);
    }

    [Theory]
    [InlineData("42", SampleValueKind.Integer, "42")]
    [InlineData("-1.5", SampleValueKind.Double, "-1.5")]
    [InlineData("true", SampleValueKind.Boolean, "true")]
    [InlineData("\"R-42\"", SampleValueKind.String, "\"R-42\"")]
    [InlineData("{\"value\": 7}", SampleValueKind.Integer, "7")]
    [InlineData(" {\"value\": false, \"note\": \"x\"} ", SampleValueKind.Boolean, "false")]
    public void TryParse_ABareValueOrAnObjectWithValue(string payload, SampleValueKind kind, string described)
    {
        Assert.True(MqttWrites.TryParse(Bytes(payload), out var value, out var problem), problem);
        Assert.Equal(kind, value.Kind);
        Assert.Equal(described, TagWriteTypes.Describe(value));
    }

    [Theory]
    [InlineData("", "empty payload")]
    [InlineData("on", "not JSON")]
    [InlineData("{\"val\": 3}", "$.value: missing")]
    [InlineData("42 43", "invalid after a single JSON value")]
    [InlineData("null", "$: a null is no write value")]
    [InlineData("{\"value\": [1, 2]}", "$.value: a array is no write value")]
    public void TryParse_AnythingElse_SaysWhatIsWrongWithItsPath(string payload, string expected)
    {
        Assert.False(MqttWrites.TryParse(Bytes(payload), out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ResultPayload_StatusValueTimestampAndReasonWhenNotGood()
    {
        var good = JsonDocument.Parse(MqttWrites.ResultPayload(new WriteResult(SampleStatus.Good, SampleValue.FromFloat(22.1f), _time.GetUtcNow(), null))).RootElement;
        Assert.Equal("""{"status":"Good","value":22.1,"timestamp":"2026-12-03T10:00:00.123Z"}""", good.GetRawText());
        var bad = JsonDocument.Parse(MqttWrites.ResultPayload(new WriteResult(SampleStatus.BadOutOfRange, SampleValue.FromInteger(5000), _time.GetUtcNow(), "too high"))).RootElement;
        Assert.Equal("BadOutOfRange", bad.GetProperty("status").GetString());
        Assert.Equal("too high", bad.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Write_Retained_IsRefusedAndAudited_NeverExecuted()
    {
        var writes = Create();
        var message = new MqttApplicationMessageBuilder().WithTopic("uns/press/setpoint/set").WithPayload("5").WithRetainFlag().Build();

        var result = await writes.WriteAsync(message, "press/setpoint", CancellationToken.None);

        Assert.Equal("BadNotSupported", result.Status);
        Assert.Contains("retained", result.Reason, StringComparison.Ordinal);
        Assert.Contains(_log.Lines, l => l.Contains("write audit: press/setpoint = (none) from uns uns/press/setpoint/set (client -) refused: BadNotSupported", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Write_AllowList_TheDeclaredClientMustBeOnIt()
    {
        var writes = Create(c => c.Writes.AllowedClients = ["mes-1"]);
        var stranger = new MqttApplicationMessageBuilder().WithTopic("uns/press/setpoint/set").WithPayload("5").WithUserProperty("client", Encoding.UTF8.GetBytes("laptop")).Build();
        var anonymous = new MqttApplicationMessageBuilder().WithTopic("uns/press/setpoint/set").WithPayload("5").Build();
        var mes = new MqttApplicationMessageBuilder().WithTopic("uns/press/setpoint/set").WithPayload("5").WithUserProperty("user", Encoding.UTF8.GetBytes("mes-1")).Build();

        Assert.Equal("BadUserAccessDenied", (await writes.WriteAsync(stranger, "press/setpoint", CancellationToken.None)).Status);
        Assert.Equal("BadUserAccessDenied", (await writes.WriteAsync(anonymous, "press/setpoint", CancellationToken.None)).Status);
        // On the list: past the gate's checks, to the driver (none is running here).
        var allowed = await writes.WriteAsync(mes, "press/setpoint", CancellationToken.None);
        Assert.Equal("BadNotConnected", allowed.Status);
        Assert.Contains(_log.Lines, l => l.Contains("(client laptop) refused: BadUserAccessDenied", StringComparison.Ordinal));
    }

    private sealed class NoDrivers : IDriverCatalog
    {
        public IReadOnlyList<IDriver> Drivers { get; } = [];
    }
}
