using Gateway.Drivers;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Abstractions;

/// <summary>
/// The poll loops every polling driver (Modbus, S7) runs through: the schedule, overruns, Bad once on failure,
/// backoff and the recovery. On a fake clock; each step waits until the loop has set its next timer (the schedule's
/// wait or the backoff's delay), so the fake clock never moves under a loop that is still polling.
/// </summary>
public sealed class PollSchedulerTests : IAsyncDisposable
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_backoffFirst = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_backoffLongest = TimeSpan.FromSeconds(4);

    private readonly TimerWatch _time = new();
    private readonly ScriptedDevice _device;
    private readonly PollScheduler<Unit> _scheduler;
    private readonly SampleRecorder _writer = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;

    public PollSchedulerTests()
    {
        _device = new ScriptedDevice(_time);
        _scheduler = new PollScheduler<Unit>(_device, _time, NullLogger.Instance, "test driver d", s_backoffFirst, s_backoffLongest);
        TagInfo[] tags = [new("m", "a"), new("m", "b")];
        _scheduler.Add(new Unit(_scheduler.NewUnitState("fast", s_interval, tags, "failed attempts")));
    }

    private Unit TheUnit => _scheduler.Units[0];

    /// <summary>The tick the loops of <see cref="s_interval"/> share on this clock.</summary>
    private AlignedTick Tick => AlignedTick.For(_time, s_interval.Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond);

    private Task BothWaitingAsync() =>
        Eventually.TrueAsync(() => Tick.Waiting == 2, "both loops waiting for the tick", TimeSpan.FromSeconds(10), poll: TimeSpan.FromMilliseconds(2));

    [Fact]
    public async Task Run_PollsOnAFixedScheduleOfTheMonotonicClock()
    {
        Start();

        await _time.WaitForTimersAsync(1);
        _time.Advance(s_interval);
        await _time.WaitForTimersAsync(2);
        _time.Advance(s_interval);
        await _time.WaitForTimersAsync(3);

        Assert.Equal(new[] { TimeSpan.Zero, s_interval, 2 * s_interval }, _device.PollTimes);
        Assert.Equal(new[] { s_interval, s_interval, s_interval }, _time.DueTimes);
        Assert.Equal(0, _writer.Overruns);
        Assert.Equal(DriverState.Connected, _scheduler.Health.State);
    }

    [Fact]
    public async Task Run_WhenAPollRunsPastTheNextDueTime_CountsOneOverrunAndSkipsToTheNextMultipleOfTheInterval()
    {
        _device.Script.Enqueue(Outcome.Slow(TimeSpan.FromMilliseconds(250)));
        Start();

        // The slow poll ends at 250 ms, past the due times of 100 and 200 ms: the next poll waits for 300 ms, on the
        // phase every loop of this interval shares (not at once, not a whole interval from its end).
        await _time.WaitForTimersAsync(1);
        Assert.Equal(new[] { TimeSpan.FromMilliseconds(50) }, _time.DueTimes);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        await _time.WaitForTimersAsync(2);

        Assert.Equal(new[] { TimeSpan.Zero, TimeSpan.FromMilliseconds(300) }, _device.PollTimes);
        Assert.Equal(s_interval, _time.DueTimes[^1]);
        Assert.Equal(1, _writer.Overruns);
    }

    [Fact]
    public async Task Run_TwoUnitsOfOneInterval_PollTogetherAfterOneOfThemOverran()
    {
        _scheduler.Add(new Unit(_scheduler.NewUnitState("second", s_interval, [new("m", "c")], "failed attempts")));
        _device.Script.Enqueue(Outcome.Slow(TimeSpan.FromMilliseconds(130)));
        Start();

        // The first loop's poll at 0 ran until 130 ms; the second one started then (its first poll at 130 ms). Both
        // wait for 200 ms on the one tick of their interval: one timer, armed by the first of them.
        await BothWaitingAsync();
        Assert.Equal(new[] { TimeSpan.FromMilliseconds(70) }, _time.DueTimes);
        _time.Advance(TimeSpan.FromMilliseconds(70));
        for (var i = 0; i < 2; i++)
        {
            await BothWaitingAsync();
            _time.Advance(s_interval);
        }

        await BothWaitingAsync();
        Assert.Equal(new[] { 70, 100, 100, 100 }, _time.DueTimes.Select(t => (int)t.TotalMilliseconds));

        // Both poll at 200, 300 and 400 ms.
        var times = _device.PollTimes.Order().ToList();
        Assert.Equal(new[] { 0, 130, 200, 200, 300, 300, 400, 400 }, times.Select(t => (int)t.TotalMilliseconds));
        Assert.Equal(1, _writer.Overruns);
    }

    [Fact]
    public async Task Run_WhenTheUnitFailsRepeatedly_MarksEachTagBadOnceAndLogsTheFailureOnce()
    {
        _device.Script.Enqueue(Outcome.Fail);
        _device.Script.Enqueue(Outcome.Fail);
        _device.Script.Enqueue(Outcome.Fail);
        Start();

        for (var failures = 1; failures <= 3; failures++)
        {
            await _time.WaitForTimersAsync(failures); // the backoff's delay after failure n
            Assert.Equal(DriverState.Disconnected, _scheduler.Health.State);
            _time.Advance(_time.DueTimes[^1]);
        }

        await _time.WaitForTimersAsync(4); // the schedule's wait after the poll that answered

        Assert.Equal(3, _device.Failures);
        Assert.Equal(1, _device.FailuresLogged);
        var bad = _writer.Snapshot();
        Assert.Equal(new[] { "a", "b" }, bad.Select(s => s.Tag.Path));
        Assert.All(bad, s => Assert.Equal(SampleStatus.BadNoCommunication, s.StatusCode));
        Assert.Equal(SampleStatus.BadNoCommunication, TheUnit.PollState.StatusOf(0));
        Assert.Equal(1, _device.Recoveries);
        Assert.Equal(DriverState.Connected, _scheduler.Health.State);
        Assert.Null(_scheduler.Health.LastError);
    }

    [Fact]
    public async Task Run_WhenTheUnitFails_RetriesOnlyAfterEachBackoffDelayWithinItsBounds()
    {
        for (var i = 0; i < 5; i++)
        {
            _device.Script.Enqueue(Outcome.Fail);
        }

        Start();
        for (var failures = 1; failures <= 5; failures++)
        {
            await _time.WaitForTimersAsync(failures);
            var delay = _time.DueTimes[^1];
            Assert.InRange(delay, TimeSpan.FromTicks(1), s_backoffLongest);

            _time.Advance(delay - TimeSpan.FromTicks(1));
            Assert.Equal(failures, _device.PollTimes.Count); // not retried before its delay has passed
            _time.Advance(TimeSpan.FromTicks(1));
            await Eventually.TrueAsync(() => _device.PollTimes.Count == failures + 1, $"retry {failures}", TimeSpan.FromSeconds(10));
        }

        // The poll that answered after the backoff is late on purpose: the schedule waits for the next multiple of the
        // interval (the phase every loop of this interval shares), no overrun.
        await _time.WaitForTimersAsync(6);
        var wait = _time.DueTimes[^1];
        Assert.InRange(wait, TimeSpan.FromTicks(1), s_interval);
        Assert.Equal(0, (_device.PollTimes[^1] + wait).Ticks % s_interval.Ticks);
        Assert.Equal(0, _writer.Overruns);
    }

    [Fact]
    public async Task Run_WhenCancelled_EndsStoppedAndDisconnects()
    {
        Start();
        await _time.WaitForTimersAsync(1);

        await _stop.CancelAsync();
        await _run!;

        Assert.Equal(DriverState.Stopped, _scheduler.Health.State);
        Assert.Equal(1, _device.Disconnects);
    }

    private void Start() => _run = _scheduler.RunAsync(_writer, _stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run;
        }

        _scheduler.Dispose();
        _stop.Dispose();
    }

    [Fact]
    public async Task Run_BracketsEveryPoll_EvenOneThatFails_SoTheWriterKnowsWhenTheBurstEnded()
    {
        _device.Script.Enqueue(Outcome.Fail);
        Start();

        // The failed poll, its retry after the backoff, then the scheduled poll.
        await _time.WaitForTimersAsync(1);
        _time.Advance(_time.DueTimes[^1]);
        await _time.WaitForTimersAsync(2);
        _time.Advance(_time.DueTimes[^1]);
        await _time.WaitForTimersAsync(3);

        Assert.Equal(new[] { 1, 1, 1 }, _device.PollsUnderWayDuringPoll);
        Assert.Equal(0, _writer.PollsUnderWay);
        Assert.Equal(3, _writer.PollsEnded);
    }

    private sealed class Unit(PollUnitState state) : IPollUnit
    {
        public PollUnitState PollState { get; } = state;
    }

    private sealed record Outcome(bool Fails, TimeSpan Takes)
    {
        public static readonly Outcome Fail = new(true, TimeSpan.Zero);

        public static Outcome Slow(TimeSpan takes) => new(false, takes);
    }

    /// <summary>A device whose polls follow a script (then answer at once), and that counts what the scheduler tells it.</summary>
    private sealed class ScriptedDevice(TimerWatch time) : IPolledDevice<Unit>
    {
        private readonly long _start = time.GetTimestamp();

        public Queue<Outcome> Script { get; } = new();

        public List<TimeSpan> PollTimes { get; } = [];

        /// <summary>The writer's polls under way, seen from inside each poll.</summary>
        public List<int> PollsUnderWayDuringPoll { get; } = [];

        public int Failures { get; private set; }

        public int FailuresLogged { get; private set; }

        public int Recoveries { get; private set; }

        public int Disconnects { get; private set; }

        public ValueTask PollOnceAsync(Unit unit, ISampleWriter writer, CancellationToken cancellationToken)
        {
            lock (PollTimes)
            {
                PollTimes.Add(time.GetElapsedTime(_start));
                PollsUnderWayDuringPoll.Add(writer is SampleRecorder recorder ? recorder.PollsUnderWay : -1);
            }

            var outcome = Script.TryDequeue(out var next) ? next : Outcome.Slow(TimeSpan.Zero);
            if (outcome.Takes > TimeSpan.Zero)
            {
                time.Advance(outcome.Takes);
            }

            return outcome.Fails ? ValueTask.FromException(new IOException("no answer")) : ValueTask.CompletedTask;
        }

        public uint Failed(Unit unit, Exception? exception)
        {
            Failures++;
            return SampleStatus.BadNoCommunication;
        }

        public void LogFailed(Unit unit, int attempt, TimeSpan retryDelay, Exception? exception) => FailuresLogged++;

        public void LogRecovered(Unit unit) => Recoveries++;

        public void Disconnect() => Disconnects++;
    }
}
