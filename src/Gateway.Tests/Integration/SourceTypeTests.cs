using System.Globalization;
using System.Text.Json.Nodes;
using Gateway.Northbound.Sparkplug.Protobuf;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;
using Gateway.Tests.OpcUa;

namespace Gateway.Tests.Integration;

/// <summary>
/// Sparkplug datatypes of the source, end to end: a pymodbus PLC (int16 -1234, uint16 54321, int32, uint32 3e9)
/// and node-opcua (SByte -5, Byte 200, Int16 -1234, UInt32 4e9), the real gateway, a real mosquitto; the first and
/// only DBIRTH of each machine is checked on the wire (the protobuf field) and as Eclipse Tahu decodes it.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class SourceTypeTests
{
    private const string PressBirth = "spBv1.0/lyon/DBIRTH/gw-test/press";
    private const string CellBirth = "spBv1.0/lyon/DBIRTH/gw-test/cell";

    [Fact]
    public async Task ModbusAndOpcUaIntegers_AreAnnouncedAtTheirSourceWidth_InTheFirstDbirth_AsTahuDecodesThem()
    {
        await using var broker = new Mosquitto("queue_qos0_messages true");
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "spBv1.0/#");
        await collector.StartAsync();
        var plcPort = PortAllocator.FreeTcpPort();
        using var plc = new PeerProcess(Peers.Python, Peers.ModbusScript, "tcp", plcPort.ToString(CultureInfo.InvariantCulture));
        await PortAllocator.WaitForPortAsync(plcPort, TimeSpan.FromSeconds(15));
        await using var opc = await NodeOpcUaServer.StartAsync();

        using var config = new TestConfig().WithBroker(broker.Port);
        config.Root["mqtt"]!["format"] = "sparkplugb";
        var drivers = config.Root["drivers"]!.AsArray();
        drivers.Add(new JsonObject
        {
            ["name"] = "plc",
            ["type"] = "modbus-tcp",
            ["host"] = "127.0.0.1",
            ["port"] = plcPort,
            ["machine"] = "press",
            ["intervalMs"] = 200,
            ["timeoutMs"] = 5000,
            ["tags"] = new JsonArray(
                new JsonObject { ["name"] = "i16", ["address"] = "holding:100", ["type"] = "int16" },
                new JsonObject { ["name"] = "u16", ["address"] = "holding:101", ["type"] = "uint16" },
                new JsonObject { ["name"] = "i32", ["address"] = "holding:102", ["type"] = "int32" },
                new JsonObject { ["name"] = "u32", ["address"] = "holding:110", ["type"] = "uint32" },
                new JsonObject { ["name"] = "scaled", ["address"] = "holding:100", ["type"] = "int16", ["scale"] = 0.1 }),
        });
        drivers.Add(new JsonObject
        {
            ["name"] = "opc",
            ["type"] = "opcua",
            ["endpointUrl"] = opc.Url,
            ["machine"] = "cell",
            ["tags"] = new JsonArray(
                new JsonObject { ["name"] = "sbyte", ["address"] = "ns=1;s=Types.SByte" },
                new JsonObject { ["name"] = "byte", ["address"] = "ns=1;s=Types.Byte" },
                new JsonObject { ["name"] = "i16", ["address"] = "ns=1;s=Types.Int16" },
                new JsonObject { ["name"] = "u32", ["address"] = "ns=1;s=Types.UInt32" }),
        });
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await collector.WaitUntilAsync(
            m => m.Any(x => x.Topic == PressBirth) && m.Any(x => x.Topic == CellBirth),
            TimeSpan.FromSeconds(30),
            "the DBIRTHs of press and cell");
        await Task.Delay(TimeSpan.FromSeconds(2)); // room for a (wrong) second DBIRTH to show
        await gateway.StopAsync();

        Assert.Single(collector.Messages, x => x.Topic == PressBirth);
        Assert.Single(collector.Messages, x => x.Topic == CellBirth);

        var press = Payload.Parser.ParseFrom(collector.Messages.First(x => x.Topic == PressBirth).Bytes).Metrics.ToDictionary(m => m.Name);
        Assert.Equal(2u, press["i16"].Datatype);
        Assert.Equal(Payload.Types.Metric.ValueOneofCase.IntValue, press["i16"].ValueCase);
        Assert.Equal(-1234, (int)press["i16"].IntValue); // 32-bit two's complement
        Assert.Equal(6u, press["u16"].Datatype);
        Assert.Equal(54321u, press["u16"].IntValue);
        Assert.Equal(3u, press["i32"].Datatype);
        Assert.Equal(-123456789, (int)press["i32"].IntValue);
        Assert.Equal(7u, press["u32"].Datatype);
        Assert.Equal(3_000_000_000ul, press["u32"].LongValue);
        Assert.Equal(10u, press["scaled"].Datatype);

        var decoded = await SparkplugTests.DecodeWithTahuAsync([.. collector.Messages.Where(x => x.Topic is PressBirth or CellBirth)]);
        Dictionary<string, System.Text.Json.JsonElement> Metrics(string device) =>
            decoded.First(d => d.Device == device).Metrics.ToDictionary(m => m.GetProperty("name").GetString()!);
        var tahuPress = Metrics("press");
        Assert.Equal("Int16", tahuPress["i16"].GetProperty("type").GetString());
        Assert.Equal(-1234, tahuPress["i16"].GetProperty("value").GetInt32());
        Assert.Equal("UInt16", tahuPress["u16"].GetProperty("type").GetString());
        Assert.Equal(54321, tahuPress["u16"].GetProperty("value").GetInt32());
        Assert.Equal("Int32", tahuPress["i32"].GetProperty("type").GetString());
        Assert.Equal(-123456789, tahuPress["i32"].GetProperty("value").GetInt32());
        Assert.Equal("UInt32", tahuPress["u32"].GetProperty("type").GetString());
        Assert.Equal("3000000000", tahuPress["u32"].GetProperty("value").ToString());
        Assert.Equal("Double", tahuPress["scaled"].GetProperty("type").GetString());

        var cell = Metrics("cell");
        Assert.Equal("Int8", cell["sbyte"].GetProperty("type").GetString());
        Assert.Equal(-5, cell["sbyte"].GetProperty("value").GetInt32());
        Assert.Equal("UInt8", cell["byte"].GetProperty("type").GetString());
        Assert.Equal(200, cell["byte"].GetProperty("value").GetInt32());
        Assert.Equal("Int16", cell["i16"].GetProperty("type").GetString());
        Assert.Equal(-1234, cell["i16"].GetProperty("value").GetInt32());
        Assert.Equal("UInt32", cell["u32"].GetProperty("type").GetString());
        Assert.Equal("4000000000", cell["u32"].GetProperty("value").ToString());
    }
}
