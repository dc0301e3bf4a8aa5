using Gateway.Drivers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gateway.Buffering;

/// <summary>The buffer's quota: what every sink acknowledged, the oldest batches dropped past the quota, unreadable batches, and the drop reports.</summary>
public sealed partial class SampleBuffer
{
    private void DropUnreadable(int index, string reason)
    {
        var batch = _batches[index];
        var lost = batch.Count - batch.CommonAcked;
        using (var transaction = _connection.BeginTransaction())
        {
            Run(_deleteBatch, transaction, batch.First);
            _batches.RemoveRange(index, 1);
            _storedBytes -= batch.Bytes;
            _waiting -= lost;
            // The configured sinks' cursors move past it (a sink no longer configured keeps its rows as they were:
            // were it configured again, the load counts what is no longer stored as acknowledged anyway).
            foreach (var sink in _sinks)
            {
                var state = StateOf(sink);
                state.Acked.Add(new SequenceRange(batch.First, batch.Last));
                SaveSink(sink, state, transaction);
            }

            foreach (var state in _sinkStates.Values)
            {
                state.Leases.Remove(new SequenceRange(batch.First, batch.Last));
            }

            transaction.Commit();
        }

        _metrics.AddDropped(lost);
        BufferLog.UnreadableBatch(_logger, _path, batch.First, batch.Last, reason, lost);
        PublishState();
    }

    /// <summary>How many samples of <paramref name="batch"/> every sink has acknowledged.</summary>
    private long CommonlyAcknowledged(BatchInfo batch)
    {
        var common = _scratch;
        common.Clear();
        common.Add(new SequenceRange(batch.First, batch.Last));
        foreach (var sink in _sinks)
        {
            var acked = StateOf(sink).Acked;
            if (acked.Floor >= batch.Last)
            {
                continue;
            }

            var next = _scratch2;
            next.Clear();
            foreach (var part in common)
            {
                acked.Intersect(part.First, part.Last, next);
            }

            common.Clear();
            common.AddRange(next);
            if (common.Count == 0)
            {
                return 0;
            }
        }

        long count = 0;
        foreach (var part in common)
        {
            count += part.Count;
        }

        return count;
    }

    /// <summary>Drops the oldest batches no sink holds leased until the buffer is within its quota.</summary>
    private long EnforceQuota()
    {
        long dropped = 0;
        SqliteTransaction? transaction = null;
        var index = 0;
        var run = -1;
        for (; _storedBytes > _maxBytes && index < _batches.Count; index++)
        {
            var batch = _batches[index];
            if (IsLeased(batch))
            {
                if (run >= 0)
                {
                    _batches.RemoveRange(run, index - run);
                    index = run;
                    run = -1;
                }

                continue;
            }

            transaction ??= _connection.BeginTransaction();
            Run(_deleteBatch, transaction, batch.First);
            run = run < 0 ? index : run;
            _storedBytes -= batch.Bytes;
            _waiting -= batch.Count - batch.CommonAcked;
            dropped += batch.Count - batch.CommonAcked;
            // What was dropped counts as acknowledged for every configured sink: their cursors move past it.
            foreach (var sink in _sinks)
            {
                StateOf(sink).Acked.Add(new SequenceRange(batch.First, batch.Last));
            }
        }

        if (run >= 0)
        {
            _batches.RemoveRange(run, index - run);
        }

        if (transaction is not null)
        {
            foreach (var sink in _sinks)
            {
                SaveSink(sink, StateOf(sink), transaction);
            }

            transaction.Commit();
            transaction.Dispose();
        }

        ReportDrops(dropped);
        return dropped;
    }

    private bool IsLeased(BatchInfo batch)
    {
        foreach (var state in _sinkStates.Values)
        {
            if (state.Leases.Overlaps(batch.First, batch.Last))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One warning when dropping starts, then one summary a minute while it goes on, and one line when it ends.</summary>
    private void ReportDrops(long dropped)
    {
        var now = _time.GetTimestamp();
        if (dropped > 0)
        {
            _metrics.AddDropped(dropped);
            if (!_dropping)
            {
                _dropping = true;
                _dropWindowStart = now;
                _droppedInWindow = 0;
                BufferLog.DropStarted(_logger, _path, _maxBytes, dropped);
                return;
            }

            _droppedInWindow += dropped;
        }

        if (_dropping && _time.GetElapsedTime(_dropWindowStart, now) >= s_dropSummaryInterval)
        {
            var seconds = _time.GetElapsedTime(_dropWindowStart, now).TotalSeconds;
            if (_droppedInWindow > 0)
            {
                BufferLog.DropSummary(_logger, _path, _droppedInWindow, seconds, _metrics.SamplesDropped);
                _dropWindowStart = now;
                _droppedInWindow = 0;
            }
            else
            {
                BufferLog.DropStopped(_logger, _path, _metrics.SamplesDropped);
                _dropping = false;
            }
        }
    }
}
