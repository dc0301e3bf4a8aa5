using System.ComponentModel.DataAnnotations;

namespace Gateway.Drivers;

/// <summary>A poll group: tags read together at one interval (a key of the polling drivers: Modbus, S7).</summary>
public sealed class PollGroupSettings
{
    [Required]
    public string Name { get; set; } = "";

    /// <summary>Poll interval in milliseconds.</summary>
    [Range(1, 86_400_000)]
    public int IntervalMs { get; set; } = 1000;
}

/// <summary>
/// The configuration rules every polling driver's factory shares: its poll groups (the driver's
/// <c>intervalMs</c> is the group <c>default</c>, <c>pollGroups[]</c> adds or overrides groups, a tag names its
/// group with <c>pollGroup</c>) and its backoff bounds.
/// </summary>
public static class PollGroups
{
    /// <summary>The group of the driver's own <c>intervalMs</c>, and of every tag that names none.</summary>
    public const string Default = "default";

    /// <summary>The intervals of the driver's poll groups by name; a duplicate name is a problem at its path.</summary>
    /// <param name="intervalMs">The driver's <c>intervalMs</c> (the default group).</param>
    /// <param name="groups">The driver's <c>pollGroups</c>.</param>
    /// <param name="path">The driver's JSON path.</param>
    /// <param name="problems">Where problems go.</param>
    public static Dictionary<string, TimeSpan> Resolve(int intervalMs, IReadOnlyList<PollGroupSettings> groups, string path, List<ConfigProblem> problems)
    {
        var intervals = new Dictionary<string, TimeSpan>(StringComparer.Ordinal)
        {
            [Default] = TimeSpan.FromMilliseconds(intervalMs),
        };
        for (var i = 0; i < groups.Count; i++)
        {
            var group = groups[i];
            if (string.IsNullOrEmpty(group.Name))
            {
                continue;
            }

            if (group.Name == Default)
            {
                intervals[Default] = TimeSpan.FromMilliseconds(group.IntervalMs);
            }
            else if (!intervals.TryAdd(group.Name, TimeSpan.FromMilliseconds(group.IntervalMs)))
            {
                problems.Add(new ConfigProblem($"{path}.pollGroups[{i}].name", $"duplicate poll group '{group.Name}'"));
            }
        }

        return intervals;
    }

    /// <summary>The group a tag is polled in (<see cref="Default"/> when it names none); an unknown one is a problem at the tag's path.</summary>
    public static string OfTag(string? pollGroup, IReadOnlyDictionary<string, TimeSpan> groups, string tagPath, List<ConfigProblem> problems)
    {
        var group = pollGroup ?? Default;
        if (!groups.ContainsKey(group))
        {
            problems.Add(new ConfigProblem($"{tagPath}.pollGroup", $"unknown poll group '{group}' (known: {string.Join(", ", groups.Keys)})"));
        }

        return group;
    }

    /// <summary>The backoff's bounds: the longest delay is at least the first.</summary>
    public static void CheckBackoff(int backoffMinMs, int backoffMaxMs, string path, List<ConfigProblem> problems)
    {
        if (backoffMaxMs < backoffMinMs)
        {
            problems.Add(new ConfigProblem($"{path}.backoffMaxMs", $"must be at least backoffMinMs ({backoffMinMs})"));
        }
    }
}
