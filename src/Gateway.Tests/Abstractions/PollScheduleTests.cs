using Gateway.Drivers;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Abstractions;

/// <summary>The poll schedule of every polling driver: fixed rate on the monotonic clock, overruns counted, no burst.</summary>
public sealed class PollScheduleTests
{
    [Fact]
    public void Next_OnTime_WaitsTheRestOfTheInterval()
    {
        var time = new FakeTimeProvider();
        var schedule = new PollSchedule(time, TimeSpan.FromMilliseconds(100));

        time.Advance(TimeSpan.FromMilliseconds(30)); // the poll took 30 ms

        Assert.Equal(TimeSpan.FromMilliseconds(70), schedule.Next());
        Assert.Equal(0, schedule.Overruns);
    }

    [Fact]
    public void Next_LateTimerWakeUp_DoesNotShiftLaterDueTimes()
    {
        var time = new FakeTimeProvider();
        var schedule = new PollSchedule(time, TimeSpan.FromMilliseconds(10));

        var wait = schedule.Next();
        time.Advance(wait + TimeSpan.FromMilliseconds(3)); // the timer fired 3 ms late

        Assert.Equal(TimeSpan.FromMilliseconds(7), schedule.Next());
    }

    [Fact]
    public void Next_AfterAPollLongerThanTheInterval_StartsAtOnceCountsOneOverrunAndDoesNotBurst()
    {
        var time = new FakeTimeProvider();
        var overruns = 0;
        var schedule = new PollSchedule(time, TimeSpan.FromMilliseconds(1), () => overruns++);

        time.Advance(TimeSpan.FromMilliseconds(5)); // a poll of 5 ms at a 1 ms interval

        Assert.Equal(TimeSpan.Zero, schedule.Next());
        Assert.Equal(TimeSpan.FromMilliseconds(1), schedule.Next()); // the next one keeps the pace from now
        Assert.Equal(1, overruns);
        Assert.Equal(1, schedule.Overruns);
    }

    [Fact]
    public void Restart_AfterABackoff_WaitsOneIntervalWithoutAnOverrun()
    {
        var time = new FakeTimeProvider();
        var schedule = new PollSchedule(time, TimeSpan.FromSeconds(1));

        time.Advance(TimeSpan.FromSeconds(30)); // the device was backed off
        schedule.Restart();

        Assert.Equal(TimeSpan.FromSeconds(1), schedule.Next());
        Assert.Equal(0, schedule.Overruns);
    }

    [Fact]
    public void Paused_DuringAPollThatWaitedOutABackoff_NextWaitsOneIntervalFromItsEndWithoutAnOverrun()
    {
        var time = new FakeTimeProvider();
        var overruns = 0;
        var schedule = new PollSchedule(time, TimeSpan.FromSeconds(1), () => overruns++);

        schedule.Paused(); // the retry policy's OnRetry, before its backoff
        time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(TimeSpan.FromSeconds(1), schedule.Next());
        time.Advance(TimeSpan.FromSeconds(2.5)); // the wait, then a poll past its next due time: that one counts again
        Assert.Equal(TimeSpan.Zero, schedule.Next());
        Assert.Equal(1, overruns);
    }

    [Fact]
    public void Next_WithAFirstWait_WaitsItOnceThenWholeIntervals()
    {
        var time = new FakeTimeProvider();
        var schedule = new PollSchedule(time, TimeSpan.FromSeconds(1), firstWait: TimeSpan.FromMilliseconds(300));

        Assert.Equal(TimeSpan.FromMilliseconds(300), schedule.Next());
        time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(TimeSpan.FromSeconds(1), schedule.Next());
        Assert.Equal(0, schedule.Overruns);
    }

    [Fact]
    public void Next_WallClockSteppedBackAnHour_StillWaitsOneInterval()
    {
        var time = new SteppingTimeProvider();
        var schedule = new PollSchedule(time, TimeSpan.FromSeconds(1));

        time.StepWallClock(TimeSpan.FromHours(-1));

        Assert.Equal(TimeSpan.FromSeconds(1), schedule.Next());
    }

    [Fact]
    public void Next_WallClockSteppedForwardAnHour_NeitherBurstsNorCountsAnOverrun()
    {
        var time = new SteppingTimeProvider();
        var schedule = new PollSchedule(time, TimeSpan.FromSeconds(1));

        time.StepWallClock(TimeSpan.FromHours(1));

        Assert.Equal(TimeSpan.FromSeconds(1), schedule.Next());
        Assert.Equal(0, schedule.Overruns);
    }

    [Fact]
    public async Task WaitAsync_OnTheSteppingClock_CompletesWhenTheMonotonicClockReachesTheDueTime()
    {
        var time = new SteppingTimeProvider();
        var schedule = new PollSchedule(time, TimeSpan.FromSeconds(1));
        time.StepWallClock(TimeSpan.FromHours(-1));

        var wait = schedule.WaitAsync(CancellationToken.None).AsTask();
        var before = wait.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(before);
        Assert.True(wait.IsCompletedSuccessfully);
    }
}
