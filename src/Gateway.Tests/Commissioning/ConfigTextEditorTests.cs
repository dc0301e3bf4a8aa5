using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Commissioning;

namespace Gateway.Tests.Commissioning;

/// <summary>Issue 16: a save edits the file by spans; what the user did not change stays byte for byte.</summary>
public sealed class ConfigTextEditorTests
{
    private const string File = """
        // Line 1, Lyon: commissioned by hand in 2025.
        {
          "gateway": { "id": "gw", "enterprise": "acme", "site": "lyon", "area": "a", "line": "l1" }, // who we are
          "drivers": [
            // The press, behind the cabinet.
            {
              "name": "press",
              "type": "modbus-tcp",
              "host": "10.0.0.5", /* fixed IP */
              "tags": [ { "name": "speed", "address": "holding:0", "type": "uint16" } ]
            },
            // The oven.
            { "name": "oven", "type": "modbus-tcp", "host": "10.0.0.6", "tags": [] },
            // The welder.
            { "name": "welder", "type": "simulated", "machines": [ { "name": "w", "idealCycleMs": 500 } ] }
          ],
          /* buffer: the default */
          "mqtt": { "port": 1883, "host": "broker" }
        }
        """;

    private static string Apply(string text, params DriverEdit[] edits) => Encoding.UTF8.GetString(ConfigTextEditor.Apply(Encoding.UTF8.GetBytes(text), edits));

    private static JsonArray Drivers(string text) => JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!["drivers"]!.AsArray();

    private static JsonObject Driver(string name, string host) => new() { ["name"] = name, ["type"] = "modbus-tcp", ["host"] = host, ["tags"] = new JsonArray() };

    [Fact]
    public void Replace_OneDriver_KeepsEveryCommentAndByteOutsideIt()
    {
        var result = Apply(File, DriverEdit.Replace(1, Driver("oven", "10.0.0.99")));

        var before = File[..File.IndexOf("{ \"name\": \"oven\"", StringComparison.Ordinal)];
        var after = File[(File.IndexOf("\"tags\": [] }", StringComparison.Ordinal) + "\"tags\": [] }".Length)..];
        Assert.StartsWith(before, result, StringComparison.Ordinal);
        Assert.EndsWith(after, result, StringComparison.Ordinal);
        Assert.Equal("10.0.0.99", Drivers(result)[1]!["host"]!.GetValue<string>());
        Assert.Equal(["press", "oven", "welder"], Drivers(result).Select(d => d!["name"]!.GetValue<string>()));
        Assert.Contains("\n      \"host\": \"10.0.0.99\",", result, StringComparison.Ordinal); // indented at the driver's column
    }

    [Fact]
    public void Remove_MiddleDriver_TakesItsCommentAndComma_KeepsTheOthers()
    {
        var result = Apply(File, DriverEdit.Remove(1));

        Assert.Equal(["press", "welder"], Drivers(result).Select(d => d!["name"]!.GetValue<string>()));
        Assert.DoesNotContain("The oven", result, StringComparison.Ordinal);
        Assert.Contains("// The welder.", result, StringComparison.Ordinal);
        Assert.Contains("/* fixed IP */", result, StringComparison.Ordinal);
        Assert.Contains("// who we are", result, StringComparison.Ordinal);
    }

    [Fact]
    public void Remove_FirstAndLast_LeavesValidJsonWithTheMiddleOne()
    {
        var result = Apply(File, DriverEdit.Remove(0), DriverEdit.Remove(2));

        Assert.Equal(["oven"], Drivers(result).Select(d => d!["name"]!.GetValue<string>()));
        Assert.Contains("// The oven.", result, StringComparison.Ordinal);
        Assert.Contains("/* buffer: the default */", result, StringComparison.Ordinal);
    }

    [Fact]
    public void Remove_Every_Driver_LeavesAnEmptyArray()
    {
        var result = Apply(File, DriverEdit.Remove(0), DriverEdit.Remove(1), DriverEdit.Remove(2));

        Assert.Empty(Drivers(result));
        Assert.Contains("\"mqtt\": { \"port\": 1883, \"host\": \"broker\" }", result, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_AfterTheLast_AndInPlaceOfARemovedLast_InOrder()
    {
        var appended = Apply(File, DriverEdit.Append(Driver("plc-2", "10.0.0.7")));
        var swapped = Apply(File, DriverEdit.Remove(2), DriverEdit.Append(Driver("plc-2", "10.0.0.7")), DriverEdit.Append(Driver("plc-3", "10.0.0.8")));

        Assert.Equal(["press", "oven", "welder", "plc-2"], Drivers(appended).Select(d => d!["name"]!.GetValue<string>()));
        Assert.StartsWith(File[..File.IndexOf("  ],", StringComparison.Ordinal)].TrimEnd(), appended, StringComparison.Ordinal);
        Assert.Equal(["press", "oven", "plc-2", "plc-3"], Drivers(swapped).Select(d => d!["name"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("{ \"gateway\": {}, \"drivers\": [] }")]
    [InlineData("{ \"gateway\": {} }")]
    [InlineData("{}")]
    [InlineData("{ \"drivers\": [ { \"name\": \"a\", \"type\": \"simulated\" }, ] }")]
    public void Append_ToAnEmptyOrMissingArray_OrAfterATrailingComma_GivesValidJson(string text)
    {
        var result = Apply(text, DriverEdit.Append(Driver("plc", "10.0.0.7")));

        Assert.Equal("plc", Drivers(result)[^1]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Apply_KeepsTheBomAndCrlfLineEndings()
    {
        var crlf = "\uFEFF" + File.Replace("\n", "\r\n", StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(crlf);

        var result = ConfigTextEditor.Apply(bytes, [DriverEdit.Replace(0, Driver("press", "10.0.0.50"))]);

        Assert.Equal([0xEF, 0xBB, 0xBF], result[..3]);
        var text = Encoding.UTF8.GetString(result, 3, result.Length - 3);
        Assert.DoesNotContain("\n", text.Replace("\r\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal("10.0.0.50", Drivers(text)[0]!["host"]!.GetValue<string>());
    }

    [Fact]
    public void Apply_TwoEditsOfOneDriver_OrAnIndexNotInTheFile_Throws()
    {
        Assert.Throws<ArgumentException>(() => Apply(File, DriverEdit.Remove(1), DriverEdit.Replace(1, Driver("oven", "x"))));
        Assert.Throws<ArgumentOutOfRangeException>(() => Apply(File, DriverEdit.Remove(3)));
    }

    private const string Tagged = """
        {
          "drivers": [
            {
              "name": "press",
              "type": "modbus-tcp",
              "host": "10.0.0.5", /* fixed IP */
              // Speeds first.
              "tags": [
                { "name": "speed", "address": "holding:0", "type": "uint16" }, // rpm
                // The oil, in tenths of a degree.
                { "name": "oil",   "address": "holding:1", "scale": 0.1 },
                { "name": "count", "address": "holding:2" }
              ]
            }
          ]
        }
        """;

    private static JsonObject TaggedDriver() => Drivers(Tagged)[0]!.AsObject().DeepClone().AsObject();

    [Fact]
    public void Replace_TagsAdded_DriverKeepsItsCommentsAndEveryOldTagByteForByte()
    {
        var driver = TaggedDriver();
        driver["tags"]!.AsArray().Add(new JsonObject { ["name"] = "temp", ["address"] = "holding:10", ["type"] = "float32" });

        var result = Apply(Tagged, DriverEdit.Replace(0, driver));

        var kept = Tagged[..Tagged.IndexOf("{ \"name\": \"count\", \"address\": \"holding:2\" }", StringComparison.Ordinal)] + "{ \"name\": \"count\", \"address\": \"holding:2\" }";
        Assert.StartsWith(kept, result, StringComparison.Ordinal); // header, /* fixed IP */, // Speeds first., the three tags and their comments
        Assert.Equal(["speed", "oil", "count", "temp"], Drivers(result)[0]!["tags"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
        Assert.Contains(",\n        {\n          \"name\": \"temp\",", result, StringComparison.Ordinal); // at the tags' column
        Assert.EndsWith("\n      ]\n    }\n  ]\n}", result, StringComparison.Ordinal);
    }

    [Fact]
    public void Replace_OneTagChangedAnotherRemoved_OnlyThoseSpansChange_CommentsOfTheOthersStay()
    {
        var driver = TaggedDriver();
        var tags = driver["tags"]!.AsArray();
        tags[1]!["scale"] = 0.01;
        tags.RemoveAt(2);

        var result = Apply(Tagged, DriverEdit.Replace(0, driver));

        Assert.Contains("\"host\": \"10.0.0.5\", /* fixed IP */", result, StringComparison.Ordinal);
        Assert.Contains("{ \"name\": \"speed\", \"address\": \"holding:0\", \"type\": \"uint16\" }, // rpm", result, StringComparison.Ordinal);
        Assert.Contains("// The oil, in tenths of a degree.", result, StringComparison.Ordinal);
        Assert.DoesNotContain("count", result, StringComparison.Ordinal);
        var parsed = Drivers(result)[0]!["tags"]!.AsArray();
        Assert.Equal(["speed", "oil"], parsed.Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal(0.01, parsed[1]!["scale"]!.GetValue<double>());
    }

    [Fact]
    public void Replace_ADriverKeyChanged_TheDriverIsRewrittenWhole_ItsInnerCommentsGo()
    {
        var driver = TaggedDriver();
        driver["host"] = "10.0.0.7";

        var result = Apply(Tagged, DriverEdit.Replace(0, driver));

        Assert.DoesNotContain("fixed IP", result, StringComparison.Ordinal);
        Assert.Equal("10.0.0.7", Drivers(result)[0]!["host"]!.GetValue<string>());
        Assert.Equal(3, Drivers(result)[0]!["tags"]!.AsArray().Count);
    }

    [Fact]
    public void Replace_FirstTagIntoAnEmptyOneLineTagsArray_StaysValidJson_TheLineKeepsItsKeys()
    {
        var oven = Driver("oven", "10.0.0.6");
        oven["tags"]!.AsArray().Add(new JsonObject { ["name"] = "heat", ["address"] = "input:0" });

        var result = Apply(File, DriverEdit.Replace(1, oven));

        Assert.Contains("{ \"name\": \"oven\", \"type\": \"modbus-tcp\", \"host\": \"10.0.0.6\", \"tags\": [", result, StringComparison.Ordinal);
        Assert.Equal("heat", Drivers(result)[1]!["tags"]![0]!["name"]!.GetValue<string>());
        Assert.Contains("/* fixed IP */", result, StringComparison.Ordinal);
    }
}
