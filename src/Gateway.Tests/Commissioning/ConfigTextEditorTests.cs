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
}
