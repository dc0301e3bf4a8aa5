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
    private bool _paused;
    private bool _firstUncounted;

    /// <param name="timeProvider">The clocks; only its monotonic clock and its timers are used.</param>
    /// <param name="interval">The poll interval; at least one tick.</param>
    /// <param name="onOverrun">Called once per poll that could not start on time (for the per-driver overrun counter).</param>
    /// <param name="firstWait">How long from now the first poll after this one is due; one interval when null (to
    /// align the first poll on the wall clock, for example).</param>
    public PollSchedule(TimeProvider timeProvider, TimeSpan interval, Action? onOverrun = null, TimeSpan? firstWait = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _timeProvider = timeProvider;
        _intervalTimestampTicks = Math.Max(1, (long)Math.Round(interval.Ticks * (double)timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond));
        _onOverrun = onOverrun;
        _due = timeProvider.GetTimestamp();
        if (firstWait is { } wait)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(wait, TimeSpan.Zero, nameof(firstWait));
            _due += (long)Math.Round(wait.Ticks * (double)timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond) - _intervalTimestampTicks;
            _firstUncounted = true;
        }
    }

    /// <summary>Polls that could not start on time since this schedule was created.</summary>
    public long Overruns { get; private set; }

    /// <summary>
    /// Moves to the next due time and returns how long to wait for it: zero when it has already passed (an overrun,
    /// counted; the schedule then restarts from now).
    /// </summary>
    public TimeSpan Next()
    {
        var now = _timeProvider.GetTimestamp();
        if (_paused)
        {
            // Late on purpose (see Paused): poll again one interval from now, no overrun.
            _paused = false;
            _due = now;
        }

        _due += _intervalTimestampTicks;
        var first = _firstUncounted;
        _firstUncounted = false;
        if (now > _due)
        {
            if (!first)
            {
                Overruns++;
                _onOverrun?.Invoke();
            }

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

    /// <summary>
    /// Marks the poll in progress as paused on purpose (the retry policy waits out a backoff: call it from its
    /// <c>OnRetry</c>): the next <see cref="Next"/> restarts the schedule from its own now, one interval on, without
    /// counting an overrun.
    /// </summary>
    public void Paused() => _paused = true;
}
