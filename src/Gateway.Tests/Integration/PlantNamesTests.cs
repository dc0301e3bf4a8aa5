using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Drivers.Modbus;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;

namespace Gateway.Tests.Integration;

/// <summary>
/// A plant that names things in its own language: spaces, accents, emoji, '=', ',' and '"' in the ISA-95 place,
/// the machines and the tag paths, and a PLC string with quotes, backslashes, a control character and a newline.
/// One run of the real gateway; what mosquitto carries (UNS), what Eclipse Tahu decodes (Sparkplug B), what
/// InfluxDB 1.x stores and what the dashboard serves must all be exactly those names and that value.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class PlantNamesTests
{
    private const string Area = "Atelier=1,\"A\"";
    private const string Press = "Presse à chaud";
    private const string Robot = "Robot 🤖";
    private const string MessagePath = "message \"opérateur\", n=1";

    /// <summary>20 Latin-1 bytes in holding registers 10..19; the driver trims the trailing spaces.</summary>
    private const string PlcText = "q\"b\\c\u0001\né,x= y\\";

    [Fact]
    public async Task UnicodeAndSpecialNames_ArriveIntact_InUnsSparkplugInfluxAndDashboard()
    {
        await using var broker = new Mosquitto("queue_qos0_messages true");
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "#");
        await collector.StartAsync();
        await using var influx = new InfluxServer();
        await influx.StartAsync();
        await influx.CreateDatabaseAsync("plant");
        var plcPort = PortAllocator.FreeTcpPort();
        using var plc = new PeerProcess(Peers.Python, Peers.ModbusScript, "tcp", plcPort.ToString(CultureInfo.InvariantCulture));
        await PortAllocator.WaitForPortAsync(plcPort, TimeSpan.FromSeconds(15));
        await WritePlcTextAsync(plcPort);

        using var config = new TestConfig().WithBroker(broker.Port);
        config.Root["gateway"] = new JsonObject { ["id"] = "passerelle été", ["enterprise"] = "Société Générale", ["site"] = "Usine Lyon", ["area"] = Area, ["line"] = "Ligne-2" };
        config.Root["mqtt"]!["format"] = "both";
        config.Root["influx"] = new JsonObject { ["url"] = influx.Url, ["version"] = 1, ["database"] = "plant" };
        config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "plc",
            ["type"] = "modbus-tcp",
            ["host"] = "127.0.0.1",
            ["port"] = plcPort,
            ["machine"] = Press,
            ["intervalMs"] = 200,
            ["timeoutMs"] = 5000, // a loaded CI machine must not turn the values checked below into Bad samples
            ["tags"] = new JsonArray(
                new JsonObject { ["name"] = "temp", ["path"] = "zone 1/température", ["address"] = "holding:1", ["type"] = "uint16", ["unit"] = "°C", ["scale"] = 0.1 },
                new JsonObject { ["name"] = "msg", ["path"] = MessagePath, ["address"] = "holding:10", ["type"] = "string", ["length"] = 20 },
                new JsonObject { ["name"] = "robot", ["machine"] = Robot, ["path"] = "état", ["address"] = "holding:0", ["type"] = "uint16" }),
        });
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        // UNS: the topic levels are the names as configured, the payload is JSON carrying the string exactly.
        var line = $"Société Générale/Usine Lyon/{Area}/Ligne-2";
        var messageTopic = $"{line}/{Press}/{MessagePath}";
        var temperatureTopic = $"{line}/{Press}/zone 1/température";
        // Good values only: on a loaded machine a first poll may time out, and its Bad sample (value null) comes first.
        static bool IsGood(string payload) => payload.Contains("\"quality\":\"Good\"", StringComparison.Ordinal);
        await collector.WaitUntilAsync(
            m => m.Any(x => x.Topic == messageTopic && IsGood(x.Payload)) && m.Any(x => x.Topic == $"{line}/{Robot}/état") && m.Any(x => x.Topic == temperatureTopic && IsGood(x.Payload))
                && m.Any(x => x.Topic == "spBv1.0/Usine Lyon/DBIRTH/passerelle été/" + Press) && m.Any(x => x.Topic == "spBv1.0/Usine Lyon/DBIRTH/passerelle été/" + Robot),
            TimeSpan.FromSeconds(30),
            "UNS topics and Sparkplug births of both machines");
        var payload = JsonDocument.Parse(collector.Messages.First(x => x.Topic == messageTopic && IsGood(x.Payload)).Bytes).RootElement;
        Assert.Equal(PlcText, payload.GetProperty("value").GetString());
        var temperatureMessage = collector.Messages.First(x => x.Topic == temperatureTopic && IsGood(x.Payload));
        var temperature = JsonDocument.Parse(temperatureMessage.Bytes).RootElement;
        Assert.Equal("°C", temperature.GetProperty("unit").GetString());
        Assert.Contains("\"unit\":\"°C\"", temperatureMessage.Payload, StringComparison.Ordinal);
        Assert.Contains(collector.Messages, x => x.Topic == $"{line}/_gateway/passerelle été/status" && x.Payload == "online");

        // Sparkplug: Tahu reads the device ids and metric names as configured, and the string value exactly.
        // Tahu cannot decode DDATA values on its own (they carry no datatype; a host takes it from the birth), so
        // the string is checked where it is announced: the tag is not read yet at the first birth (announced as
        // Double, null), and its first value, a string, must bring a DBIRTH that announces it as String.
        List<SparkplugTests.Decoded> decoded = [];
        JsonElement message = default;
        await Peers.WaitUntilAsync(
            async () =>
            {
                decoded = await SparkplugTests.DecodeWithTahuAsync([.. collector.Messages.Where(x => x.Topic.StartsWith("spBv1.0/", StringComparison.Ordinal))]);
                message = decoded.Last(m => m.Type == "DBIRTH" && m.Device == Press).Metrics.Single(m => m.GetProperty("name").GetString() == MessagePath);
                return message.GetProperty("value").ValueKind == JsonValueKind.String;
            },
            TimeSpan.FromSeconds(30),
            () => "a DBIRTH of " + Press + " with the string: " + string.Join("\n", decoded.Where(m => m.Device == Press).Select(m => m.Topic + " " + m.Payload.GetRawText())));
        Assert.Equal("String", message.GetProperty("type").GetString());
        Assert.Equal(PlcText, message.GetProperty("value").GetString());
        var pressBirth = decoded.Last(m => m.Type == "DBIRTH" && m.Device == Press);
        Assert.Contains(pressBirth.Metrics, m => m.GetProperty("name").GetString() == "zone 1/température");
        Assert.Contains(decoded.First(m => m.Type == "DBIRTH" && m.Device == Robot).Metrics, m => m.GetProperty("name").GetString() == "état");

        // InfluxDB: measurement, tag values and field keys unescaped as configured, the string value exact.
        JsonElement series = default;
        await Peers.WaitUntilAsync(
            async () =>
            {
                var answer = await influx.QueryJsonAsync("plant", $"SELECT * FROM \"{Press}\"");
                var statement = answer.GetProperty("results")[0];
                if (!statement.TryGetProperty("series", out var all))
                {
                    return false;
                }

                series = all[0];
                return Rows(series).Any(row => row.TryGetValue(MessagePath, out var value) && value.ValueKind == JsonValueKind.String);
            },
            TimeSpan.FromSeconds(30),
            () => "the string field in InfluxDB; gateway output: " + gateway.Output);
        Assert.Equal(Press, series.GetProperty("name").GetString());
        var stored = Rows(series).First(row => row.TryGetValue(MessagePath, out var value) && value.ValueKind == JsonValueKind.String);
        Assert.Equal(PlcText, stored[MessagePath].GetString());
        Assert.Equal(Area, stored["area"].GetString());
        Assert.Equal("Société Générale", stored["enterprise"].GetString());
        Assert.Equal("Usine Lyon", stored["site"].GetString());
        Assert.Contains(Rows(series), row => row.TryGetValue("zone 1/température", out var t) && t.ValueKind == JsonValueKind.Number && row["unit"].GetString() == "°C");
        var measurements = await influx.SelectAsync("plant", "SHOW MEASUREMENTS");
        Assert.Contains(measurements, row => row[0].GetString() == Robot);

        // The dashboard's JSON carries the same names and value.
        using var http = new HttpClient();
        var tags = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{config.HttpPort}/api/tags"))).RootElement;
        var tag = tags.EnumerateArray().Single(t => t.GetProperty("machine").GetString() == Press && t.GetProperty("path").GetString() == MessagePath);
        Assert.Equal(PlcText, tag.GetProperty("value").GetString());
        Assert.Contains(tags.EnumerateArray(), t => t.GetProperty("tag").GetString() == Robot + "/état");
    }

    private static List<Dictionary<string, JsonElement>> Rows(JsonElement series)
    {
        var columns = series.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
        return [.. series.GetProperty("values").EnumerateArray().Select(row => row.EnumerateArray().Select((value, i) => (columns[i], value)).ToDictionary(p => p.Item1, p => p.value))];
    }

    private static async Task WritePlcTextAsync(int port)
    {
        var bytes = Encoding.Latin1.GetBytes(PlcText.PadRight(20, ' '));
        var registers = new ushort[10];
        for (var i = 0; i < registers.Length; i++)
        {
            registers[i] = (ushort)((bytes[2 * i] << 8) | bytes[(2 * i) + 1]);
        }

        await using var client = new ModbusClient(new ModbusTcpTransport("127.0.0.1", port, TimeProvider.System));
        await client.WriteMultipleRegistersAsync(1, 10, registers, TimeSpan.FromSeconds(5), CancellationToken.None);
    }
}
