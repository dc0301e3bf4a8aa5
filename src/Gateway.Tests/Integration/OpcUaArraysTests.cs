using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.OpcUa;

namespace Gateway.Tests.Integration;

/// <summary>
/// OPC UA arrays end to end: node-opcua's Float[1000], Int32[10], Boolean[8] and String[3], the real gateway, a real
/// mosquitto; UNS subscribers get JSON arrays, and Eclipse Tahu (with the specification's array decoding) reads the
/// Sparkplug 3.0 array datatypes in the first and only DBIRTH and the DDATA that follows.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class OpcUaArraysTests
{
    private const string Line = "acme/lyon/assembly/line-1/cell";
    private const string DeviceBirth = "spBv1.0/lyon/DBIRTH/gw-test/cell";
    private const string DeviceData = "spBv1.0/lyon/DDATA/gw-test/cell";

    [Fact]
    public async Task OpcUaArrays_ArriveAsJsonArraysInUns_AndAsSparkplugArrayDatatypesInTheFirstDbirth()
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
                new JsonObject { ["name"] = "profile", ["address"] = "ns=1;s=Arrays.Float1000" },
                new JsonObject { ["name"] = "counts", ["address"] = "ns=1;s=Arrays.Int32x10" },
                new JsonObject { ["name"] = "flags", ["address"] = "ns=1;s=Arrays.Boolean8" },
                new JsonObject { ["name"] = "names", ["address"] = "ns=1;s=Arrays.String3" }),
        });
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        static bool IsGood(Received m) => m.Payload.Contains("\"quality\":\"Good\"", StringComparison.Ordinal);
        string[] tags = ["profile", "counts", "flags", "names"];
        await collector.WaitUntilAsync(
            m => tags.All(t => m.Any(x => x.Topic == $"{Line}/{t}" && IsGood(x))) && m.Any(x => x.Topic == DeviceBirth)
                 && m.Count(x => x.Topic == $"{Line}/profile") >= 3 && m.Count(x => x.Topic == DeviceData) >= 2,
            TimeSpan.FromSeconds(40),
            "a Good UNS value of every array, a changed profile, the DBIRTH and a DDATA of cell");
        await gateway.StopAsync();

        // UNS: JSON arrays with the shortest float text.
        JsonElement Uns(string tag) => JsonDocument.Parse(collector.Messages.First(x => x.Topic == $"{Line}/{tag}" && IsGood(x)).Payload).RootElement.GetProperty("value");
        var profile = Uns("profile");
        Assert.Equal(JsonValueKind.Array, profile.ValueKind);
        Assert.Equal(1000, profile.GetArrayLength());
        Assert.Contains("\"value\":[", collector.Messages.First(x => x.Topic == $"{Line}/profile").Payload, StringComparison.Ordinal);
        Assert.Equal("0.1", profile[1].GetRawText());
        Assert.Equal("99.9", profile[999].GetRawText());
        Assert.Equal("[-5,0,2147483647,-2147483648,4,5,6,7,8,9]", Uns("counts").GetRawText());
        Assert.Equal("[true,false,true,true,false,false,false,true]", Uns("flags").GetRawText());
        Assert.Equal(["ABC", "", "étape 3"], Uns("names").EnumerateArray().Select(e => e.GetString()!));

        // Sparkplug: one DBIRTH, with the array datatypes and every element, then DDATA with the changed profile.
        var decoded = await SparkplugTests.DecodeWithTahuAsync([.. collector.Messages.Where(x => x.Topic is DeviceBirth or DeviceData)]);
        var births = decoded.Where(d => d.Type == "DBIRTH").ToList();
        Assert.True(births.Count == 1, string.Join(" | ", births.Select(b => string.Join(", ", b.Metrics.Select(m => $"{m.GetProperty("name")}:{(m.TryGetProperty("type", out var t) ? t.ToString() : "?")}:{(m.TryGetProperty("value", out var v) ? v.ValueKind.ToString() : "-")}")))));
        var birth = decoded.First(d => d.Type == "DBIRTH").Metrics.ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal("FloatArray", birth["profile"].GetProperty("type").GetString());
        Assert.Equal("Int32Array", birth["counts"].GetProperty("type").GetString());
        Assert.Equal("BooleanArray", birth["flags"].GetProperty("type").GetString());
        Assert.Equal("StringArray", birth["names"].GetProperty("type").GetString());
        // The values: in the birth, or (a tag whose first value came after the birth's bounded wait) in the first
        // DDATA of its alias. DDATA has no datatype: the decoder takes it from the birth, as a host does.
        var data = decoded.Where(d => d.Type == "DDATA").SelectMany(d => d.Metrics).ToList();
        List<JsonElement> Values(string tag)
        {
            var alias = birth[tag].GetProperty("alias").ToString();
            var values = data.Where(m => m.GetProperty("alias").ToString() == alias && m.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Array)
                .Select(m => m.GetProperty("value")).ToList();
            if (birth[tag].TryGetProperty("value", out var first) && first.ValueKind == JsonValueKind.Array)
            {
                values.Insert(0, first);
            }

            Assert.NotEmpty(values);
            return values;
        }

        var profiles = Values("profile").Select(v => v.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray()).ToList();
        Assert.All(profiles, p => Assert.Equal(Enumerable.Range(1, 999).Select(i => i / 10f), p[1..]));
        Assert.Contains(profiles, p => p[0] != profiles[0][0]); // the first element changes every second
        Assert.Equal([-5, 0, int.MaxValue, int.MinValue, 4, 5, 6, 7, 8, 9], Values("counts")[0].EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([true, false, true, true, false, false, false, true], Values("flags")[0].EnumerateArray().Select(e => e.GetBoolean()));
        Assert.Equal(["ABC", "", "étape 3"], Values("names")[0].EnumerateArray().Select(e => e.GetString()!));
    }
}
