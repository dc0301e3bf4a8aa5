using Gateway.Drivers;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Abstractions;

/// <summary>The one timer the aligned poll loops of an interval share: one arming per tick, release on its thread, cancellation.</summary>
public sealed class AlignedTickTests
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(100);

    private readonly TimerWatch _time = new();

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
        Assert.NotSame(Tick, AlignedTick.For(new TimerWatch(), Ticks(s_interval)));
    }

    [Fact]
    public async Task TenLoopsDueTogether_ArmOneTimer_AndAreReleasedByOneFiring_OnItsThread()
    {
        var due = NextBoundary();
        var released = new List<int>();
        var loops = Enumerable.Range(0, 10).Select(i => LoopAsync(i)).ToList();
        Assert.Equal(10, Tick.Waiting);
        Assert.Single(_time.DueTimes);

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
        Assert.Equal(4, _time.DueTimes.Count); // one per tick, by the first loop back; not one per loop and poll
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
        Assert.Single(_time.DueTimes);

        _time.Advance(_time.GetElapsedTime(_time.GetTimestamp(), soon));
        await early;
        Assert.False(late.IsCompleted);
        Assert.Equal(2, _time.DueTimes.Count);
        Assert.Equal(2 * s_interval, _time.DueTimes[^1]);

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
        Assert.Empty(_time.DueTimes);
    }
}
