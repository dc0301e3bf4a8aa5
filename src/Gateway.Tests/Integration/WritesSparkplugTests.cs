using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Northbound.Sparkplug.Protobuf;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;

namespace Gateway.Tests.Integration;

/// <summary>
/// Sparkplug DCMD writes end to end: commands encoded by Eclipse Tahu's sparkplug-payload (as a host would send them),
/// the real gateway and mosquitto, a Modbus PLC (pymodbus) read back with mbpoll, and the DDATA that carries the new
/// value decoded by Tahu.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class WritesSparkplugTests
{
    [Fact]
    public async Task DeviceCommand_ByNameAndAlias_WritesThePlc_NewValueComesBackAsDeviceData_RefusalsAudited()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "spBv1.0/#");
        await collector.StartAsync();
        var plcPort = PortAllocator.FreeTcpPort();
        using var plc = new PeerProcess(Peers.Python, Peers.ModbusScript, "tcp", plcPort.ToString(CultureInfo.InvariantCulture));
        await PortAllocator.WaitForPortAsync(plcPort, TimeSpan.FromSeconds(15));
        using var config = new TestConfig().WithBroker(broker.Port);
        config.Root["mqtt"]!["format"] = "sparkplugb";
        config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "plc",
            ["type"] = "modbus-tcp",
            ["host"] = "127.0.0.1",
            ["port"] = plcPort,
            ["machine"] = "press",
            ["intervalMs"] = 200,
            ["timeoutMs"] = 500,
            ["tags"] = new JsonArray(
                new JsonObject { ["name"] = "counter", ["address"] = "holding:0", ["type"] = "uint16" },
                new JsonObject { ["name"] = "setpoint", ["address"] = "holding:10", ["type"] = "uint16", ["writable"] = true, ["max"] = 1000, ["minWriteIntervalMs"] = 0 },
                new JsonObject { ["name"] = "flow", ["address"] = "holding:12", ["type"] = "float32", ["order"] = "CDAB", ["writable"] = true }),
        });
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Topic("DBIRTH") + "/press"), TimeSpan.FromSeconds(20), "the press's DBIRTH");
        var birth = (await SparkplugTests.DecodeWithTahuAsync(collector.Messages)).First(d => d.Type == "DBIRTH" && d.Device == "press");
        string AliasOf(string name) => birth.Metrics.Single(m => m.GetProperty("name").GetString() == name).GetProperty("alias").ToString();

        // setpoint by name (UInt16), flow by its birth alias (Float), then refusals: a read-only tag, a value over max.
        var commands = await EncodeWithTahuAsync(
            """{"timestamp":1,"metrics":[{"name":"setpoint","type":"UInt16","value":444}]}""",
            $$"""{"timestamp":2,"metrics":[{"alias":{{AliasOf("flow")}},"type":"Float","value":7.25}]}""",
            """{"timestamp":3,"metrics":[{"name":"counter","type":"UInt16","value":5}]}""",
            """{"timestamp":4,"metrics":[{"name":"setpoint","type":"UInt16","value":5000}]}""",
            """{"timestamp":5,"metrics":[{"name":"Node Control/Reboot","type":"Boolean","value":true}]}""");
        await collector.PublishAsync(Topic("DCMD") + "/press", commands[0]);
        await collector.PublishAsync(Topic("DCMD") + "/press", commands[1]);
        await Eventually.LogAsync(gateway, "write audit: press/flow", TimeSpan.FromSeconds(20));
        await collector.PublishAsync(Topic("DCMD") + "/press", commands[2]);
        await collector.PublishAsync(Topic("DCMD") + "/press", commands[3]);
        await collector.PublishAsync(Topic("NCMD"), commands[4]);

        // The PLC holds the values (7.25 is 0x40E80000, CDAB: low word first).
        await Eventually.TrueAsync(async () => (await Mbpoll.ReadAsync(plcPort, "holding", 10, 1))[0] == 444, () => "setpoint 444 in the PLC\n" + gateway.Output, TimeSpan.FromSeconds(20));
        Assert.Equal(new[] { 0x0000, 0x40E8 }, await Mbpoll.ReadAsync(plcPort, "holding", 12, 2));

        // The new values come back as DDATA, by alias. Tahu's decoder gives no value for a metric without a datatype (a
        // DDATA may leave it out after the birth announced it): these are read with the protobuf classes of Tahu's .proto.
        var setpointAlias = ulong.Parse(AliasOf("setpoint"), CultureInfo.InvariantCulture);
        var flowAlias = ulong.Parse(AliasOf("flow"), CultureInfo.InvariantCulture);
        List<Payload.Types.Metric> data = [];
        await Eventually.TrueAsync(
            () =>
            {
                data = [.. collector.Messages.Where(m => m.Topic == Topic("DDATA") + "/press").SelectMany(m => Payload.Parser.ParseFrom(m.Bytes).Metrics)];
                return data.Any(m => m.Alias == setpointAlias && m.IntValue == 444) && data.Any(m => m.Alias == flowAlias && (m.FloatValue == 7.25f || m.DoubleValue == 7.25));
            },
            $"DDATA with setpoint 444 (alias {setpointAlias}) and flow 7.25 (alias {flowAlias})",
            TimeSpan.FromSeconds(20));

        await Eventually.LogAsync(gateway, "NCMD for metric 'Node Control/Reboot' refused", TimeSpan.FromSeconds(10));
        await Eventually.LogAsync(gateway, "write audit: press/setpoint = 5000", TimeSpan.FromSeconds(10));
        var log = gateway.Output;
        var dcmd = Topic("DCMD") + "/press";
        Assert.Contains($"write audit: press/setpoint = 444 from sparkplug {dcmd} (client -) via driver plc: Good, read back 444", log, StringComparison.Ordinal);
        Assert.Contains($"write audit: press/flow = 7.25 from sparkplug {dcmd} (client -) via driver plc: Good", log, StringComparison.Ordinal);
        Assert.Contains($"write audit: press/counter = 5 from sparkplug {dcmd} (client -) refused: BadNotWritable", log, StringComparison.Ordinal);
        Assert.Contains($"write audit: press/setpoint = 5000 from sparkplug {dcmd} (client -) refused: BadOutOfRange", log, StringComparison.Ordinal);
        Assert.Equal(444, (await Mbpoll.ReadAsync(plcPort, "holding", 10, 1))[0]);
        Assert.Equal(2, await gateway.MetricAsync("gateway_writes_total{driver=\"plc\",result=\"good\"}"));
    }

    private static string Topic(string type) => $"spBv1.0/lyon/{type}/gw-test";

    /// <summary>Payloads as Tahu's <c>encodePayload</c> makes them (tests/peers/sparkplug/encode.cjs).</summary>
    private static async Task<List<byte[]>> EncodeWithTahuAsync(params string[] payloads)
    {
        var peer = Path.Combine(SparkplugTests.PeerDirectory, "encode.cjs");
        var info = new ProcessStartInfo("node", [peer])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(peer)!,
        };
        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync();
        foreach (var payload in payloads)
        {
            await node.StandardInput.WriteLineAsync(JsonDocument.Parse(payload).RootElement.GetRawText());
        }

        node.StandardInput.Close();
        await node.WaitForExitAsync();
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == payloads.Length, await node.StandardError.ReadToEndAsync());
        return [.. lines.Select(Convert.FromBase64String)];
    }
}
