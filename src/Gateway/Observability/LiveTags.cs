using System.Collections.Concurrent;
using Gateway.Drivers;

namespace Gateway.Observability;

/// <summary>The last sample of every tag, for the dashboard and /api/tags.</summary>
/// <remarks>
/// Called for every sample on the drivers' hot path: an update finds the tag's slot with a lock-free read and
/// overwrites it in place, so the dictionary is written (and a node allocated) only the first time a tag is seen.
/// </remarks>
public sealed class LiveTags
{
    private readonly ConcurrentDictionary<TagInfo, Slot> _latest = new();

    public void Update(Sample sample)
    {
        if (_latest.TryGetValue(sample.Tag, out var slot))
        {
            slot.Set(sample);
            return;
        }

        // A slot is born holding its first sample, so a concurrent snapshot never sees an empty one.
        _latest.GetOrAdd(sample.Tag, static (_, first) => new Slot(first), sample).Set(sample);
    }

    /// <summary>The last sample of every tag, sorted by tag key.</summary>
    public IEnumerable<Sample> Snapshot() => Current().OrderBy(s => s.Tag.Key, StringComparer.Ordinal);

    /// <summary>The last sample of every tag, in no particular order (no sort, no copy of the whole set).</summary>
    public IEnumerable<Sample> Current()
    {
        foreach (var (_, slot) in _latest)
        {
            yield return slot.Get();
        }
    }

    public int Count => _latest.Count;

    /// <summary>Forgets tags that no driver reads any more (a reload removed them): they leave the live view.</summary>
    public void Remove(IEnumerable<TagInfo> tags)
    {
        foreach (var tag in tags)
        {
            _latest.TryRemove(tag, out _);
        }
    }

    /// <summary>One tag's last sample; the lock keeps a reader from seeing half of a sample being written.</summary>
    private sealed class Slot(Sample first)
    {
        private readonly Lock _lock = new();
        private Sample _sample = first;

        public void Set(in Sample sample)
        {
            lock (_lock)
            {
                _sample = sample;
            }
        }

        public Sample Get()
        {
            lock (_lock)
            {
                return _sample;
            }
        }
    }
}
