using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.OpcUa;

namespace Gateway.Tests.Integration;

/// <summary>
/// OPC UA structures end to end: node-opcua's custom MotorData (a DataType with a DataTypeDefinition in its own
/// namespace: Float, Int16, String, Boolean, an enumeration, a nested Position, a Float array, an optional String),
/// the real gateway, a real mosquitto. UNS subscribers get the structure as a JSON object with the exact values, and
/// Eclipse Tahu reads the flattened metrics with their datatypes in the first and only DBIRTH.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class OpcUaStructuresTests
{
    private const string Line = "acme/lyon/assembly/line-1/cell";
    private const string DeviceBirth = "spBv1.0/lyon/DBIRTH/gw-test/cell";
    private const string DeviceData = "spBv1.0/lyon/DDATA/gw-test/cell";

    [Fact]
    public async Task OpcUaStructure_ArrivesAsJsonObjectInUns_AndAsFlattenedTypedMetricsInTheFirstDbirth()
    {
        await using var broker = new Mosquitto("queue_qos0_messages true");
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "#");
        await collector.StartAsync();
        await using var opc = await NodeOpcUaServer.StartAsync();

        using var config = new TestConfig().WithBroker(broker.Port);
        config.Root["mqtt"]!["format"] = "both";
        config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "opc",
            ["type"] = "opcua",
            ["endpointUrl"] = opc.Url,
            ["machine"] = "cell",
            ["tags"] = new JsonArray(
                new JsonObject { ["name"] = "motor", ["address"] = "ns=1;s=Structures.Motor" },
                new JsonObject { ["name"] = "position", ["address"] = "ns=1;s=Structures.Position" },
                new JsonObject { ["name"] = "motors", ["address"] = "ns=1;s=Structures.Motors" }),
        });
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        static bool IsGood(Received m) => m.Payload.Contains("\"quality\":\"Good\"", StringComparison.Ordinal);
        await collector.WaitUntilAsync(
            m => m.Count(x => x.Topic == $"{Line}/motor" && IsGood(x)) >= 2 && m.Any(x => x.Topic == $"{Line}/position" && IsGood(x))
                 && m.Any(x => x.Topic == $"{Line}/motors" && IsGood(x))
                 && m.Any(x => x.Topic == DeviceBirth) && m.Any(x => x.Topic == DeviceData),
            TimeSpan.FromSeconds(40),
            "two Good UNS values of motor (its speed changes every second), one of position, the DBIRTH and a DDATA of cell");
        await gateway.StopAsync();

        // UNS: the structure as an object, fields in definition order, nested object, array as array, shortest floats.
        var motors = collector.Messages.Where(x => x.Topic == $"{Line}/motor" && IsGood(x))
            .Select(x => JsonDocument.Parse(x.Payload).RootElement.GetProperty("value")).ToList();
        var motor = motors[0];
        Assert.Equal(JsonValueKind.Object, motor.ValueKind);
        Assert.Equal(["Speed", "Torque", "Label", "Running", "Mode", "Position", "Profile", "Note"], motor.EnumerateObject().Select(p => p.Name));
        var speed = motor.GetProperty("Speed").GetRawText();
        Assert.Equal("-1234", motor.GetProperty("Torque").GetRawText());
        Assert.Equal("Motor 1", motor.GetProperty("Label").GetString());
        Assert.True(motor.GetProperty("Running").GetBoolean());
        Assert.Equal("2", motor.GetProperty("Mode").GetRawText());
        Assert.Equal("{\"X\":1.5,\"Y\":-2.25}", motor.GetProperty("Position").GetRawText());
        Assert.Equal("[0.1,22.1,-0.5]", motor.GetProperty("Profile").GetRawText());
        Assert.Equal("checked", motor.GetProperty("Note").GetString());
        Assert.Contains(motors, m => m.GetProperty("Speed").GetRawText() != speed); // the structure's value changes
        Assert.Matches("^[0-9]+(\\.5)?$", speed); // 0.5 + n/10 at whole seconds: x.5 or a whole number, never 2.5000000001
        var position = JsonDocument.Parse(collector.Messages.First(x => x.Topic == $"{Line}/position" && IsGood(x)).Payload).RootElement.GetProperty("value");
        Assert.Equal("{\"X\":3,\"Y\":4}", position.GetRawText());
        // An array of structures (MotorData[3]): a JSON array of objects; the second motor's optional Note absent.
        var array = JsonDocument.Parse(collector.Messages.First(x => x.Topic == $"{Line}/motors" && IsGood(x)).Payload).RootElement.GetProperty("value");
        Assert.Equal(["Motor 1", "Motor 2", "Motor 3"], array.EnumerateArray().Select(e => e.GetProperty("Label").GetString()));
        Assert.Equal(JsonValueKind.Null, array[1].GetProperty("Note").ValueKind);
        Assert.Equal("[]", array[2].GetProperty("Profile").GetRawText());

        // Sparkplug: one DBIRTH at start, one metric per leaf with its own datatype, then DDATA by alias.
        var decoded = await SparkplugTests.DecodeWithTahuAsync([.. collector.Messages.Where(x => x.Topic is DeviceBirth or DeviceData)]);
        var births = decoded.Where(d => d.Type == "DBIRTH").ToList();
        Assert.True(births.Count == 1, string.Join(" | ", births.Select(b => string.Join(", ", b.Metrics.Select(m => $"{m.GetProperty("name")}:{m.GetProperty("type")}")))));
        var birth = births[0].Metrics.ToDictionary(m => m.GetProperty("name").GetString()!);
        var expected = new Dictionary<string, string>
        {
            ["motor/Speed"] = "Float",
            ["motor/Torque"] = "Int16",
            ["motor/Label"] = "String",
            ["motor/Running"] = "Boolean",
            ["motor/Mode"] = "Int32",
            ["motor/Position/X"] = "Float",
            ["motor/Position/Y"] = "Float",
            ["motor/Profile"] = "FloatArray",
            ["motor/Note"] = "String",
            ["position/X"] = "Float",
            ["position/Y"] = "Float",
            ["motors"] = "String", // an array of structures: its JSON (docs/sparkplug.md)
        };
        Assert.Equal(expected.Keys.Order(), birth.Keys.Order());
        Assert.All(expected, e => Assert.Equal(e.Value, birth[e.Key].GetProperty("type").GetString()));

        // The values, from the birth or (a tag read after the birth's bounded wait) the first DDATA of the alias.
        var data = decoded.Where(d => d.Type == "DDATA").SelectMany(d => d.Metrics).ToList();
        JsonElement First(string name)
        {
            if (birth[name].TryGetProperty("value", out var value) && value.ValueKind != JsonValueKind.Null)
            {
                return value;
            }

            var alias = birth[name].GetProperty("alias").ToString();
            return data.First(m => m.GetProperty("alias").ToString() == alias && m.TryGetProperty("value", out var v) && v.ValueKind != JsonValueKind.Null).GetProperty("value");
        }

        Assert.Equal(-1234, First("motor/Torque").GetInt32());
        Assert.Equal("Motor 1", First("motor/Label").GetString());
        Assert.True(First("motor/Running").GetBoolean());
        Assert.Equal(2, First("motor/Mode").GetInt32());
        Assert.Equal(1.5f, (float)First("motor/Position/X").GetDouble());
        Assert.Equal(-2.25f, (float)First("motor/Position/Y").GetDouble());
        Assert.Equal([0.1f, 22.1f, -0.5f], First("motor/Profile").EnumerateArray().Select(e => (float)e.GetDouble()));
        Assert.Equal("checked", First("motor/Note").GetString());
        Assert.Equal(3f, (float)First("position/X").GetDouble());
        // The same JSON as UNS (motor 0's Speed follows the tick: compared on the fixed motors).
        var sparkplugArray = JsonDocument.Parse(First("motors").GetString()!).RootElement;
        Assert.Equal(3, sparkplugArray.GetArrayLength());
        Assert.Equal(array[1].GetRawText(), sparkplugArray[1].GetRawText());
        Assert.Equal(array[2].GetRawText(), sparkplugArray[2].GetRawText());

        // DDATA carries the leaves that changed: the speed, by its alias.
        var speedAlias = birth["motor/Speed"].GetProperty("alias").ToString();
        var torqueAlias = birth["motor/Torque"].GetProperty("alias").ToString();
        Assert.Contains(data, m => m.GetProperty("alias").ToString() == speedAlias);
        var torqueValues = data.Count(m => m.GetProperty("alias").ToString() == torqueAlias && m.TryGetProperty("value", out var v) && v.ValueKind != JsonValueKind.Null);
        var torqueInBirth = birth["motor/Torque"].TryGetProperty("value", out var born) && born.ValueKind != JsonValueKind.Null;
        Assert.Equal(torqueInBirth ? 0 : 1, torqueValues); // the torque never changes: sent once, in the birth or in the first DDATA

    }
}
