using Gateway.Observability;
using Microsoft.Extensions.Logging;

namespace Gateway.Northbound.Delivery;

/// <summary>
/// Watches one output once a second and says, once each, when it falls behind and when it catches up again:
/// overload (the drivers read faster than it delivers for more than <see cref="OverloadAfter"/> while its oldest
/// waiting sample grows older than <see cref="OverloadLag"/>) and stall (connected, publications waiting for their
/// acknowledgement, and none acknowledged for <see cref="StallAfter"/>: a broker that answers a QoS 2 PUBLISH with
/// PUBACK wedges a client silently that way). Both are also gauges on /metrics, with the lag of the oldest unsent
/// sample. Durations are measured on the monotonic clock.
/// </summary>
public sealed class OutputHealth
{
    private const int WindowTicks = 5;

    private readonly string _sink;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SinkCounters _counters;
    private readonly (long Timestamp, long Appended, long Delivered)[] _ticks = new (long, long, long)[WindowTicks + 1];
    private int _tickCount;
    private long _overloadSince;
    private long _recoverSince;
    private long _lastDelivered = -1;
    private long _progressAt;
    private string _hint = "";

    public OutputHealth(string sink, TimeProvider time, ILogger logger, SinkCounters counters)
    {
        _sink = sink;
        _time = time;
        _logger = logger;
        _counters = counters;
        _progressAt = time.GetTimestamp();
    }

    /// <summary>How long reads must outrun the output before the warning.</summary>
    public TimeSpan OverloadAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How old the oldest waiting sample must be for an overload (below it a burst is absorbed quietly).</summary>
    public TimeSpan OverloadLag { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long without any acknowledgement, while publications wait, makes a stall.</summary>
    public TimeSpan StallAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Said with the stall warning (for instance what the configured QoS implies).</summary>
    public string StallHint { get => _hint; init => _hint = value; }

    /// <summary>
    /// One observation. <paramref name="appended"/>: samples appended to the buffer so far (its last sequence number);
    /// <paramref name="delivered"/>: samples this output has had acknowledged so far; <paramref name="lag"/>: age of its
    /// oldest unacknowledged sample (zero when none waits); <paramref name="waiting"/>: publications awaiting an acknowledgement.
    /// </summary>
    public void Observe(long appended, long delivered, TimeSpan lag, bool connected, int waiting)
    {
        var now = _time.GetTimestamp();
        _counters.LagSeconds = Math.Round(Math.Max(0, lag.TotalSeconds), 3);
        ObserveStall(now, delivered, connected, waiting);
        ObserveOverload(now, appended, delivered, lag, connected);
    }

    private void ObserveStall(long now, long delivered, bool connected, int waiting)
    {
        if (delivered != _lastDelivered || !connected || waiting == 0)
        {
            _lastDelivered = delivered;
            _progressAt = now;
            if (_counters.Stalled)
            {
                _counters.StalledChanged(false);
                OutputHealthLog.StallEnded(_logger, _sink, connected ? "samples are acknowledged again" : "the connection ended");
            }

            return;
        }

        var quiet = _time.GetElapsedTime(_progressAt, now);
        if (!_counters.Stalled && quiet >= StallAfter)
        {
            _counters.StalledChanged(true);
            OutputHealthLog.Stalled(_logger, _sink, quiet.TotalSeconds, waiting, _hint);
        }
    }

    private void ObserveOverload(long now, long appended, long delivered, TimeSpan lag, bool connected)
    {
        // A ring of the last WindowTicks+1 observations: the rates are taken over the whole window.
        Array.Copy(_ticks, 1, _ticks, 0, WindowTicks);
        _ticks[WindowTicks] = (now, appended, delivered);
        if (_tickCount <= WindowTicks)
        {
            _tickCount++;
        }

        if (_tickCount <= 1)
        {
            return;
        }

        var first = _ticks[WindowTicks + 1 - _tickCount];
        var seconds = _time.GetElapsedTime(first.Timestamp, now).TotalSeconds;
        if (seconds <= 0)
        {
            return;
        }

        var rateIn = (appended - first.Appended) / seconds;
        var rateOut = (delivered - first.Delivered) / seconds;
        var behind = connected && lag >= OverloadLag && rateIn > rateOut;
        if (!_counters.Overloaded)
        {
            if (!behind)
            {
                _overloadSince = 0;
                return;
            }

            _overloadSince = _overloadSince == 0 ? now : _overloadSince;
            if (_time.GetElapsedTime(_overloadSince, now) >= OverloadAfter)
            {
                _counters.Overloaded = true;
                _recoverSince = 0;
                OutputHealthLog.Overloaded(_logger, _sink, rateIn, rateOut, lag.TotalSeconds);
            }

            return;
        }

        var caughtUp = lag < OverloadLag / 2 || (connected && rateOut >= rateIn);
        if (!caughtUp)
        {
            _recoverSince = 0;
            return;
        }

        _recoverSince = _recoverSince == 0 ? now : _recoverSince;
        if (lag < OverloadLag / 2 || _time.GetElapsedTime(_recoverSince, now) >= OverloadAfter)
        {
            _counters.Overloaded = false;
            _overloadSince = 0;
            OutputHealthLog.Recovered(_logger, _sink, rateIn, rateOut, lag.TotalSeconds);
        }
    }
}

internal static partial class OutputHealthLog
{
    [LoggerMessage(EventId = 3400, Level = LogLevel.Warning, Message = "{Sink}: the drivers read {RateIn:F0} samples/s but the output delivers {RateOut:F0}/s; its oldest waiting sample is {LagSeconds:F0} s old and the backlog grows on disk (nothing is lost while the buffer is under buffer.maxBytes): slow the polling down, lower mqtt.qos, or check the broker's load")]
    public static partial void Overloaded(ILogger logger, string sink, double rateIn, double rateOut, double lagSeconds);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "{Sink}: the output keeps up again ({RateOut:F0} samples/s delivered, {RateIn:F0}/s read; oldest waiting sample {LagSeconds:F0} s old)")]
    public static partial void Recovered(ILogger logger, string sink, double rateIn, double rateOut, double lagSeconds);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Warning, Message = "{Sink}: no acknowledgement from the broker for {Seconds:F0} s although {Waiting} publications wait for one and the connection is up: the output is stalled and the samples stay in the buffer{Hint}")]
    public static partial void Stalled(ILogger logger, string sink, double seconds, int waiting, string hint);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Information, Message = "{Sink}: no longer stalled: {Reason}")]
    public static partial void StallEnded(ILogger logger, string sink, string reason);
}
