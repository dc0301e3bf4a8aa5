using System.Text.Json;
using Gateway.Drivers;
using Gateway.Hosting;
using Gateway.Observability;
using Gateway.Oee;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using static Gateway.Tests.Oee.OeeScenario;

namespace Gateway.Tests.Oee;

/// <summary>
/// Issue 13 (Time): the OEE measures durations on the monotonic clock and places them in the shift calendar by wall
/// time. The wall clock steps forward or back an hour while the monotonic clock runs on (<see cref="SteppingTimeProvider"/>);
/// machine m1 of <see cref="OeeScenario.DefaultOptions"/> (ideal cycle 1 s, day shift 06:00-14:00) runs throughout.
/// </summary>
public sealed class OeeClockStepTests : IDisposable
{
    private static readonly JsonSerializerOptions s_web = new(JsonSerializerDefaults.Web);
    private readonly TagInfo _state = new("m1", "state");
    private readonly TagInfo _total = new("m1", "total-count");
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "oee-clock-" + Guid.NewGuid().ToString("N"));
    private readonly SteppingTimeProvider _time = new(Thursday(8, 0));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void WallClockStepsForwardAnHour_StepIsUnknownTime_RunTimeAvailabilityAndPerformanceStayRight()
    {
        var engine = NewEngine();
        Send(engine, _state, SampleValue.FromString("running"));
        Send(engine, _total, SampleValue.FromInteger(0));
        _time.Advance(TimeSpan.FromMinutes(30));
        Send(engine, _total, SampleValue.FromInteger(1800));

        _time.StepWallClock(TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromSeconds(10));
        // A counter driven by the wall clock (the simulator) jumps by the step: 3,600 parts it never made, plus 10.
        Send(engine, _total, SampleValue.FromInteger(1800 + 3600 + 10));
        _time.Advance(TimeSpan.FromMinutes(30));
        Send(engine, _total, SampleValue.FromInteger(1800 + 3600 + 10 + 1800));

        var report = engine.Snapshot();
        var shift = report.Machines.Single().CurrentShift!;
        Assert.Equal(Thursday(10, 0, 10), report.GeneratedAt);
        Assert.Equal(1800 + 10 + 1800, shift.RunSeconds, Tolerance);
        Assert.Equal(3600, shift.UnknownSeconds, Tolerance);
        Assert.Equal(shift.RunSeconds, shift.PlannedSeconds, Tolerance);
        Assert.Equal(1, shift.Availability!.Value, Tolerance);
        Assert.Equal(1800 + 10 + 1800, shift.TotalCount);
        Assert.Equal(1, shift.Performance!.Value, Tolerance);

        // /api/oee serialises the report as is: the step is an unknown stretch of the timeline, the state goes on after it.
        // The engine saw the step 10 s after it (its next sample), measured on the monotonic clock: the step is placed there.
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report, s_web));
        var timeline = json.RootElement.GetProperty("machines")[0].GetProperty("timeline").EnumerateArray()
            .Select(e => (e.GetProperty("start").GetDateTimeOffset(), e.GetProperty("end").GetDateTimeOffset(), e.GetProperty("state").GetString()))
            .ToList();
        Assert.Equal(
            [
                (Thursday(8, 0), Thursday(8, 30, 10), "running"),
                (Thursday(8, 30, 10), Thursday(9, 30, 10), "unknown"),
                (Thursday(9, 30, 10), Thursday(10, 0, 10), "running"),
            ],
            timeline);
    }

    [Fact]
    public void CounterCatchesUpInABurstOfSamplesAfterAForwardStep_OnlyWhatTheIdealCycleAllowsIsCounted()
    {
        var engine = NewEngine();
        Send(engine, _state, SampleValue.FromString("running"));
        Send(engine, _total, SampleValue.FromInteger(0));
        _time.Advance(TimeSpan.FromMinutes(10));
        Send(engine, _total, SampleValue.FromInteger(600));
        _time.StepWallClock(TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromSeconds(5));
        for (var value = 601; value <= 600 + 3605; value++)
        {
            Send(engine, _total, SampleValue.FromInteger(value)); // one sample per part, all at once
        }

        _time.Advance(TimeSpan.FromMinutes(10));
        Send(engine, _total, SampleValue.FromInteger(600 + 3605 + 600));

        var shift = engine.Snapshot().Machines.Single().CurrentShift!;
        Assert.Equal(600 + 5 + 600, shift.TotalCount);
        Assert.Equal(1205, shift.RunSeconds, Tolerance);
        Assert.Equal(1, shift.Performance!.Value, Tolerance);
    }

    [Fact]
    public void WallClockStepsBackAnHour_RecordedTimeIsRedated_RunTimeAndPerformanceStayRight()
    {
        var engine = NewEngine();
        Send(engine, _state, SampleValue.FromString("running"));
        Send(engine, _total, SampleValue.FromInteger(0));
        _time.Advance(TimeSpan.FromMinutes(30));
        Send(engine, _total, SampleValue.FromInteger(1800));

        _time.StepWallClock(TimeSpan.FromHours(-1));
        _time.Advance(TimeSpan.FromSeconds(10));
        Send(engine, _total, SampleValue.FromInteger(1810));
        _time.Advance(TimeSpan.FromMinutes(30));
        Send(engine, _total, SampleValue.FromInteger(3610));

        var m = engine.Snapshot().Machines.Single();
        var shift = m.CurrentShift!;
        // One hour of running measured (1.07 was the performance read before: run time shrank, parts did not).
        Assert.Equal(3610, shift.RunSeconds, Tolerance);
        Assert.Equal(0, shift.UnknownSeconds, Tolerance);
        Assert.Equal(1, shift.Availability!.Value, Tolerance);
        Assert.Equal(3610, shift.TotalCount);
        Assert.Equal(1, shift.Performance!.Value, Tolerance);
        Assert.Equal([new OeeTimelineEntry(Thursday(7, 0), Thursday(8, 0, 10), "running", null)], m.Timeline);
        Assert.Equal(3600, m.LastHour.RunSeconds, Tolerance); // the rolling hour is full of running
    }

    [Fact]
    public void WallClockStepsForwardThenBack_BackStepTakesTheForwardGapBack_RunTimeIsTheMonotonicTime()
    {
        var engine = NewEngine();
        Send(engine, _state, SampleValue.FromString("running"));
        Send(engine, _total, SampleValue.FromInteger(0));
        _time.Advance(TimeSpan.FromMinutes(30));
        _time.StepWallClock(TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromMinutes(30));
        Send(engine, _total, SampleValue.FromInteger(3600)); // a PLC counter: real parts only
        _time.StepWallClock(TimeSpan.FromHours(-1));
        _time.Advance(TimeSpan.FromMinutes(30));
        Send(engine, _total, SampleValue.FromInteger(5400));

        var m = engine.Snapshot().Machines.Single();
        var shift = m.CurrentShift!;
        Assert.Equal(5400, shift.RunSeconds, Tolerance);
        Assert.Equal(0, shift.UnknownSeconds, Tolerance);
        Assert.Equal(1, shift.Performance!.Value, Tolerance);
        Assert.Equal([new OeeTimelineEntry(Thursday(8, 0), Thursday(9, 30), "running", null)], m.Timeline);
    }

    [Fact]
    public void WallClockStepsBackAcrossAShiftChange_TheShiftThatHadBegunIsNotClosedEmpty()
    {
        var time = new SteppingTimeProvider(Thursday(14, 10));
        var engine = new OeeEngine(DefaultOptions(), time, NullLogger.Instance, null);
        engine.Load();
        var now = time.GetUtcNow();
        engine.Observe(Sample.Good(_state, now, now, SampleValue.FromString("running")));
        time.Advance(TimeSpan.FromMinutes(20));
        engine.Tick();
        time.StepWallClock(TimeSpan.FromHours(-1));
        time.Advance(TimeSpan.FromSeconds(10));
        engine.Tick();

        var m = engine.Snapshot().Machines.Single();
        Assert.Null(m.PreviousShift);
        Assert.Equal("day", m.CurrentShift!.Name);
        Assert.Equal(1210, m.CurrentShift.RunSeconds, Tolerance); // re-dated to 13:10-13:30:10, inside the day shift
    }

    [Fact]
    public void StateSavedByAClockAheadOfTheRestartedOne_IsRedated_NotOverlapped()
    {
        var first = NewEngine();
        Send(first, _state, SampleValue.FromString("running"));
        _time.Advance(TimeSpan.FromHours(1));
        first.Save(); // at 09:00

        var earlier = new SteppingTimeProvider(Thursday(8, 30));
        var resumed = new OeeEngine(DefaultOptions(), earlier, NullLogger.Instance, _directory);
        resumed.Load();
        earlier.Advance(TimeSpan.FromMinutes(10));

        var m = resumed.Snapshot().Machines.Single();
        Assert.Equal(3600, m.CurrentShift!.RunSeconds, Tolerance);
        Assert.Equal(600, m.CurrentShift.UnknownSeconds, Tolerance);
        Assert.Equal(
            [
                new OeeTimelineEntry(Thursday(7, 30), Thursday(8, 30), "running", null),
                new OeeTimelineEntry(Thursday(8, 30), Thursday(8, 40), "unknown", null),
            ],
            m.Timeline);
    }

    [Fact]
    public void StepRaisedByTheClockWatch_IsMarkedOnce_AlsoWhenTheEngineSeesItAgain()
    {
        using var metrics = new GatewayMetrics(_time);
        using var watch = new ClockWatch(_time, metrics, NullLogger<ClockWatch>.Instance);
        var engine = NewEngine(watch);
        Send(engine, _state, SampleValue.FromString("running"));
        _time.Advance(TimeSpan.FromMinutes(10));
        watch.Check();

        _time.StepWallClock(TimeSpan.FromHours(1));
        Assert.NotNull(watch.Check());
        _time.Advance(TimeSpan.FromMinutes(10));
        engine.Tick();

        var shift = engine.Snapshot().Machines.Single().CurrentShift!;
        Assert.Equal(1200, shift.RunSeconds, Tolerance);
        Assert.Equal(3600, shift.UnknownSeconds, Tolerance);
    }

    [Fact]
    public void TwoBuffersInOneFolder_KeepTwoOeeStates()
    {
        var first = NewEngine(stateFileName: OeeEngine.StateFileNameFor("data/line1.db"));
        Send(first, _state, SampleValue.FromString("running"));
        _time.Advance(TimeSpan.FromMinutes(5));
        first.Save();

        var second = NewEngine(stateFileName: OeeEngine.StateFileNameFor("data/line2.db"));
        Assert.Equal("unknown", second.Snapshot().Machines.Single().State);
        Assert.True(File.Exists(Path.Combine(_directory, "line1.oee-state.json")));
        Assert.False(File.Exists(Path.Combine(_directory, "line2.oee-state.json")));

        var again = NewEngine(stateFileName: OeeEngine.StateFileNameFor("data/line1.db"));
        Assert.Equal(300, again.Snapshot().Machines.Single().CurrentShift!.RunSeconds, Tolerance);
    }

    [Fact]
    public void StateFileOfTheOldSharedName_IsTakenOverByTheFirstBuffer()
    {
        var old = NewEngine(stateFileName: OeeEngine.StateFileName);
        Send(old, _state, SampleValue.FromString("running"));
        _time.Advance(TimeSpan.FromMinutes(5));
        old.Save();

        var renamed = NewEngine(stateFileName: OeeEngine.StateFileNameFor("buffer.db"));
        var other = NewEngine(stateFileName: OeeEngine.StateFileNameFor("other.db"));

        Assert.Equal(300, renamed.Snapshot().Machines.Single().CurrentShift!.RunSeconds, Tolerance);
        Assert.Equal("unknown", other.Snapshot().Machines.Single().State);
        Assert.False(File.Exists(Path.Combine(_directory, OeeEngine.StateFileName)));
        Assert.True(File.Exists(Path.Combine(_directory, "buffer.oee-state.json")));
    }

    private OeeEngine NewEngine(IClockSteps? clockSteps = null, string stateFileName = OeeEngine.StateFileName)
    {
        var engine = new OeeEngine(DefaultOptions(), _time, NullLogger.Instance, _directory, null, stateFileName, clockSteps);
        engine.Load();
        return engine;
    }

    private void Send(OeeEngine engine, TagInfo tag, SampleValue value)
    {
        var now = _time.GetUtcNow();
        engine.Observe(Sample.Good(tag, now, now, value));
    }
}
