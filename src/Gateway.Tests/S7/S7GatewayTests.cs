using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Drivers;
using Gateway.Tests.Infrastructure;
using Xunit;

namespace Gateway.Tests.S7;

/// <summary>The gateway process with an <c>s7</c> driver reading snap7's server, publishing the UNS to mosquitto.</summary>
public sealed class S7GatewayTests(Snap7Fixture peer) : IClassFixture<Snap7Fixture>
{
    [Fact]
    public async Task Gateway_S7DriverOnSnap7_PublishesEveryTypeToTheUns()
    {
        await using var broker = new Mosquitto("queue_qos0_messages true");
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "#");
        await collector.StartAsync();
        var rows = S7PeerTests.EveryType().Select(r => (Address: (string)r[0], Type: (string?)r[1], Expected: (string)r[2], Kind: (SampleValueKind)r[3])).ToList();
        using var config = new TestConfig().WithBroker(broker.Port);
        var tags = new JsonArray();
        for (var i = 0; i < rows.Count; i++)
        {
            var tag = new JsonObject { ["name"] = $"t{i}", ["path"] = $"values/t{i}", ["address"] = rows[i].Address };
            if (rows[i].Type is { } type)
            {
                tag["type"] = type;
            }

            tags.Add(tag);
        }

        config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "press-plc",
            ["type"] = "s7",
            ["host"] = "127.0.0.1",
            ["port"] = peer.Port,
            ["rack"] = 0,
            ["slot"] = 1,
            ["machine"] = "press",
            ["intervalMs"] = 200,
            ["timeoutMs"] = 5000,
            ["tags"] = tags,
        });
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        static string Topic(int i) => $"acme/lyon/assembly/line-1/press/values/t{i}";
        static bool IsGood(Received m) => m.Payload.Contains("\"quality\":\"Good\"", StringComparison.Ordinal);
        await collector.WaitUntilAsync(m => Enumerable.Range(0, rows.Count).All(i => m.Any(x => x.Topic == Topic(i) && IsGood(x))), TimeSpan.FromSeconds(30), "a Good value on every S7 tag's topic");

        // The driver's counters are exported per driver.
        var metrics = await gateway.GetAsync("/metrics");
        Assert.Contains("gateway_s7_requests_total{driver=\"press-plc\"}", metrics, StringComparison.Ordinal);

        for (var i = 0; i < rows.Count; i++)
        {
            var value = JsonDocument.Parse(collector.Messages.First(x => x.Topic == Topic(i) && IsGood(x)).Bytes).RootElement.GetProperty("value");
            var text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => value.GetRawText(),
            };
            Assert.True(rows[i].Expected == text, $"{rows[i].Address} ({rows[i].Type ?? "default"}): expected {rows[i].Expected}, published {value.GetRawText()}");
        }
    }
}
