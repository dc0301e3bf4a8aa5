using System.Text.Json;
using Gateway.Drivers;
using Gateway.Oee;
using static Gateway.Tests.Oee.OeeScenario;

namespace Gateway.Tests.Oee;

/// <summary>
/// Lines set up differently from the examples, as a consultant meets them: PLC restarts, good counters instead of
/// reject counters, scaled state codes, Bad running signals, daylight-saving nights, breaks across a handover,
/// gateway restarts, several machines on several plans. Every expected value is computed by hand in the comments.
/// </summary>
public sealed class OeeFieldScenarioTests
{
    private static readonly JsonSerializerOptions s_web = new(JsonSerializerDefaults.Web);

    [Theory]
    [InlineData(null)]
    [InlineData(65536L)]
    public void CounterSteppingBackALittle_AfterAPlcRestart_CountsNoParts(long? rolloverAt)
    {
        using var s = new OeeScenario(Thursday(7, 0), o => o.Machines[0].RolloverAt = rolloverAt);
        s.State("running").Total(10000).Reject(100);
        s.To(Thursday(7, 10)).Total(10600);   // +600
        s.To(Thursday(7, 11)).Total(10590);   // the PLC restarted from a retained value 10 behind: no parts
        s.To(Thursday(7, 20)).Total(11190);   // +600 from the new value
        s.To(Thursday(7, 30));

        var shift = s.Snapshot().CurrentShift!;

        // 600 + 0 + 600 = 1200 parts in 1800 s running: P = 1200 / 1800 = 0.666667. Counting the step back as a reset
        // would have added 10590 parts (P = 11790 / 1800 = 6.55).
        Assert.Equal(1200, shift.TotalCount);
        Assert.Equal(1200.0 / 1800, shift.Performance!.Value, Tolerance);
    }

    [Fact]
    public void CounterResetToZero_And32BitRollover_AreBothCounted()
    {
        using var s = new OeeScenario(Thursday(7, 0), o => o.Machines[0].RolloverAt = 4294967296);
        s.State("running").Total(4294966996).Reject(0);
        s.To(Thursday(7, 10)).Total(300);     // 32-bit wrap: 300 + 4294967296 - 4294966996 = +600
        s.To(Thursday(7, 15)).Total(0);       // reset to zero mid-shift (operator): no parts
        s.To(Thursday(7, 20)).Total(400);     // +400
        s.To(Thursday(7, 30));

        var shift = s.Snapshot().CurrentShift!;

        // 600 + 400 = 1000 parts in 1800 s: P = 1000 / 1800.
        Assert.Equal(1000, shift.TotalCount);
        Assert.Equal(1000.0 / 1800, shift.Performance!.Value, Tolerance);
    }

    [Fact]
    public void GoodCounterReadJustAfterTheTotal_AcrossAShiftChange_NeverGivesNegativeRejectsOrQualityAboveOne()
    {
        using var s = new OeeScenario(Thursday(13, 0), o =>
        {
            o.Machines[0].RejectCountTag = null;
            o.Machines[0].GoodCountTag = "good-count";
        });
        s.State("running").Total(0).Tag("m1", "good-count", SampleValue.FromInteger(0));
        s.To(Thursday(13, 59, 58)).Total(3599).Tag("m1", "good-count", SampleValue.FromInteger(3563));

        // The last poll of the day shift: one more part, the total read at 13:59:59.9, the good counter 0.2 s later,
        // in the late shift.
        s.To(Thursday(13, 59, 59).AddMilliseconds(900)).Total(3600);
        s.To(Thursday(14, 0, 0).AddMilliseconds(100)).Tag("m1", "good-count", SampleValue.FromInteger(3564));
        s.To(Thursday(14, 0, 10));
        s.Engine.Tick();
        s.To(Thursday(14, 10)).Total(4200).Tag("m1", "good-count", SampleValue.FromInteger(4164));

        var m = s.Snapshot();

        // Day shift 13:00-14:00: total 3600, good 3563 (the last good part was read in the late shift): rejects 37.
        Assert.Equal(3600, m.PreviousShift!.TotalCount);
        Assert.Equal(3563, m.PreviousShift.GoodCount);
        Assert.Equal(37, m.PreviousShift.RejectCount);

        // Late shift 14:00-14:10: total 600, good read in it 1 + 600 = 601. More good than made: rejects 0 (not -1),
        // good = total = 600, Q = 600 / 600 = 1 (not 601 / 600); no negative start-up rejects either.
        var late = m.CurrentShift!;
        Assert.Equal(600, late.TotalCount);
        Assert.Equal(0, late.RejectCount);
        Assert.Equal(600, late.GoodCount);
        Assert.Equal(1, late.Quality!.Value, Tolerance);
        Assert.Equal(0, late.Losses.StartupRejectCount);
        Assert.Equal(0, late.Losses.ProductionRejectCount);

        // A = 600 / 600 = 1; P = 600 / 600 = 1; OEE = A x P x Q = 1, never above.
        Assert.Equal(1, late.Oee!.Value, Tolerance);
    }

    [Fact]
    public void GoodCounter_InsteadOfRejectCounter_GivesRejectsAsTotalMinusGood()
    {
        using var s = new OeeScenario(Thursday(8, 0), o =>
        {
            o.Machines[0].RejectCountTag = null;
            o.Machines[0].GoodCountTag = "good-count";
        });
        s.State("running").Total(500).Tag("m1", "good-count", SampleValue.FromInteger(480));
        s.To(Thursday(8, 30)).Total(2300).Tag("m1", "good-count", SampleValue.FromInteger(2250));
        s.To(Thursday(9, 0)).Total(3500).Tag("m1", "good-count", SampleValue.FromInteger(3440));

        var shift = s.Snapshot().CurrentShift!;

        // Total 3500 - 500 = 3000; good 3440 - 480 = 2960; rejects 40; all after the 06:00-06:10 start-up window.
        // A = 1; P = 3000 / 3600; Q = 2960 / 3000; OEE = 2960 / 3600.
        Assert.Equal(3000, shift.TotalCount);
        Assert.Equal(2960, shift.GoodCount);
        Assert.Equal(40, shift.RejectCount);
        Assert.Equal(40, shift.Losses.ProductionRejectCount);
        Assert.Equal(2960.0 / 3000, shift.Quality!.Value, Tolerance);
        Assert.Equal(2960.0 / 3600, shift.Oee!.Value, Tolerance);
    }

    [Fact]
    public void StateCodes_AsIntegersDoublesAndStrings_MapTheSame()
    {
        using var s = new OeeScenario(Thursday(7, 0));
        s.Tag("m1", "state", SampleValue.FromDouble(0.6 * 10)).Total(0).Reject(0);    // 6.000000000000001 after scaling
        s.To(Thursday(7, 10)).Tag("m1", "state", SampleValue.FromDouble(11.0));        // a float register: down
        s.To(Thursday(7, 20)).Tag("m1", "state", SampleValue.FromString("2.0"));       // a string from a gateway: planned stop
        s.To(Thursday(7, 30)).Tag("m1", "state", SampleValue.FromString(" 6 "));       // padded text: running
        s.To(Thursday(7, 35)).Tag("m1", "state", SampleValue.FromInteger(6));          // the same state as an integer
        s.To(Thursday(7, 40));

        var m = s.Snapshot();
        var shift = m.CurrentShift!;

        // Running 07:00-07:10 and 07:30-07:40 = 1200 s, down 600 s, planned stop 600 s excluded, nothing unknown:
        // A = 1200 / (1200 + 600) = 2/3.
        Assert.Equal("running", m.State);
        Assert.Equal(Thursday(7, 30), m.StateSince);
        Assert.Equal(0, shift.UnknownSeconds, Tolerance);
        Assert.Equal(1200, shift.RunSeconds, Tolerance);
        Assert.Equal(600, shift.PlannedStopSeconds, Tolerance);
        Assert.Equal(600, shift.Losses.BreakdownSeconds, Tolerance);
        Assert.Equal(2.0 / 3, shift.Availability!.Value, Tolerance);
    }

    [Fact]
    public void RunningBool_WithBadQuality_IsUnknownNotRunning_AndTextOrNumbersAreRead()
    {
        using var s = new OeeScenario(Thursday(7, 0), o =>
        {
            o.Machines[0].StateTag = null;
            o.Machines[0].RunningTag = "running";
        });
        s.Tag("m1", "running", SampleValue.FromBoolean(true)).Total(0).Reject(0);
        s.To(Thursday(7, 10)).Tag("m1", "running", SampleValue.FromBoolean(true), Quality.Bad);   // PLC unreachable, last value kept
        Assert.Equal("unknown", s.Snapshot().State);
        s.To(Thursday(7, 20)).Tag("m1", "running", SampleValue.FromInteger(1));               // back, as a coil read 1
        s.To(Thursday(7, 30)).Tag("m1", "running", SampleValue.FromString("FALSE"));          // a text source: stopped
        s.To(Thursday(7, 40)).Tag("m1", "running", SampleValue.FromString("maybe"));          // not a boolean: unknown
        s.To(Thursday(7, 50));

        var shift = s.Snapshot().CurrentShift!;

        // Running 07:00-07:10 and 07:20-07:30 = 1200 s; down 07:30-07:40 = 600 s; unknown 07:10-07:20 and 07:40-07:50
        // = 1200 s, excluded. A = 1200 / 1800 = 2/3.
        Assert.Equal(1200, shift.RunSeconds, Tolerance);
        Assert.Equal(600, shift.DowntimeSeconds, Tolerance);
        Assert.Equal(1200, shift.UnknownSeconds, Tolerance);
        Assert.Equal(1800, shift.PlannedSeconds, Tolerance);
        Assert.Equal(2.0 / 3, shift.Availability!.Value, Tolerance);
    }

    [Fact]
    public void NightShiftOverTheSpringDaylightSavingChange_HasSevenRealHours()
    {
        // Europe/Paris, every day a night shift 22:00-06:00 with a break 00:00-00:30. On the night of Saturday 28 to
        // Sunday 29 March 2026 the clocks go from 02:00 to 03:00: 22:00 CET = 21:00 UTC, 06:00 CEST = 04:00 UTC.
        using var s = new OeeScenario(At(2026, 3, 28, 21, 0), ParisNights);
        s.State("running").Total(0).Reject(0);
        s.To(At(2026, 3, 28, 23, 0)).State("idle");                    // the meal break, 00:00-00:30 CET
        s.To(At(2026, 3, 28, 23, 30)).State("running");
        s.To(At(2026, 3, 29, 3, 59)).Total(23340);
        s.Engine.Tick();

        var shift = s.Snapshot().CurrentShift!;
        Assert.Equal(At(2026, 3, 28, 21, 0), shift.Start);
        Assert.Equal(At(2026, 3, 29, 4, 0), shift.End);

        // 21:00-03:59 UTC = 6 h 59 min = 25140 s, minus the break 23:00-23:30 UTC (idle, no loss) = 23340 s planned,
        // all running: A = 1, P = 23340 / 23340 = 1.
        Assert.Equal(23340, shift.PlannedSeconds, Tolerance);
        Assert.Equal(1, shift.Availability!.Value, Tolerance);
        Assert.Equal(1, shift.Performance!.Value, Tolerance);

        s.To(At(2026, 3, 29, 4, 0, 10));
        s.Engine.Tick();

        // Closed: 7 h = 25200 s minus 1800 s of break = 23400 s planned (not 8 h - 30 min = 27000 s); OEE = 23340 / 23400.
        var night = s.Snapshot().PreviousShift!;
        Assert.Equal(23400, night.PlannedSeconds, Tolerance);
        Assert.Equal(23340, night.TotalCount);
        Assert.Equal(23340.0 / 23400, night.Oee!.Value, Tolerance);
    }

    [Fact]
    public void NightShiftOverTheAutumnDaylightSavingChange_HasNineRealHours()
    {
        // Night of Saturday 24 to Sunday 25 October 2026: clocks go back from 03:00 to 02:00.
        // 22:00 CEST = 20:00 UTC, 06:00 CET = 05:00 UTC: 9 h.
        using var s = new OeeScenario(At(2026, 10, 24, 20, 0), ParisNights);
        s.State("running").Total(0).Reject(0);
        s.To(At(2026, 10, 24, 22, 0)).State("idle");                   // the meal break, 00:00-00:30 CEST
        s.To(At(2026, 10, 24, 22, 30)).State("running");
        s.To(At(2026, 10, 25, 1, 0)).State("down").Reason("jam");      // 01:00 UTC: 03:00 CEST becomes 02:00 CET; 1 h down
        s.To(At(2026, 10, 25, 2, 0)).State("running").Reason("");
        s.To(At(2026, 10, 25, 4, 59, 59)).Total(27000);
        s.To(At(2026, 10, 25, 5, 0, 10));
        s.Engine.Tick();

        var night = s.Snapshot().PreviousShift!;

        // 9 h = 32400 s, minus the break 00:00-00:30 CEST = 22:00-22:30 UTC: 30600 s planned. Down 3600 s;
        // run 20:00-22:00 + 22:30-01:00 + 02:00-05:00 = 7200 + 9000 + 10800 = 27000 s.
        // A = 27000 / 30600; P = 27000 / 27000 = 1; OEE = 27000 / 30600 = 0.882353.
        Assert.Equal(At(2026, 10, 24, 20, 0), night.Start);
        Assert.Equal(At(2026, 10, 25, 5, 0), night.End);
        Assert.Equal(30600, night.PlannedSeconds, Tolerance);
        Assert.Equal(27000, night.RunSeconds, Tolerance);
        Assert.Equal(3600, night.Losses.BreakdownSeconds, Tolerance);
        Assert.Equal(27000.0 / 30600, night.Availability!.Value, Tolerance);
        Assert.Equal(1, night.Performance!.Value, Tolerance);
    }

    private static void ParisNights(OeeOptions o) => o.ShiftPlan = new ShiftPlanOptions
    {
        TimeZone = "Europe/Paris",
        Shifts = [new ShiftOptions { Name = "night", Start = "22:00", End = "06:00" }],
        Breaks = [new BreakOptions { Name = "meal", Start = "00:00", End = "00:30" }],
    };

    [Fact]
    public void BreakAcrossTheShiftHandover_IsAccepted_AndCutsBothShifts()
    {
        var plan = new ShiftPlanOptions
        {
            TimeZone = "UTC",
            Shifts =
            [
                new ShiftOptions { Name = "day", Start = "06:00", End = "14:00" },
                new ShiftOptions { Name = "late", Start = "14:00", End = "22:00" },
            ],
            Breaks = [new BreakOptions { Name = "handover", Start = "13:45", End = "14:15" }],
        };

        Assert.Null(ShiftCalendar.Check(plan));
        var calendar = new ShiftCalendar(plan);

        // Day: 8 h - 15 min = 27900 s; late: 8 h - 15 min = 27900 s.
        Assert.Equal(27900, calendar.PlannedIntervals(Thursday(6, 0), Thursday(14, 0)).Sum(i => (i.End - i.Start).TotalSeconds), Tolerance);
        Assert.Equal(27900, calendar.PlannedIntervals(Thursday(14, 0), Thursday(22, 0)).Sum(i => (i.End - i.Start).TotalSeconds), Tolerance);

        // A break reaching out of every shift is still refused: 21:45-22:15 has nothing after 22:00.
        plan.Breaks = [new BreakOptions { Start = "21:45", End = "22:15" }];
        Assert.Equal("breaks[0]: 21:45-22:15 is not within the shifts", ShiftCalendar.Check(plan));
    }

    [Fact]
    public void NightShift_BelongsToTheDayItStarts_AroundNonWorkingDays()
    {
        var calendar = new ShiftCalendar(new ShiftPlanOptions
        {
            TimeZone = "UTC",
            Shifts = [new ShiftOptions { Name = "night", Start = "22:00", End = "06:00" }],
            NonWorkingDays = ["Saturday", "Sunday"],
        });

        // Friday 27 November 22:00 to Saturday 06:00 is worked (it starts on a Friday); Saturday's and Sunday's nights are not.
        Assert.Equal(new ShiftInstance("night", At(2026, 11, 27, 22, 0), At(2026, 11, 28, 6, 0)), calendar.ShiftAt(At(2026, 11, 28, 3, 0)));
        Assert.Null(calendar.ShiftAt(At(2026, 11, 29, 3, 0)));
        Assert.Null(calendar.ShiftAt(At(2026, 11, 30, 3, 0)));
        Assert.Equal(At(2026, 11, 30, 22, 0), calendar.ShiftAt(At(2026, 12, 1, 3, 0))!.Start);
    }

    [Fact]
    public void WeekStartingSundayNight_IsConfiguredWithTheShiftsOwnDays()
    {
        // A French 3x8 week: the night shift starts Sunday 22:00 and the last one Thursday 22:00; no shift at the
        // weekend otherwise.
        var plan = new ShiftPlanOptions
        {
            TimeZone = "Europe/Paris",
            Shifts =
            [
                new ShiftOptions { Name = "night", Start = "22:00", End = "06:00", Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday"] },
                new ShiftOptions { Name = "morning", Start = "06:00", End = "14:00" },
                new ShiftOptions { Name = "afternoon", Start = "14:00", End = "22:00" },
            ],
            Breaks = [new BreakOptions { Start = "02:00", End = "02:20" }],
            NonWorkingDays = ["Saturday", "Sunday", "2026-12-25"],
        };
        Assert.Null(ShiftCalendar.Check(plan));
        var calendar = new ShiftCalendar(plan);

        // Sunday 29 November, 23:00 in Paris (22:00 UTC): the night shift that opens the week, 8 h - 20 min planned.
        var sundayNight = calendar.ShiftAt(At(2026, 11, 29, 22, 0))!;
        Assert.Equal(new ShiftInstance("night", At(2026, 11, 29, 21, 0), At(2026, 11, 30, 5, 0)), sundayNight);
        Assert.Equal(28800 - 1200, calendar.PlannedIntervals(sundayNight.Start, sundayNight.End).Sum(i => (i.End - i.Start).TotalSeconds), Tolerance);

        // Sunday 10:00 and the night from Friday to Saturday: nothing. Thursday night: the night shift, into Friday.
        Assert.Null(calendar.ShiftAt(At(2026, 11, 29, 9, 0)));
        Assert.Null(calendar.ShiftAt(At(2026, 11, 28, 2, 0)));
        Assert.Equal("night", calendar.ShiftAt(At(2026, 11, 27, 2, 0))!.Name);

        // A holiday date still removes every shift starting on it, own days or not (Friday 25 December).
        Assert.Null(calendar.ShiftAt(At(2026, 12, 25, 9, 0)));
        Assert.Equal("night", calendar.ShiftAt(At(2026, 12, 25, 2, 0))!.Name);   // Thursday 24's night, into the 25th

        // Shifts on different days do not overlap: a long Friday shift beside the Monday-Thursday day shift.
        Assert.Null(ShiftCalendar.Check(new ShiftPlanOptions
        {
            TimeZone = "UTC",
            Shifts =
            [
                new ShiftOptions { Name = "day", Start = "06:00", End = "14:00", Days = ["Monday", "Tuesday", "Wednesday", "Thursday"] },
                new ShiftOptions { Name = "friday", Start = "05:00", End = "12:00", Days = ["Friday"] },
            ],
        }));
    }

    [Fact]
    public void PerformanceAboveOne_IsShownAsMeasured_NotClamped()
    {
        // The ideal cycle is configured at 1 s but the machine makes a part every 0.8 s.
        using var s = new OeeScenario(Thursday(7, 0));
        s.State("running").Total(0).Reject(0);
        s.To(Thursday(8, 0)).Total(4500);

        var shift = s.Snapshot().CurrentShift!;
        var published = s.Engine.Tick().ToDictionary(x => x.Tag.Key);

        // P = 1 s x 4500 / 3600 s = 1.25; A = 1; Q = 1; OEE = 1.25. Reduced-speed loss 0 (never negative).
        Assert.Equal(1.25, shift.Performance!.Value, Tolerance);
        Assert.Equal(1.25, shift.Oee!.Value, Tolerance);
        Assert.Equal(0, shift.Losses.ReducedSpeedSeconds, Tolerance);
        Assert.Equal(1.25, published["m1/oee/current-shift/performance"].Value.AsDouble, Tolerance);
    }

    [Fact]
    public void ShiftWithoutProduction_GivesNullsNotNaN_InJsonAndSamples()
    {
        using var s = new OeeScenario(Thursday(6, 0));
        s.State("down").Reason("no operator").Total(0).Reject(0);
        s.To(Thursday(7, 0));

        var m = s.Snapshot();
        var shift = m.CurrentShift!;

        // 3600 s planned, all down, no parts: A = 0 / 3600 = 0; P = parts / run = 0 / 0: null; Q = 0 / 0: null;
        // OEE = 0 (nothing good made in planned time).
        Assert.Equal(0, shift.Availability!.Value, Tolerance);
        Assert.Null(shift.Performance);
        Assert.Null(shift.Quality);
        Assert.Equal(0, shift.Oee!.Value, Tolerance);

        var json = JsonSerializer.Serialize(s.Engine.Snapshot(), s_web);
        Assert.DoesNotContain("NaN", json, StringComparison.Ordinal);
        Assert.DoesNotContain("Infinity", json, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json);
        var current = document.RootElement.GetProperty("machines")[0].GetProperty("currentShift");
        Assert.Equal(JsonValueKind.Null, current.GetProperty("performance").ValueKind);
        Assert.Equal(JsonValueKind.Null, current.GetProperty("quality").ValueKind);

        var published = s.Engine.Tick().ToDictionary(x => x.Tag.Key);
        Assert.Equal(SampleValueKind.None, published["m1/oee/current-shift/performance"].Value.Kind);
        Assert.Equal(Quality.Uncertain, published["m1/oee/current-shift/quality"].Quality);
        Assert.All(published.Values.Where(x => x.Value.Kind == SampleValueKind.Double), x => Assert.True(double.IsFinite(x.Value.AsDouble), x.Tag.Key));
    }

    [Fact]
    public void RestartAfterTheShiftEnded_ClosesTheShiftWithTheGapUnknown()
    {
        var directory = Path.Combine(Path.GetTempPath(), "oee-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var s = new OeeScenario(Thursday(6, 0), stateDirectory: directory);
            s.State("running").Total(0).Reject(0);
            s.To(Thursday(13, 30)).Total(27000);
            s.Engine.Tick();
            s.Engine.Save();

            // Off 13:30-15:00: the day shift ended at 14:00 while the gateway was down.
            s.To(Thursday(15, 0));
            s.NewEngine();
            s.Engine.Load();
            var published = s.Engine.Tick(includePreviousShift: true).ToDictionary(x => x.Tag.Key);
            s.State("running").Total(50000);                       // new baseline
            s.To(Thursday(15, 30)).Total(51800);

            var m = s.Snapshot();

            // Day: run 06:00-13:30 = 27000 s, unknown 13:30-14:00 = 1800 s (excluded): A = 1, P = 27000 / 27000 = 1.
            Assert.Equal("day", m.PreviousShift!.Name);
            Assert.Equal(27000, m.PreviousShift.RunSeconds, Tolerance);
            Assert.Equal(1800, m.PreviousShift.UnknownSeconds, Tolerance);
            Assert.Equal(1, m.PreviousShift.Oee!.Value, Tolerance);
            Assert.Equal(1, published["m1/oee/previous-shift/oee"].Value.AsDouble, Tolerance);
            Assert.Equal(Thursday(14, 0), published["m1/oee/previous-shift/oee"].SourceTimestamp);

            // Late so far: unknown 14:00-15:00 = 3600 s, run 1800 s, 1800 parts: A = 1, P = 1.
            Assert.Equal("late", m.CurrentShift!.Name);
            Assert.Equal(3600, m.CurrentShift.UnknownSeconds, Tolerance);
            Assert.Equal(1800, m.CurrentShift.RunSeconds, Tolerance);
            Assert.Equal(1800, m.CurrentShift.TotalCount);
            Assert.Equal(1, m.CurrentShift.Oee!.Value, Tolerance);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public void SeveralMachines_WithTheirOwnShiftPlans_AreComputedApart()
    {
        using var s = new OeeScenario(Thursday(5, 0), o => o.Machines.Add(new OeeMachineOptions
        {
            Name = "m2",
            RunningTag = "running",
            TotalCountTag = "total-count",
            GoodCountTag = "good-count",
            IdealCycleMs = 2000,
            ShiftPlan = new ShiftPlanOptions
            {
                TimeZone = "Europe/Paris",
                Shifts = [new ShiftOptions { Name = "night", Start = "22:00", End = "06:00" }],
            },
        }));

        // 05:00 UTC = 06:00 in Paris: m2's night shift (21:00-05:00 UTC) has just ended; m1 has no shift until 06:00.
        s.State("running").Total(0).Reject(0);
        s.Tag("m2", "running", SampleValue.FromBoolean(true)).Tag("m2", "total-count", SampleValue.FromInteger(0)).Tag("m2", "good-count", SampleValue.FromInteger(0));
        s.Engine.Tick();
        s.To(Thursday(7, 0)).Total(3000);
        s.Tag("m2", "total-count", SampleValue.FromInteger(900)).Tag("m2", "good-count", SampleValue.FromInteger(900));
        s.Engine.Tick();

        var m1 = s.Snapshot("m1");
        var m2 = s.Snapshot("m2");

        // m1: day shift 06:00-07:00, run 3600 s, 3000 parts... counted in its shift; P = 3000 / 3600.
        Assert.Equal("day", m1.CurrentShift!.Name);
        Assert.Equal(3600, m1.CurrentShift.RunSeconds, Tolerance);
        Assert.Equal(3000.0 / 3600, m1.CurrentShift.Performance!.Value, Tolerance);

        // m2: no shift now; its last hour 06:00-07:00 UTC: run 3600 s, 900 parts x 2 s = 1800 s: P = 0.5.
        Assert.Null(m2.CurrentShift);
        Assert.Equal(900, m2.LastHour.TotalCount);
        Assert.Equal(0.5, m2.LastHour.Performance!.Value, Tolerance);
        Assert.Equal(900, m2.LastHour.GoodCount);
    }

    [Fact]
    public void ApiOee_BetweenAShiftChangeAndTheNextTick_ShowsTheNewShiftAndTheEndedOneAsPrevious()
    {
        // A consultant set publishIntervalSeconds to 300: the engine ticks at 13:58 and next at 14:03.
        using var s = new OeeScenario(Thursday(13, 0), o => o.PublishIntervalSeconds = 300);
        s.State("running").Total(0).Reject(0);
        s.To(Thursday(13, 30)).State("down").Reason("jam");
        s.To(Thursday(13, 40)).State("running").Reason("");
        s.To(Thursday(13, 58)).Total(2880).Reject(30);
        s.Engine.Tick();
        s.To(Thursday(14, 2));

        var m = s.Snapshot();

        // At 14:02 the late shift is on: run 14:00-14:02 = 120 s, A = 1, no parts yet.
        Assert.Equal("late", m.CurrentShift!.Name);
        Assert.Equal(120, m.CurrentShift.RunSeconds, Tolerance);
        Assert.Equal(0, m.CurrentShift.TotalCount);

        // And the day shift (13:00-14:00 as observed) is the previous one: run 1800 + 1200 = 3000 s, down 600 s;
        // A = 3000 / 3600; P = 2880 / 3000 = 0.96; Q = 2850 / 2880; OEE = 2850 / 3600.
        Assert.Equal("day", m.PreviousShift!.Name);
        Assert.Equal(3000.0 / 3600, m.PreviousShift.Availability!.Value, Tolerance);
        Assert.Equal(0.96, m.PreviousShift.Performance!.Value, Tolerance);
        Assert.Equal(2850.0 / 3600, m.PreviousShift.Oee!.Value, Tolerance);

        // The tick closes it with the same values.
        s.To(Thursday(14, 3));
        s.Engine.Tick();
        Assert.Equal(m.PreviousShift, s.Snapshot().PreviousShift);
    }

    [Fact]
    public void MachineWithOnlyARunningSignal_GivesAvailability_AndNullsForTheRest()
    {
        using var s = new OeeScenario(Thursday(7, 0), o =>
        {
            var m = o.Machines[0];
            m.StateTag = null;
            m.DownReasonTag = null;
            m.RunningTag = "spindle/running";
            m.TotalCountTag = null;
            m.RejectCountTag = null;
            m.IdealCycleMs = null;
        });
        Assert.Empty(OeeConfigRules.Check(s.Options, "oee"));
        s.Tag("m1", "spindle/running", SampleValue.FromBoolean(true));
        s.To(Thursday(7, 45)).Tag("m1", "spindle/running", SampleValue.FromBoolean(false));
        s.To(Thursday(8, 0));

        var shift = s.Snapshot().CurrentShift!;
        var published = s.Engine.Tick().ToDictionary(x => x.Tag.Key);

        // Run 2700 s, down 900 s: A = 2700 / 3600 = 0.75. No counter: P, Q and OEE unknown (null), not 0;
        // no reduced-speed loss invented from the missing parts.
        Assert.Equal(0.75, shift.Availability!.Value, Tolerance);
        Assert.Null(shift.Performance);
        Assert.Null(shift.Quality);
        Assert.Null(shift.Oee);
        Assert.Equal(0, shift.Losses.ReducedSpeedSeconds, Tolerance);
        Assert.Equal(900, shift.Losses.BreakdownSeconds, Tolerance);
        Assert.Equal(0.75, published["m1/oee/current-shift/availability"].Value.AsDouble, Tolerance);
        Assert.Equal(Quality.Uncertain, published["m1/oee/current-shift/oee"].Quality);
    }

    [Fact]
    public void MachineWithATotalCounterOnly_CountsEveryPartGood()
    {
        using var s = new OeeScenario(Thursday(7, 0), o => o.Machines[0].RejectCountTag = null);
        Assert.Empty(OeeConfigRules.Check(s.Options, "oee"));
        s.State("running").Total(0);
        s.To(Thursday(8, 0)).Total(3000);

        var shift = s.Snapshot().CurrentShift!;

        // No good or reject counter: 3000 parts, all good. A = 1; P = 3000 / 3600; Q = 1 (not 0); OEE = 3000 / 3600.
        Assert.Equal(3000, shift.GoodCount);
        Assert.Equal(0, shift.RejectCount);
        Assert.Equal(1, shift.Quality!.Value, Tolerance);
        Assert.Equal(3000.0 / 3600, shift.Oee!.Value, Tolerance);
    }
}
