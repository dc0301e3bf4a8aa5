using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>Every configuration in config/examples/ is accepted by <c>gateway check-config</c>.</summary>
public sealed class ExampleConfigTests
{
    private static readonly string s_examples = Path.Combine(AppContext.BaseDirectory, "config", "examples");

    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(s_examples, "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Fact]
    public void Examples_OnePerSector_AreShipped()
    {
        var names = Directory.GetFiles(s_examples, "*.json").Select(Path.GetFileNameWithoutExtension).ToList();

        Assert.Contains("electronics-assembly", names);
        Assert.Contains("agro-food-packaging", names);
        Assert.Contains("aerospace-machining", names);
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task CheckConfig_Example_IsValid(string file)
    {
        using var workingDirectory = new TestConfig();

        var (exitCode, stdout, stderr) = await GatewayProcess.RunVerbInAsync(workingDirectory.Directory, null, "check-config", Path.Combine(s_examples, file));

        Assert.True(exitCode == 0, $"{file}: {stderr}");
        Assert.Contains("valid", stdout, StringComparison.Ordinal);
    }
}
