using Gateway.Buffering;
using Gateway.Drivers;

namespace Gateway.Tests.Northbound;

/// <summary>
/// A small <see cref="ISampleLog"/> that follows the contract (sequence numbers from 1, per-sink acknowledged ranges,
/// leases, a cursor below which everything is acknowledged), for the northbound parts' unit tests.
/// </summary>
internal sealed class InMemorySampleLog : ISampleLog
{
    private readonly Lock _lock = new();
    private readonly List<BufferedSample> _samples = [];
    private readonly Dictionary<string, List<SequenceRange>> _acknowledged = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<long>> _leases = new(StringComparer.Ordinal);
    private long _last;

    public static readonly TagInfo Temperature = new("m1", "temperature", "degC");

    public static readonly TagInfo Counter = new("m1", "count");

    public List<(string Sink, SequenceRange Range)> AcknowledgeCalls { get; } = [];

    public long LastSequence
    {
        get
        {
            lock (_lock)
            {
                return _last;
            }
        }
    }

    public long Count
    {
        get
        {
            lock (_lock)
            {
                return _samples.Count;
            }
        }
    }

    /// <summary>Appends samples of <paramref name="tag"/> with values first, first+1, …; returns their sequence numbers' range.</summary>
    public SequenceRange Append(int count, TagInfo? tag = null, long firstValue = 0, DateTimeOffset? at = null)
    {
        lock (_lock)
        {
            var first = _last + 1;
            var time = at ?? new DateTimeOffset(2026, 12, 3, 6, 0, 0, TimeSpan.Zero);
            for (var i = 0; i < count; i++)
            {
                _last++;
                _samples.Add(new BufferedSample(_last, Sample.Good(tag ?? Counter, time, time, SampleValue.FromInteger(firstValue + i))));
            }

            return new SequenceRange(first, _last);
        }
    }

    public int Read(string sink, long afterSequence, long throughSequence, int max, List<BufferedSample> into)
    {
        lock (_lock)
        {
            var read = 0;
            foreach (var item in _samples)
            {
                if (read == max)
                {
                    break;
                }

                if (item.Id <= afterSequence || item.Id > throughSequence || IsAcknowledged(sink, item.Id))
                {
                    continue;
                }

                into.Add(item);
                Leases(sink).Add(item.Id);
                read++;
            }

            return read;
        }
    }

    public void Acknowledge(string sink, SequenceRange range)
    {
        lock (_lock)
        {
            AcknowledgeCalls.Add((sink, range));
            if (!_acknowledged.TryGetValue(sink, out var ranges))
            {
                ranges = [];
                _acknowledged[sink] = ranges;
            }

            ranges.Add(range);
            Leases(sink).RemoveWhere(range.Contains);
        }
    }

    public IReadOnlyList<SequenceRange> Acknowledged(string sink)
    {
        lock (_lock)
        {
            var ranges = _acknowledged.GetValueOrDefault(sink) ?? [];
            var merged = new List<SequenceRange>();
            foreach (var range in ranges.OrderBy(r => r.First))
            {
                if (merged.Count > 0 && range.First <= merged[^1].Last + 1)
                {
                    merged[^1] = merged[^1] with { Last = Math.Max(merged[^1].Last, range.Last) };
                }
                else
                {
                    merged.Add(range);
                }
            }

            return merged;
        }
    }

    /// <summary>True when <paramref name="sink"/> acknowledged every sample in the log.</summary>
    public bool AllAcknowledged(string sink)
    {
        lock (_lock)
        {
            return _samples.All(s => IsAcknowledged(sink, s.Id));
        }
    }

    public long CursorOf(string sink)
    {
        lock (_lock)
        {
            long cursor = 0;
            foreach (var item in _samples)
            {
                if (!IsAcknowledged(sink, item.Id))
                {
                    break;
                }

                cursor = item.Id;
            }

            return cursor;
        }
    }

    public void ReleaseLeases(string sink)
    {
        lock (_lock)
        {
            Leases(sink).Clear();
        }
    }

    public int LeasedCount(string sink)
    {
        lock (_lock)
        {
            return Leases(sink).Count;
        }
    }

    public DateTimeOffset? OldestUnacknowledged(string sink)
    {
        lock (_lock)
        {
            foreach (var item in _samples)
            {
                if (!IsAcknowledged(sink, item.Id))
                {
                    return item.Sample.GatewayTimestamp;
                }
            }

            return null;
        }
    }

    private bool IsAcknowledged(string sink, long sequence) =>
        _acknowledged.TryGetValue(sink, out var ranges) && ranges.Exists(r => r.Contains(sequence));

    private HashSet<long> Leases(string sink)
    {
        if (!_leases.TryGetValue(sink, out var leases))
        {
            leases = [];
            _leases[sink] = leases;
        }

        return leases;
    }
}
