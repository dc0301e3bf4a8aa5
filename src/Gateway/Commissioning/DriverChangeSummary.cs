using System.Text.Json.Nodes;

namespace Gateway.Commissioning;

/// <summary>
/// What a save changes, driver by driver and tag by tag, for the audit line and the page: <c>added plc-2 (3 tags)</c>,
/// <c>removed old-press</c>, <c>disabled welder</c>, <c>changed press (tags added: temperature; removed: speed;
/// changed: counter)</c>. Names only: never a value (a secret could be one).
/// </summary>
public static class DriverChangeSummary
{
    public static string Added(JsonObject driver) => $"added {Name(driver)} ({Tags(driver).Count} tags)";

    public static string Removed(JsonObject? driver) => $"removed {Name(driver)}";

    public static string Changed(JsonObject before, JsonObject after)
    {
        var wasEnabled = Enabled(before);
        var isEnabled = Enabled(after);
        var what = wasEnabled && !isEnabled ? "disabled" : !wasEnabled && isEnabled ? "enabled" : "changed";
        var old = Tags(before);
        var now = Tags(after);
        var added = now.Keys.Where(k => !old.ContainsKey(k)).ToList();
        var removed = old.Keys.Where(k => !now.ContainsKey(k)).ToList();
        var changed = now.Keys.Where(k => old.TryGetValue(k, out var o) && !JsonNode.DeepEquals(o, now[k])).ToList();
        var parts = new List<string>();
        if (added.Count > 0)
        {
            parts.Add("tags added: " + string.Join(", ", added));
        }

        if (removed.Count > 0)
        {
            parts.Add("tags removed: " + string.Join(", ", removed));
        }

        if (changed.Count > 0)
        {
            parts.Add("tags changed: " + string.Join(", ", changed));
        }

        var settings = SettingKeys(before, after);
        if (settings.Count > 0)
        {
            parts.Add("settings changed: " + string.Join(", ", settings));
        }

        return parts.Count == 0 ? $"{what} {Name(after)}" : $"{what} {Name(after)} ({string.Join("; ", parts)})";
    }

    private static string Name(JsonObject? driver) => driver?["name"] is JsonValue v && v.TryGetValue<string>(out var name) ? name : "?";

    private static bool Enabled(JsonObject driver) => driver["enabled"] is not JsonValue v || !v.TryGetValue<bool>(out var enabled) || enabled;

    private static Dictionary<string, JsonNode?> Tags(JsonObject driver)
    {
        var tags = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (driver["tags"] is JsonArray array)
        {
            var i = 0;
            foreach (var tag in array)
            {
                var name = tag?["name"] is JsonValue v && v.TryGetValue<string>(out var n) ? n : $"#{i}";
                tags.TryAdd(name, tag);
                i++;
            }
        }

        return tags;
    }

    /// <summary>The driver-level keys (other than tags and enabled) whose values differ, by name.</summary>
    private static List<string> SettingKeys(JsonObject before, JsonObject after) =>
        [.. before.Select(p => p.Key).Union(after.Select(p => p.Key), StringComparer.Ordinal)
            .Where(k => k is not ("tags" or "enabled") && !JsonNode.DeepEquals(before[k], after[k]))];
}
