using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace Gateway.Configuration;

/// <summary>
/// The JSON configuration provider with an index of each section's children. The stock provider answers "the children
/// of this section" by scanning every key of the file, and binding visits every section, so loading a configuration
/// cost time in the square of its size: 14 CPU-s for check-config of 3000 Modbus tags on an x86 core, several times
/// that on a Pi, twice per start under systemd (ExecStartPre and the start). With the index each answer costs the
/// section's own children; the answers are the stock provider's (same keys, same order).
/// </summary>
public sealed class IndexedJsonConfigurationSource : JsonStreamConfigurationSource
{
    public override IConfigurationProvider Build(IConfigurationBuilder builder) => new IndexedJsonConfigurationProvider(this);
}

/// <inheritdoc cref="IndexedJsonConfigurationSource"/>
public sealed class IndexedJsonConfigurationProvider(JsonStreamConfigurationSource source) : JsonStreamConfigurationProvider(source)
{
    // Built whole, then published in one write: readers on other threads see the old index or the new one.
    private volatile Index? _index;

    public override void Load(Stream stream)
    {
        base.Load(stream);
        _index = BuildIndex();
    }

    public override void Set(string key, string? value)
    {
        base.Set(key, value);
        _index = BuildIndex();
    }

    public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath)
    {
        var index = _index ??= BuildIndex();
        var results = new List<string>(earlierKeys);
        if (parentPath is null)
        {
            results.AddRange(index.Top);
        }
        else if (index.Children.TryGetValue(parentPath, out var children))
        {
            results.AddRange(children);
        }

        results.Sort(ConfigurationKeyComparer.Instance);
        return results;
    }

    private Index BuildIndex()
    {
        var children = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var seen = new HashSet<(string Parent, string Child)>(PairComparer.Instance);
        var top = new List<string>();
        foreach (var key in Data.Keys)
        {
            var start = 0;
            while (true)
            {
                var end = key.IndexOf(ConfigurationPath.KeyDelimiter, start, StringComparison.Ordinal);
                var parent = start == 0 ? "" : key[..(start - 1)];
                var child = end < 0 ? key[start..] : key[start..end];
                if (seen.Add((parent, child)))
                {
                    if (start == 0)
                    {
                        top.Add(child);
                    }
                    else
                    {
                        if (!children.TryGetValue(parent, out var list))
                        {
                            children[parent] = list = [];
                        }

                        list.Add(child);
                    }
                }

                if (end < 0)
                {
                    break;
                }

                start = end + 1;
            }
        }

        return new Index(top, children);
    }

    private sealed record Index(List<string> Top, Dictionary<string, List<string>> Children);

    private sealed class PairComparer : IEqualityComparer<(string Parent, string Child)>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals((string Parent, string Child) x, (string Parent, string Child) y) =>
            StringComparer.OrdinalIgnoreCase.Equals(x.Parent, y.Parent) && StringComparer.OrdinalIgnoreCase.Equals(x.Child, y.Child);

        public int GetHashCode((string Parent, string Child) obj) =>
            HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(obj.Parent), StringComparer.OrdinalIgnoreCase.GetHashCode(obj.Child));
    }
}
