namespace Gateway.Drivers;

/// <summary>
/// A fixed-rate poll schedule on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>), so that a step of the
/// wall clock (NTP correcting a Pi without a real-time clock, an operator setting the date) neither stops polling
/// nor makes it burst. Due times advance by exactly one interval from the previous due time, so timer latency does
/// not accumulate. When a poll runs past the next due time, that next poll starts at once, is counted as an overrun,
/// and the schedule restarts from now instead of bursting to catch up. Samples are still stamped from the wall clock
/// (<see cref="TimeProvider.GetUtcNow"/>) by the driver. Not thread-safe: one instance per poll loop.
/// </summary>
public sealed class PollSchedule
{
    private readonly TimeProvider _timeProvider;
    private readonly long _intervalTimestampTicks;
    private readonly Action? _onOverrun;
    private long _due;

    /// <param name="timeProvider">The clocks; only its monotonic clock and its timers are used.</param>
    /// <param name="interval">The poll interval; at least one tick.</param>
    /// <param name="onOverrun">Called once per poll that could not start on time (for the per-driver overrun counter).</param>
    public PollSchedule(TimeProvider timeProvider, TimeSpan interval, Action? onOverrun = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _timeProvider = timeProvider;
        Interval = interval;
        _intervalTimestampTicks = Math.Max(1, (long)Math.Round(interval.Ticks * (double)timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond));
        _onOverrun = onOverrun;
        _due = timeProvider.GetTimestamp();
    }

    public TimeSpan Interval { get; }

    /// <summary>Polls that could not start on time since this schedule was created.</summary>
    public long Overruns { get; private set; }

    /// <summary>
    /// Moves to the next due time and returns how long to wait for it: zero when it has already passed (an overrun,
    /// counted; the schedule then restarts from now).
    /// </summary>
    public TimeSpan Next()
    {
        _due += _intervalTimestampTicks;
        var now = _timeProvider.GetTimestamp();
        if (now > _due)
        {
            Overruns++;
            _onOverrun?.Invoke();
            _due = now;
            return TimeSpan.Zero;
        }

        return _timeProvider.GetElapsedTime(now, _due);
    }

    /// <summary>Waits until the next poll is due (see <see cref="Next"/>).</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        var wait = Next();
        return wait > TimeSpan.Zero ? new ValueTask(Task.Delay(wait, _timeProvider, cancellationToken)) : ValueTask.CompletedTask;
    }

    /// <summary>
    /// Restarts the schedule from now without counting an overrun: after a deliberate pause (a device backing off
    /// after failures) the late start is not an overload.
    /// </summary>
    public void Restart() => _due = _timeProvider.GetTimestamp();
}
