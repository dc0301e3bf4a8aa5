using Gateway.Buffering;
using Gateway.Observability;

namespace Gateway.Northbound.Delivery;

/// <summary>
/// One sink's reader of the buffer (<see cref="ISampleLog"/>), in two lanes. When a connection comes up
/// (<see cref="Restart"/>), every sample appended after that moment is live and is read first, so that data read now
/// reaches the broker now; everything older that this sink has not acknowledged (the backlog of an outage) is history,
/// read oldest first to fill what the live lane leaves. Deliveries are acknowledged as sequence ranges, merged per lane
/// and written to the buffer by <see cref="Flush"/> (the caller decides how often: an unflushed acknowledgement only
/// means a resend after a crash, never a loss); what a flush acknowledges is counted on the sink's
/// <see cref="SinkCounters"/> (published, and history published). Not thread-safe: one output's loop owns it
/// (<see cref="Lag"/> excepted).
/// </summary>
public sealed class BufferDrainer : IDeliveryReceiver
{
    private readonly ISampleLog _log;
    private readonly SinkCounters _counters;
    private long _liveFrom;
    private long _liveReadUpTo;
    private long _historyReadUpTo;
    private bool _historyDone = true;
    private Pending _pendingLive;
    private Pending _pendingHistory;

    /// <summary>A drainer for the sink <paramref name="counters"/> count (its name is the sink's name in the buffer).</summary>
    public BufferDrainer(ISampleLog log, SinkCounters counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        _log = log;
        _counters = counters;
        Sink = counters.Name;
    }

    /// <summary>The sink's name in the buffer.</summary>
    public string Sink { get; }

    /// <summary>True once the history lane has nothing more to read for this connection.</summary>
    public bool HistoryDone => _historyDone;

    /// <summary>Samples delivered and not yet written to the buffer as acknowledged.</summary>
    public int PendingSamples => _pendingLive.Samples + _pendingHistory.Samples;

    /// <summary>Samples acknowledged to the buffer since the drainer was made.</summary>
    public long AcknowledgedSamples { get; private set; }

    /// <summary>Samples acknowledged to the buffer from the history lane since the drainer was made.</summary>
    public long AcknowledgedHistorySamples { get; private set; }

    /// <summary>
    /// A new connection: what this sink read and did not acknowledge will be read again (its leases end), samples
    /// appended from now on are live, and the unacknowledged rest is history.
    /// </summary>
    public void Restart()
    {
        Flush();
        _log.ReleaseLeases(Sink);
        _liveFrom = _log.LastSequence;
        _liveReadUpTo = _liveFrom;
        _historyReadUpTo = _log.CursorOf(Sink);
        _historyDone = _historyReadUpTo >= _liveFrom;
        _pendingLive = default;
        _pendingHistory = default;
    }

    /// <summary>Reads up to <paramref name="max"/> live samples, oldest first; returns how many.</summary>
    public int ReadLive(int max, List<BufferedSample> into)
    {
        if (max <= 0)
        {
            return 0;
        }

        var start = into.Count;
        var read = _log.Read(Sink, _liveReadUpTo, long.MaxValue, max, into);
        if (read > 0)
        {
            _liveReadUpTo = into[start + read - 1].Id;
        }

        return read;
    }

    /// <summary>Reads up to <paramref name="max"/> samples of the backlog, oldest first; returns how many (0 once it is all read).</summary>
    public int ReadHistory(int max, List<BufferedSample> into)
    {
        if (_historyDone || max <= 0)
        {
            return 0;
        }

        var start = into.Count;
        var read = _log.Read(Sink, _historyReadUpTo, _liveFrom, max, into);
        if (read > 0)
        {
            _historyReadUpTo = into[start + read - 1].Id;
        }

        if (read < max || _historyReadUpTo >= _liveFrom)
        {
            _historyDone = true;
        }

        return read;
    }

    /// <inheritdoc/>
    public void Delivered(DeliveryLane lane, SequenceRange? completes, int samples)
    {
        ref var pending = ref lane == DeliveryLane.Live ? ref _pendingLive : ref _pendingHistory;
        pending.Samples += samples;
        if (completes is { } range)
        {
            // Within one lane, deliveries come in sequence order and a lane reads every unacknowledged sample of its
            // span: whatever lies between two of its ranges was acknowledged before or dropped, so they merge.
            pending.Range = pending.Range is { } open ? new SequenceRange(Math.Min(open.First, range.First), Math.Max(open.Last, range.Last)) : range;
        }
    }

    /// <summary>
    /// Writes the pending acknowledgements to the buffer and counts them (published, history published); returns how
    /// many samples they covered.
    /// </summary>
    public int Flush()
    {
        var live = FlushLane(ref _pendingLive, history: false);
        var history = FlushLane(ref _pendingHistory, history: true);
        var samples = live + history;
        if (samples > 0)
        {
            _counters.AddPublished(samples);
            if (history > 0)
            {
                _counters.AddHistoryPublished(history);
            }
        }

        return samples;
    }

    /// <summary>
    /// Age of the oldest sample this sink has not acknowledged (its gateway timestamp against
    /// <paramref name="time"/>), zero when none waits. Safe from another thread (it only asks the buffer).
    /// </summary>
    public TimeSpan Lag(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return _log.OldestUnacknowledged(Sink) is { } oldest ? TimeSpan.FromTicks(Math.Max(0, (time.GetUtcNow() - oldest).Ticks)) : TimeSpan.Zero;
    }

    private int FlushLane(ref Pending pending, bool history)
    {
        if (pending.Range is not { } range)
        {
            return 0;
        }

        _log.Acknowledge(Sink, range);
        var samples = pending.Samples;
        AcknowledgedSamples += samples;
        if (history)
        {
            AcknowledgedHistorySamples += samples;
        }

        pending = default;
        return samples;
    }

    private struct Pending
    {
        public SequenceRange? Range;
        public int Samples;
    }
}
