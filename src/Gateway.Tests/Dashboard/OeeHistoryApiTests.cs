using System.Text.Json;
using Gateway.Dashboard;
using Gateway.Oee;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Dashboard;

/// <summary><c>/api/oee/history</c>'s answers over a store written with known periods, a plant in Europe/Paris.</summary>
public sealed class OeeHistoryApiTests : IDisposable
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "oee-history-api-" + Guid.NewGuid().ToString("N"));
    private readonly OeeHistory _history;
    private readonly OeeOptions _oee = new()
    {
        ShiftPlan = new ShiftPlanOptions { TimeZone = "Europe/Paris", Shifts = [new ShiftOptions { Name = "A", Start = "06:00", End = "14:00" }] },
        Machines = [new OeeMachineOptions { Name = "press" }, new OeeMachineOptions { Name = "welder" }],
    };

    public OeeHistoryApiTests()
    {
        _history = new OeeHistory(Path.Combine(_directory, "buffer.oee-history.db"), new FakeTimeProvider(s_now));
        // 25 November 22:30 UTC is 23:30 Paris, the day before; 23:30 UTC is 00:30 Paris on the 26th.
        _history.Write(
        [
            Hour("press", new DateTimeOffset(2026, 11, 25, 22, 0, 0, TimeSpan.Zero), run: 1800, planned: 3600, total: 1000, good: 990, ("jam, left side", 1800, 1)),
            Hour("press", new DateTimeOffset(2026, 11, 25, 23, 0, 0, TimeSpan.Zero), run: 3000, planned: 3600, total: 2000, good: 1900, ("jam, left side", 600, 1)),
            Hour("press", new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero), run: 3600, planned: 3600, total: 3000, good: 3000),
            Hour("welder", new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero), run: 1200, planned: 2400, total: 100, good: 100, ("no wire", 1200, 2)),
        ]);
    }

    [Fact]
    public void ByHour_InJson_FromAPlantDate_GivesPlantTimesWithTheirOffset()
    {
        var answer = Ask(("from", "2026-11-26"), ("to", "2026-11-27"), ("by", "hour"), ("machine", "press"));

        Assert.Equal(200, answer.Status);
        Assert.Equal("application/json", answer.ContentType);
        using var json = JsonDocument.Parse(answer.Body);
        Assert.Equal("Europe/Paris", json.RootElement.GetProperty("timeZone").GetString());
        Assert.Equal("2026-11-26T00:00:00+01:00", json.RootElement.GetProperty("from").GetString());
        var periods = json.RootElement.GetProperty("periods").EnumerateArray().ToList();
        Assert.Equal(2, periods.Count); // the 22:00 UTC hour is the 25th in Paris
        Assert.Equal("press", periods[0].GetProperty("machine").GetString());
        Assert.Equal("2026-11-26T00:00:00+01:00", periods[0].GetProperty("start").GetString());
        Assert.Equal("2026-11-26T01:00:00+01:00", periods[0].GetProperty("end").GetString());
        Assert.True(periods[0].GetProperty("complete").GetBoolean());
        Assert.Equal(3000.0 / 3600, periods[0].GetProperty("availability").GetDouble(), 1e-9);
        Assert.Equal(1900, periods[0].GetProperty("goodCount").GetInt64());
        Assert.Equal(600, periods[0].GetProperty("losses").GetProperty("breakdownSeconds").GetDouble());
        Assert.Equal("jam, left side", periods[0].GetProperty("topDowntimeReasons")[0].GetProperty("reason").GetString());
    }

    [Fact]
    public void ByDay_SumsTheHours_AndComputesTheRatiosFromTheSums()
    {
        var answer = Ask(("from", "2026-11-26T00:00"), ("to", "2026-11-26T12:00"), ("by", "day"), ("machine", "press"));

        using var json = JsonDocument.Parse(answer.Body);
        var day = json.RootElement.GetProperty("periods").EnumerateArray().Single();
        Assert.Equal("2026-11-26", day.GetProperty("name").GetString());
        Assert.Equal("2026-11-27T00:00:00+01:00", day.GetProperty("end").GetString());
        Assert.Equal(5000, day.GetProperty("totalCount").GetInt64());
        Assert.Equal(6600.0 / 7200, day.GetProperty("availability").GetDouble(), 1e-9);
        // P = Σ(P × run) / Σ run = (1 × 2000 + 1 × 3000) ideal seconds / 6600 s run (ideal cycle 1 s).
        Assert.Equal(5000.0 / 6600, day.GetProperty("performance").GetDouble(), 1e-9);
        Assert.Equal(4900.0 / 5000, day.GetProperty("quality").GetDouble(), 1e-9);
        Assert.Equal(6600.0 / 7200 * (5000.0 / 6600) * (4900.0 / 5000), day.GetProperty("oee").GetDouble(), 1e-9);
    }

    [Fact]
    public void Csv_ByFormatOrAccept_OneLinePerPeriod_QuotingWhatNeedsIt()
    {
        var byFormat = Ask(("from", "2026-11-25T23:00:00+01:00"), ("to", "2026-11-26T01:00:00Z"), ("format", "csv"));
        var byAccept = OeeHistoryApi.Answer(_history, _oee, Query(("from", "2026-11-25T23:00:00+01:00"), ("to", "2026-11-26T01:00:00Z")), "text/csv", s_now);

        Assert.Equal(byFormat.Body, byAccept.Body);
        Assert.Equal("text/csv", byFormat.ContentType);
        Assert.Equal("oee-history-hour.csv", byFormat.FileName);
        var lines = byFormat.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("machine,by,name,start,end,complete,oee,availability,performance,quality,", lines[0], StringComparison.Ordinal);
        Assert.Equal(5, lines.Length); // header, press 23:00 and 00:00 Paris, press and welder 01:00 Paris
        Assert.Equal("press,hour,hour,2026-11-25T23:00:00+01:00,2026-11-26T00:00:00+01:00,true,0.275,0.5,0.555556,0.99,1800,3600,1800,0,0,1000,990,10,1800,0,0,0,800,0,10,\"jam, left side=1800s×1\"", lines[1]);
        Assert.StartsWith("welder,hour,hour,2026-11-26T01:00:00+01:00,", lines[4], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("from", "yesterday", "from: 'yesterday' is not a plant date (2026-11-26), a plant time (2026-11-26T06:00) or an instant with an offset")]
    [InlineData("to", "2026-13-01", "to: '2026-13-01' is not a plant date")]
    [InlineData("by", "week", "by: 'week' is not one of hour, shift, day, total")]
    [InlineData("by", "2", "by: '2' is not one of hour, shift, day, total")]
    [InlineData("machine", "oven", "machine: no machine 'oven' in oee.machines (press, welder)")]
    [InlineData("format", "xml", "format: 'xml' is not one of json, csv")]
    public void BadParameter_Is400_WithTheParameterAndTheReason(string key, string value, string reason)
    {
        var answer = Ask((key, value));

        Assert.Equal(400, answer.Status);
        Assert.StartsWith(reason, JsonDocument.Parse(answer.Body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RangeBackwardsOrTooLong_Is400()
    {
        var backwards = Ask(("from", "2026-11-26"), ("to", "2026-11-25"));
        var tooLong = Ask(("from", "2025-01-01"), ("to", "2026-11-25"));

        Assert.Equal(400, backwards.Status);
        Assert.Contains("to: 2026-11-25T00:00:00+01:00 is not after from (2026-11-26T00:00:00+01:00)", backwards.Body, StringComparison.Ordinal);
        Assert.Equal(400, tooLong.Status);
        Assert.Contains("to: at most 400 days after from", tooLong.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutAnOeeSection_Is404()
    {
        var answer = OeeHistoryApi.Answer(null, null, Query(), null, s_now);

        Assert.Equal(404, answer.Status);
        Assert.Contains("no oee section", answer.Body, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _history.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static OeeHistoryEntry Hour(string machine, DateTimeOffset start, double run, double planned, long total, long good, params (string Reason, double Seconds, int Count)[] reasons)
    {
        var down = planned - run;
        var period = new OeePeriod("hour", start, start.AddHours(1), run / planned, total / run, (double)good / total, good / planned, run, planned, down, 0, 0, total, good, total - good,
            new OeeLosses(down, 0, 0, 0, run - total, 0, 0, total - good, total - good));
        return new OeeHistoryEntry(machine, OeeHistoryKind.Hour, period, [.. reasons.Select(r => new OeeDowntimeReason(r.Reason, r.Seconds, r.Count))], Complete: true);
    }

    private static Dictionary<string, string> Query(params (string Key, string Value)[] parameters) =>
        parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private HistoryAnswer Ask(params (string Key, string Value)[] parameters) => OeeHistoryApi.Answer(_history, _oee, Query(parameters), null, s_now);
}
