using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using Gateway.Drivers;
using Microsoft.Extensions.Configuration;
using static Gateway.Drivers.ConfigValidation;

namespace Gateway.Configuration;

/// <summary>Walks the configuration tree against the options types: unknown keys, objects where a value is expected, unconvertible values.</summary>
internal sealed class SchemaWalker(List<ConfigProblem> problems, IReadOnlyList<IDriverFactory> factories)
{
    // The settable properties of an options type (with a driver's settings type), reflected once per process, not per list entry.
    private static readonly ConcurrentDictionary<(Type Type, Type? Extra), Dictionary<string, PropertyInfo>> s_properties = new();

    public void Check(IConfiguration section, Type type, string path)
    {
        var properties = Properties(type);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                problems.Add(new ConfigProblem(Join(path, child.Key), Suggest(child.Key, properties.Keys)));
                continue;
            }

            // Keys are case-insensitive (environment overrides arrive upper-case): report the canonical name.
            var childPath = Join(path, JsonName(property.Name));

            if (type == typeof(GatewayConfig) && property.Name == nameof(GatewayConfig.Drivers))
            {
                CheckDrivers(child, childPath);
                continue;
            }

            CheckValue(child, property.PropertyType, childPath);
        }
    }

    private void CheckDrivers(IConfigurationSection drivers, string path)
    {
        if (drivers.Value is not null && drivers.Value.Length > 0)
        {
            problems.Add(new ConfigProblem(path, "must be a list of drivers"));
            return;
        }

        foreach (var driver in drivers.GetChildren())
        {
            var driverPath = ListItemPath(path, driver.Key);
            if (driverPath is null)
            {
                problems.Add(new ConfigProblem(path, "must be a list of drivers"));
                return;
            }

            var type = driver["type"];
            var factory = type is null ? null : ConfigContext.FactoryFor(factories, type);
            if (type is not null && factory is null)
            {
                var known = string.Join(", ", factories.SelectMany(f => f.Types).Order(StringComparer.Ordinal));
                problems.Add(new ConfigProblem(driverPath + ".type", $"unknown driver type '{type}' (known: {known})"));
                // Its keys are unknowable without its factory: one line for the type, no "unknown key" for valid ones.
                continue;
            }

            var settingsType = factory?.SettingsType(type!);
            var tagSettingsType = factory?.TagSettingsType(type!);
            var allowed = Properties(typeof(DriverConfig), settingsType);
            foreach (var child in driver.GetChildren())
            {
                var childPath = Join(driverPath, allowed.TryGetValue(child.Key, out var known) ? JsonName(known.Name) : child.Key);
                if (!allowed.TryGetValue(child.Key, out var property))
                {
                    problems.Add(new ConfigProblem(childPath, Suggest(child.Key, allowed.Keys)));
                }
                else if (property.DeclaringType == typeof(DriverConfig) && property.Name == nameof(DriverConfig.Tags))
                {
                    CheckList(child, childPath, typeof(TagConfig), tagSettingsType);
                }
                else
                {
                    CheckValue(child, property.PropertyType, childPath);
                }
            }
        }
    }

    private void CheckList(IConfigurationSection list, string path, Type itemType, Type? extraType)
    {
        if (!string.IsNullOrEmpty(list.Value))
        {
            problems.Add(new ConfigProblem(path, "must be a list"));
            return;
        }

        foreach (var item in list.GetChildren())
        {
            var itemPath = ListItemPath(path, item.Key);
            if (itemPath is null)
            {
                problems.Add(new ConfigProblem(path, "must be a list, not an object"));
                return;
            }

            if (IsScalar(itemType))
            {
                CheckValue(item, itemType, itemPath);
                continue;
            }

            if (item.Value is not null && !item.GetChildren().Any())
            {
                problems.Add(new ConfigProblem(itemPath, "must be an object"));
                continue;
            }

            var allowed = Properties(itemType, extraType);
            foreach (var child in item.GetChildren())
            {
                var childPath = Join(itemPath, allowed.TryGetValue(child.Key, out var known) ? JsonName(known.Name) : child.Key);
                if (!allowed.TryGetValue(child.Key, out var property))
                {
                    problems.Add(new ConfigProblem(childPath, Suggest(child.Key, allowed.Keys)));
                }
                else
                {
                    CheckValue(child, property.PropertyType, childPath);
                }
            }
        }
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "TypeDescriptor.GetConverter of a scalar option type: the framework's intrinsic converters (numbers, bool, TimeSpan, enums) and the closed-choice converters of a trimmer root assembly.")]
    [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "TypeDescriptor.GetConverter of a scalar option type: the framework's intrinsic converters (numbers, bool, TimeSpan, enums) and the closed-choice converters of a trimmer root assembly.")]
    private void CheckValue(IConfigurationSection section, Type type, string path)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        var hasChildren = section.GetChildren().Any();
        if (IsScalar(underlying))
        {
            if (hasChildren)
            {
                problems.Add(new ConfigProblem(path, $"must be {Describe(underlying)}, not an object or a list"));
                return;
            }

            var value = section.Value;
            if (value is null || (value.Length == 0 && underlying != typeof(string)))
            {
                // JSON null: allowed for nullable values, required ones are caught by the annotations.
                if (Nullable.GetUnderlyingType(type) is null && underlying != typeof(string))
                {
                    problems.Add(new ConfigProblem(path, $"must be {Describe(underlying)}, got null"));
                }

                return;
            }

            try
            {
                var converted = TypeDescriptor.GetConverter(underlying).ConvertFromInvariantString(value);
                if (converted is double d && (double.IsNaN(d) || double.IsInfinity(d)))
                {
                    problems.Add(new ConfigProblem(path, $"must be a finite number, got '{value}'"));
                }
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException)
            {
                problems.Add(new ConfigProblem(path, $"must be {Describe(underlying)}, got '{value}'"));
            }

            return;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            CheckList(section, path, type.GetGenericArguments()[0], null);
            return;
        }

        if (!hasChildren)
        {
            if (!string.IsNullOrEmpty(section.Value))
            {
                problems.Add(new ConfigProblem(path, $"must be an object, got '{section.Value}'"));
            }

            return;
        }

        Check(section, type, path);
    }

    private static string? ListItemPath(string path, string key) =>
        int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? $"{path}[{index}]" : null;

    /// <summary>The settable properties by name, case-insensitive; shared: never modified.</summary>
    private static Dictionary<string, PropertyInfo> Properties(Type type, Type? extra = null) =>
        s_properties.GetOrAdd((type, extra), static key => Reflect(key.Type, key.Extra));

    [UnconditionalSuppressMessage("Trimming", "IL2065", Justification = "Options types live in the gateway's trimmer root assemblies (src/Gateway/Gateway.csproj): their public properties are kept.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Options types live in the gateway's trimmer root assemblies (src/Gateway/Gateway.csproj): their public properties are kept.")]
    private static Dictionary<string, PropertyInfo> Reflect(Type type, Type? extra)
    {
        var result = new Dictionary<string, PropertyInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var t in extra is null ? [type] : new[] { type, extra })
        {
            foreach (var property in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.CanWrite)
                {
                    result.TryAdd(property.Name, property);
                }
            }
        }

        return result;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "TypeDescriptor.GetConverter of a scalar option type: the framework's intrinsic converters (numbers, bool, TimeSpan, enums) and the closed-choice converters of a trimmer root assembly.")]
    [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "TypeDescriptor.GetConverter of a scalar option type: the framework's intrinsic converters (numbers, bool, TimeSpan, enums) and the closed-choice converters of a trimmer root assembly.")]
    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(uint) || type == typeof(ushort) => "an integer",
        _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
        _ when type == typeof(TimeSpan) => "a duration (hh:mm:ss)",
        _ when type.IsEnum && TypeDescriptor.GetConverter(type) is IClosedChoice choice => "one of " + string.Join(", ", choice.Spellings),
        _ when type.IsEnum => "one of " + string.Join(", ", Enum.GetNames(type)),
        _ => "a string",
    };

    private static string Suggest(string key, IEnumerable<string> known)
    {
        var best = known.Select(k => (Key: JsonName(k), Distance: Distance(key.ToLowerInvariant(), k.ToLowerInvariant())))
            .OrderBy(x => x.Distance).FirstOrDefault();
        return best.Key is not null && best.Distance <= Math.Max(2, key.Length / 3)
            ? $"unknown key (did you mean '{best.Key}'?)"
            : "unknown key";
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
