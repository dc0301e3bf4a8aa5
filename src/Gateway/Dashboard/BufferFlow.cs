using Gateway.Buffering;
using Gateway.Observability;

namespace Gateway.Dashboard;

/// <summary>
/// How fast the store-and-forward buffer fills and drains, for the buffer card and <c>/api/status</c>: once a
/// second it reads the samples appended so far, the samples dropped so far and the samples waiting, and gives the
/// rates over the last <see cref="Window"/> (monotonic clock): fill = samples appended per second; drain = samples
/// that left it (acknowledged by every sink) per second; minutes to empty = waiting / (drain − fill) while it
/// shrinks, null while it grows or holds, 0 when empty.
/// </summary>
public sealed class BufferFlow : BackgroundService
{
    /// <summary>The span the rates are measured over.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    /// <summary>How often a point is taken.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly Queue<Point> _points = new();
    private readonly TimeProvider _timeProvider;
    private readonly Func<(long Appended, long Dropped, long Waiting)> _read;

    public BufferFlow(GatewayMetrics metrics, SampleBuffer buffer, TimeProvider timeProvider)
        : this(timeProvider, () => (metrics.SamplesBuffered, metrics.SamplesDropped, buffer.Count))
    {
    }

    /// <param name="timeProvider">The monotonic clock of the measurement.</param>
    /// <param name="read">Samples appended so far, dropped so far, waiting now.</param>
    internal BufferFlow(TimeProvider timeProvider, Func<(long Appended, long Dropped, long Waiting)> read)
    {
        _timeProvider = timeProvider;
        _read = read;
    }

    /// <summary>Takes one point now (the service does every <see cref="Interval"/>; tests call it).</summary>
    public void Measure()
    {
        var (appended, dropped, waiting) = _read();
        var now = _timeProvider.GetTimestamp();
        lock (_lock)
        {
            _points.Enqueue(new Point(now, appended, dropped, waiting));
            while (_points.Count > 2 && _timeProvider.GetElapsedTime(_points.Peek().Timestamp, now) > Window)
            {
                _points.Dequeue();
            }
        }
    }

    /// <summary>The rates over the window; zero rates until two points exist.</summary>
    public BufferFlowReading Current()
    {
        Point first;
        Point last;
        lock (_lock)
        {
            if (_points.Count == 0)
            {
                return new BufferFlowReading(0, 0, null);
            }

            first = _points.Peek();
            last = _points.Last();
        }

        var seconds = _timeProvider.GetElapsedTime(first.Timestamp, last.Timestamp).TotalSeconds;
        if (seconds <= 0)
        {
            return new BufferFlowReading(0, 0, last.Waiting == 0 ? 0 : null);
        }

        var appended = last.Appended - first.Appended;
        var left = appended - (last.Dropped - first.Dropped) - (last.Waiting - first.Waiting);
        var fill = appended / seconds;
        var drain = Math.Max(0, left) / seconds;
        double? minutes = last.Waiting == 0 ? 0 : drain > fill ? Math.Round(last.Waiting / (drain - fill) / 60, 2) : null;
        return new BufferFlowReading(Math.Round(fill, 1), Math.Round(drain, 1), minutes);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _timeProvider);
        try
        {
            Measure();
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Measure();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // The buffer closed first at shutdown: nothing more to measure.
        }
    }

    private readonly record struct Point(long Timestamp, long Appended, long Dropped, long Waiting);
}

/// <summary>The buffer's flow.</summary>
/// <param name="FillPerSecond">Samples appended per second over the window.</param>
/// <param name="DrainPerSecond">Samples that left (acknowledged by every sink) per second over the window.</param>
/// <param name="MinutesToEmpty">At the present rates; 0 when empty, null while the backlog grows or holds.</param>
public sealed record BufferFlowReading(double FillPerSecond, double DrainPerSecond, double? MinutesToEmpty);
