using System.Collections.Concurrent;
using Gateway.Drivers;

namespace Gateway.Observability;

/// <summary>The last sample of every tag, for the dashboard and /api/tags.</summary>
public sealed class LiveTags
{
    private readonly ConcurrentDictionary<TagInfo, Sample> _latest = new();

    public void Update(Sample sample) => _latest[sample.Tag] = sample;

    public IEnumerable<Sample> Snapshot() => _latest.Values.OrderBy(s => s.Tag.Key, StringComparer.Ordinal);

    public int Count => _latest.Count;
}
