using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.OpcUa;

namespace Gateway.Tests.Integration;

/// <summary>
/// OPC UA writes end to end against node-opcua: UNS <c>/set</c> through the real gateway and mosquitto, and
/// <c>gateway opcua write</c>; every value read back with node-opcua's own client (tests/peers/opcua/read.mjs).
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class WritesOpcUaTests
{
    private const string Cell = "acme/lyon/assembly/line-1/cell";

    [Fact]
    public async Task UnsSetAndCli_WriteDoubleInt16Boolean_ServerRefusalComesBackAsBadNotWritable()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var opc = await NodeOpcUaServer.StartAsync("--big", "10");
        using var config = new TestConfig().WithBroker(broker.Port);
        config.Root["mqtt"]!["format"] = "uns";
        config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "ua",
            ["type"] = "opcua",
            ["endpointUrl"] = opc.Url,
            ["machine"] = "cell",
            ["tags"] = new JsonArray(
                new JsonObject { ["name"] = "dbl", ["address"] = "ns=1;s=Writes.Double", ["type"] = "Double", ["writable"] = true, ["minWriteIntervalMs"] = 0 },
                new JsonObject { ["name"] = "i16", ["address"] = "ns=1;s=Writes.Int16", ["type"] = "Int16", ["writable"] = true, ["minWriteIntervalMs"] = 0 },
                new JsonObject { ["name"] = "flag", ["address"] = "ns=1;s=Writes.Boolean", ["type"] = "Boolean", ["writable"] = true, ["minWriteIntervalMs"] = 0 },
                new JsonObject { ["name"] = "locked", ["address"] = "ns=1;s=Writes.Locked", ["type"] = "Double", ["writable"] = true, ["minWriteIntervalMs"] = 0 }),
        });
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await using var collector = new MqttCollector(broker.Port, Cell + "/#");
        await collector.StartAsync();
        await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Cell + "/locked"), TimeSpan.FromSeconds(30), "the server's values");
        await using var writer = await WriteClient.ConnectAsync(broker.Port);

        var dbl = await writer.SetAsync(Cell + "/dbl", "3.5");
        Assert.Equal("Good", dbl.GetProperty("status").GetString());
        Assert.Equal(3.5, dbl.GetProperty("value").GetDouble());
        var i16 = await writer.SetAsync(Cell + "/i16", "{\"value\": -300}");
        Assert.Equal("Good", i16.GetProperty("status").GetString());
        Assert.Equal(-300, i16.GetProperty("value").GetInt32());
        var flag = await writer.SetAsync(Cell + "/flag", "true");
        Assert.Equal("Good", flag.GetProperty("status").GetString());
        Assert.True(flag.GetProperty("value").GetBoolean());

        // The server refuses: its status comes back as the answer, the value stays.
        var locked = await writer.SetAsync(Cell + "/locked", "1");
        Assert.Equal("BadNotWritable", locked.GetProperty("status").GetString());
        // Out of the tag's type before the server is asked.
        var tooBig = await writer.SetAsync(Cell + "/i16", "70000");
        Assert.Equal("BadOutOfRange", tooBig.GetProperty("status").GetString());

        var read = await ReadWithNodeOpcUaAsync(opc.Url, "ns=1;s=Writes.Double", "ns=1;s=Writes.Int16", "ns=1;s=Writes.Boolean", "ns=1;s=Writes.Locked");
        Assert.Equal(3.5, read["ns=1;s=Writes.Double"].GetProperty("value").GetDouble());
        Assert.Equal("Int16", read["ns=1;s=Writes.Int16"].GetProperty("dataType").GetString());
        Assert.Equal(-300, read["ns=1;s=Writes.Int16"].GetProperty("value").GetInt32());
        Assert.True(read["ns=1;s=Writes.Boolean"].GetProperty("value").GetBoolean());
        Assert.Equal(42, read["ns=1;s=Writes.Locked"].GetProperty("value").GetDouble());

        var log = gateway.Output;
        Assert.Contains("write audit: cell/dbl = 3.5 from uns " + Cell + "/dbl/set (client -) via driver ua: Good, read back 3.5", log, StringComparison.Ordinal);
        Assert.Contains("write audit: cell/i16 = -300 from uns " + Cell + "/i16/set (client -) via driver ua: Good, read back -300", log, StringComparison.Ordinal);
        Assert.Contains("write audit: cell/locked = 1 from uns " + Cell + "/locked/set (client -) via driver ua: BadNotWritable", log, StringComparison.Ordinal);
        Assert.Contains("write audit: cell/i16 = 70000 from uns " + Cell + "/i16/set (client -) refused: BadOutOfRange", log, StringComparison.Ordinal);
        Assert.Equal(3, await gateway.MetricAsync("gateway_writes_total{driver=\"ua\",result=\"good\"}"));
        Assert.Equal(1, await gateway.MetricAsync("gateway_writes_total{driver=\"ua\",result=\"bad\"}"));

        // The command line: written and read back (exit 0); refused by the server (exit 1); not of the node's type (exit 2).
        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("opcua", "write", opc.Url, "ns=1;s=Writes.Double", "9.25");
        Assert.True(exit == 0, stderr);
        Assert.Contains("ns=1;s=Writes.Double = 9.25", stdout, StringComparison.Ordinal);
        Assert.Equal(9.25, (await ReadWithNodeOpcUaAsync(opc.Url, "ns=1;s=Writes.Double"))["ns=1;s=Writes.Double"].GetProperty("value").GetDouble());
        (exit, _, stderr) = await GatewayProcess.RunVerbAsync("opcua", "write", opc.Url, "ns=1;s=Writes.Locked", "1");
        Assert.Equal(1, exit);
        Assert.Contains("BadNotWritable", stderr, StringComparison.Ordinal);
        (exit, _, stderr) = await GatewayProcess.RunVerbAsync("opcua", "write", opc.Url, "ns=1;s=Writes.Int16", "70000");
        Assert.Equal(2, exit);
        Assert.Contains("does not fit int16", stderr, StringComparison.Ordinal);
        (exit, _, _) = await GatewayProcess.RunVerbAsync("opcua", "write", opc.Url, "ns=1;s=Writes.Boolean", "false", "--type", "Boolean");
        Assert.Equal(0, exit);
        Assert.False((await ReadWithNodeOpcUaAsync(opc.Url, "ns=1;s=Writes.Boolean"))["ns=1;s=Writes.Boolean"].GetProperty("value").GetBoolean());
    }

    private static async Task<Dictionary<string, JsonElement>> ReadWithNodeOpcUaAsync(string url, params string[] nodes)
    {
        var info = new ProcessStartInfo("node", [Path.Combine(NodeOpcUaServer.PeerDirectory, "read.mjs"), url, .. nodes])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = NodeOpcUaServer.PeerDirectory,
        };
        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await node.WaitForExitAsync(timeout.Token);
        // node-opcua prints its own warnings on stdout too: the answers are the JSON lines.
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).ToArray();
        Assert.True(lines.Length == nodes.Length, "read.mjs: " + await output + await error);
        return lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToDictionary(e => e.GetProperty("nodeId").GetString()!);
    }
}
