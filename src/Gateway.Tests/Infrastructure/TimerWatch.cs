using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Infrastructure;

/// <summary>A fake clock that records the due time of every timer set on it (Polly's delays set one each, the aligned loops' shared tick one per arming).</summary>
internal sealed class TimerWatch : TimeProvider
{
    private readonly FakeTimeProvider _fake = new();
    private readonly List<TimeSpan> _dueTimes = [];

    public List<TimeSpan> DueTimes
    {
        get
        {
            lock (_dueTimes)
            {
                return [.. _dueTimes];
            }
        }
    }

    public void Advance(TimeSpan delta) => _fake.Advance(delta);

    public Task WaitForTimersAsync(int count) =>
        Eventually.TrueAsync(() => DueTimes.Count >= count, $"{count} timers set", TimeSpan.FromSeconds(10), poll: TimeSpan.FromMilliseconds(2));

    public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

    public override long GetTimestamp() => _fake.GetTimestamp();

    public override long TimestampFrequency => _fake.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Set first, then recorded: a test that sees the timer may advance the clock past it at once.
        var timer = new Recorded(_fake.CreateTimer(callback, state, dueTime, period), this);
        Record(dueTime);
        return timer;
    }

    private void Record(TimeSpan dueTime)
    {
        if (dueTime == Timeout.InfiniteTimeSpan)
        {
            return; // created or changed to stopped: nothing is due
        }

        lock (_dueTimes)
        {
            _dueTimes.Add(dueTime);
        }
    }

    /// <summary>A timer re-armed with <see cref="ITimer.Change"/> (the aligned loops' shared tick) counts as set again.</summary>
    private sealed class Recorded(ITimer inner, TimerWatch watch) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = inner.Change(dueTime, period);
            watch.Record(dueTime);
            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
