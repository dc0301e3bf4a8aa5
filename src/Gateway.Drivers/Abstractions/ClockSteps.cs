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
