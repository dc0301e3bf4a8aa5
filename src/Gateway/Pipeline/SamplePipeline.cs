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
    private readonly List<Action<Sample>> _observers = [];

    public SamplePipeline(GatewayMetrics metrics) => _metrics = metrics;

    public ChannelReader<Sample> Reader => _channel.Reader;

    /// <summary>Called for every sample that passed the filters (live tag table, OEE). Must be quick.</summary>
    public void Observe(Action<Sample> observer) => _observers.Add(observer);

    /// <summary>A writer for one driver: counts, filters and queues its samples.</summary>
    public ISampleWriter CreateWriter(string driverName) => new DriverWriter(this, _metrics.Driver(driverName));

    /// <summary>Queues a sample produced inside the gateway (OEE results), unfiltered.</summary>
    public ValueTask WriteInternalAsync(Sample sample, CancellationToken cancellationToken) => Enqueue(sample, cancellationToken);

    public void Complete() => _channel.Writer.TryComplete();

    private ValueTask Enqueue(Sample sample, CancellationToken cancellationToken)
    {
        foreach (var observer in _observers)
        {
            observer(sample);
        }

        return _channel.Writer.TryWrite(sample) ? ValueTask.CompletedTask : _channel.Writer.WriteAsync(sample, cancellationToken);
    }

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
    }
}
