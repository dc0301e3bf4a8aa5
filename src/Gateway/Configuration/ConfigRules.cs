using System.Globalization;
using Gateway.Drivers;
using Microsoft.Extensions.Configuration;

namespace Gateway.Configuration;

/// <summary>What a rule sees: the bound configuration, its raw tree (for driver sections) and the driver factories.</summary>
public sealed class ConfigContext(GatewayConfig config, IConfiguration root, IReadOnlyList<IDriverFactory> factories)
{
    public GatewayConfig Config { get; } = config;

    public IConfiguration Root { get; } = root;

    public IReadOnlyList<IDriverFactory> Factories { get; } = factories;

    /// <summary>The factory serving the driver's <c>type</c>; null for an unknown type (the schema walk reports it).</summary>
    public IDriverFactory? FactoryOf(DriverConfig driver) => FactoryFor(Factories, driver.Type);

    /// <summary>The factory serving the driver type <paramref name="type"/>; null for an unknown type.</summary>
    public static IDriverFactory? FactoryFor(IReadOnlyList<IDriverFactory> factories, string type) => factories.FirstOrDefault(f => f.Types.Contains(type));

    /// <summary>The raw section of <c>drivers[index]</c>, which the factories bind their own settings from.</summary>
    public IConfigurationSection DriverSection(int index) => Root.GetSection("drivers").GetSection(index.ToString(CultureInfo.InvariantCulture));

    /// <summary>Whether the entries of the driver's <c>tags[]</c> are tags of their own (see <see cref="IDriverFactory.ConfiguredTagsAreNew"/>).</summary>
    public bool ConfiguredTagsAreNew(DriverConfig driver) => FactoryOf(driver)?.ConfiguredTagsAreNew(driver.Type) ?? true;
}

/// <summary>
/// A check that the annotations of the options classes cannot express (keys that go together, files that must
/// exist, references between sections). Each rule lives next to the options class it checks and is listed once in
/// <see cref="ConfigRules.All"/>; it adds <c>&lt;json path&gt;: &lt;reason&gt;</c> problems.
/// </summary>
public interface IConfigRule
{
    void Check(ConfigContext context, List<ConfigProblem> problems);
}

/// <summary>The rules of the configuration, in the order their problems are reported.</summary>
public static class ConfigRules
{
    public static IReadOnlyList<IConfigRule> All { get; } =
    [
        new OeeSectionRule(),
        new DriverRules(),
        new NameRules(),
        new BufferRules(),
        new MqttRules(),
        new InfluxRules(),
        new OeeTagReferenceRule(),
        new HttpRules(),
        new WriteRules(),
    ];
}

/// <summary>Files a configuration names: secrets that must be readable, the buffer that must be writable.</summary>
internal static class ConfigFiles
{
    public static void CheckReadable(string file, string path, List<ConfigProblem> problems)
    {
        if (!File.Exists(file))
        {
            problems.Add(new ConfigProblem(path, $"file '{file}' does not exist"));
            return;
        }

        try
        {
            using var stream = File.OpenRead(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add(new ConfigProblem(path, $"file '{file}' cannot be read: {ex.Message}"));
        }
    }

    /// <summary>The file's folder must exist or be creatable, and be writable.</summary>
    public static void CheckWritable(string file, string path, List<ConfigProblem> problems)
    {
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(file))!;
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            if (Directory.Exists(file))
            {
                problems.Add(new ConfigProblem(path, $"'{file}' is a directory, not a file"));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problems.Add(new ConfigProblem(path, $"cannot write '{file}': {ex.Message}"));
        }
    }
}
