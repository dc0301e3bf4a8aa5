using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound;
using Gateway.Northbound.Influx;
using Gateway.Northbound.Uns;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>
/// Names in the plant's own language are carried as they are; names that no sink can carry unambiguously are
/// refused by check-config with their JSON path and the reason (MQTT wildcards, topic level separators, control
/// characters, InfluxDB's backslash and 'time').
/// </summary>
public sealed class PlantNameTests
{
    private static readonly DateTimeOffset s_t = new(2026, 11, 26, 10, 0, 0, 123, TimeSpan.Zero);

    [Theory]
    [InlineData("machine", "Presse+1", "drivers[0].tags[0].machine", "'+', an MQTT wildcard")]
    [InlineData("machine", "Four #2", "drivers[0].tags[0].machine", "'#', an MQTT wildcard")]
    [InlineData("machine", "Four/2", "drivers[0].tags[0].machine", "contains '/'")]
    [InlineData("driverMachine", "Presse/chaude", "drivers[0].machine", "contains '/'")]
    [InlineData("path", "zone+1/température", "drivers[0].tags[0].path", "'+', an MQTT wildcard")]
    [InlineData("path", "zone 1//température", "drivers[0].tags[0].path", "empty topic level")]
    [InlineData("path", "/température", "drivers[0].tags[0].path", "empty topic level")]
    [InlineData("path", "température/", "drivers[0].tags[0].path", "empty topic level")]
    [InlineData("path", "ligne1\nligne2", "drivers[0].tags[0].path", "control character U+000A")]
    [InlineData("path", "a\u0000b", "drivers[0].tags[0].path", "control character U+0000")]
    [InlineData("name", "vitesse#", "drivers[0].tags[0].name", "'#', an MQTT wildcard")]
    [InlineData("unit", "°C\t", "drivers[0].tags[0].unit", "control character U+0009")]
    [InlineData("line", "Ligne\t2", "gateway.line", "control character U+0009")]
    [InlineData("line", "Ligne 2 ", "gateway.line", "white space")]
    [InlineData("site", "Usine+Lyon", "gateway.site", "'+', an MQTT wildcard")]
    [InlineData("enterprise", "$acme", "gateway.enterprise", "starts with '$'")]
    [InlineData("topicPrefix", "uns/+/x", "mqtt.topicPrefix", "'+', an MQTT wildcard")]
    [InlineData("topicPrefix", "uns//x", "mqtt.topicPrefix", "empty topic level")]
    [InlineData("groupId", "groupe/1", "mqtt.sparkplug.groupId", "contains '/'")]
    [InlineData("edgeNodeId", "nœud#1", "mqtt.sparkplug.edgeNodeId", "'#', an MQTT wildcard")]
    [InlineData("primaryHostId", "scada/1", "mqtt.sparkplug.primaryHostId", "contains '/'")]
    [InlineData("primaryHostId", "scada+", "mqtt.sparkplug.primaryHostId", "'+', an MQTT wildcard")]
    public void Load_NameNoTopicCanCarry_IsRefusedWithItsPathAndReason(string target, string value, string expectedPath, string expectedReason)
    {
        using var config = PlantConfig(influx: false);
        Set(config, target, value);

        var problems = ConfigLoader.Load(config.Write(), BuiltInDrivers.Factories, includeEnvironment: false).Problems;

        var problem = Assert.Single(problems);
        Assert.Equal(expectedPath, problem.Path);
        Assert.Contains(expectedReason, problem.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("path", "zone\\1", "drivers[0].tags[0].path", "backslash")]
    [InlineData("machine", "Presse\\", "drivers[0].tags[0].machine", "backslash")]
    [InlineData("area", "Atelier\\A", "gateway.area", "backslash")]
    [InlineData("unit", "N\\m", "drivers[0].tags[0].unit", "backslash")]
    [InlineData("path", "time", "drivers[0].tags[0].path", "InfluxDB refuses that name")]
    public void Load_NameInfluxCannotCarry_IsRefusedOnlyWithInfluxConfigured(string target, string value, string expectedPath, string expectedReason)
    {
        using var withoutInflux = PlantConfig(influx: false);
        Set(withoutInflux, target, value);
        using var withInflux = PlantConfig(influx: true);
        Set(withInflux, target, value);

        var accepted = ConfigLoader.Load(withoutInflux.Write(), BuiltInDrivers.Factories, includeEnvironment: false);
        var refused = ConfigLoader.Load(withInflux.Write(), BuiltInDrivers.Factories, includeEnvironment: false);

        Assert.Empty(accepted.Problems);
        var problem = Assert.Single(refused.Problems);
        Assert.Equal(expectedPath, problem.Path);
        Assert.Contains(expectedReason, problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AccentsSpacesEmojiAndLineProtocolSpecials_AreAccepted()
    {
        using var config = PlantConfig(influx: true);

        var loaded = ConfigLoader.Load(config.Write(), BuiltInDrivers.Factories, includeEnvironment: false);

        Assert.Empty(loaded.Problems);
        Assert.Equal("Presse à chaud 🤖", loaded.Config!.Drivers[0].Tags[0].Machine);
    }

    [Theory]
    [InlineData("Presse à chaud 🤖", null)]
    [InlineData("Presse+1", "oee.machines[0].name")]
    public void Load_OeeMachine_TakesAnyNameADriverMachineMayHave(string machine, string? refusedPath)
    {
        using var config = PlantConfig(influx: true);
        config.Root["drivers"]![0]!["tags"]![0]!["machine"] = machine;
        config.Root["drivers"]![0]!["tags"]![0]!["path"] = "marche";
        config.Root["oee"] = new JsonObject
        {
            ["shiftPlan"] = new JsonObject { ["timeZone"] = "Europe/Paris", ["shifts"] = new JsonArray(new JsonObject { ["name"] = "matin", ["start"] = "06:00", ["end"] = "14:00" }) },
            ["machines"] = new JsonArray(new JsonObject { ["name"] = machine, ["runningTag"] = "marche" }),
        };

        var problems = ConfigLoader.Load(config.Write(), BuiltInDrivers.Factories, includeEnvironment: false).Problems;

        if (refusedPath is null)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.Contains(problems, p => p.Path == refusedPath && p.Reason.Contains("MQTT wildcard", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void UnsTopic_KeepsUnicodeNamesAsTheyAre()
    {
        var formatter = new UnsFormatter(Identity(), "/usines/");

        Assert.Equal("usines/Société Générale/Usine Lyon/Atelier=1,\"A\"/Ligne-2/Presse à chaud/zone 1/température", formatter.Topic(new TagInfo("Presse à chaud", "zone 1/température")));
        Assert.Equal("usines/Société Générale/Usine Lyon/Atelier=1,\"A\"/Ligne-2/_gateway/passerelle été/status", formatter.StatusTopic);
    }

    [Theory]
    [InlineData("q\"b\\c")]
    [InlineData("ligne1\nligne2\r\t\u0001\u001f\u007f")]
    [InlineData("émoji 🤖 and 中文 \u2028 </script>")]
    [InlineData("\\")]
    public void UnsPayload_StringValue_IsValidJsonThatReadsBackExactly(string text)
    {
        var output = new ArrayBufferWriter<byte>();

        UnsFormatter.WritePayload(Sample.Good(new TagInfo("Presse à chaud", "message", "°C"), s_t, s_t, SampleValue.FromString(text)), output);

        var payload = JsonDocument.Parse(output.WrittenMemory).RootElement;
        Assert.Equal(text, payload.GetProperty("value").GetString());
        Assert.Equal("°C", payload.GetProperty("unit").GetString());
    }

    [Fact]
    public void UnsPayload_UnitAndTextInThePlantsLanguage_GoOutAsUtf8_ControlCharactersEscaped()
    {
        var output = new ArrayBufferWriter<byte>();

        UnsFormatter.WritePayload(Sample.Good(new TagInfo("Presse à chaud", "message", "°C"), s_t, s_t, SampleValue.FromString("opérateur \"A\"\n")), output);

        Assert.Equal(
            "{\"value\":\"opérateur \\\"A\\\"\\n\",\"timestamp\":\"2026-11-26T10:00:00.123Z\",\"quality\":\"Good\",\"unit\":\"°C\"}",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void LineProtocol_UnicodeNamesAndSpecials_AreEscapedAsInfluxReadsThem()
    {
        var protocol = new LineProtocol(Identity());
        var line = new StringBuilder();

        Assert.True(protocol.Append(line, Sample.Good(new TagInfo("Presse à chaud", "message \"opérateur\", n=1", "°C"), s_t, s_t, SampleValue.FromString("q\"b\\c\u0001\né,x= y 🤖\\"))));

        Assert.Equal(
            "Presse\\ à\\ chaud,enterprise=Société\\ Générale,site=Usine\\ Lyon,area=Atelier\\=1\\,\"A\",line=Ligne-2,unit=°C "
            + "message\\ \"opérateur\"\\,\\ n\\=1=\"q\\\"b\\\\c\u0001\né,x= y 🤖\\\\\" 1795687200123000000",
            line.ToString());
    }

    private static GatewayIdentity Identity() =>
        new() { Id = "passerelle été", Enterprise = "Société Générale", Site = "Usine Lyon", Area = "Atelier=1,\"A\"", Line = "Ligne-2" };

    /// <summary>A valid configuration with names in the plant's language; each test breaks one of them.</summary>
    private static TestConfig PlantConfig(bool influx)
    {
        var config = new TestConfig();
        config.Root["gateway"] = new JsonObject { ["id"] = "passerelle été", ["enterprise"] = "Société Générale", ["site"] = "Usine Lyon", ["area"] = "Atelier=1,\"A\"", ["line"] = "Ligne-2" };
        config.Root["mqtt"]!["format"] = "both";
        config.Root["mqtt"]!["host"] = "127.0.0.1";
        config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "plc",
            ["type"] = "modbus-tcp",
            ["host"] = "127.0.0.1",
            ["port"] = 502,
            ["machine"] = "Presse",
            ["tags"] = new JsonArray(new JsonObject
            {
                ["name"] = "temp",
                ["machine"] = "Presse à chaud 🤖",
                ["path"] = "zone 1/température, \"max\"=x",
                ["address"] = "holding:1",
                ["type"] = "uint16",
                ["unit"] = "°C",
            }),
        });
        if (influx)
        {
            config.Root["influx"] = new JsonObject { ["url"] = "http://127.0.0.1:8086", ["version"] = 1, ["database"] = "plant" };
        }

        return config;
    }

    private static void Set(TestConfig config, string target, string value)
    {
        var tag = config.Root["drivers"]![0]!["tags"]![0]!;
        switch (target)
        {
            case "machine" or "path" or "name" or "unit":
                if (target == "name")
                {
                    tag.AsObject().Remove("path");
                }

                tag[target] = value;
                break;
            case "driverMachine":
                tag.AsObject().Remove("machine");
                config.Root["drivers"]![0]!["machine"] = value;
                break;
            case "topicPrefix":
                config.Root["mqtt"]!["topicPrefix"] = value;
                break;
            case "groupId" or "edgeNodeId" or "primaryHostId":
                config.Root["mqtt"]!["sparkplug"] = new JsonObject { [target] = value };
                break;
            default:
                config.Root["gateway"]![target] = value;
                break;
        }
    }
}
