using Gateway.Drivers;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Abstractions;

/// <summary>The one timer the aligned poll loops of an interval share: one arming per tick, release on its thread, cancellation.</summary>
public sealed class AlignedTickTests
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(100);

    private readonly CountingClock _time = new();

    private long Ticks(TimeSpan span) => span.Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond;

    private AlignedTick Tick => AlignedTick.For(_time, Ticks(s_interval));

    private long NextBoundary()
    {
        var now = _time.GetTimestamp();
        var interval = Ticks(s_interval);
        return now - (now % interval) + interval;
    }

    [Fact]
    public void For_OneTickPerClockAndInterval()
    {
        Assert.Same(Tick, AlignedTick.For(_time, Ticks(s_interval)));
        Assert.NotSame(Tick, AlignedTick.For(_time, Ticks(2 * s_interval)));
        Assert.NotSame(Tick, AlignedTick.For(new CountingClock(), Ticks(s_interval)));
    }

    [Fact]
    public async Task TenLoopsDueTogether_ArmOneTimer_AndAreReleasedByOneFiring_OnItsThread()
    {
        var due = NextBoundary();
        var released = new List<int>();
        var loops = Enumerable.Range(0, 10).Select(i => LoopAsync(i)).ToList();
        Assert.Equal(10, Tick.Waiting);
        Assert.Equal(1, _time.Armings);

        _time.Advance(_time.GetElapsedTime(_time.GetTimestamp(), due));

        // Released during Advance, on its thread, in the order they came: nothing was queued to the thread pool.
        Assert.Equal(Enumerable.Range(0, 10), released);
        Assert.Equal(0, Tick.Waiting);
        await Task.WhenAll(loops);

        async Task LoopAsync(int i)
        {
            await Tick.WaitUntilAsync(due, new AlignedTick.Waiter(), CancellationToken.None).ConfigureAwait(false); // no test context: released inline, as in the gateway
            released.Add(i);
        }
    }

    [Fact]
    public async Task TheLoopsBackFromTheirPoll_ReArmItOncePerTick()
    {
        var waiters = Enumerable.Range(0, 3).Select(_ => new AlignedTick.Waiter()).ToArray();
        var polls = 0;
        var interval = Ticks(s_interval);
        var first = NextBoundary();
        var loops = waiters.Select(LoopAsync).ToList();
        for (var tick = 0; tick < 4; tick++)
        {
            Assert.Equal(3, Tick.Waiting);
            _time.Advance(_time.GetElapsedTime(_time.GetTimestamp(), NextBoundary()));
        }

        Assert.Equal(12, polls);
        Assert.Equal(4, _time.Armings); // one per tick, by the first loop back; not one per loop and poll
        await Task.WhenAll(loops);

        async Task LoopAsync(AlignedTick.Waiter waiter)
        {
            for (var due = first; due < first + (4 * interval); due += interval)
            {
                await Tick.WaitUntilAsync(due, waiter, CancellationToken.None).ConfigureAwait(false);
                polls++;
            }
        }
    }

    [Fact]
    public async Task ALoopDueLater_WaitsForItsOwnMultiple_AndTheTimerIsArmedForItThen()
    {
        var interval = Ticks(s_interval);
        var soon = NextBoundary();
        var later = soon + (2 * interval); // a loop that overran and skipped two multiples
        var early = Tick.WaitUntilAsync(soon, new AlignedTick.Waiter(), CancellationToken.None).AsTask();
        var late = Tick.WaitUntilAsync(later, new AlignedTick.Waiter(), CancellationToken.None).AsTask();
        Assert.Equal(1, _time.Armings);

        _time.Advance(_time.GetElapsedTime(_time.GetTimestamp(), soon));
        await early;
        Assert.False(late.IsCompleted);
        Assert.Equal(2, _time.Armings);
        Assert.Equal(2 * s_interval, _time.LastArming);

        _time.Advance(2 * s_interval - TimeSpan.FromMilliseconds(5));
        Assert.False(late.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(5));
        await late;
    }

    [Fact]
    public async Task ACancelledWait_ThrowsAndLeaves_TheOthersStayDue()
    {
        var due = NextBoundary();
        using var stop = new CancellationTokenSource();
        var cancelled = Tick.WaitUntilAsync(due, new AlignedTick.Waiter(), stop.Token).AsTask();
        var other = Tick.WaitUntilAsync(due, new AlignedTick.Waiter(), CancellationToken.None).AsTask();

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, Tick.Waiting);

        _time.Advance(_time.GetElapsedTime(_time.GetTimestamp(), due));
        await other;
        Assert.Equal(0, Tick.Waiting);
    }

    [Fact]
    public void AWaitDueNow_CompletesAtOnce_WithoutTheTimer()
    {
        var wait = Tick.WaitUntilAsync(_time.GetTimestamp(), new AlignedTick.Waiter(), CancellationToken.None);
        Assert.True(wait.IsCompletedSuccessfully);
        Assert.Equal(0, _time.Armings);
    }

    /// <summary>A fake clock that counts the armings of its timers (creations and changes with a due time).</summary>
    private sealed class CountingClock : TimeProvider
    {
        private readonly FakeTimeProvider _fake = new();

        public int Armings { get; private set; }

        public TimeSpan LastArming { get; private set; }

        public void Advance(TimeSpan delta) => _fake.Advance(delta);

        public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

        public override long GetTimestamp() => _fake.GetTimestamp();

        public override long TimestampFrequency => _fake.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Count(dueTime);
            return new Counted(_fake.CreateTimer(callback, state, dueTime, period), this);
        }

        private void Count(TimeSpan dueTime)
        {
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Armings++;
                LastArming = dueTime;
            }
        }

        private sealed class Counted(ITimer inner, CountingClock clock) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                clock.Count(dueTime);
                return inner.Change(dueTime, period);
            }

            public void Dispose() => inner.Dispose();

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
