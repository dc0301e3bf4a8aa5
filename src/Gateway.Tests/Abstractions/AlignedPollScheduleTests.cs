using Gateway.Drivers;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Abstractions;

/// <summary>
/// The aligned poll schedule every polling driver uses: due times on the multiples of the interval of the monotonic
/// clock, so that loops of one interval tick together (one burst per interval), whatever the wall clock does.
/// </summary>
public sealed class AlignedPollScheduleTests
{
    private static readonly TimeSpan s_second = TimeSpan.FromSeconds(1);

    // FakeTimeProvider starts at 2000-01-01T00:00:00Z, itself a multiple of a second of its monotonic clock.
    private static TimeSpan PhaseOf(TimeProvider time) => TimeSpan.FromTicks(time.GetUtcNow().UtcTicks % s_second.Ticks);

    [Fact]
    public void Next_TwoLoopsStartedAtDifferentTimes_AreDueAtTheSameInstants()
    {
        var time = new FakeTimeProvider();
        time.Advance(TimeSpan.FromMilliseconds(130));
        var first = PollSchedule.Aligned(time, s_second);
        time.Advance(TimeSpan.FromMilliseconds(610)); // the second driver connected 610 ms later
        var second = PollSchedule.Aligned(time, s_second);

        // Both polled once at their start; both are due next at 1 s, then at every whole second.
        Assert.Equal(TimeSpan.FromMilliseconds(260), first.Next());
        Assert.Equal(TimeSpan.FromMilliseconds(260), second.Next());
        time.Advance(TimeSpan.FromMilliseconds(260 + 12)); // the polls took 12 ms
        Assert.Equal(TimeSpan.FromMilliseconds(988), first.Next());
        Assert.Equal(TimeSpan.FromMilliseconds(988), second.Next());
        Assert.Equal(0, first.Overruns + second.Overruns);
    }

    [Fact]
    public void Next_IntervalsThatDivideOneAnother_ShareTheirDueTimes()
    {
        var time = new FakeTimeProvider();
        time.Advance(TimeSpan.FromMilliseconds(300));
        var fast = PollSchedule.Aligned(time, TimeSpan.FromMilliseconds(500));
        var slow = PollSchedule.Aligned(time, s_second);

        Assert.Equal(TimeSpan.FromMilliseconds(200), fast.Next());
        Assert.Equal(TimeSpan.FromMilliseconds(700), slow.Next());
        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(TimeSpan.FromMilliseconds(500), fast.Next()); // due at 1 s, with the slow one
    }

    [Fact]
    public void Next_AfterAPollLongerThanTheInterval_SkipsToTheNextMultipleAndCountsOneOverrun()
    {
        var time = new FakeTimeProvider();
        var overruns = 0;
        var schedule = PollSchedule.Aligned(time, TimeSpan.FromMilliseconds(100), () => overruns++);
        Assert.Equal(TimeSpan.FromMilliseconds(100), schedule.Next());
        time.Advance(TimeSpan.FromMilliseconds(100));

        time.Advance(TimeSpan.FromMilliseconds(250)); // the poll due at 100 ms ran until 350 ms, past 200 and 300

        Assert.Equal(TimeSpan.FromMilliseconds(50), schedule.Next()); // at 400 ms, not at once and not 100 ms from now
        Assert.Equal(1, overruns);
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(TimeSpan.FromMilliseconds(100), schedule.Next());
        Assert.Equal(1, schedule.Overruns);
    }

    [Fact]
    public void Next_LateTimerWakeUp_DoesNotShiftLaterDueTimes()
    {
        var time = new FakeTimeProvider();
        var schedule = PollSchedule.Aligned(time, TimeSpan.FromMilliseconds(10));

        time.Advance(schedule.Next() + TimeSpan.FromMilliseconds(3)); // the timer fired 3 ms late

        Assert.Equal(TimeSpan.FromMilliseconds(7), schedule.Next());
        Assert.Equal(0, schedule.Overruns);
    }

    [Fact]
    public async Task PollStarting_AShortPollWhoseTimerFiredLate_IsFollowedAtOnceOnTheSamePhaseWithoutAnOverrun()
    {
        var time = new FakeTimeProvider();
        var interval = TimeSpan.FromMilliseconds(1);
        var schedule = PollSchedule.Aligned(time, interval);
        var wait = schedule.WaitAsync(CancellationToken.None);      // due at 1 ms
        time.Advance(TimeSpan.FromMilliseconds(1.9));              // the timer fired 0.9 ms late
        await wait;
        schedule.PollStarting();
        time.Advance(TimeSpan.FromMilliseconds(0.15));             // a 0.15 ms poll, ending past the 2 ms due time

        var next = schedule.WaitAsync(CancellationToken.None);

        Assert.True(next.IsCompletedSuccessfully);                  // the poll due at 2 ms runs at once
        schedule.PollStarting();
        Assert.Equal(0, schedule.Overruns);
        time.Advance(TimeSpan.FromMilliseconds(0.15));             // it ended at 2.2 ms
        Assert.Equal(TimeSpan.FromMilliseconds(0.8), schedule.Next()); // then 3 ms: the phase held
        Assert.Equal(0, schedule.Overruns);
    }

    [Fact]
    public async Task PollStarting_APollLongerThanTheInterval_StillSkipsToTheNextMultipleAndCountsAnOverrun()
    {
        var time = new FakeTimeProvider();
        var schedule = PollSchedule.Aligned(time, TimeSpan.FromMilliseconds(10));
        var wait = schedule.WaitAsync(CancellationToken.None);      // due at 10 ms
        time.Advance(TimeSpan.FromMilliseconds(10));
        await wait;                                                 // on time
        schedule.PollStarting();
        time.Advance(TimeSpan.FromMilliseconds(14));               // the poll took 14 ms, past the 20 ms due time

        var next = schedule.WaitAsync(CancellationToken.None);

        Assert.False(next.IsCompleted);                             // waits for 30 ms, the next multiple
        Assert.Equal(1, schedule.Overruns);
        time.Advance(TimeSpan.FromMilliseconds(5.9));
        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(0.1));
        await next;
    }

    [Fact]
    public void Next_TheFirstPollRunningPastTheFirstDueTime_IsNoOverrun()
    {
        var time = new FakeTimeProvider();
        time.Advance(TimeSpan.FromMilliseconds(900));
        var schedule = PollSchedule.Aligned(time, s_second);

        time.Advance(TimeSpan.FromMilliseconds(150)); // connecting and the first poll took past the first multiple

        Assert.Equal(TimeSpan.FromMilliseconds(950), schedule.Next());
        Assert.Equal(0, schedule.Overruns);
    }

    [Fact]
    public void Paused_AfterABackoff_WaitsForTheNextMultipleWithoutAnOverrun()
    {
        var time = new FakeTimeProvider();
        var schedule = PollSchedule.Aligned(time, s_second);
        time.Advance(schedule.Next());

        schedule.Paused();
        time.Advance(TimeSpan.FromMilliseconds(7_345)); // the retry policy's backoff, then the poll that answered

        Assert.Equal(TimeSpan.FromMilliseconds(655), schedule.Next());
        Assert.Equal(0, schedule.Overruns);
        Assert.Equal(TimeSpan.Zero, PhaseOf(time) + TimeSpan.FromMilliseconds(655) - s_second);
    }

    [Fact]
    public void Restart_WaitsForTheNextMultiple()
    {
        var time = new FakeTimeProvider();
        var schedule = PollSchedule.Aligned(time, s_second);

        time.Advance(TimeSpan.FromMilliseconds(30_400));
        schedule.Restart();

        Assert.Equal(TimeSpan.FromMilliseconds(600), schedule.Next());
        Assert.Equal(0, schedule.Overruns);
    }

    [Theory]
    [InlineData(-3600.25)]
    [InlineData(3600.25)]
    public void Next_WallClockStepped_KeepsTheMonotonicPhase(double stepSeconds)
    {
        var time = new SteppingTimeProvider();
        time.Advance(TimeSpan.FromMilliseconds(400));
        var before = PollSchedule.Aligned(time, s_second);
        Assert.Equal(TimeSpan.FromMilliseconds(600), before.Next());
        time.Advance(TimeSpan.FromMilliseconds(100));

        time.StepWallClock(TimeSpan.FromSeconds(stepSeconds));
        var after = PollSchedule.Aligned(time, s_second); // a loop started after the step

        Assert.Equal(TimeSpan.FromMilliseconds(500), before.Next() - s_second); // still due at 1 s, then 2 s
        Assert.Equal(TimeSpan.FromMilliseconds(500), after.Next());
        Assert.Equal(0, before.Overruns);
    }
}
