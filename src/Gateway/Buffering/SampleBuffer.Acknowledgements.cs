using System.Globalization;
using System.Runtime.InteropServices;
using Gateway.Drivers;
using Gateway.Observability;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gateway.Buffering;

/// <summary>
/// What each sink acknowledged and holds leased: acknowledgements persisted (the contiguous prefix in <c>cursors</c>,
/// the ranges above it in <c>ack_ranges</c>), batches deleted once every sink acknowledged all of their samples.
/// </summary>
public sealed partial class SampleBuffer
{
    /// <inheritdoc />
    public void Acknowledge(string sink, SequenceRange range)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var state = StateOf(sink);
            state.Leases.Remove(range);
            var first = Math.Max(range.First, state.Acked.Floor + 1);
            var last = Math.Min(range.Last, _nextSequence - 1);
            if (last < first || state.Acked.ContainsAll(first, last))
            {
                return;
            }

            state.Acked.Add(new SequenceRange(first, last));
            using var transaction = _connection.BeginTransaction();
            SaveSink(sink, state, transaction);
            // The batches delivered by every sink go from the index one run at a time (a drain of many small
            // batches would otherwise shift the whole index once per batch).
            var index = FirstBatchEndingAtOrAfter(first);
            var run = -1;
            for (; index < _batches.Count && _batches[index].First <= last; index++)
            {
                ref var batch = ref _batches[index];
                var common = CommonlyAcknowledged(batch);
                _waiting -= common - batch.CommonAcked;
                batch.CommonAcked = common;
                if (common == batch.Count)
                {
                    Run(_deleteBatch, transaction, batch.First);
                    _storedBytes -= batch.Bytes;
                    run = run < 0 ? index : run;
                }
                else if (run >= 0)
                {
                    _batches.RemoveRange(run, index - run);
                    index = run;
                    run = -1;
                }
            }

            if (run >= 0)
            {
                _batches.RemoveRange(run, index - run);
            }

            transaction.Commit();
            PublishState();
        }
    }

    /// <summary>
    /// Records that <paramref name="sink"/> delivered every sample up to <paramref name="upToId"/> (see
    /// <see cref="Acknowledge(string, SequenceRange)"/>). Internal: the outputs acknowledge ranges; tests use it.
    /// </summary>
    internal void Acknowledge(string sink, long upToId)
    {
        long floor;
        lock (_lock)
        {
            floor = StateOf(sink).Acked.Floor;
        }

        if (upToId > floor)
        {
            Acknowledge(sink, new SequenceRange(floor + 1, upToId));
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<SequenceRange> Acknowledged(string sink)
    {
        lock (_lock)
        {
            return [.. StateOf(sink).Acked.Ranges];
        }
    }

    /// <inheritdoc />
    public long CursorOf(string sink)
    {
        lock (_lock)
        {
            return StateOf(sink).Acked.Floor;
        }
    }

    /// <inheritdoc />
    public void ReleaseLeases(string sink)
    {
        lock (_lock)
        {
            StateOf(sink).Leases.Clear();
        }
    }

    /// <inheritdoc />
    public DateTimeOffset? OldestUnacknowledged(string sink)
    {
        lock (_lock)
        {
            var acked = StateOf(sink).Acked;
            for (var index = FirstBatchEndingAtOrAfter(acked.Floor + 1); index < _batches.Count; index++)
            {
                var batch = _batches[index];
                if (!acked.ContainsAll(batch.First, batch.Last))
                {
                    // The batch's oldest: within one flush interval of the first sample the sink still owes.
                    return new DateTimeOffset(batch.OldestTicks, TimeSpan.Zero);
                }
            }

            return null;
        }
    }

    private SinkState StateOf(string sink)
    {
        if (!_sinkStates.TryGetValue(sink, out var state))
        {
            // A sink never seen: it owes everything still stored, nothing that was deleted or dropped.
            state = new SinkState(NewAcknowledgements());
            _sinkStates[sink] = state;
        }

        return state;
    }

    /// <summary>Everything up to the last sequence number that is not in a stored batch.</summary>
    private SequenceRangeSet NewAcknowledgements()
    {
        var acked = new SequenceRangeSet(_batches.Count == 0 ? _nextSequence - 1 : _batches[0].First - 1);
        AddGaps(acked);
        return acked;
    }

    private void AddGaps(SequenceRangeSet acked)
    {
        var expected = 1L;
        for (var index = 0; index < _batches.Count; index++)
        {
            var batch = _batches[index];
            if (batch.First > expected)
            {
                acked.Add(new SequenceRange(expected, batch.First - 1));
            }

            expected = batch.Last + 1;
        }

        if (expected <= _nextSequence - 1)
        {
            acked.Add(new SequenceRange(expected, _nextSequence - 1));
        }
    }

    private void SaveSink(string sink, SinkState state, SqliteTransaction transaction)
    {
        Run(_saveCursor, transaction, sink, state.Acked.Floor);
        if (state.Acked.Ranges.Count > 0 || state.SavedRanges)
        {
            Run(_deleteRanges, transaction, sink);
            foreach (var range in state.Acked.Ranges)
            {
                Run(_insertRange, transaction, sink, range.First, range.Last);
            }

            state.SavedRanges = state.Acked.Ranges.Count > 0;
        }
    }

    private sealed class SinkState(SequenceRangeSet acked)
    {
        public SequenceRangeSet Acked { get; } = acked;

        public SequenceRangeSet Leases { get; } = SequenceRangeSet.WithoutFloor();

        /// <summary>Two: one for each lane (live, history) reading the sink's samples.</summary>
        public BatchReader[] Readers { get; } = [new(), new()];

        /// <summary>Whether ack_ranges holds rows for this sink (so they must be rewritten even when none remain).</summary>
        public bool SavedRanges { get; set; }
    }
}
