using System.Threading.Channels;
using Gateway.Drivers;
using Gateway.Observability;

namespace Gateway.Pipeline;

/// <summary>
/// The bounded queue between the drivers and the buffer writer (<see cref="SampleQueue"/>: a driver's read goes in,
/// and a flush comes out, as one copy under one lock). When it is full a driver waits: one that outruns the disk is
/// slowed down rather than losing samples silently; the writer drains it on every flush.
/// </summary>
public sealed class SamplePipeline
{
    public const int Capacity = 65_536;

    private readonly SampleQueue _queue = new(Capacity);
    private readonly Lock _observersLock = new();

    private readonly GatewayMetrics _metrics;

    // The polls under way in every driver (ISampleWriter.PollStarted/PollEnded): the buffer writer commits a burst
    // once the last of them has ended, woken by _burstEnded, instead of polling for a quiet pipeline.
    private readonly LoopSignal _burstEnded = new();
    private int _pollsUnderWay;

    // 1 once a sample came from outside a poll (a subscription, the gateway itself) since the writer last looked:
    // for those only a quiet pipeline tells that a burst is over.
    private int _unbracketed;

    // Copy-on-write: observers register at start-up, every sample reads the array without a lock.
    private Action<Sample>[] _observers = [];
    private SampleBatchObserver[] _batchObservers = [];

    public SamplePipeline(GatewayMetrics metrics) => _metrics = metrics;

    /// <summary>The queued samples, one at a time (the buffer writer takes them all at once: <see cref="DrainTo"/>).</summary>
    public ChannelReader<Sample> Reader => _queue;

    /// <summary>Moves every queued sample to the end of <paramref name="batch"/>, in order; returns how many.</summary>
    internal int DrainTo(List<Sample> batch) => _queue.DrainTo(batch);

    /// <summary>The polls under way in every driver: their samples are not all in the pipeline yet.</summary>
    internal int PollsUnderWay => Volatile.Read(ref _pollsUnderWay);

    /// <summary>
    /// Completes when the last poll under way has ended, or at once if one ended since the last wait, or after
    /// <see cref="WakeBatchWaiter"/>. For the buffer writer's loop only (one waiter).
    /// </summary>
    internal ValueTask WaitBurstEndAsync() => _burstEnded.WaitAsync();

    /// <summary>Wakes <see cref="WaitBurstEndAsync"/> (the writer's cap on a batch's age, its stop).</summary>
    internal void WakeBatchWaiter() => _burstEnded.Set();

    /// <summary>True when a sample came from outside a poll since the last call (which clears it).</summary>
    internal bool TakeUnbracketed() => Volatile.Read(ref _unbracketed) != 0 && Interlocked.Exchange(ref _unbracketed, 0) != 0;

    private void MarkUnbracketed()
    {
        if (Volatile.Read(ref _unbracketed) == 0)
        {
            Interlocked.Exchange(ref _unbracketed, 1);
        }
    }

    /// <summary>Called for every sample that passed the filters (live tag table, OEE). Must be quick.</summary>
    public void Observe(Action<Sample> observer)
    {
        lock (_observersLock)
        {
            _observers = [.. _observers, observer];
        }
    }

    /// <summary>
    /// Called once per driver batch with the samples of it that passed the filters, in order (and once per internal
    /// sample). Must be quick. For an observer that takes a lock: once per batch instead of once per sample (ten
    /// drivers polling at 100 Hz made a per-sample lock the most contended one of the gateway).
    /// </summary>
    public void ObserveBatches(SampleBatchObserver observer)
    {
        lock (_observersLock)
        {
            _batchObservers = [.. _batchObservers, observer];
        }
    }

    /// <summary>A writer for one driver: counts, filters and queues its samples.</summary>
    public ISampleWriter CreateWriter(string driverName) => new DriverWriter(this, _metrics.Driver(driverName));

    /// <summary>Queues a sample produced inside the gateway (OEE results), unfiltered.</summary>
    public ValueTask WriteInternalAsync(Sample sample, CancellationToken cancellationToken) => Enqueue(sample, cancellationToken);

    public void Complete() => _queue.Complete();

    private void Notify(in Sample sample)
    {
        foreach (var observer in _observers)
        {
            observer(sample);
        }

        foreach (var observer in _batchObservers)
        {
            observer(new ReadOnlySpan<Sample>(in sample));
        }
    }

    private void Notify(ReadOnlySpan<Sample> samples)
    {
        foreach (var observer in _observers)
        {
            foreach (ref readonly var sample in samples)
            {
                observer(sample);
            }
        }

        foreach (var observer in _batchObservers)
        {
            observer(samples);
        }
    }

    private ValueTask Enqueue(Sample sample, CancellationToken cancellationToken, bool inPoll = false)
    {
        if (!inPoll)
        {
            MarkUnbracketed();
        }

        Notify(sample);
        return _queue.TryWrite(new ReadOnlySpan<Sample>(in sample)) == 1 ? ValueTask.CompletedTask : _queue.WriteAsync(new[] { sample }, cancellationToken);
    }

    /// <summary>
    /// Filters, counts and queues one driver's samples. The lock keeps the change filter and the order of a driver's
    /// samples consistent when the driver writes from several loops; a batch takes it once.
    /// </summary>
    private sealed class DriverWriter(SamplePipeline pipeline, DriverCounters counters) : ISampleWriter
    {
        private readonly ChangeFilter _filter = new();
        private readonly Lock _lock = new();
        private Sample[] _passed = new Sample[128];
        private int _polls;

        public void PollStarted()
        {
            Interlocked.Increment(ref _polls);
            Interlocked.Increment(ref pipeline._pollsUnderWay);
        }

        public void PollEnded()
        {
            Interlocked.Decrement(ref _polls);
            if (Interlocked.Decrement(ref pipeline._pollsUnderWay) == 0)
            {
                pipeline._burstEnded.Set();
            }
        }

        public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
        {
            counters.AddRead();
            bool pass;
            lock (_lock)
            {
                pass = _filter.ShouldPass(sample);
            }

            if (!pass)
            {
                pipeline._metrics.AddFiltered(1);
                return ValueTask.CompletedTask;
            }

            return pipeline.Enqueue(sample, cancellationToken, inPoll: Volatile.Read(ref _polls) > 0);
        }

        public ValueTask WriteBatchAsync(ReadOnlyMemory<Sample> samples, CancellationToken cancellationToken)
        {
            if (samples.IsEmpty)
            {
                return ValueTask.CompletedTask;
            }

            counters.AddRead(samples.Length);
            if (Volatile.Read(ref _polls) == 0)
            {
                pipeline.MarkUnbracketed();
            }

            int filtered;
            lock (_lock)
            {
                // The samples that pass, in order, into the writer's own array: the observers see them as one span.
                var span = samples.Span;
                if (_passed.Length < span.Length)
                {
                    _passed = new Sample[Math.Max(span.Length, _passed.Length * 2)];
                }

                var passed = 0;
                for (var i = 0; i < span.Length; i++)
                {
                    if (_filter.ShouldPass(span[i]))
                    {
                        _passed[passed++] = span[i];
                    }
                }

                filtered = span.Length - passed;
                var accepted = _passed.AsSpan(0, passed);
                if (passed > 0)
                {
                    pipeline.Notify(accepted);
                }

                var queued = pipeline._queue.TryWrite(accepted);
                if (queued < accepted.Length)
                {
                    // The queue is full (the disk is behind): wait outside the lock for the rest, in order. Only
                    // this back-pressure path copies.
                    AddFiltered(filtered);
                    var rest = accepted[queued..].ToArray();
                    accepted.Clear(); // no reference kept to the batch's tags and strings
                    return pipeline._queue.WriteAsync(rest, cancellationToken);
                }

                accepted.Clear();
            }

            AddFiltered(filtered);
            return ValueTask.CompletedTask;
        }

        public void ReportPollOverrun() => counters.AddPollOverrun();

        private void AddFiltered(int filtered)
        {
            if (filtered > 0)
            {
                pipeline._metrics.AddFiltered(filtered);
            }
        }
    }
}

/// <summary>Sees the samples of one driver batch that passed the filters (<see cref="SamplePipeline.ObserveBatches"/>).</summary>
public delegate void SampleBatchObserver(ReadOnlySpan<Sample> samples);
