using System.Runtime.Versioning;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>
/// Secret files (MQTT, InfluxDB and OPC UA passwords, the InfluxDB token, the MQTT client key) that other local users can
/// read: one warning at start naming the file and its configuration key, never the secret (issue 13). Real files, chmod.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class SecretFileModeTests : IDisposable
{
    private const string Secret = "s3cret-Pa55";
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode WorldReadable = Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private readonly string _directory = Directory.CreateTempSubdirectory("secret-modes-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string SecretFile(string name, UnixFileMode mode)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, Secret + "\n");
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private LoadedConfig Load(string mqttPassword, string influxToken, string opcuaPassword)
    {
        var json = $$"""
            {
              "gateway": { "id": "gw", "enterprise": "acme", "site": "lyon", "area": "a", "line": "l1" },
              "buffer": { "path": "{{Path.Combine(_directory, "buffer.db")}}" },
              "mqtt": { "host": "127.0.0.1", "username": "gw", "passwordFile": "{{mqttPassword}}" },
              "influx": { "url": "http://127.0.0.1:8086", "org": "o", "bucket": "b", "tokenFile": "{{influxToken}}" },
              "drivers": [
                { "name": "sim", "type": "simulated", "machines": [ { "name": "m1", "idealCycleMs": 1000 } ] },
                { "name": "ua", "type": "opcua", "machine": "m1", "endpointUrl": "opc.tcp://127.0.0.1:4840", "username": "u", "passwordFile": "{{opcuaPassword}}",
                  "tags": [ { "name": "t", "address": "ns=1;s=T" } ] }
              ]
            }
            """;
        var path = Path.Combine(_directory, "gateway.json");
        File.WriteAllText(path, json);
        var loaded = ConfigLoader.Load(path, BuiltInDrivers.Factories, includeEnvironment: false);
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Problems));
        return loaded;
    }

    [Theory]
    [InlineData("mqtt", "mqtt.passwordFile")]
    [InlineData("influx", "influx.tokenFile")]
    [InlineData("opcua", "drivers[1].passwordFile")]
    public void FindExposed_OneFileOthersCanRead_IsNamedWithItsKeyAndMode_TheOthersNot(string exposed, string key)
    {
        var mqtt = SecretFile("mqtt.pw", exposed == "mqtt" ? WorldReadable : Private);
        var influx = SecretFile("influx.token", exposed == "influx" ? WorldReadable : Private);
        var opcua = SecretFile("opcua.pw", exposed == "opcua" ? WorldReadable : Private);
        var loaded = Load(mqtt, influx, opcua);

        var found = Assert.Single(SecretFiles.FindExposed(loaded.Config!, loaded.Root));

        Assert.Equal([key], found.ConfigPaths);
        Assert.Equal("644", found.Mode);
        Assert.Equal(exposed switch { "mqtt" => mqtt, "influx" => influx, _ => opcua }, found.File);
        Assert.DoesNotContain(Secret, SecretFiles.Describe(found), StringComparison.Ordinal);
    }

    [Fact]
    public void FindExposed_GroupBitsOnly_CountToo_AndChmod600_Clears()
    {
        var shared = SecretFile("shared.pw", Private | UnixFileMode.GroupRead);
        var loaded = Load(shared, shared, SecretFile("opcua.pw", Private));

        // One file named by two keys: one entry naming both.
        var found = Assert.Single(SecretFiles.FindExposed(loaded.Config!, loaded.Root));
        Assert.Equal(["mqtt.passwordFile", "influx.tokenFile"], found.ConfigPaths);
        Assert.Equal("640", found.Mode);

        File.SetUnixFileMode(shared, Private);
        Assert.Empty(SecretFiles.FindExposed(loaded.Config!, loaded.Root));
    }

    [Fact]
    public async Task CheckConfig_WorldReadablePasswordFile_WarnsOnStderr_AndStaysValid()
    {
        var loaded = Load(SecretFile("mqtt.pw", WorldReadable), SecretFile("influx.token", Private), SecretFile("opcua.pw", Private));
        _ = loaded;

        var (exitCode, _, stderr) = await GatewayProcess.RunVerbAsync("check-config", Path.Combine(_directory, "gateway.json"));

        Assert.True(exitCode == 0, stderr);
        Assert.Contains($"warning: secret file '{Path.Combine(_directory, "mqtt.pw")}' (mqtt.passwordFile) is accessible to group or others (mode 644)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("influx.token", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, stderr, StringComparison.Ordinal);
    }
}

/// <summary>The start-up warning of a running gateway for a password file others can read.</summary>
[Collection(nameof(Gateway.Tests.Integration.ProcessTests))]
[UnsupportedOSPlatform("windows")]
public sealed class SecretFileModeProcessTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Run_MqttPasswordFileOthersCanRead_WarnsOnceAtStart_NamingFileAndKey_NeverTheSecret(bool worldReadable)
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/+/+/+/m1/total-count");
        await collector.StartAsync();
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
        var passwordFile = Path.Combine(config.Directory, "mqtt.password");
        await File.WriteAllTextAsync(passwordFile, "s3cret-Pa55\n");
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | (worldReadable ? UnixFileMode.GroupRead | UnixFileMode.OtherRead : 0));
        config.Root["mqtt"]!["username"] = "gwuser";
        config.Root["mqtt"]!["passwordFile"] = passwordFile;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        // Anonymous mosquitto takes any credentials: the gateway runs, and the warning (if any) came before the data.
        await collector.WaitUntilAsync(m => m.Count >= 3, TimeSpan.FromSeconds(60), "samples");
        var warning = $"Secret file '{passwordFile}' (mqtt.passwordFile) is accessible to group or others (mode 644)";
        var output = gateway.Output;
        Assert.Equal(worldReadable ? 1 : 0, output.Split(warning).Length - 1);
        Assert.DoesNotContain("is accessible to group or others", worldReadable ? output.Replace(warning, "", StringComparison.Ordinal) : output, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-Pa55", output, StringComparison.Ordinal);
    }
}
