using System.Threading.Channels;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Buffering;

/// <summary>
/// Writes what the drivers put in the pipeline to the disk buffer, many samples per transaction (group commit): a
/// batch is written as soon as every poll under way has ended (the polling drivers bracket each poll, see
/// <see cref="ISampleWriter.PollStarted"/>: the units due together end as one burst, and no timer is needed to see
/// it), or, for samples that came from outside a poll (a subscription, the gateway itself), once the pipeline has
/// been quiet for <see cref="QuietTime"/>; and at the latest <c>buffer.flushIntervalMs</c> after its first sample arrived (a steady stream is written at that
/// interval, in large batches); two commits are at least a fiftieth of the interval apart (2 ms at the default 100 ms,
/// at most 10 ms), which bounds the commits per second when many small polls arrive (in WAL mode with
/// synchronous=NORMAL a commit is not an fsync: the card sees the pages at the kernel's write-back). So at 1000 tags at 1 Hz a sample reaches the disk, and the
/// publishers, a few milliseconds after its read instead of one interval later. On shutdown it drains and writes what
/// is left, so a clean stop loses nothing.
/// </summary>
public sealed class BufferWriterService(
    SamplePipeline pipeline,
    SampleBuffer buffer,
    BufferSignal signal,
    GatewayMetrics metrics,
    IOptions<GatewayConfig> options,
    TimeProvider timeProvider,
    ILogger<BufferWriterService> logger) : BackgroundService
{
    private readonly List<Sample> _batch = new(4096);
    private readonly SemaphoreSlim _flushing = new(1, 1);

    // Cancelled when StopAsync's token fires: the loop's last flush then stops retrying on a failing disk too.
    private readonly CancellationTokenSource _stopExpired = new();
    private readonly TimeSpan _interval = TimeSpan.FromMilliseconds(options.Value.Buffer.FlushIntervalMs);
    private readonly TimeSpan _spacing = TimeSpan.FromMilliseconds(Math.Clamp(options.Value.Buffer.FlushIntervalMs / 50.0, 1.0, 10.0));

    /// <summary>How long the pipeline must stay without a new sample before the batch is written.</summary>
    public static readonly TimeSpan QuietTime = TimeSpan.FromMilliseconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = pipeline.Reader;
        long? lastCommit = null;

        // One timer for the cap on a batch's age while polls are under way, re-armed per batch (a Task.Delay per wait
        // armed a new timer, and woke the timer thread, every 2 ms of a burst); the stop wakes the wait too.
        using var ageCap = timeProvider.CreateTimer(static state => ((SamplePipeline)state!).WakeBatchWaiter(), pipeline, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        using var stopping = stoppingToken.UnsafeRegister(static state => ((SamplePipeline)state!).WakeBatchWaiter(), pipeline);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (!await reader.WaitToReadAsync(stoppingToken))
                {
                    break;
                }

                var first = timeProvider.GetTimestamp();
                await WaitForBatchAsync(reader, first, lastCommit, ageCap, stoppingToken);
                await FlushAsync(stoppingToken);
                lastCommit = timeProvider.GetTimestamp();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await FlushAsync(_stopExpired.Token);
        }
    }

    /// <summary>
    /// Waits until the batch that began at <paramref name="first"/> is complete: every poll under way ended (their
    /// samples are all in the pipeline) and, if samples came from outside a poll, the pipeline quiet for
    /// <see cref="QuietTime"/>; or the batch one interval old (a burst that never ends is still written within the
    /// flush interval); and the last commit at least the spacing ago. The samples stay in the pipeline meanwhile
    /// (only the flush takes them, under its lock).
    /// </summary>
    private async Task WaitForBatchAsync(ChannelReader<Sample> reader, long first, long? lastCommit, ITimer cap, CancellationToken stoppingToken)
    {
        // The pipeline's channel is bounded, so it counts what it holds.
        var count = reader.Count;
        var armed = false;
        try
        {
            while (true)
            {
                var left = _interval - timeProvider.GetElapsedTime(first);
                if (left <= TimeSpan.Zero)
                {
                    break;
                }

                if (pipeline.PollsUnderWay > 0)
                {
                    // Woken by the end of the last poll under way, or by the cap (or the stop): look again.
                    if (!armed)
                    {
                        cap.Change(left, Timeout.InfiniteTimeSpan);
                        armed = true;
                    }

                    await pipeline.WaitBurstEndAsync();
                    stoppingToken.ThrowIfCancellationRequested();
                    continue;
                }

                if (!pipeline.TakeUnbracketed())
                {
                    break; // every sample came from polls that have ended: the burst is complete
                }

                await Task.Delay(left < QuietTime ? left : QuietTime, timeProvider, stoppingToken);
                var now = reader.Count;
                if (now == count && pipeline.PollsUnderWay == 0)
                {
                    break;
                }

                count = now;
            }
        }
        finally
        {
            if (armed)
            {
                cap.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }

        if (lastCommit is { } last)
        {
            var wait = _spacing - timeProvider.GetElapsedTime(last);
            var until = _interval - timeProvider.GetElapsedTime(first);
            if (until < wait)
            {
                wait = until;
            }

            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, timeProvider, stoppingToken);
            }
        }
    }

    /// <summary>
    /// Stops the loop, then writes what is still in the pipeline: a stop that comes before the loop ever ran (its
    /// task is then never started) loses nothing either. On a failing disk it retries until
    /// <paramref name="cancellationToken"/> (the host's shutdown timeout) fires, then gives up on what it holds.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        using var expiry = cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _stopExpired);
        try
        {
            await base.StopAsync(cancellationToken);
            await FlushAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            BufferLog.StopAbandoned(logger, _batch.Count + (pipeline.Reader.CanCount ? pipeline.Reader.Count : 0));
        }
    }

    public override void Dispose()
    {
        _flushing.Dispose();
        _stopExpired.Dispose();
        base.Dispose();
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        // The loop's last flush and StopAsync's may overlap when the host's shutdown timeout expires.
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            await FlushOnceAsync(cancellationToken);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task FlushOnceAsync(CancellationToken cancellationToken)
    {
        pipeline.DrainTo(_batch);
        if (_batch.Count == 0)
        {
            return;
        }

        while (true)
        {
            try
            {
                buffer.Append(_batch);
                metrics.AddBuffered(_batch.Count);
                _batch.Clear();
                signal.Notify();
                return;
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                // A full or failing disk: keep the batch in memory (the pipeline applies back-pressure) and retry.
                BufferLog.WriteFailed(logger, ex, _batch.Count);
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, cancellationToken);
            }
        }
    }
}

/// <summary>Wakes the publishers when new samples reached the buffer.</summary>
public sealed class BufferSignal
{
    private readonly List<SemaphoreSlim> _waiters = [];
    private readonly Lock _lock = new();

    /// <summary>A new subscriber's wake-up handle.</summary>
    public SemaphoreSlim Subscribe()
    {
        var semaphore = new SemaphoreSlim(0, 1);
        lock (_lock)
        {
            _waiters.Add(semaphore);
        }

        return semaphore;
    }

    public void Notify()
    {
        lock (_lock)
        {
            foreach (var waiter in _waiters)
            {
                Wake(waiter);
            }
        }
    }

    /// <summary>
    /// Signals one subscriber's handle unless it is signalled already (one wake-up is enough): safe to call from
    /// anywhere, any number of times, where <see cref="SemaphoreSlim.Release()"/> would throw once the count is 1.
    /// </summary>
    public static void Wake(SemaphoreSlim waiter)
    {
        ArgumentNullException.ThrowIfNull(waiter);
        if (waiter.CurrentCount != 0)
        {
            return;
        }

        try
        {
            waiter.Release();
        }
        catch (SemaphoreFullException)
        {
            // Signalled meanwhile by another thread: one wake-up is enough.
        }
    }
}
