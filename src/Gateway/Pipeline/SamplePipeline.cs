using System.Threading.Channels;
using Gateway.Drivers;
using Gateway.Observability;

namespace Gateway.Pipeline;

/// <summary>
/// The bounded channel between the drivers and the buffer writer. Full mode is Wait: a driver that
/// outruns the disk is slowed down rather than losing samples silently; the writer drains every flush.
/// </summary>
public sealed class SamplePipeline
{
    public const int Capacity = 65_536;

    private readonly Channel<Sample> _channel = Channel.CreateBounded<Sample>(new BoundedChannelOptions(Capacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
        SingleWriter = false,
    });

    private readonly GatewayMetrics _metrics;

    // Copy-on-write: observers register at start-up, every sample reads the array without a lock.
    private Action<Sample>[] _observers = [];

    public SamplePipeline(GatewayMetrics metrics) => _metrics = metrics;

    public ChannelReader<Sample> Reader => _channel.Reader;

    /// <summary>Called for every sample that passed the filters (live tag table, OEE). Must be quick.</summary>
    public void Observe(Action<Sample> observer)
    {
        lock (_channel)
        {
            _observers = [.. _observers, observer];
        }
    }

    /// <summary>A writer for one driver: counts, filters and queues its samples.</summary>
    public ISampleWriter CreateWriter(string driverName) => new DriverWriter(this, _metrics.Driver(driverName));

    /// <summary>Queues a sample produced inside the gateway (OEE results), unfiltered.</summary>
    public ValueTask WriteInternalAsync(Sample sample, CancellationToken cancellationToken) => Enqueue(sample, cancellationToken);

    public void Complete() => _channel.Writer.TryComplete();

    private void Notify(in Sample sample)
    {
        foreach (var observer in _observers)
        {
            observer(sample);
        }
    }

    private ValueTask Enqueue(Sample sample, CancellationToken cancellationToken)
    {
        Notify(sample);
        return _channel.Writer.TryWrite(sample) ? ValueTask.CompletedTask : _channel.Writer.WriteAsync(sample, cancellationToken);
    }

    /// <summary>
    /// Filters, counts and queues one driver's samples. The lock keeps the change filter and the order of a driver's
    /// samples consistent when the driver writes from several loops; a batch takes it once.
    /// </summary>
    private sealed class DriverWriter(SamplePipeline pipeline, DriverCounters counters) : ISampleWriter
    {
        private readonly ChangeFilter _filter = new();
        private readonly Lock _lock = new();

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

            return pipeline.Enqueue(sample, cancellationToken);
        }

        public ValueTask WriteBatchAsync(ReadOnlyMemory<Sample> samples, CancellationToken cancellationToken)
        {
            if (samples.IsEmpty)
            {
                return ValueTask.CompletedTask;
            }

            counters.AddRead(samples.Length);
            var filtered = 0;
            var channel = pipeline._channel.Writer;
            lock (_lock)
            {
                var span = samples.Span;
                for (var i = 0; i < span.Length; i++)
                {
                    ref readonly var sample = ref span[i];
                    if (!_filter.ShouldPass(sample))
                    {
                        filtered++;
                        continue;
                    }

                    pipeline.Notify(sample);
                    if (!channel.TryWrite(sample))
                    {
                        // The channel is full (the disk is behind): wait outside the lock for the rest, in order.
                        // Only this back-pressure path copies; the filter has already accepted this sample.
                        var rest = new List<Sample>(span.Length - i) { sample };
                        for (var j = i + 1; j < span.Length; j++)
                        {
                            if (_filter.ShouldPass(span[j]))
                            {
                                pipeline.Notify(span[j]);
                                rest.Add(span[j]);
                            }
                            else
                            {
                                filtered++;
                            }
                        }

                        AddFiltered(filtered);
                        return WriteSlowAsync(rest, cancellationToken);
                    }
                }
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

        private async ValueTask WriteSlowAsync(List<Sample> rest, CancellationToken cancellationToken)
        {
            foreach (var sample in rest)
            {
                await pipeline._channel.Writer.WriteAsync(sample, cancellationToken);
            }
        }
    }
}
