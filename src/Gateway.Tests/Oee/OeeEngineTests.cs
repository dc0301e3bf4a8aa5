using System.Text.Json;
using Gateway.Oee;
using static Gateway.Tests.Oee.OeeScenario;

namespace Gateway.Tests.Oee;

public sealed class OeeEngineTests
{
    private static readonly JsonSerializerOptions s_web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void Shift_WithBreakdownMicroStopsAndRejects_GivesIsoIndicatorsAndLosses()
    {
        using var s = new OeeScenario(Thursday(6, 0));
        s.State("running").Total(0).Reject(0);
        s.To(Thursday(8, 0)).Total(6000).State("down").Reason("jam");   // breakdown 30 min
        s.To(Thursday(8, 30)).State("running").Reason("");
        s.To(Thursday(9, 0)).State("idle");                              // micro-stop 60 s
        s.To(Thursday(9, 1)).State("running");
        s.To(Thursday(9, 30)).State("down").Reason("jam");               // micro-stop 90 s (< 120 s)
        s.To(Thursday(9, 31, 30)).State("running").Reason("");
        s.To(Thursday(9, 45)).Reject(90);
        s.To(Thursday(10, 0)).Total(9000);

        var m = s.Snapshot();
        var shift = m.CurrentShift!;

        // Run: 06:00-08:00 7200 + 08:30-09:00 1800 + 09:01-09:30 1740 + 09:31:30-10:00 1710 = 12450 s.
        // Stops: 1800 + 60 + 90 = 1950 s; planned = 12450 + 1950 = 14400 s (4 h of shift).
        // A = 12450 / 14400 = 0.8645833; P = 1 s × 9000 / 12450 = 0.7228916; Q = 8910 / 9000 = 0.99;
        // OEE = 1 s × 8910 / 14400 = 0.61875.
        Assert.Equal("day", shift.Name);
        Assert.Equal(Thursday(6, 0), shift.Start);
        Assert.Equal(Thursday(14, 0), shift.End);
        Assert.Equal(12450, shift.RunSeconds, Tolerance);
        Assert.Equal(14400, shift.PlannedSeconds, Tolerance);
        Assert.Equal(1950, shift.DowntimeSeconds, Tolerance);
        Assert.Equal(12450.0 / 14400, shift.Availability!.Value, Tolerance);
        Assert.Equal(9000.0 / 12450, shift.Performance!.Value, Tolerance);
        Assert.Equal(0.99, shift.Quality!.Value, Tolerance);
        Assert.Equal(0.61875, shift.Oee!.Value, Tolerance);
        Assert.Equal(shift.Availability.Value * shift.Performance.Value * shift.Quality.Value, shift.Oee.Value, Tolerance);
        Assert.Equal(9000, shift.TotalCount);
        Assert.Equal(8910, shift.GoodCount);
        Assert.Equal(90, shift.RejectCount);

        // Losses: breakdown 1800; micro-stops 60 + 90 = 150; reduced speed 12450 - 9000 = 3450; all rejects after the
        // 06:00-06:10 start-up window, so production rejects.
        Assert.Equal(1800, shift.Losses.BreakdownSeconds, Tolerance);
        Assert.Equal(150, shift.Losses.MicroStopSeconds, Tolerance);
        Assert.Equal(0, shift.Losses.SetupSeconds, Tolerance);
        Assert.Equal(0, shift.Losses.IdleSeconds, Tolerance);
        Assert.Equal(3450, shift.Losses.ReducedSpeedSeconds, Tolerance);
        Assert.Equal(0, shift.Losses.StartupRejectCount);
        Assert.Equal(90, shift.Losses.ProductionRejectCount);
        Assert.Equal(90, shift.Losses.ProductionRejectSeconds, Tolerance);

        // Top reasons: jam 1800 + 90 = 1890 s in 2 stops, then idle 60 s.
        Assert.Equal(2, m.TopDowntimeReasons.Count);
        Assert.Equal(new OeeDowntimeReason("jam", 1890, 2), m.TopDowntimeReasons[0]);
        Assert.Equal(new OeeDowntimeReason("idle", 60, 1), m.TopDowntimeReasons[1]);

        // Events, newest first, each with start, duration, category and reason.
        Assert.Equal(3, m.RecentDowntimeEvents.Count);
        Assert.Equal(new OeeDowntimeEvent(Thursday(9, 30), Thursday(9, 31, 30), 90, "down", "micro-stop", "jam"), m.RecentDowntimeEvents[0]);
        Assert.Equal(new OeeDowntimeEvent(Thursday(9, 0), Thursday(9, 1), 60, "idle", "micro-stop", "idle"), m.RecentDowntimeEvents[1]);
        Assert.Equal(new OeeDowntimeEvent(Thursday(8, 0), Thursday(8, 30), 1800, "down", "breakdown", "jam"), m.RecentDowntimeEvents[2]);

        // Last hour 09:00-10:00: run 1740 + 1710 = 3450 of 3600 planned; parts 3000 (at 10:00), rejects 90.
        Assert.Equal(3450, m.LastHour.RunSeconds, Tolerance);
        Assert.Equal(3600, m.LastHour.PlannedSeconds, Tolerance);
        Assert.Equal(3450.0 / 3600, m.LastHour.Availability!.Value, Tolerance);
        Assert.Equal(3000, m.LastHour.TotalCount);
        Assert.Equal(90, m.LastHour.RejectCount);
        Assert.Equal(3000.0 / 3450, m.LastHour.Performance!.Value, Tolerance);
    }

    [Fact]
    public void CountsOfAFullShift_AreCompacted_WithoutChangingTheShiftTotals()
    {
        using var s = new OeeScenario(Thursday(6, 0));
        s.State("running").Total(0).Reject(0);

        // One part every 2 s for 2 h, a reject every 100th part, ticking every 10 s as the service does.
        long total = 0, rejects = 0;
        for (var second = 2; second <= 7200; second += 2)
        {
            s.To(Thursday(6, 0).AddSeconds(second)).Total(++total);
            if (total % 100 == 0)
            {
                s.Reject(++rejects);
            }

            if (second % 10 == 0)
            {
                s.Engine.Tick();
            }
        }

        var m = s.Snapshot();

        // 3600 parts, 36 rejects in 7200 s: P = 1 s × 3600 / 7200 = 0.5. The last hour [07:00, 08:00] holds the parts
        // of 07:00:00, 07:00:02, ..., 08:00:00: 1801 (both ends included while the window ends now).
        Assert.Equal(3600, m.CurrentShift!.TotalCount);
        Assert.Equal(36, m.CurrentShift.RejectCount);
        Assert.Equal(0.5, m.CurrentShift.Performance!.Value, Tolerance);
        Assert.Equal(1801, m.LastHour.TotalCount);
        var size = s.Engine.Save();
        Assert.True(size < 48 * 1024, $"the persisted state stays small: {size} bytes");
    }

    [Fact]
    public void StateCodes_AreMappedByTheDefaultPackMlMap()
    {
        using var s = new OeeScenario(Thursday(7, 0));
        s.StateCode(6).Total(0).Reject(0);
        s.To(Thursday(7, 10)).StateCode(11);
        s.To(Thursday(7, 20)).StateCode(2);
        s.To(Thursday(7, 30)).StateCode(6);
        s.To(Thursday(7, 40));

        var shift = s.Snapshot().CurrentShift!;

        // Running (6) 07:00-07:10 and 07:30-07:40 = 1200 s, down (11) 600 s, planned stop (2) 600 s excluded:
        // A = 1200 / 1800.
        Assert.Equal(1200, shift.RunSeconds, Tolerance);
        Assert.Equal(1800, shift.PlannedSeconds, Tolerance);
        Assert.Equal(600, shift.PlannedStopSeconds, Tolerance);
        Assert.Equal(600, shift.Losses.BreakdownSeconds, Tolerance);
        Assert.Equal(2.0 / 3, shift.Availability!.Value, Tolerance);
    }

    [Fact]
    public void CounterRollover_CountsThePartsAcrossTheWrap()
    {
        using var s = new OeeScenario(Thursday(7, 0), o => o.Machines[0].RolloverAt = 65536);
        s.State("running").Total(65000).Reject(0);
        s.To(Thursday(7, 10)).Total(65500);   // +500
        s.To(Thursday(7, 20)).Total(464);     // 464 + 65536 - 65500 = +500, a rollover
        s.To(Thursday(7, 30));

        var shift = s.Snapshot().CurrentShift!;

        // 1000 parts in 1800 s run: P = 1000 / 1800.
        Assert.Equal(1000, shift.TotalCount);
        Assert.Equal(1000.0 / 1800, shift.Performance!.Value, Tolerance);
    }

    [Fact]
    public void CounterReset_CountsTheNewValueFromZero()
    {
        using var s = new OeeScenario(Thursday(7, 0));
        s.State("running").Total(5000).Reject(40);
        s.To(Thursday(7, 10)).Total(5600);    // +600
        s.To(Thursday(7, 15)).Total(150);     // decrease without rolloverAt: a reset, +150
        s.To(Thursday(7, 16)).Reject(3);      // the reject counter reset too: +3
        s.To(Thursday(7, 20)).Total(400);     // +250
        s.To(Thursday(7, 30));

        var shift = s.Snapshot().CurrentShift!;

        // 600 + 150 + 250 = 1000 parts, 3 rejects: Q = 997 / 1000.
        Assert.Equal(1000, shift.TotalCount);
        Assert.Equal(3, shift.RejectCount);
        Assert.Equal(0.997, shift.Quality!.Value, Tolerance);
    }

    [Fact]
    public void PlannedBreakAndPlannedStopState_AreExcludedFromPlannedTime()
    {
        using var s = new OeeScenario(Thursday(6, 0), o => o.ShiftPlan!.Breaks = [new BreakOptions { Name = "coffee", Start = "10:00", End = "10:30" }]);
        s.State("running").Total(0).Reject(0);
        s.To(Thursday(10, 0)).State("idle");                       // idle during the break: no loss
        s.To(Thursday(10, 30)).State("running");
        s.To(Thursday(11, 0)).State("down").Reason("jam");          // 600 s breakdown
        s.To(Thursday(11, 10)).State("running").Reason("");
        s.To(Thursday(11, 30)).State("planned-stop");               // 900 s planned stop, excluded
        s.To(Thursday(11, 45)).State("running");
        s.To(Thursday(12, 0)).Total(17000);

        var m = s.Snapshot();
        var shift = m.CurrentShift!;
        Assert.Equal([new OeeBreak(Thursday(10, 0), Thursday(10, 30))], m.Breaks);

        // Run: 14400 + 1800 + 1200 + 900 = 18300 s. Planned: 6 h - 30 min break - 15 min planned stop = 18900 s.
        // A = 18300 / 18900 = 0.968254; P = 17000 / 18300 = 0.928962; Q = 1; OEE = 17000 / 18900 = 0.899471.
        Assert.Equal(18300, shift.RunSeconds, Tolerance);
        Assert.Equal(18900, shift.PlannedSeconds, Tolerance);
        Assert.Equal(900, shift.PlannedStopSeconds, Tolerance);
        Assert.Equal(600, shift.DowntimeSeconds, Tolerance);
        Assert.Equal(600, shift.Losses.BreakdownSeconds, Tolerance);
        Assert.Equal(0, shift.Losses.IdleSeconds, Tolerance);
        Assert.Equal(18300.0 / 18900, shift.Availability!.Value, Tolerance);
        Assert.Equal(17000.0 / 18300, shift.Performance!.Value, Tolerance);
        Assert.Equal(1, shift.Quality!.Value, Tolerance);
        Assert.Equal(17000.0 / 18900, shift.Oee!.Value, Tolerance);
    }

    [Fact]
    public void RejectsAfterPlannedStopOrSetup_AreStartupRejects_LaterOnesProductionRejects()
    {
        using var s = new OeeScenario(Thursday(6, 0));
        s.State("running").Total(0).Reject(0);
        s.To(Thursday(7, 0)).Total(3000).State("planned-stop");     // planned changeover 07:00-07:20
        s.To(Thursday(7, 20)).State("running");                     // start-up window 07:20-07:30
        s.To(Thursday(7, 25)).Total(3500).Reject(5);                // 5 start-up rejects
        s.To(Thursday(8, 0)).Total(5000).Reject(8);                 // 3 production rejects
        s.State("down").Reason("tool change");                      // setup 08:00-08:15
        s.To(Thursday(8, 15)).State("running").Reason("");          // start-up window 08:15-08:25
        s.To(Thursday(8, 18)).Total(5100).Reject(10);               // 2 start-up rejects
        s.To(Thursday(9, 0)).Total(7500);

        var shift = s.Snapshot().CurrentShift!;

        // Run 3600 + 2400 + 2700 = 8700 s; setup 900 s; planned 9600 s (3 h - 20 min planned stop).
        // A = 8700 / 9600 = 0.90625; P = 7500 / 8700; Q = 7490 / 7500; OEE = 7490 / 9600 = 0.780208.
        Assert.Equal(8700, shift.RunSeconds, Tolerance);
        Assert.Equal(9600, shift.PlannedSeconds, Tolerance);
        Assert.Equal(900, shift.Losses.SetupSeconds, Tolerance);
        Assert.Equal(0, shift.Losses.BreakdownSeconds, Tolerance);
        Assert.Equal(1200, shift.Losses.ReducedSpeedSeconds, Tolerance);
        Assert.Equal(7, shift.Losses.StartupRejectCount);
        Assert.Equal(3, shift.Losses.ProductionRejectCount);
        Assert.Equal(10, shift.RejectCount);
        Assert.Equal(0.90625, shift.Availability!.Value, Tolerance);
        Assert.Equal(7500.0 / 8700, shift.Performance!.Value, Tolerance);
        Assert.Equal(7490.0 / 7500, shift.Quality!.Value, Tolerance);
        Assert.Equal(7490.0 / 9600, shift.Oee!.Value, Tolerance);
        Assert.Equal("setup", s.Snapshot().RecentDowntimeEvents[0].Category);
        Assert.Equal("tool change", s.Snapshot().RecentDowntimeEvents[0].Reason);
    }

    [Fact]
    public void ShiftChange_ClosesTheShift_AndPublishesItsFinalValuesAsPreviousShift()
    {
        using var s = new OeeScenario(Thursday(13, 0));
        s.State("running").Total(0).Reject(0);
        s.To(Thursday(13, 30)).State("down").Reason("jam");
        s.To(Thursday(13, 40)).State("running").Reason("");
        s.To(Thursday(13, 59)).Total(2900).Reject(29);
        s.Engine.Tick();
        s.To(Thursday(14, 0, 10));

        var published = s.Engine.Tick();
        var m = s.Snapshot();

        // Day shift as observed (13:00-14:00): run 1800 + 1200 = 3000 s, down 600 s, planned 3600 s;
        // A = 3000 / 3600; P = 2900 / 3000; Q = 2871 / 2900 = 0.99; OEE = 2871 / 3600 = 0.7975.
        var previous = m.PreviousShift!;
        Assert.Equal("day", previous.Name);
        Assert.Equal(Thursday(14, 0), previous.End);
        Assert.Equal(3000, previous.RunSeconds, Tolerance);
        Assert.Equal(3600, previous.PlannedSeconds, Tolerance);
        Assert.Equal(3000.0 / 3600, previous.Availability!.Value, Tolerance);
        Assert.Equal(2900.0 / 3000, previous.Performance!.Value, Tolerance);
        Assert.Equal(0.99, previous.Quality!.Value, Tolerance);
        Assert.Equal(0.7975, previous.Oee!.Value, Tolerance);

        // The late shift started at 14:00: 10 s of running so far.
        Assert.Equal("late", m.CurrentShift!.Name);
        Assert.Equal(10, m.CurrentShift.RunSeconds, Tolerance);
        Assert.Equal(0, m.CurrentShift.TotalCount);

        var oee = Assert.Single(published, x => x.Tag.Key == "m1/oee/previous-shift/oee");
        Assert.Equal(0.7975, oee.Value.AsDouble, Tolerance);
        Assert.Equal(Thursday(14, 0), oee.SourceTimestamp);
        Assert.Equal(2900, Assert.Single(published, x => x.Tag.Key == "m1/oee/previous-shift/total-count").Value.AsInteger);

        // Published once, at the change: the next tick carries no previous-shift values.
        s.To(Thursday(14, 0, 20));
        Assert.DoesNotContain(s.Engine.Tick(), x => x.Tag.Path.StartsWith("oee/previous-shift/", StringComparison.Ordinal));

        // The previous shift survives a restart, value for value.
        s.Engine.Save();
        s.NewEngine();
        s.Engine.Load();
        Assert.Equal(previous, s.Snapshot().PreviousShift);
    }

    [Fact]
    public void RestartMidShift_ContinuesTheShift_AndMarksTheGapUnknown()
    {
        using var s = new OeeScenario(Thursday(6, 0));
        s.State("running").Total(0).Reject(0);
        s.To(Thursday(7, 0)).Total(3600);
        s.Engine.Tick();
        s.Engine.Save();

        // The gateway is off 07:00-07:30. A new engine loads the saved state.
        s.To(Thursday(7, 30));
        s.NewEngine();
        s.Engine.Load();
        s.State("running", sourceTimestamp: Thursday(6, 0));   // "running since 06:00" must not fill the gap
        s.Total(5400).Reject(0);                               // new baseline: parts of the gap not counted
        s.To(Thursday(8, 0)).Total(7200);

        var m = s.Snapshot();
        var shift = m.CurrentShift!;

        // Run 3600 + 1800 = 5400 s, unknown 1800 s (excluded), planned 5400 s: A = 1; parts 3600 + 1800 = 5400: P = 1.
        Assert.Equal(5400, shift.RunSeconds, Tolerance);
        Assert.Equal(1800, shift.UnknownSeconds, Tolerance);
        Assert.Equal(5400, shift.PlannedSeconds, Tolerance);
        Assert.Equal(1, shift.Availability!.Value, Tolerance);
        Assert.Equal(5400, shift.TotalCount);
        Assert.Equal(1, shift.Performance!.Value, Tolerance);
        Assert.Equal(
            [
                new OeeTimelineEntry(Thursday(6, 0), Thursday(7, 0), "running", null),
                new OeeTimelineEntry(Thursday(7, 0), Thursday(7, 30), "unknown", null),
                new OeeTimelineEntry(Thursday(7, 30), Thursday(8, 0), "running", null),
            ],
            m.Timeline);
        Assert.True(File.Exists(Path.Combine(s.StateDirectory, OeeEngine.StateFileName)));
        Assert.False(File.Exists(Path.Combine(s.StateDirectory, OeeEngine.StateFileName + ".tmp")));
    }

    [Fact]
    public void NonWorkingDay_HasNoShift_AndStopsAreNoLoss()
    {
        // Sunday 29 November 2026 is a non-working day.
        using var s = new OeeScenario(At(2026, 11, 29, 8, 0));
        s.State("running").Total(0).Reject(0);
        s.To(At(2026, 11, 29, 8, 30)).Total(1500).State("down").Reason("jam");
        s.To(At(2026, 11, 29, 9, 0));

        var m = s.Snapshot();

        // No shift; the last hour counts only the running: run 1800 s = planned 1800 s, A = 1, P = 1500 / 1800,
        // and the 30 min down is no breakdown (nothing was planned).
        Assert.Null(m.CurrentShift);
        Assert.Equal(1800, m.LastHour.RunSeconds, Tolerance);
        Assert.Equal(1800, m.LastHour.PlannedSeconds, Tolerance);
        Assert.Equal(1, m.LastHour.Availability!.Value, Tolerance);
        Assert.Equal(1500.0 / 1800, m.LastHour.Performance!.Value, Tolerance);
        Assert.Equal(0, m.LastHour.Losses.BreakdownSeconds, Tolerance);
        Assert.Empty(m.TopDowntimeReasons);

        // A date in the list is non-working too; the Monday after is a working day.
        var calendar = new ShiftCalendar(s.Options.ShiftPlan!);
        Assert.Null(calendar.ShiftAt(At(2026, 12, 25, 10, 0)));
        Assert.Equal("day", calendar.ShiftAt(At(2026, 11, 30, 10, 0))!.Name);
    }

    [Fact]
    public void ShiftPlan_InEuropeParis_FollowsLocalTimeAndNightShiftsCrossMidnight()
    {
        var calendar = new ShiftCalendar(new ShiftPlanOptions
        {
            TimeZone = "Europe/Paris",
            Shifts = [new ShiftOptions { Name = "night", Start = "22:00", End = "06:00" }],
            Breaks = [new BreakOptions { Start = "02:00", End = "02:30" }],
        });

        // 22:00 in Paris in winter (UTC+1) is 21:00 UTC; the night ends 05:00 UTC the next day.
        var shift = calendar.ShiftAt(At(2026, 11, 27, 1, 0))!;
        Assert.Equal(At(2026, 11, 26, 21, 0), shift.Start);
        Assert.Equal(At(2026, 11, 27, 5, 0), shift.End);

        // 8 h minus the 30 min break (01:00-01:30 UTC).
        var planned = calendar.PlannedIntervals(shift.Start, shift.End);
        Assert.Equal(7.5 * 3600, planned.Sum(i => (i.End - i.Start).TotalSeconds), Tolerance);
        Assert.Equal(At(2026, 11, 27, 1, 0), planned[0].End);
    }

    [Fact]
    public void MissingTag_LeavesTheMachineOut_WithTheJsonPathOfTheProblem()
    {
        using var s = new OeeScenario(Thursday(7, 0));
        var known = new HashSet<string>(StringComparer.Ordinal) { "m1/state", "m1/total-count", "m1/down-reason" };

        var report = new OeeEngine(s.Options, s.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, null, known).Snapshot();

        Assert.Empty(report.Machines);
        var problem = Assert.Single(report.Problems);
        Assert.StartsWith("oee.machines[0].rejectCountTag: no tag 'm1/reject-count'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Tick_PublishesResultTagsUnderTheMachine()
    {
        using var s = new OeeScenario(Thursday(7, 0));
        s.State("running").Total(0).Reject(0);
        s.To(Thursday(7, 10)).Total(600);

        var published = s.Engine.Tick().ToDictionary(x => x.Tag.Key);

        Assert.Equal("running", published["m1/oee/state"].Value.AsString);
        Assert.Equal(1, published["m1/oee/current-shift/availability"].Value.AsDouble, Tolerance);
        Assert.Equal("1", published["m1/oee/current-shift/availability"].Tag.Unit);
        Assert.Equal(1, published["m1/oee/current-shift/performance"].Value.AsDouble, Tolerance);
        Assert.Equal(600, published["m1/oee/current-shift/total-count"].Value.AsInteger);
        Assert.Equal(600, published["m1/oee/current-shift/good-count"].Value.AsInteger);
        Assert.Equal(600, published["m1/oee/current-shift/run-time-seconds"].Value.AsDouble, Tolerance);
        Assert.Equal(0, published["m1/oee/current-shift/downtime-seconds"].Value.AsDouble, Tolerance);
        Assert.Equal(600, published["m1/oee/last-hour/total-count"].Value.AsInteger);
        Assert.Equal(0, published["m1/oee/losses/breakdown-seconds"].Value.AsDouble, Tolerance);
        Assert.Contains("m1/oee/losses/micro-stop-seconds", published.Keys);
        Assert.Contains("m1/oee/losses/reduced-speed-seconds", published.Keys);
        Assert.Contains("m1/oee/losses/startup-reject-count", published.Keys);

        // No reject yet but parts: quality 1.
        Assert.Equal(1, published["m1/oee/current-shift/quality"].Value.AsDouble, Tolerance);
    }

    [Fact]
    public void Tick_WithoutPlannedTime_PublishesRatiosWithoutValueAsUncertain()
    {
        using var s = new OeeScenario(Thursday(7, 0));   // no state sample yet: unknown, nothing planned

        var availability = Assert.Single(s.Engine.Tick(), x => x.Tag.Key == "m1/oee/last-hour/availability");

        Assert.Equal(Gateway.Drivers.Quality.Uncertain, availability.Quality);
        Assert.Equal(Gateway.Drivers.SampleValueKind.None, availability.Value.Kind);
    }

    [Fact]
    public void ApiOeeJson_HasTheDocumentedShape()
    {
        using var s = new OeeScenario(Thursday(8, 0));
        s.State("running").Total(0).Reject(0);
        s.To(Thursday(8, 30)).Total(1500).State("down").Reason("jam");
        s.To(Thursday(8, 40));

        var json = JsonSerializer.Serialize(s.Engine.Snapshot(), s_web);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        Assert.Equal(Thursday(8, 40), root.GetProperty("generatedAt").GetDateTimeOffset());
        Assert.Equal(0, root.GetProperty("problems").GetArrayLength());
        var machine = root.GetProperty("machines")[0];
        Assert.Equal("m1", machine.GetProperty("name").GetString());
        Assert.Equal("down", machine.GetProperty("state").GetString());
        Assert.Equal(Thursday(8, 30), machine.GetProperty("stateSince").GetDateTimeOffset());
        Assert.Equal("jam", machine.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, machine.GetProperty("previousShift").ValueKind);

        // Current shift 06:00-14:00 as observed from 08:00: run 1800 s, down 600 s: A = 0.75, P = 1500 / 1800.
        var shift = machine.GetProperty("currentShift");
        Assert.Equal("day", shift.GetProperty("name").GetString());
        Assert.Equal(Thursday(6, 0), shift.GetProperty("start").GetDateTimeOffset());
        Assert.Equal(Thursday(14, 0), shift.GetProperty("end").GetDateTimeOffset());
        Assert.Equal(0.75, shift.GetProperty("availability").GetDouble(), Tolerance);
        Assert.Equal(1500.0 / 1800, shift.GetProperty("performance").GetDouble(), Tolerance);
        Assert.Equal(1, shift.GetProperty("quality").GetDouble(), Tolerance);
        Assert.Equal(0.625, shift.GetProperty("oee").GetDouble(), Tolerance);
        Assert.Equal(1800, shift.GetProperty("runSeconds").GetDouble(), Tolerance);
        Assert.Equal(2400, shift.GetProperty("plannedSeconds").GetDouble(), Tolerance);
        Assert.Equal(1500, shift.GetProperty("totalCount").GetInt64());
        Assert.Equal(1500, shift.GetProperty("goodCount").GetInt64());
        Assert.Equal(0, shift.GetProperty("rejectCount").GetInt64());
        var losses = shift.GetProperty("losses");
        foreach (var name in new[] { "breakdownSeconds", "setupSeconds", "microStopSeconds", "idleSeconds", "reducedSpeedSeconds", "startupRejectCount", "startupRejectSeconds", "productionRejectCount", "productionRejectSeconds" })
        {
            Assert.True(losses.TryGetProperty(name, out _), name);
        }

        // 600 s down so far: a breakdown (over the 120 s micro-stop threshold).
        Assert.Equal(600, losses.GetProperty("breakdownSeconds").GetDouble(), Tolerance);
        Assert.Equal("last-hour", machine.GetProperty("lastHour").GetProperty("name").GetString());

        Assert.Equal(0, machine.GetProperty("breaks").GetArrayLength());
        var timeline = machine.GetProperty("timeline");
        Assert.Equal(2, timeline.GetArrayLength());
        Assert.Equal("down", timeline[1].GetProperty("state").GetString());
        Assert.Equal("jam", timeline[1].GetProperty("reason").GetString());
        Assert.Equal(Thursday(8, 40), timeline[1].GetProperty("end").GetDateTimeOffset());

        var reason = machine.GetProperty("topDowntimeReasons")[0];
        Assert.Equal("jam", reason.GetProperty("reason").GetString());
        Assert.Equal(600, reason.GetProperty("seconds").GetDouble(), Tolerance);
        Assert.Equal(1, reason.GetProperty("count").GetInt32());

        var stop = machine.GetProperty("recentDowntimeEvents")[0];
        Assert.Equal(Thursday(8, 30), stop.GetProperty("start").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, stop.GetProperty("end").ValueKind);
        Assert.Equal(600, stop.GetProperty("durationSeconds").GetDouble(), Tolerance);
        Assert.Equal("breakdown", stop.GetProperty("category").GetString());
    }
}
