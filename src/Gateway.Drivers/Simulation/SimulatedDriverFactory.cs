using Microsoft.Extensions.Configuration;

namespace Gateway.Drivers.Simulation;

/// <summary>Creates <c>simulated</c> drivers.</summary>
public sealed class SimulatedDriverFactory : IDriverFactory
{
    public IReadOnlyCollection<string> Types { get; } = ["simulated"];

    public Type? SettingsType(string type) => typeof(SimulatedSettings);

    public Type? TagSettingsType(string type) => null;

    public IEnumerable<ConfigProblem> Validate(DriverConfig config, IConfigurationSection section, string path)
    {
        var settings = Bind(section);
        foreach (var problem in ConfigValidation.Annotations(settings, path))
        {
            yield return problem;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < settings.Machines.Count; i++)
        {
            var machine = settings.Machines[i];
            if (!string.IsNullOrEmpty(machine.Name) && !names.Add(machine.Name))
            {
                yield return new ConfigProblem($"{path}.machines[{i}].name", $"duplicate machine name '{machine.Name}'");
            }
        }

        var known = SimulatedDriver.TagNames(settings).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < config.Tags.Count; i++)
        {
            var tag = config.Tags[i];
            if (!known.Contains(tag.Name))
            {
                yield return new ConfigProblem($"{path}.tags[{i}].name", $"the simulated line has no tag '{tag.Name}' (tags are named machine/path, for example '{known.FirstOrDefault()}')");
            }
        }
    }

    /// <summary>The simulated line's tags come from its machines; <c>tags[]</c> only adjust their units and deadbands.</summary>
    public bool ConfiguredTagsAreNew(string type) => false;

    public IEnumerable<string> TagKeys(DriverConfig config, IConfigurationSection section) => SimulatedDriver.TagNames(Bind(section));

    public IDriver Create(DriverConfig config, IConfigurationSection section, DriverContext context) =>
        new SimulatedDriver(config.Name, Bind(section), config.Tags, context);

    private static SimulatedSettings Bind(IConfigurationSection section)
    {
        var settings = new SimulatedSettings();
        section.Bind(settings);
        return settings;
    }
}
