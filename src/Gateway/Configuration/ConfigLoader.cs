using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Reflection;
using Gateway.Drivers;
using Microsoft.Extensions.Configuration;
using static Gateway.Drivers.ConfigValidation;

namespace Gateway.Configuration;

/// <summary>The outcome of loading a configuration: the bound object, or the problems that refuse it.</summary>
public sealed record LoadedConfig(GatewayConfig? Config, IConfigurationRoot? Root, IReadOnlyList<ConfigProblem> Problems)
{
    public bool IsValid => Problems.Count == 0 && Config is not null;
}

/// <summary>
/// Loads config/gateway.json with <c>GATEWAY_</c> environment overrides and checks it thoroughly:
/// unknown keys, values of the wrong type, missing or out-of-range values, duplicates and unusable paths,
/// each reported as <c>&lt;json path&gt;: &lt;reason&gt;</c>.
/// </summary>
public static class ConfigLoader
{
    public const string EnvironmentPrefix = "GATEWAY_";

    public static LoadedConfig Load(string path, IReadOnlyList<IDriverFactory> factories, bool includeEnvironment = true)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            return new LoadedConfig(null, null, [new ConfigProblem("$", $"configuration file '{path}' does not exist")]);
        }

        IConfigurationRoot root;
        try
        {
            var builder = new ConfigurationBuilder().AddJsonFile(full, optional: false, reloadOnChange: false);
            if (includeEnvironment)
            {
                builder.AddEnvironmentVariables(EnvironmentPrefix);
            }

            root = builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            var reason = ex.InnerException is System.Text.Json.JsonException json ? json.Message : ex.Message;
            return new LoadedConfig(null, null, [new ConfigProblem("$", "not valid JSON: " + reason)]);
        }

        var problems = Validate(root, factories, System.IO.Path.GetDirectoryName(full)!);
        if (problems.Count > 0)
        {
            return new LoadedConfig(null, root, problems);
        }

        var config = root.Get<GatewayConfig>() ?? new GatewayConfig();
        return new LoadedConfig(config, root, problems);
    }

    /// <summary>Every problem of a configuration; empty when it can be run.</summary>
    public static List<ConfigProblem> Validate(IConfiguration root, IReadOnlyList<IDriverFactory> factories, string baseDirectory)
    {
        var problems = new List<ConfigProblem>();
        var schema = new SchemaWalker(problems, factories);
        schema.Check(root, typeof(GatewayConfig), "");
        if (problems.Count > 0)
        {
            // Values of the wrong type make binding throw: report them, not what follows from them.
            return problems;
        }

        GatewayConfig config;
        try
        {
            config = root.Get<GatewayConfig>(o => o.ErrorOnUnknownConfiguration = false) ?? new GatewayConfig();
        }
        catch (InvalidOperationException ex)
        {
            problems.Add(new ConfigProblem("$", ex.Message));
            return problems;
        }

        problems.AddRange(ConfigValidation.Annotations(config, ""));
        if (config.Oee is { } oee && Gateway.Oee.OeeConfigRules.Check(oee, "oee") is { Count: > 0 } oeeProblems)
        {
            // One line at the section, as check-config has always printed it.
            problems.Add(new ConfigProblem("oee", string.Join("; ", oeeProblems)));
        }

        Semantics(root, config, factories, problems);
        return problems;
    }

    private static void Semantics(IConfiguration root, GatewayConfig config, IReadOnlyList<IDriverFactory> factories, List<ConfigProblem> problems)
    {
        var driverNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var tagKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < config.Drivers.Count; i++)
        {
            var driver = config.Drivers[i];
            var path = $"drivers[{i}]";
            if (!string.IsNullOrEmpty(driver.Name) && !driverNames.Add(driver.Name))
            {
                problems.Add(new ConfigProblem(path + ".name", $"duplicate driver name '{driver.Name}'"));
            }

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

                if (driver.Type == "simulated")
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

            var factory = factories.FirstOrDefault(f => f.Types.Contains(driver.Type));
            if (factory is null)
            {
                continue; // reported by the schema walk
            }

            problems.AddRange(factory.Validate(driver, root.GetSection("drivers").GetSection(i.ToString(CultureInfo.InvariantCulture)), path));
        }

        NameRules.Check(config, problems);
        CheckWritableFile(config.Buffer.Path, "buffer.path", problems);

        if (config.Mqtt.PasswordFile is { } passwordFile)
        {
            CheckReadableFile(passwordFile, "mqtt.passwordFile", problems);
        }

        if (config.Mqtt.PasswordFile is not null && string.IsNullOrEmpty(config.Mqtt.Username))
        {
            problems.Add(new ConfigProblem("mqtt.username", "is required when mqtt.passwordFile is set"));
        }

        if (config.Mqtt.Tls is { Enabled: true } tls)
        {
            if (config.Mqtt.Host is null)
            {
                problems.Add(new ConfigProblem("mqtt.tls", "TLS needs an external broker (mqtt.host); the embedded broker listens on loopback without TLS"));
            }

            if (tls.CaFile is not null)
            {
                CheckReadableFile(tls.CaFile, "mqtt.tls.caFile", problems);
            }

            if ((tls.CertFile is null) != (tls.KeyFile is null))
            {
                problems.Add(new ConfigProblem(tls.CertFile is null ? "mqtt.tls.certFile" : "mqtt.tls.keyFile", "a client certificate needs both certFile and keyFile"));
            }

            if (tls.CertFile is not null)
            {
                CheckReadableFile(tls.CertFile, "mqtt.tls.certFile", problems);
            }

            if (tls.KeyFile is not null)
            {
                CheckReadableFile(tls.KeyFile, "mqtt.tls.keyFile", problems);
            }
        }

        if (config.Mqtt.Host is { } host && string.IsNullOrWhiteSpace(host))
        {
            problems.Add(new ConfigProblem("mqtt.host", "must not be empty; remove the key to use the embedded broker"));
        }

        if (config.Influx is { } influx)
        {
            CheckInflux(influx, problems);
        }

        if (config.Oee is { } oee && problems.Count == 0)
        {
            problems.AddRange(Gateway.Oee.OeeConfigRules.CheckTags(oee, ConfiguredTagKeys(root, config)));
        }

        CheckHttp(config.Http, problems);
    }

    /// <summary>The <c>machine/path</c> of every tag the enabled drivers will produce, known without starting them.</summary>
    private static HashSet<string> ConfiguredTagKeys(IConfiguration root, GatewayConfig config)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < config.Drivers.Count; i++)
        {
            var driver = config.Drivers[i];
            if (!driver.Enabled)
            {
                continue;
            }

            if (driver.Type == "simulated")
            {
                var settings = new Gateway.Drivers.Simulation.SimulatedSettings();
                root.GetSection("drivers").GetSection(i.ToString(CultureInfo.InvariantCulture)).Bind(settings);
                keys.UnionWith(Gateway.Drivers.Simulation.SimulatedDriver.TagNames(settings));
            }
            else
            {
                keys.UnionWith(driver.Tags.Select(t => t.ToTagInfo(driver).Key));
            }
        }

        return keys;
    }

    private static void CheckInflux(InfluxOptions influx, List<ConfigProblem> problems)
    {
        if (!Uri.TryCreate(influx.Url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            problems.Add(new ConfigProblem("influx.url", $"'{influx.Url}' is not an http:// or https:// URL"));
        }

        if (influx.Version == 1)
        {
            if (string.IsNullOrWhiteSpace(influx.Database))
            {
                problems.Add(new ConfigProblem("influx.database", "is required for InfluxDB 1.x (version 1)"));
            }

            if (influx.PasswordFile is not null)
            {
                CheckReadableFile(influx.PasswordFile, "influx.passwordFile", problems);
                if (string.IsNullOrEmpty(influx.Username))
                {
                    problems.Add(new ConfigProblem("influx.username", "is required when influx.passwordFile is set"));
                }
            }
        }
        else
        {
            if (string.IsNullOrWhiteSpace(influx.Bucket))
            {
                problems.Add(new ConfigProblem("influx.bucket", $"is required for InfluxDB {influx.Version}.x"));
            }

            if (influx.Version == 2 && string.IsNullOrWhiteSpace(influx.Org))
            {
                problems.Add(new ConfigProblem("influx.org", "is required for InfluxDB 2.x"));
            }

            if (influx.TokenFile is null)
            {
                problems.Add(new ConfigProblem("influx.tokenFile", $"is required for InfluxDB {influx.Version}.x"));
            }
            else
            {
                CheckReadableFile(influx.TokenFile, "influx.tokenFile", problems);
            }
        }
    }

    private static void CheckHttp(HttpOptions http, List<ConfigProblem> problems)
    {
        foreach (var url in http.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                problems.Add(new ConfigProblem("http.urls", $"'{url}' is not an http:// or https:// URL"));
                continue;
            }

            if (uri.Port is < 1 or > 65535)
            {
                problems.Add(new ConfigProblem("http.urls", $"port of '{url}' must be between 1 and 65535"));
            }

            var loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
            if (!loopback && http.PasswordFile is null)
            {
                problems.Add(new ConfigProblem("http.urls", $"'{url}' is not a loopback address: set http.passwordFile to expose the dashboard beyond this machine"));
            }
        }

        if (http.PasswordFile is { } file)
        {
            var before = problems.Count;
            CheckReadableFile(file, "http.passwordFile", problems);
            if (problems.Count == before && string.IsNullOrEmpty(File.ReadLines(file).FirstOrDefault()))
            {
                // The password is the first line (Dashboard/DashboardAuth.cs); an empty one would open nothing.
                problems.Add(new ConfigProblem("http.passwordFile", $"the first line of '{file}' (the password) is empty"));
            }
        }
    }

    private static void CheckReadableFile(string file, string path, List<ConfigProblem> problems)
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

    /// <summary>The buffer's folder must exist or be creatable, and be writable.</summary>
    private static void CheckWritableFile(string file, string path, List<ConfigProblem> problems)
    {
        try
        {
            var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file))!;
            Directory.CreateDirectory(directory);
            var probe = System.IO.Path.Combine(directory, $".write-test-{Environment.ProcessId}");
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

    /// <summary>Walks the configuration tree against the options types: unknown keys, objects where a value is expected, unconvertible values.</summary>
    private sealed class SchemaWalker(List<ConfigProblem> problems, IReadOnlyList<IDriverFactory> factories)
    {
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
                var factory = type is null ? null : factories.FirstOrDefault(f => f.Types.Contains(type));
                if (type is not null && factory is null)
                {
                    var known = string.Join(", ", factories.SelectMany(f => f.Types).Order(StringComparer.Ordinal));
                    problems.Add(new ConfigProblem(driverPath + ".type", $"unknown driver type '{type}' (known: {known})"));
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

        private static Dictionary<string, PropertyInfo> Properties(Type type, Type? extra = null)
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

        private static string Describe(Type type) => type switch
        {
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(uint) || type == typeof(ushort) => "an integer",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
            _ when type == typeof(TimeSpan) => "a duration (hh:mm:ss)",
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
}
