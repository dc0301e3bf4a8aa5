using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Northbound.Sparkplug.Protobuf;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;
using Google.Protobuf;

namespace Gateway.Tests.Integration;

/// <summary>
/// Sparkplug B end to end: the real gateway, a real mosquitto, a Modbus PLC (pymodbus) that dies and returns,
/// and every payload decoded by an independent decoder (Eclipse Tahu's sparkplug-payload, from npm).
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class SparkplugTests
{

    [Fact]
    public async Task Sparkplug_BirthsAliasesSeqWrapDeathsRebirthAndHistoricalReplay_AsTahuDecodesThem()
    {
        // Births are QoS 0 (Sparkplug 3.0): let the broker queue them for the subscriber while it reconnects.
        await using var broker = new Mosquitto("queue_qos0_messages true");
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "spBv1.0/#");
        await collector.StartAsync();
        var plcPort = PortAllocator.FreeTcpPort();
        var plc = new PeerProcess(Peers.Python, Peers.ModbusScript, "tcp", plcPort.ToString(CultureInfo.InvariantCulture));
        try
        {
            await PortAllocator.WaitForPortAsync(plcPort, TimeSpan.FromSeconds(15));
            using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 20, intervalMs: 100);
            config.Root["mqtt"]!["format"] = "sparkplugb";
            config.Root["mqtt"]!["sparkplug"] = new JsonObject { ["maxMetricsPerMessage"] = 2 };
            config.Root["drivers"]!.AsArray().Add(new JsonObject
            {
                ["name"] = "plc",
                ["type"] = "modbus-tcp",
                ["host"] = "127.0.0.1",
                ["port"] = plcPort,
                ["machine"] = "press",
                ["intervalMs"] = 200,
                ["timeoutMs"] = 300,
                ["backoffMinMs"] = 200,
                ["backoffMaxMs"] = 500,
                ["tags"] = new JsonArray(
                    new JsonObject { ["name"] = "speed", ["address"] = "holding:0", ["type"] = "uint16", ["unit"] = "rpm" },
                    new JsonObject { ["name"] = "pressure", ["address"] = "holding:1", ["type"] = "uint16", ["unit"] = "bar", ["scale"] = 0.1 }),
            });
            // Disposed (killed) however the test ends: a failed wait must not leave a gateway running.
            await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
            await gateway.StartAsync();

            // Births, then data with aliases.
            await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Topic("DBIRTH") + "/press") && m.Count(x => x.Topic == Topic("DDATA") + "/m1") > 5, TimeSpan.FromSeconds(20), "births and data");

            // The PLC dies: DDEATH for its machine; it returns: DBIRTH again.
            plc.Dispose();
            await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Topic("DDEATH") + "/press"), TimeSpan.FromSeconds(20), "DDEATH of the machine whose PLC died");
            plc = new PeerProcess(Peers.Python, Peers.ModbusScript, "tcp", plcPort.ToString(CultureInfo.InvariantCulture));
            var deathIndex = collector.Messages.ToList().FindIndex(x => x.Topic == Topic("DDEATH") + "/press");
            await collector.WaitUntilAsync(m => m.Skip(deathIndex).Any(x => x.Topic == Topic("DBIRTH") + "/press"), TimeSpan.FromSeconds(30), "DBIRTH when the PLC returns");

            // Enough messages in this session for seq to wrap from 255 to 0.
            await collector.WaitUntilAsync(m => m.Skip(m.ToList().FindLastIndex(x => x.Topic == Topic("NBIRTH"))).Count() > 300, TimeSpan.FromSeconds(60), "300 messages in one session");

            // A host asks for a rebirth.
            var births = collector.Messages.Count(x => x.Topic == Topic("NBIRTH"));
            var rebirth = new Payload { Timestamp = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
            rebirth.Metrics.Add(new Payload.Types.Metric { Name = "Node Control/Rebirth", Datatype = 11, BooleanValue = true });
            await collector.PublishAsync(Topic("NCMD"), rebirth.ToByteArray());
            await collector.WaitUntilAsync(m => m.Count(x => x.Topic == Topic("NBIRTH")) > births, TimeSpan.FromSeconds(10), "NBIRTH after the rebirth command");

            // An outage: samples buffered meanwhile are replayed as historical, with their own timestamps.
            await broker.StopAsync();
            var outageStart = DateTimeOffset.UtcNow;
            await Task.Delay(TimeSpan.FromSeconds(4));
            var outageEnd = DateTimeOffset.UtcNow;
            await broker.StartAsync();
            await collector.WaitUntilAsync(m => m.Count(x => x.Topic == Topic("NBIRTH")) > births + 1, TimeSpan.FromSeconds(30), "NBIRTH after reconnecting");
            await gateway.WaitMetricAsync("gateway_buffer_samples", v => v < 50, TimeSpan.FromSeconds(30));

            // A crash: the broker publishes the NDEATH will; the next session's bdSeq is one more.
            await gateway.KillAsync();
            await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Topic("NDEATH")), TimeSpan.FromSeconds(30), "the NDEATH will");
            await using var second = new GatewayProcess(config.FilePath, config.HttpPort);
            await second.StartAsync();
            var deaths = collector.Messages.ToList().FindIndex(x => x.Topic == Topic("NDEATH"));
            await collector.WaitUntilAsync(m => m.Skip(deaths).Any(x => x.Topic == Topic("NBIRTH")), TimeSpan.FromSeconds(30), "NBIRTH of the restarted gateway");
            await second.StopAsync();

            var decoded = await DecodeWithTahuAsync(collector.Messages);
            AssertBirths(decoded);
            AssertOneBirthPerDeviceAtStart(decoded);
            AssertAliasesInData(decoded);
            AssertSeq(decoded);
            AssertBdSeq(decoded);
            AssertHistorical(decoded, outageStart, outageEnd);
        }
        finally
        {
            plc.Dispose();
        }
    }

    private static string Topic(string type) => $"spBv1.0/lyon/{type}/gw-test";

    private static void AssertBirths(List<Decoded> messages)
    {
        var nodeBirth = messages.First(m => m.Type == "NBIRTH");
        Assert.Equal(0, nodeBirth.Seq);
        Assert.Contains(nodeBirth.Metrics, m => m.GetProperty("name").GetString() == "bdSeq" && m.GetProperty("type").GetString() == "Int64");
        Assert.Contains(nodeBirth.Metrics, m => m.GetProperty("name").GetString() == "Node Control/Rebirth" && m.GetProperty("value").GetBoolean() == false);

        var pressBirth = messages.First(m => m.Type == "DBIRTH" && m.Device == "press");
        var speed = pressBirth.Metrics.First(m => m.GetProperty("name").GetString() == "speed");
        Assert.True(speed.TryGetProperty("alias", out _));
        Assert.Equal("UInt16", speed.GetProperty("type").GetString()); // its configured type, uint16
        Assert.Equal("rpm", speed.GetProperty("properties").GetProperty("engUnit").GetProperty("value").GetString());
        var machineBirth = messages.First(m => m.Type == "DBIRTH" && m.Device == "m1");
        Assert.Contains(machineBirth.Metrics, m => m.GetProperty("name").GetString() == "total-count");
        Assert.Contains(machineBirth.Metrics, m => m.GetProperty("name").GetString() == "temperature" && m.GetProperty("type").GetString() == "Double");
    }

    /// <summary>
    /// Births right the first time: until the PLC is cut, each machine has had exactly one DBIRTH, announcing the
    /// datatype of its first values (no burst of DBIRTHs correcting tags announced as Double before their first read).
    /// </summary>
    private static void AssertOneBirthPerDeviceAtStart(List<Decoded> messages)
    {
        var firstSession = messages.TakeWhile(m => !(m.Type == "DDEATH" && m.Device == "press")).ToList();
        Assert.Equal(1, firstSession.Count(m => m.Type == "NBIRTH"));
        Assert.Equal(1, firstSession.Count(m => m.Type == "DBIRTH" && m.Device == "press"));
        Assert.Equal(1, firstSession.Count(m => m.Type == "DBIRTH" && m.Device == "m1"));
    }

    private static void AssertAliasesInData(List<Decoded> messages)
    {
        var aliases = messages.Where(m => m.Type == "DBIRTH").SelectMany(m => m.Metrics).Select(m => m.GetProperty("alias").ToString()).ToHashSet();
        var data = messages.Where(m => m.Type == "DDATA").SelectMany(m => m.Metrics).ToList();
        Assert.NotEmpty(data);
        Assert.All(data, metric =>
        {
            Assert.False(metric.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString()!.Length > 0, "data messages refer to metrics by alias");
            Assert.Contains(metric.GetProperty("alias").ToString(), aliases);
        });
    }

    /// <summary>Within a session (from an NBIRTH to the next), seq goes up by one and wraps 255 → 0.</summary>
    private static void AssertSeq(List<Decoded> messages)
    {
        var wrapped = false;
        int? previous = null;
        foreach (var message in messages.Where(m => m.Type is not ("NDEATH" or "NCMD")))
        {
            if (message.Type == "NBIRTH")
            {
                previous = 0;
                continue;
            }

            if (previous is null)
            {
                continue;
            }

            Assert.True((previous.Value + 1) % 256 == message.Seq, $"{message.Topic} has seq {message.Seq} after {previous}; the messages before it: " +
                string.Join(", ", messages.TakeWhile(m => m != message).TakeLast(6).Select(m => $"{m.Type}/{m.Device} seq {m.Seq}")));
            wrapped |= previous == 255;
            previous = message.Seq;
        }

        Assert.True(wrapped, "seq never wrapped from 255 to 0");
    }

    /// <summary>
    /// Every NDEATH (the will, sent by the broker for the outage's shutdown and for the kill) carries the bdSeq
    /// of the session's NBIRTH, and the next session's NBIRTH carries one more.
    /// </summary>
    private static void AssertBdSeq(List<Decoded> messages)
    {
        var deaths = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].Type != "NDEATH")
            {
                continue;
            }

            deaths++;
            var deathBdSeq = BdSeq(messages[i]);
            var birthBefore = BdSeq(messages.Take(i).Last(m => m.Type == "NBIRTH"));
            Assert.Equal(birthBefore, deathBdSeq);
            if (messages.Skip(i).FirstOrDefault(m => m.Type == "NBIRTH") is { } next)
            {
                Assert.Equal((deathBdSeq + 1) % 256, BdSeq(next));
            }
        }

        Assert.True(deaths >= 2, $"{deaths} NDEATH seen: expected the will after the kill and the clean stop's");
    }

    private static void AssertHistorical(List<Decoded> messages, DateTimeOffset outageStart, DateTimeOffset outageEnd)
    {
        var historical = messages.Where(m => m.Type == "DDATA").SelectMany(m => m.Metrics)
            .Where(m => m.TryGetProperty("isHistorical", out var h) && h.GetBoolean())
            .Select(m => DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(m.GetProperty("timestamp").ToString(), CultureInfo.InvariantCulture)))
            .ToList();
        Assert.True(historical.Count(t => t > outageStart.AddMilliseconds(500) && t < outageEnd.AddMilliseconds(-500)) > 20, $"{historical.Count} historical metrics, too few inside the outage");
    }

    private static long BdSeq(Decoded birth) =>
        long.Parse(birth.Metrics.Single(m => m.GetProperty("name").GetString() == "bdSeq").GetProperty("value").ToString(), CultureInfo.InvariantCulture);

    internal static async Task<List<Decoded>> DecodeWithTahuAsync(IReadOnlyList<Received> messages)
    {
        var peer = Path.Combine(RepositoryRoot(), "tests", "peers", "sparkplug");
        if (!Directory.Exists(Path.Combine(peer, "node_modules")))
        {
            using var npm = Process.Start(new ProcessStartInfo("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"]) { WorkingDirectory = peer })!;
            await npm.WaitForExitAsync();
        }

        var info = new ProcessStartInfo("node", [Path.Combine(peer, "decode.cjs")])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = peer,
        };
        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync();
        // QoS 1 is at least once: a message the broker was delivering when it stopped comes again, byte for
        // byte, after the restart. Such copies are the broker's, not new messages from the gateway.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var message in messages.Where(m => m.Topic.StartsWith("spBv1.0/", StringComparison.Ordinal) && seen.Add(m.Topic + " " + Convert.ToBase64String(m.Bytes))))
        {
            await node.StandardInput.WriteLineAsync($"{message.Topic} {Convert.ToBase64String(message.Bytes)}");
        }

        node.StandardInput.Close();
        await node.WaitForExitAsync();
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 0, await node.StandardError.ReadToEndAsync());
        return lines.Select(line =>
        {
            var json = JsonDocument.Parse(line).RootElement;
            Assert.False(json.TryGetProperty("error", out var error), $"Tahu could not decode {json.GetProperty("topic")}: {error}");
            return new Decoded(json.GetProperty("topic").GetString()!, json.GetProperty("payload"));
        }).ToList();
    }

    /// <summary>tests/peers/sparkplug: Tahu's sparkplug-payload and the scripts around it.</summary>
    internal static string PeerDirectory => Path.Combine(RepositoryRoot(), "tests", "peers", "sparkplug");

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }

    internal sealed record Decoded(string Topic, JsonElement Payload)
    {
        public string Type => Topic.Split('/')[2];

        public string? Device => Topic.Split('/').ElementAtOrDefault(4);

        public int Seq => Payload.TryGetProperty("seq", out var seq) ? int.Parse(seq.ToString(), CultureInfo.InvariantCulture) : -1;

        public IEnumerable<JsonElement> Metrics => Payload.TryGetProperty("metrics", out var metrics) ? metrics.EnumerateArray() : [];
    }
}
