using Gateway.Oee;
using static Gateway.Tests.Oee.OeeScenario;

namespace Gateway.Tests.Oee;

/// <summary>
/// The OEE history on the wall clock of a <see cref="FakeTimeProvider"/>: a machine in Europe/Paris running day and
/// late shifts, ticked every 5 minutes; every hour it is down 5 minutes for a jam, every tick it makes 250 parts
/// (ideal cycle 1 s) with 3 rejects.
/// </summary>
public sealed class OeeHistoryTests
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMinutes(5);
    private static readonly TimeZoneInfo s_paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    [Fact]
    public void HundredAndFiveDays_StayWithinTheBound_KeepTheOldestDaysRequired_AndEachHourIsRight()
    {
        var start = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);
        using var line = new Line(start);
        long maxBytes = 0, maxRows = 0;
        var days = 105;
        for (var day = 0; day < days; day++)
        {
            line.Run(TimeSpan.FromDays(1));
            var (rows, bytes) = line.History.Size();
            maxRows = Math.Max(maxRows, rows);
            maxBytes = Math.Max(maxBytes, bytes);
        }

        // The bound: 1 machine × 100 days × (25 hours + 2 shifts) rows of at most 2 KiB.
        var rowBound = (long)OeeHistory.DefaultRetention.TotalDays * (25 + 2);
        Assert.InRange(maxRows, 1, rowBound);
        Assert.InRange(maxBytes, 1, (rowBound * OeeHistory.MaxRowBytes) + OeeHistory.MaxLogBytes);
        File.WriteAllText(Path.Combine(DashboardArtefacts(), "oee-history-size.txt"), $"105 days, 1 machine: at most {maxRows} rows, {maxBytes} bytes (bound {rowBound} rows, {(rowBound * OeeHistory.MaxRowBytes) + OeeHistory.MaxLogBytes} bytes)\n");

        // Nothing older than the retention is left; the 90th plant day back is there whole.
        var now = line.Scenario.Now;
        Assert.Empty(line.History.Query(OeeHistoryKind.Hour, DateTimeOffset.UnixEpoch, now - OeeHistory.DefaultRetention - TimeSpan.FromHours(1)));
        var plant = new PlantTime("Europe/Paris");
        var oldestRequired = plant.StartOfDay(now - TimeSpan.FromDays(90));
        var oldestDay = line.History.Query(OeeHistoryKind.Hour, oldestRequired, plant.StartOfDay(oldestRequired + TimeSpan.FromHours(26)));
        Assert.Equal(24, oldestDay.Count);
        Assert.All(oldestDay, h => Assert.True(h.Complete));

        // 25 October 2026, the end of summer time: 25 hours on the plant's clock (a Sunday: no shift).
        var dst = plant.AtLocal(new DateOnly(2026, 10, 25), TimeOnly.MinValue);
        var dstDay = OeeHistoryQuery.Read(line.History, plant, OeeHistoryGrouping.Day, dst, dst + TimeSpan.FromHours(25), null);
        Assert.Equal(25 * 3600, (dstDay.Single().Period.End - dstDay.Single().Period.Start).TotalSeconds);
        Assert.Equal(25 * 3000, dstDay.Single().Period.TotalCount);
        Assert.Equal(25, line.History.Query(OeeHistoryKind.Hour, dst, dst + TimeSpan.FromHours(25)).Count);
        // Running on a non-working day is planned time all the same (ISO 22400: the time it produced); its stops are not.
        Assert.Equal(25 * 3300, dstDay.Single().Period.PlannedSeconds, Tolerance);
        Assert.Equal(0, dstDay.Single().Period.DowntimeSeconds, Tolerance);

        // Thursday 10 December, 09:00-10:00 Paris: down 09:20-09:25 (jam), 3000 parts, 36 rejects.
        var nine = plant.AtLocal(new DateOnly(2026, 12, 10), new TimeOnly(9, 0));
        var hour = line.History.Query(OeeHistoryKind.Hour, nine, nine + TimeSpan.FromMinutes(1)).Single();
        Assert.Equal(3300, hour.Period.RunSeconds, Tolerance);
        Assert.Equal(3600, hour.Period.PlannedSeconds, Tolerance);
        Assert.Equal(3300.0 / 3600, hour.Period.Availability!.Value, Tolerance);
        Assert.Equal(3000.0 / 3300, hour.Period.Performance!.Value, Tolerance);
        Assert.Equal(2964.0 / 3000, hour.Period.Quality!.Value, Tolerance);
        Assert.Equal(2964.0 / 3600, hour.Period.Oee!.Value, Tolerance);
        Assert.Equal(300, hour.Period.Losses.BreakdownSeconds, Tolerance);
        Assert.Equal(new OeeDowntimeReason("jam", 300, 1), hour.TopReasons.Single());

        // The day shift of that Thursday, 06:00-14:00 Paris, closed with eight such hours.
        var six = plant.AtLocal(new DateOnly(2026, 12, 10), new TimeOnly(6, 0));
        var shift = line.History.Query(OeeHistoryKind.Shift, six, six + TimeSpan.FromMinutes(1)).Single();
        Assert.True(shift.Complete);
        Assert.Equal("day", shift.Period.Name);
        Assert.Equal(8 * 3000, shift.Period.TotalCount);
        Assert.Equal(8 * 300, shift.Period.Losses.BreakdownSeconds, Tolerance);
        Assert.Equal(new OeeDowntimeReason("jam", 2400, 8), shift.TopReasons.Single());

        // The day: 24 hours summed; two shifts of planned time, plus the run time of the eight hours outside them.
        var thursday = OeeHistoryQuery.Read(line.History, plant, OeeHistoryGrouping.Day, plant.StartOfDay(nine), plant.StartOfDay(nine) + TimeSpan.FromHours(24), "m1").Single();
        Assert.Equal(24 * 3000, thursday.Period.TotalCount);
        Assert.Equal((16 * 3600) + (8 * 3300), thursday.Period.PlannedSeconds, Tolerance);
        Assert.Equal(24 * 3300.0 / ((16 * 3600) + (8 * 3300)), thursday.Period.Availability!.Value, Tolerance);
        Assert.Equal(thursday.Period.Availability.Value * thursday.Period.Performance!.Value * thursday.Period.Quality!.Value, thursday.Period.Oee!.Value, Tolerance);
    }

    [Fact]
    public void Restart_KeepsTheHistory_AndGoesOnRecording()
    {
        var start = new DateTimeOffset(2026, 11, 26, 5, 0, 0, TimeSpan.Zero); // 06:00 Paris, a Thursday
        var directory = Path.Combine(Path.GetTempPath(), "oee-history-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var first = new Line(start, directory))
            {
                first.Run(TimeSpan.FromHours(3) + TimeSpan.FromMinutes(30));
                first.Scenario.Engine.Save();
            }

            using var second = new Line(start + TimeSpan.FromHours(3) + TimeSpan.FromMinutes(40), directory, restarted: true);
            var kept = second.History.Query(OeeHistoryKind.Hour, start, start + TimeSpan.FromDays(1));
            Assert.Equal(4, kept.Count); // 06, 07, 08 closed and 09 so far
            Assert.Equal(2750, kept[0].Period.TotalCount); // the reading at 06:00 is the counter's baseline
            Assert.All(kept.Skip(1).Take(2), h => Assert.Equal(3000, h.Period.TotalCount));

            second.Run(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(30));
            var hours = second.History.Query(OeeHistoryKind.Hour, start, start + TimeSpan.FromDays(1));
            Assert.Equal(6, hours.Count); // 06 ... 10 closed, 11 so far
            Assert.True(hours[3].Complete);
            Assert.Equal(600, hours[3].Period.UnknownSeconds, Tolerance); // 09:30-09:40 the gateway was off
            Assert.Equal(3000, hours[4].Period.TotalCount);
            var shift = second.History.Query(OeeHistoryKind.Shift, start, start + TimeSpan.FromDays(1)).Single();
            Assert.False(shift.Complete);
            Assert.Equal(start, shift.Period.Start);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string DashboardArtefacts() => Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artefacts")).FullName;

    /// <summary>The machine, its engine and its history, ticked every 5 minutes.</summary>
    private sealed class Line : IDisposable
    {
        private long _total;
        private long _reject;

        public Line(DateTimeOffset start, string? directory = null, bool restarted = false)
        {
            Scenario = new OeeScenario(start, o =>
            {
                o.ShiftPlan!.TimeZone = "Europe/Paris";
                o.ShiftPlan.NonWorkingDays = ["Sunday"];
            }, directory);
            Scenario.Engine.RecordsHistory = true;
            History = new OeeHistory(Path.Combine(Scenario.StateDirectory, "buffer.oee-history.db"), Scenario.Time);
            Scenario.State("running").Total(_total).Reject(_reject);
            if (restarted)
            {
                _total = 1_000_000; // a new baseline after the restart
                Scenario.Total(_total).Reject(_reject);
            }
        }

        public OeeScenario Scenario { get; }

        public OeeHistory History { get; }

        public void Run(TimeSpan duration)
        {
            var end = Scenario.Now + duration;
            while (Scenario.Now < end)
            {
                var now = Scenario.Now + s_tick;
                Scenario.To(now).Total(_total += 250).Reject(_reject += 3);
                var minute = TimeZoneInfo.ConvertTime(now, s_paris).Minute;
                if (minute == 20)
                {
                    Scenario.State("down").Reason("jam");
                }
                else if (minute == 25)
                {
                    Scenario.State("running").Reason("");
                }

                Scenario.Engine.Tick();
                History.Write(Scenario.Engine.TakeHistory());
            }
        }

        public void Dispose()
        {
            History.Dispose();
            Scenario.Dispose();
        }
    }
}
