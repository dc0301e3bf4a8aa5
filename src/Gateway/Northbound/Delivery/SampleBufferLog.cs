using Gateway.Buffering;
using Microsoft.Data.Sqlite;

namespace Gateway.Northbound.Delivery;

/// <summary>
/// TEMPORARY: <see cref="ISampleLog"/> over today's <see cref="SampleBuffer"/> (one cursor per sink), until the buffer
/// implements the contract itself. Ranges acknowledged above a sink's cursor are kept in memory and the cursor moves
/// over them once they join it; leases are not kept (the quota of today's buffer ignores them).
/// </summary>
public sealed class SampleBufferLog(SampleBuffer buffer, string path) : ISampleLog
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<SequenceRange>> _acknowledged = new(StringComparer.Ordinal);
    private readonly List<BufferedSample> _probe = new(1);

    public long LastSequence
    {
        get
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT IFNULL((SELECT seq FROM sqlite_sequence WHERE name = 'samples'), 0)";
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public long Count => buffer.Count;

    public int Read(string sink, long afterSequence, long throughSequence, int max, List<BufferedSample> into)
    {
        var start = into.Count;
        buffer.ReadOldest(Math.Max(afterSequence, buffer.CursorOf(sink)), max, into);
        lock (_lock)
        {
            var ranges = _acknowledged.GetValueOrDefault(sink);
            var kept = start;
            for (var i = start; i < into.Count; i++)
            {
                var item = into[i];
                if (item.Id > throughSequence || (ranges is not null && ranges.Exists(r => r.Contains(item.Id))))
                {
                    continue;
                }

                into[kept++] = item;
            }

            into.RemoveRange(kept, into.Count - kept);
            return kept - start;
        }
    }

    public void Acknowledge(string sink, SequenceRange range)
    {
        long cursor;
        lock (_lock)
        {
            if (!_acknowledged.TryGetValue(sink, out var ranges))
            {
                ranges = [];
                _acknowledged[sink] = ranges;
            }

            ranges.Add(range);
            ranges.Sort((a, b) => a.First.CompareTo(b.First));
            cursor = buffer.CursorOf(sink);
            var moved = cursor;
            while (ranges.Count > 0)
            {
                var first = ranges[0];
                if (first.First > moved + 1)
                {
                    _probe.Clear();
                    buffer.ReadOldest(moved, 1, _probe);
                    if (_probe.Count == 1 && _probe[0].Id < first.First)
                    {
                        break; // a sample waits between the cursor and this range
                    }
                }

                moved = Math.Max(moved, first.Last);
                ranges.RemoveAt(0);
            }

            ranges.RemoveAll(r => r.Last <= moved);
            if (moved > cursor)
            {
                buffer.Acknowledge(sink, moved);
            }
        }
    }

    public IReadOnlyList<SequenceRange> Acknowledged(string sink)
    {
        lock (_lock)
        {
            return [.. _acknowledged.GetValueOrDefault(sink) ?? []];
        }
    }

    public long CursorOf(string sink) => buffer.CursorOf(sink);

    public void ReleaseLeases(string sink)
    {
    }

    public DateTimeOffset? OldestUnacknowledged(string sink)
    {
        var first = new List<BufferedSample>(1);
        buffer.ReadOldest(buffer.CursorOf(sink), 1, first);
        return first.Count == 0 ? null : first[0].Sample.GatewayTimestamp;
    }
}
