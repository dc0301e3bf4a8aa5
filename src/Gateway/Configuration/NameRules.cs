using System.Globalization;
using Gateway.Drivers;

namespace Gateway.Configuration;

/// <summary>
/// What the plant's names (ISA-95 place, machines, tag paths, units) must be for every sink to carry them
/// unambiguously. Spaces, accents and any other Unicode are fine everywhere: UNS topics and Sparkplug ids are
/// UTF-8, JSON and line protocol escape the rest. What is refused, with its reason:
/// <list type="bullet">
/// <item>'+' and '#' anywhere (MQTT wildcards: a publication with them is a protocol error that closes the
/// connection, and Sparkplug 3.0 forbids them in group, edge node and device ids);</item>
/// <item>'/' in a name that is one topic level (enterprise … line, gateway id, machine: the machine is also the
/// Sparkplug device id), and empty levels in a tag path or the topic prefix;</item>
/// <item>control characters (U+0000–U+001F, U+007F–U+009F) and unpaired surrogates: MQTT forbids or lets the
/// broker refuse them (mosquitto closes the connection: "Malformed UTF-8"), and a newline ends a line of
/// InfluxDB line protocol;</item>
/// <item>leading or trailing white space, which makes two names that look the same;</item>
/// <item>'$' at the start of the first topic level (reserved for the broker's own topics, which '#' does not match);</item>
/// <item>with InfluxDB configured, a backslash (InfluxDB 1.x/2.x keep it literally in measurements, tag values
/// and field keys but cannot escape it before a space, comma or equals sign or at the end), and the field key
/// <c>time</c> (InfluxDB refuses it).</item>
/// </list>
/// </summary>
public sealed class NameRules : IConfigRule
{
    public void Check(ConfigContext context, List<ConfigProblem> problems)
    {
        var config = context.Config;
        var influx = config.Influx is not null;
        var identity = config.Gateway;
        var prefix = config.Mqtt.TopicPrefix.Trim('/');
        if (prefix.Length > 0)
        {
            CheckPath(prefix, "mqtt.topicPrefix", influx: false, problems);
        }

        CheckLevel(identity.Id, "gateway.id", influx, problems);
        CheckLevel(identity.Enterprise, "gateway.enterprise", influx, problems);
        CheckLevel(identity.Site, "gateway.site", influx, problems);
        CheckLevel(identity.Area, "gateway.area", influx, problems);
        CheckLevel(identity.Line, "gateway.line", influx, problems);
        var first = prefix.Length > 0 ? prefix.Split('/')[0] : identity.Enterprise;
        if (first.StartsWith('$'))
        {
            problems.Add(new ConfigProblem(prefix.Length > 0 ? "mqtt.topicPrefix" : "gateway.enterprise", $"'{first}' starts with '$': MQTT reserves such topics for the broker, and subscribers to '#' would not see them"));
        }

        CheckId(config.Mqtt.Sparkplug.GroupId, "mqtt.sparkplug.groupId", problems);
        CheckId(config.Mqtt.Sparkplug.EdgeNodeId, "mqtt.sparkplug.edgeNodeId", problems);

        for (var i = 0; i < (config.Oee?.Machines.Count ?? 0); i++)
        {
            CheckLevel(config.Oee!.Machines[i].Name, $"oee.machines[{i}].name", influx, problems);
        }

        for (var i = 0; i < config.Drivers.Count; i++)
        {
            var driver = config.Drivers[i];
            var path = $"drivers[{i}]";
            var tagsAreNew = context.ConfiguredTagsAreNew(driver);
            if (driver.Machine is { } machine)
            {
                CheckLevel(machine, path + ".machine", influx, problems);
            }

            for (var j = 0; j < driver.Tags.Count; j++)
            {
                var tag = driver.Tags[j];
                var tagPath = $"{path}.tags[{j}]";
                if (!tagsAreNew || string.IsNullOrEmpty(tag.Name))
                {
                    continue; // entries that only adjust the driver's own tags (the simulated line) name no UNS path
                }

                if (tag.Machine is { } tagMachine)
                {
                    CheckLevel(tagMachine, tagPath + ".machine", influx, problems);
                }

                var hasPath = !string.IsNullOrWhiteSpace(tag.Path);
                var info = tag.ToTagInfo(driver);
                CheckPath(info.Path, tagPath + (hasPath ? ".path" : ".name"), influx, problems);
                if (influx && info.Path == "time")
                {
                    problems.Add(new ConfigProblem(tagPath + (hasPath ? ".path" : ".name"), "'time' is the InfluxDB field key it would become, and InfluxDB refuses that name; choose another path"));
                }

                if (tag.Unit is { } unit)
                {
                    CheckText(unit, tagPath + ".unit", influx, problems);
                }
            }
        }
    }

    private static void CheckId(string? id, string path, List<ConfigProblem> problems)
    {
        if (id is null)
        {
            return;
        }

        if (id.Length == 0)
        {
            problems.Add(new ConfigProblem(path, "must not be empty; remove the key for the default"));
            return;
        }

        CheckLevel(id, path, influx: false, problems);
    }

    /// <summary>A name that is exactly one topic level (and a Sparkplug id).</summary>
    public static void CheckLevel(string name, string path, bool influx, List<ConfigProblem> problems)
    {
        if (name.Length == 0)
        {
            return; // [Required] reports it
        }

        if (name.Contains('/', StringComparison.Ordinal))
        {
            problems.Add(new ConfigProblem(path, $"'{Printable(name)}' contains '/': it is one MQTT topic level (and a Sparkplug id), where '/' would split it in two"));
            return;
        }

        CheckText(name, path, influx, problems);
    }

    /// <summary>A name of one or more topic levels separated by '/'.</summary>
    public static void CheckPath(string name, string path, bool influx, List<ConfigProblem> problems)
    {
        if (name.StartsWith('/') || name.EndsWith('/') || name.Contains("//", StringComparison.Ordinal))
        {
            problems.Add(new ConfigProblem(path, $"'{Printable(name)}' has an empty topic level (a leading, trailing or doubled '/')"));
            return;
        }

        foreach (var level in name.Split('/'))
        {
            var before = problems.Count;
            CheckText(level, path, influx, problems);
            if (problems.Count > before)
            {
                return;
            }
        }
    }

    private static void CheckText(string name, string path, bool influx, List<ConfigProblem> problems)
    {
        if (name.IndexOfAny(['+', '#']) is var wildcard and >= 0)
        {
            problems.Add(new ConfigProblem(path, $"'{Printable(name)}' contains '{name[wildcard]}', an MQTT wildcard: no topic level or Sparkplug id may contain '+' or '#'"));
        }
        else if (name.Any(IsControl))
        {
            var control = name.First(IsControl);
            problems.Add(new ConfigProblem(path, $"'{Printable(name)}' contains the control character U+{(int)control:X4}: MQTT brokers refuse it in topics and it would break InfluxDB lines"));
        }
        else if (!IsWellFormed(name))
        {
            problems.Add(new ConfigProblem(path, $"'{Printable(name)}' contains an unpaired UTF-16 surrogate: it is not valid Unicode and has no UTF-8 form"));
        }
        else if (name.Length > 0 && (char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1])))
        {
            problems.Add(new ConfigProblem(path, $"'{Printable(name)}' starts or ends with white space: it would look like another name"));
        }
        else if (influx && name.Contains('\\', StringComparison.Ordinal))
        {
            problems.Add(new ConfigProblem(path, $"'{Printable(name)}' contains a backslash, which InfluxDB line protocol cannot carry unambiguously in measurements, tags and field keys"));
        }
    }

    private static bool IsControl(char c) => c <= '\u001F' || c is >= '\u007F' and <= '\u009F';

    private static bool IsWellFormed(string name)
    {
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsHighSurrogate(name[i]) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(name[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The name as it can be shown on one line of stderr: control characters as <c>\uXXXX</c>.</summary>
    private static string Printable(string name)
    {
        var wellFormed = IsWellFormed(name);
        return string.Concat(name.Select(c => IsControl(c) || (!wellFormed && char.IsSurrogate(c)) ? "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) : c.ToString()));
    }
}
