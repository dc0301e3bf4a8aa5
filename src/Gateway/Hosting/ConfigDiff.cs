using System.Text;
using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting;

/// <summary>One enabled driver of a configuration: its name, its index in <c>drivers[]</c> and its canonical text.</summary>
/// <param name="Name">The driver's <c>name</c>.</param>
/// <param name="Index">Its index in <c>drivers[]</c> (its section is <c>drivers:Index</c>).</param>
/// <param name="Fingerprint">The canonical form of its section (see <see cref="ConfigDiff.Canonical"/>).</param>
public sealed record DriverEntry(string Name, int Index, string Fingerprint);

/// <summary>What a reload changes: the drivers by name, and the sections that are not applied live.</summary>
/// <param name="Unchanged">Drivers whose section is the same: they keep running.</param>
/// <param name="Changed">Drivers whose section changed: stopped, then started with the new section.</param>
/// <param name="Added">Drivers that are new (or newly enabled): started.</param>
/// <param name="Removed">Drivers that are gone (or disabled): stopped.</param>
/// <param name="RestartRequired">Top-level sections other than <c>drivers</c> that changed: applied only by a restart.</param>
public sealed record ConfigChanges(
    IReadOnlyList<DriverEntry> Unchanged,
    IReadOnlyList<DriverEntry> Changed,
    IReadOnlyList<DriverEntry> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<string> RestartRequired)
{
    /// <summary>True when no driver starts or stops.</summary>
    public bool DriversUnchanged => Changed.Count == 0 && Added.Count == 0 && Removed.Count == 0;
}

/// <summary>
/// The diff of two configurations for a hot reload. A driver is known by its <c>name</c>; it changed when the
/// canonical form of its section differs: every leaf as <c>relative:key=value</c>, sorted ordinally, so that
/// whitespace, comments and the order of keys in an object do not count (the order of an array's items does:
/// they are its keys). Environment overrides are part of the tree, so they count as they did at start.
/// </summary>
public static class ConfigDiff
{
    /// <summary>The top-level sections that a running gateway does not apply live.</summary>
    public static readonly IReadOnlyList<string> RestartSections = ["gateway", "buffer", "mqtt", "influx", "http", "oee", "writes"];

    /// <summary>The canonical text of a section: its leaves, <c>key=value</c> per line, sorted by key.</summary>
    public static string Canonical(IConfigurationSection section)
    {
        var leaves = section.AsEnumerable(makePathsRelative: true)
            .Where(pair => pair.Value is not null)
            .OrderBy(pair => pair.Key, StringComparer.Ordinal);
        var text = new StringBuilder();
        foreach (var (key, value) in leaves)
        {
            text.Append(key).Append('=').Append(value).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The enabled drivers of a configuration, in configuration order.</summary>
    public static List<DriverEntry> Drivers(GatewayConfig config, IConfiguration root)
    {
        var drivers = root.GetSection("drivers");
        var entries = new List<DriverEntry>();
        for (var i = 0; i < config.Drivers.Count; i++)
        {
            if (config.Drivers[i].Enabled)
            {
                var section = drivers.GetSection(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                entries.Add(new DriverEntry(config.Drivers[i].Name, i, Canonical(section)));
            }
        }

        return entries;
    }

    /// <summary>The changes from the running drivers and sections to a new configuration.</summary>
    /// <param name="running">The drivers running now.</param>
    /// <param name="runningRoot">The configuration the gateway started with (its non-driver sections are the ones in effect).</param>
    /// <param name="next">The drivers of the new configuration.</param>
    /// <param name="nextRoot">The new configuration.</param>
    public static ConfigChanges Compute(IReadOnlyList<DriverEntry> running, IConfiguration runningRoot, IReadOnlyList<DriverEntry> next, IConfiguration nextRoot)
    {
        var before = running.ToDictionary(d => d.Name, StringComparer.Ordinal);
        var unchanged = new List<DriverEntry>();
        var changed = new List<DriverEntry>();
        var added = new List<DriverEntry>();
        foreach (var driver in next)
        {
            if (!before.TryGetValue(driver.Name, out var old))
            {
                added.Add(driver);
            }
            else if (string.Equals(old.Fingerprint, driver.Fingerprint, StringComparison.Ordinal))
            {
                unchanged.Add(driver);
            }
            else
            {
                changed.Add(driver);
            }
        }

        var names = next.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var removed = running.Where(d => !names.Contains(d.Name)).Select(d => d.Name).ToList();
        var restart = RestartSections
            .Where(s => !string.Equals(Canonical(runningRoot.GetSection(s)), Canonical(nextRoot.GetSection(s)), StringComparison.Ordinal))
            .ToList();
        return new ConfigChanges(unchanged, changed, added, removed, restart);
    }
}
