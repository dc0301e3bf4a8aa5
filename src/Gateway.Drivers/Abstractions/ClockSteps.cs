namespace Gateway.Drivers;

/// <summary>
/// A step of the wall clock against the monotonic clock: at the moment of detection the wall clock read
/// <see cref="Actual"/> where the monotonic clock said <see cref="Expected"/>. Forward (<see cref="Size"/> positive):
/// the time between the two was never lived (for durations, unknown time). Back: the time between them comes twice.
/// </summary>
public readonly record struct ClockStep(DateTimeOffset Expected, DateTimeOffset Actual)
{
    /// <summary>Actual − Expected: positive for a step forward, negative for a step back.</summary>
    public TimeSpan Size => Actual - Expected;

    public bool IsForward => Actual > Expected;
}

/// <summary>
/// Steps of the wall clock, as the host detects them (NTP correcting a Pi without RTC, an operator setting the date,
/// a resumed suspend). Parts that measure time from wall timestamps (the OEE) subscribe to mark the step as unknown
/// time rather than count it.
/// </summary>
public interface IClockSteps
{
    /// <summary>Raised once per detected step, on the watcher's timer thread; handlers must be quick and not throw.</summary>
    event Action<ClockStep>? Stepped;

    /// <summary>Steps detected since start.</summary>
    long Count { get; }
}

/// <summary>
/// The wall clock checked against the monotonic clock: each <see cref="Check"/> compares how far the wall clock moved
/// since the previous check (or <see cref="Reset"/>) with how far the monotonic clock moved, then re-anchors, so that
/// the slow slewing of NTP never adds up to a false step. Not thread-safe: the owner calls it under its lock.
/// </summary>
public sealed class WallClockAnchor
{
    /// <summary>The smallest difference taken for a step: 2 s (timer latency and NTP slewing stay far below).</summary>
    public static readonly TimeSpan StepThreshold = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _timeProvider;
    private DateTimeOffset _wall;
    private long _timestamp;

    /// <summary>Anchored at the current time of <paramref name="timeProvider"/>.</summary>
    public WallClockAnchor(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        Reset();
    }

    /// <summary>Anchors at the current time, forgetting any difference since the previous check.</summary>
    public void Reset()
    {
        _wall = _timeProvider.GetUtcNow();
        _timestamp = _timeProvider.GetTimestamp();
    }

    /// <summary>Reads the wall clock into <paramref name="wall"/> and re-anchors there.</summary>
    /// <param name="threshold">The smallest difference taken for a step (<see cref="StepThreshold"/> unless configured).</param>
    /// <param name="wall">The wall clock now.</param>
    /// <returns>The step since the previous check when the two clocks differ by more than <paramref name="threshold"/>; otherwise null.</returns>
    public ClockStep? Check(TimeSpan threshold, out DateTimeOffset wall)
    {
        wall = _timeProvider.GetUtcNow();
        var timestamp = _timeProvider.GetTimestamp();
        var expected = _wall + _timeProvider.GetElapsedTime(_timestamp, timestamp);
        _wall = wall;
        _timestamp = timestamp;
        return (wall - expected).Duration() > threshold ? new ClockStep(expected, wall) : null;
    }
}
