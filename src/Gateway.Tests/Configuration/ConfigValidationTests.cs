using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

public sealed class ConfigValidationTests
{
    private static readonly string s_badDirectory = Path.Combine(AppContext.BaseDirectory, "TestData", "configs", "bad");

    public static TheoryData<string, string> BrokenConfigs()
    {
        var data = new TheoryData<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(s_badDirectory, "expected.txt")))
        {
            var parts = line.Split('\t');
            data.Add(parts[0], parts[1]);
        }

        return data;
    }

    [Fact]
    public void Corpus_HasAtLeastFifteenBrokenFiles_EachWithItsExpectation()
    {
        var files = Directory.GetFiles(s_badDirectory, "*.json").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToList();
        var expected = BrokenConfigs().Select(row => (string)row[0]).Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 15);
        Assert.Equal(files, expected);
    }

    [Theory]
    [MemberData(nameof(BrokenConfigs))]
    public void Load_BrokenConfig_IsRefusedWithItsJsonPath(string file, string expectedPath)
    {
        var loaded = ConfigLoader.Load(Path.Combine(s_badDirectory, file), BuiltInDrivers.Factories, includeEnvironment: false);

        Assert.False(loaded.IsValid);
        Assert.Contains(loaded.Problems, p => p.Path == expectedPath);
        Assert.All(loaded.Problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Reason)));
    }

    [Theory]
    [MemberData(nameof(BrokenConfigs))]
    public async Task CheckConfig_BrokenConfig_ExitsTwoAndPrintsPathColonReason(string file, string expectedPath)
    {
        var (exitCode, _, stderr) = await GatewayProcess.RunVerbAsync("check-config", Path.Combine(s_badDirectory, file));

        Assert.Equal(2, exitCode);
        Assert.Contains(stderr.Split('\n'), line => line.StartsWith(expectedPath + ": ", StringComparison.Ordinal) && line.Length > expectedPath.Length + 2);
    }

    [Fact]
    public async Task CheckConfig_DefaultConfig_IsValid()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "config", "gateway.json");
        using var workingDirectory = new TestConfig();

        var (exitCode, stdout, stderr) = await GatewayProcess.RunVerbInAsync(workingDirectory.Directory, null, "check-config", file);

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("valid", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_MisspeltEnvironmentOverride_IsAnUnknownKey()
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", 1000);
        var environment = new Dictionary<string, string> { ["GATEWAY_MQTT__HSOT"] = "broker.local", ["GATEWAY_BUFFER__FLUSHINTERVALMS"] = "often" };

        var (exitCode, _, stderr) = await GatewayProcess.RunVerbInAsync(config.Directory, environment, "check-config", config.Write());

        Assert.Equal(2, exitCode);
        Assert.Contains("mqtt.HSOT: unknown key (did you mean 'host'?)", stderr, StringComparison.Ordinal);
        Assert.Contains("buffer.flushIntervalMs: must be an integer, got 'often'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EnvironmentOverride_ReplacesTheFileValue()
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", 1000);
        Environment.SetEnvironmentVariable("GATEWAY_MQTT__TOPICPREFIX", "override-test");
        try
        {
            var loaded = ConfigLoader.Load(config.Write(), BuiltInDrivers.Factories);

            Assert.True(loaded.IsValid, string.Join("\n", loaded.Problems));
            Assert.Equal("override-test", loaded.Config!.Mqtt.TopicPrefix);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GATEWAY_MQTT__TOPICPREFIX", null);
        }
    }

    [Fact]
    public async Task Run_InvalidConfig_RefusesToStartWithExitTwo()
    {
        var (exitCode, _, stderr) = await GatewayProcess.RunVerbAsync("run", "--config", Path.Combine(s_badDirectory, "port-out-of-range.json"));

        Assert.Equal(2, exitCode);
        Assert.Contains("mqtt.port: must be between 1 and 65535, got 70000", stderr, StringComparison.Ordinal);
    }
}
