using System.Globalization;
using System.Text.Json.Nodes;
using Gateway.Northbound.Sparkplug.Protobuf;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;

namespace Gateway.Tests.Integration;

/// <summary>
/// Values at their source width, end to end: a pymodbus PLC holding float32 22.1 and -0.1 in two word orders and a
/// uint64 of 2^64-1, the real gateway (UNS and Sparkplug at once), a real mosquitto, Sparkplug decoded by Tahu.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class SourceWidthTests
{
    private const string Line = "acme/lyon/assembly/line-1/press";
    private const string DeviceBirth = "spBv1.0/lyon/DBIRTH/gw-test/press";

    [Fact]
    public async Task ModbusFloat32AndUInt64_ArriveAsShortestFloatTextAndExactInteger_InUnsAndAsFloatAndUInt64InTheFirstDbirth()
    {
        await using var broker = new Mosquitto("queue_qos0_messages true");
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "#");
        await collector.StartAsync();
        var plcPort = PortAllocator.FreeTcpPort();
        using var plc = new PeerProcess(Peers.Python, Peers.ModbusScript, "tcp", plcPort.ToString(CultureInfo.InvariantCulture));
        await PortAllocator.WaitForPortAsync(plcPort, TimeSpan.FromSeconds(15));

        using var config = new TestConfig().WithBroker(broker.Port);
        config.Root["mqtt"]!["format"] = "both";
        config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "plc",
            ["type"] = "modbus-tcp",
            ["host"] = "127.0.0.1",
            ["port"] = plcPort,
            ["machine"] = "press",
            ["intervalMs"] = 200,
            ["timeoutMs"] = 5000, // a loaded machine must not turn the first values into Bad samples
            ["tags"] = new JsonArray(
                new JsonObject { ["name"] = "t-abcd", ["address"] = "holding:181", ["type"] = "float32", ["order"] = "ABCD" },
                new JsonObject { ["name"] = "t-cdab", ["address"] = "holding:183", ["type"] = "float32", ["order"] = "CDAB" },
                new JsonObject { ["name"] = "n-cdab", ["address"] = "holding:187", ["type"] = "float32", ["order"] = "CDAB" },
                new JsonObject { ["name"] = "t-scaled", ["address"] = "holding:181", ["type"] = "float32", ["scale"] = 10 },
                new JsonObject { ["name"] = "counter", ["address"] = "holding:190", ["type"] = "uint64" }),
        });
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        static bool IsGood(Received m) => m.Payload.Contains("\"quality\":\"Good\"", StringComparison.Ordinal);
        string[] tags = ["t-abcd", "t-cdab", "n-cdab", "t-scaled", "counter"];
        await collector.WaitUntilAsync(
            m => tags.All(t => m.Any(x => x.Topic == $"{Line}/{t}" && IsGood(x))) && m.Any(x => x.Topic == DeviceBirth),
            TimeSpan.FromSeconds(30),
            "a Good UNS value of every tag and the DBIRTH of press");
        await gateway.StopAsync();

        // UNS: the raw JSON text, not a number parsed back (22.100000381469727 would parse to an equal double).
        string Uns(string tag) => collector.Messages.First(x => x.Topic == $"{Line}/{tag}" && IsGood(x)).Payload;
        Assert.Contains("\"value\":22.1,", Uns("t-abcd"), StringComparison.Ordinal);
        Assert.Contains("\"value\":22.1,", Uns("t-cdab"), StringComparison.Ordinal);
        Assert.Contains("\"value\":-0.1,", Uns("n-cdab"), StringComparison.Ordinal);
        Assert.Contains("\"value\":18446744073709551615,", Uns("counter"), StringComparison.Ordinal);
        // Scaled, the value is computed in double: 22.1f × 10 is not 221 exactly, and is published as the double it is.
        Assert.Contains("\"value\":221.00000381469727,", Uns("t-scaled"), StringComparison.Ordinal);

        // Sparkplug: the first DBIRTH of press (and the only one) announces each tag at its source type.
        var births = collector.Messages.Where(x => x.Topic == DeviceBirth).ToList();
        Assert.Single(births);
        var birth = Payload.Parser.ParseFrom(births[0].Bytes);
        Payload.Types.Metric Metric(string name) => birth.Metrics.Single(m => m.Name == name);
        Assert.Equal(9u, Metric("t-abcd").Datatype);
        Assert.Equal(22.1f, Metric("t-abcd").FloatValue);
        Assert.Equal(9u, Metric("t-cdab").Datatype);
        Assert.Equal(22.1f, Metric("t-cdab").FloatValue);
        Assert.Equal(-0.1f, Metric("n-cdab").FloatValue);
        Assert.Equal(10u, Metric("t-scaled").Datatype);
        Assert.Equal(8u, Metric("counter").Datatype);
        Assert.Equal(ulong.MaxValue, Metric("counter").LongValue);

        // And as an independent host decodes it.
        var decoded = await SparkplugTests.DecodeWithTahuAsync([.. collector.Messages.Where(x => x.Topic == DeviceBirth)]);
        var metrics = decoded.Single().Metrics.ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal("Float", metrics["t-abcd"].GetProperty("type").GetString());
        Assert.Equal("Float", metrics["t-cdab"].GetProperty("type").GetString());
        Assert.Equal("Float", metrics["n-cdab"].GetProperty("type").GetString());
        Assert.Equal(22.1f, (float)metrics["t-abcd"].GetProperty("value").GetDouble());
        Assert.Equal("Double", metrics["t-scaled"].GetProperty("type").GetString());
        Assert.Equal("UInt64", metrics["counter"].GetProperty("type").GetString());
        Assert.Equal("18446744073709551615", metrics["counter"].GetProperty("value").ToString());
    }
}
