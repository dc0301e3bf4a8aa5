using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A test clock whose wall clock can step (NTP correcting a Pi without RTC, an operator setting the date) while its
/// monotonic clock and its timers go on undisturbed, as on a real machine. <see cref="FakeTimeProvider"/> ties the
/// two together (its timestamps are its wall clock, which cannot go back), so this one keeps a FakeTimeProvider for
/// the monotonic clock and the timers and adds an offset to the wall clock.
/// </summary>
public sealed class SteppingTimeProvider : TimeProvider
{
    private readonly FakeTimeProvider _monotonic;
    private long _offsetTicks;

    public SteppingTimeProvider(DateTimeOffset start) => _monotonic = new FakeTimeProvider(start);

    public SteppingTimeProvider()
        : this(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>How far the wall clock has been stepped away from the monotonic one.</summary>
    public TimeSpan WallOffset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>Lets time pass: both clocks move and due timers fire.</summary>
    public void Advance(TimeSpan delta) => _monotonic.Advance(delta);

    /// <summary>Steps the wall clock only (negative: back); timers and timestamps are not affected.</summary>
    public void StepWallClock(TimeSpan step) => Interlocked.Add(ref _offsetTicks, step.Ticks);

    public override DateTimeOffset GetUtcNow() => _monotonic.GetUtcNow() + WallOffset;

    public override long GetTimestamp() => _monotonic.GetTimestamp();

    public override long TimestampFrequency => _monotonic.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _monotonic.CreateTimer(callback, state, dueTime, period);
}
