using Gateway.Configuration;
using Gateway.Drivers;

namespace Gateway.Tests.Configuration;

/// <summary>The configuration holes found on site (issue 13): each refused at its path with a reason a user can act on.</summary>
public sealed class ConfigHoleTests : IDisposable
{
    private const string Gateway = """ "gateway": { "id": "gw", "enterprise": "acme", "site": "lyon", "area": "a", "line": "l1" } """;
    private readonly string _directory = Directory.CreateTempSubdirectory("config-holes-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private List<string> Problems(byte[] bytes)
    {
        var path = Path.Combine(_directory, "gateway.json");
        File.WriteAllBytes(path, bytes);
        return ConfigLoader.Load(path, BuiltInDrivers.Factories, includeEnvironment: false).Problems.Select(p => p.ToString()).ToList();
    }

    private List<string> Problems(string json) => Problems(System.Text.Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Load_MqttSetToNull_IsRefusedAtItsPath()
    {
        var problems = Problems($$"""{ {{Gateway}}, "mqtt": null }""");

        Assert.Contains(problems, p => p.StartsWith("mqtt: is null", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_NullDriverEntry_IsRefusedAtItsPath()
    {
        var problems = Problems($$"""{ {{Gateway}}, "drivers": [ null ] }""");

        Assert.Contains(problems, p => p.StartsWith("drivers[0]: is null", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_InvalidUtf8InAString_IsRefusedWithTheByteOffset()
    {
        var json = System.Text.Encoding.UTF8.GetBytes($$"""{ {{Gateway}}, "http": { "urls": "http://127.0.0.1:8080/X" } }""");
        var offset = Array.LastIndexOf(json, (byte)'X');
        json[offset] = 0xFF;

        var problem = Assert.Single(Problems(json));

        Assert.Equal($"$: not valid UTF-8 at byte {offset} (0x{offset:X}): byte 0xFF; save the file as UTF-8", problem);
    }

    [Fact]
    public void Load_JsonSyntaxError_GivesLineColumnAndTheOffendingText()
    {
        var problem = Assert.Single(Problems($$"""
            {
              {{Gateway}},
              "mqtt": { "port": 1883 oops }
            }
            """));

        Assert.StartsWith("$: not valid JSON at line 3, column ", problem, StringComparison.Ordinal);
        Assert.Contains("near 'oops }'", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("Failed to load configuration", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownDriverType_GivesOneLineWithTheKnownTypesAndNoUnknownKeys()
    {
        var problems = Problems($$"""{ {{Gateway}}, "drivers": [ { "name": "plc", "type": "profinet", "endpointUrl": "x", "unitId": 1, "tags": [ { "name": "t", "address": "1" } ] } ] }""");

        var problem = Assert.Single(problems);
        Assert.StartsWith("drivers[0].type: unknown driver type 'profinet' (known: ", problem, StringComparison.Ordinal);
        Assert.Contains("opcua", problem, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Load_DashboardOffLoopbackWithAPasswordFileOthersCanRead_IsRefused()
    {
        var secret = Path.Combine(_directory, "dashboard.secret");
        File.WriteAllText(secret, "s3cret\n");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var json = $$"""{ {{Gateway}}, "http": { "urls": "http://0.0.0.0:8080", "passwordFile": "{{secret}}" } }""";

        var refused = Problems(json);
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var accepted = Problems(json);

        Assert.Contains(refused, p => p.StartsWith("http.passwordFile: ", StringComparison.Ordinal) && p.Contains("readable by group or others (mode 644)", StringComparison.Ordinal));
        Assert.DoesNotContain(accepted, p => p.StartsWith("http.passwordFile", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("holding:40105", "'holding:105' with addressBase 1, or 'holding:104' with addressBase 0")]
    [InlineData("input:30001", "'input:1' with addressBase 1, or 'input:0' with addressBase 0")]
    public void Load_ModbusAddressInTheManualsNumbering_IsRefusedWithTheHint(string address, string hint)
    {
        var problems = Problems($$"""
            { {{Gateway}}, "drivers": [ { "name": "press", "type": "modbus-tcp", "host": "127.0.0.1", "port": 502, "machine": "press",
              "tags": [ { "name": "speed", "address": "{{address}}", "type": "uint16" } ] } ] }
            """);

        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[0].address: ", StringComparison.Ordinal) && p.Contains("manual's numbering", StringComparison.Ordinal) && p.Contains(hint, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("holding:40105", 0)]
    [InlineData("holding:40105", 1)]
    [InlineData("input:30001", 0)]
    public void Load_ModbusAddressInTheManualsRange_WithAnExplicitAddressBase_IsTakenAsWritten(string address, int addressBase)
    {
        // SunSpec maps start at holding 40000: with addressBase set, 40105 is a real register, not the manual's 105.
        var problems = Problems($$"""
            { {{Gateway}}, "drivers": [ { "name": "press", "type": "modbus-tcp", "host": "127.0.0.1", "port": 502, "machine": "press", "addressBase": {{addressBase}},
              "tags": [ { "name": "speed", "address": "{{address}}", "type": "uint16" } ] } ] }
            """);

        Assert.Empty(problems);
    }

}
