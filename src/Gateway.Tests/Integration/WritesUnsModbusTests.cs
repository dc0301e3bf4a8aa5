using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;

namespace Gateway.Tests.Integration;

/// <summary>
/// UNS writes end to end: the real gateway, a real mosquitto, a Modbus PLC (pymodbus) read back with mbpoll; every
/// refusal with its answer, its audit line and its count on /metrics.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class WritesUnsModbusTests
{
    private const string Press = "acme/lyon/assembly/line-1/press";

    [Fact]
    public async Task UnsSet_WritesHoldingFloat32CdabAndCoil_AnswersAfterTheReadBack_AndRefusesWhatIsNotAllowed()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        var plcPort = PortAllocator.FreeTcpPort();
        var plc = new PeerProcess(Peers.Python, Peers.ModbusScript, "tcp", plcPort.ToString(CultureInfo.InvariantCulture));
        try
        {
            await PortAllocator.WaitForPortAsync(plcPort, TimeSpan.FromSeconds(15));
            using var config = new TestConfig().WithBroker(broker.Port);
            config.Root["mqtt"]!["format"] = "uns";
            config.Root["drivers"]!.AsArray().Add(new JsonObject
            {
                ["name"] = "plc",
                ["type"] = "modbus-tcp",
                ["host"] = "127.0.0.1",
                ["port"] = plcPort,
                ["machine"] = "press",
                ["intervalMs"] = 200,
                ["timeoutMs"] = 500,
                ["backoffMinMs"] = 200,
                ["backoffMaxMs"] = 500,
                ["tags"] = new JsonArray(
                    new JsonObject { ["name"] = "counter", ["address"] = "holding:0", ["type"] = "uint16" },
                    new JsonObject { ["name"] = "setpoint", ["address"] = "holding:10", ["type"] = "uint16", ["writable"] = true, ["min"] = 0, ["max"] = 1000, ["minWriteIntervalMs"] = 0 },
                    new JsonObject { ["name"] = "flow", ["address"] = "holding:12", ["type"] = "float32", ["order"] = "CDAB", ["writable"] = true, ["minWriteIntervalMs"] = 0 },
                    new JsonObject { ["name"] = "horn", ["address"] = "coil:10", ["type"] = "bool", ["writable"] = true, ["minWriteIntervalMs"] = 0 },
                    new JsonObject { ["name"] = "recipe", ["address"] = "holding:14", ["type"] = "int16", ["writable"] = true, ["minWriteIntervalMs"] = 60000 }),
            });
            await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
            await gateway.StartAsync();
            await using var collector = new MqttCollector(broker.Port, Press + "/#");
            await collector.StartAsync();
            await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Press + "/counter"), TimeSpan.FromSeconds(20), "the PLC's live values");
            await using var writer = await WriteClient.ConnectAsync(broker.Port);

            // A holding register, bare value, answered on the response topic with the correlation data echoed.
            var setpoint = await writer.SetAsync(Press + "/setpoint", "321");
            Assert.Equal("Good", setpoint.GetProperty("status").GetString());
            Assert.Equal(321, setpoint.GetProperty("value").GetInt32());
            Assert.False(setpoint.TryGetProperty("reason", out _));
            Assert.True(DateTimeOffset.TryParse(setpoint.GetProperty("timestamp").GetString(), CultureInfo.InvariantCulture, out _));
            Assert.Equal(new[] { 321 }, await Mbpoll.ReadAsync(plcPort, "holding", 10, 1));

            // A float32 in CDAB, {"value": ...}: 12.5 is 0x41480000, low word first.
            var flow = await writer.SetAsync(Press + "/flow", "{\"value\": 12.5}");
            Assert.Equal("Good", flow.GetProperty("status").GetString());
            Assert.Equal(12.5, flow.GetProperty("value").GetDouble());
            Assert.Equal(new[] { 0x0000, 0x4148 }, await Mbpoll.ReadAsync(plcPort, "holding", 12, 2));

            // A coil, without a response topic: the answer is on /set/result.
            var horn = await writer.SetPlainAsync(Press + "/horn", "true");
            Assert.Equal("Good", horn.GetProperty("status").GetString());
            Assert.True(horn.GetProperty("value").GetBoolean());
            Assert.Equal(new[] { 1 }, await Mbpoll.ReadAsync(plcPort, "coil", 10, 1));

            // The poll shows the new value on the live topic.
            await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Press + "/setpoint" && x.Json.GetProperty("value").GetInt32() == 321), TimeSpan.FromSeconds(10), "setpoint 321 on its live topic");

            // Refusals, each with its status and reason; the PLC keeps its value.
            await AssertRefusedAsync(writer, "counter", "5", "BadNotWritable", "not writable");
            await AssertRefusedAsync(writer, "setpoint", "5000", "BadOutOfRange", "outside the tag's range [0, 1000]");
            await AssertRefusedAsync(writer, "setpoint", "\"abc\"", "BadTypeMismatch", "send a number");
            await AssertRefusedAsync(writer, "setpoint", "{\"val\": 3}", "BadDecodingError", "$.value");
            Assert.Equal(new[] { 321 }, await Mbpoll.ReadAsync(plcPort, "holding", 10, 1));
            var recipe = await writer.SetAsync(Press + "/recipe", "-7");
            Assert.Equal("Good", recipe.GetProperty("status").GetString());
            await AssertRefusedAsync(writer, "recipe", "8", "BadTooManyOperations", "minWriteIntervalMs is 60000");
            Assert.Equal(new[] { 0xFFF9 }, await Mbpoll.ReadAsync(plcPort, "holding", 14, 1));

            // The PLC is down: Bad at once, never queued (the next connection does not write it).
            plc.Dispose();
            var started = Environment.TickCount64;
            var down = await writer.SetAsync(Press + "/setpoint", "100");
            Assert.StartsWith("Bad", down.GetProperty("status").GetString(), StringComparison.Ordinal);
            Assert.True(down.TryGetProperty("reason", out _));
            Assert.True(Environment.TickCount64 - started < 10_000, "the answer to a write while the PLC is down waited for it");
            var goodBefore = collector.Messages.Count(x => x.Topic == Press + "/counter" && x.Json.GetProperty("quality").GetString() == "Good");
            plc = new PeerProcess(Peers.Python, Peers.ModbusScript, "tcp", plcPort.ToString(CultureInfo.InvariantCulture));
            await PortAllocator.WaitForPortAsync(plcPort, TimeSpan.FromSeconds(15));
            await collector.WaitUntilAsync(m => m.Count(x => x.Topic == Press + "/counter" && x.Json.GetProperty("quality").GetString() == "Good") > goodBefore, TimeSpan.FromSeconds(20), "the PLC back");
            await Task.Delay(1500); // polls of the restarted PLC: a replayed write would show now
            Assert.Equal(new[] { 0 }, await Mbpoll.ReadAsync(plcPort, "holding", 10, 1)); // a fresh PLC: 0, not the 100 of the outage

            // The audit trail: one line per write and per refusal.
            var log = gateway.Output;
            Assert.Contains("write audit: press/setpoint = 321 from uns " + Press + "/setpoint/set (client -) via driver plc: Good, read back 321", log, StringComparison.Ordinal);
            Assert.Contains("write audit: press/flow = 12.5 from uns", log, StringComparison.Ordinal);
            Assert.Contains("write audit: press/horn = true from uns", log, StringComparison.Ordinal);
            Assert.Contains("write audit: press/counter = 5 from uns " + Press + "/counter/set (client -) refused: BadNotWritable", log, StringComparison.Ordinal);
            Assert.Contains("write audit: press/setpoint = 5000 from uns " + Press + "/setpoint/set (client -) refused: BadOutOfRange", log, StringComparison.Ordinal);
            Assert.Contains("write audit: press/setpoint = \"abc\" from uns " + Press + "/setpoint/set (client -) refused: BadTypeMismatch", log, StringComparison.Ordinal);
            Assert.Contains("write audit: press/recipe = 8 from uns " + Press + "/recipe/set (client -) refused: BadTooManyOperations", log, StringComparison.Ordinal);
            Assert.Matches("write audit: press/setpoint = 100 from uns .* via driver plc: Bad", log);

            // /metrics: writes by driver and result, refusals by driver and reason.
            Assert.Equal(4, await gateway.MetricAsync("gateway_writes_total{driver=\"plc\",result=\"good\"}"));
            Assert.Equal(1, await gateway.MetricAsync("gateway_writes_total{driver=\"plc\",result=\"bad\"}"));
            Assert.Equal(1, await gateway.MetricAsync("gateway_write_refusals_total{driver=\"plc\",reason=\"not_writable\"}"));
            Assert.Equal(1, await gateway.MetricAsync("gateway_write_refusals_total{driver=\"plc\",reason=\"out_of_range\"}"));
            Assert.Equal(1, await gateway.MetricAsync("gateway_write_refusals_total{driver=\"plc\",reason=\"type\"}"));
            Assert.Equal(1, await gateway.MetricAsync("gateway_write_refusals_total{driver=\"plc\",reason=\"rate_limited\"}"));
            Assert.Equal(1, await gateway.MetricAsync("gateway_write_refusals_total{driver=\"plc\",reason=\"malformed\"}"));
        }
        finally
        {
            plc.Dispose();
        }
    }

    private static async Task AssertRefusedAsync(WriteClient writer, string tag, string payload, string status, string reason)
    {
        var answer = await writer.SetAsync(Press + "/" + tag, payload);
        Assert.Equal(status, answer.GetProperty("status").GetString());
        Assert.Contains(reason, answer.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, answer.GetProperty("timestamp").ValueKind);
    }
}
