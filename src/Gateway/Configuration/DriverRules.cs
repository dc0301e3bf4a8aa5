using Gateway.Drivers;

namespace Gateway.Configuration;

/// <summary>
/// The <c>drivers</c> list: unique driver names, unique tag names per driver, unique tag keys (<c>machine/path</c>)
/// across drivers, then each factory's own validation of its section.
/// </summary>
public sealed class DriverRules : IConfigRule
{
    public void Check(ConfigContext context, List<ConfigProblem> problems)
    {
        var drivers = context.Config.Drivers;
        var driverNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var tagKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < drivers.Count; i++)
        {
            var driver = drivers[i];
            var path = $"drivers[{i}]";
            if (!string.IsNullOrEmpty(driver.Name) && !driverNames.Add(driver.Name))
            {
                problems.Add(new ConfigProblem(path + ".name", $"duplicate driver name '{driver.Name}'"));
            }

            var tagsAreNew = context.ConfiguredTagsAreNew(driver);
            var tagNames = new HashSet<string>(StringComparer.Ordinal);
            for (var j = 0; j < driver.Tags.Count; j++)
            {
                var tag = driver.Tags[j];
                if (string.IsNullOrEmpty(tag.Name))
                {
                    continue;
                }

                if (!tagNames.Add(tag.Name))
                {
                    problems.Add(new ConfigProblem($"{path}.tags[{j}].name", $"duplicate tag name '{tag.Name}' in driver '{driver.Name}'"));
                    continue;
                }

                if (!tagsAreNew)
                {
                    continue;
                }

                var key = tag.ToTagInfo(driver).Key;
                if (tagKeys.TryGetValue(key, out var first))
                {
                    problems.Add(new ConfigProblem($"{path}.tags[{j}].path", $"tag '{key}' is already defined at {first}"));
                }
                else
                {
                    tagKeys[key] = $"{path}.tags[{j}]";
                }
            }

            // An unknown type has no factory: the schema walk reported it.
            if (context.FactoryOf(driver) is { } factory)
            {
                problems.AddRange(factory.Validate(driver, context.DriverSection(i), path));
            }
        }
    }

    /// <summary>The <c>machine/path</c> of every tag the enabled drivers will produce, known without starting them.</summary>
    public static HashSet<string> ConfiguredTagKeys(ConfigContext context)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < context.Config.Drivers.Count; i++)
        {
            var driver = context.Config.Drivers[i];
            if (driver.Enabled)
            {
                keys.UnionWith(context.FactoryOf(driver)?.TagKeys(driver, context.DriverSection(i)) ?? driver.Tags.Select(t => t.ToTagInfo(driver).Key));
            }
        }

        return keys;
    }
}
