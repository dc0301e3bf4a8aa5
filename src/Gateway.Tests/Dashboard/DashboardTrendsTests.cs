using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Gateway.Tests.Dashboard;

/// <summary>
/// Trends, the line view, the timeline's readout and zoom, the sparklines and the coaching report, in Debian's
/// chromium with a browser in UTC and a plant in Europe/Paris (screenshots in artefacts/screenshots).
/// </summary>
[Collection(nameof(ParisDashboardCollection))]
public sealed class DashboardTrendsTests(ParisDashboardFixture fixture)
{
    private static readonly TimeZoneInfo s_paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private readonly DashboardGateway _gateway = fixture.Gateway;

    private static string ParisNow(string format) => TimeZoneInfo.ConvertTime(TimeProvider.System.GetUtcNow(), s_paris).ToString(format, CultureInfo.InvariantCulture);

    [Fact]
    public async Task History_OverHttp_IsJsonAndCsvInPlantTime_AndRefusesABadGrouping()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri };
        JsonElement periods = default;
        await Infrastructure.Eventually.TrueAsync(async () =>
        {
            using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/oee/history?by=hour&machine=press", UriKind.Relative)));
            periods = json.RootElement.GetProperty("periods").Clone();
            return periods.GetArrayLength() > 0;
        }, () => "the current hour of press in the history");

        var hour = periods[periods.GetArrayLength() - 1];
        var offset = TimeZoneInfo.ConvertTime(TimeProvider.System.GetUtcNow(), s_paris).ToString("zzz", CultureInfo.InvariantCulture);
        Assert.EndsWith(":00:00" + offset, hour.GetProperty("start").GetString(), StringComparison.Ordinal);
        Assert.StartsWith(ParisNow("yyyy-MM-ddTHH"), hour.GetProperty("start").GetString(), StringComparison.Ordinal);
        Assert.False(hour.GetProperty("complete").GetBoolean());

        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, "/api/oee/history?by=shift");
        csvRequest.Headers.Accept.ParseAdd("text/csv");
        using var csv = await http.SendAsync(csvRequest);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("machine,by,name,start,end,complete,oee,", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("press,shift,A," + _gateway.ShiftStart.ToString("yyyy-MM-ddTHH:mm:00zzz", CultureInfo.InvariantCulture), StringComparison.Ordinal));

        // /api/oee/history.csv is the same, always CSV.
        var byPath = await http.GetStringAsync(new Uri("/api/oee/history.csv?by=shift&machine=press", UriKind.Relative));
        Assert.StartsWith("machine,by,name,start,end,complete,oee,", byPath, StringComparison.Ordinal);
        Assert.Contains("\r\npress,shift,A,", byPath, StringComparison.Ordinal);

        using var bad = await http.GetAsync(new Uri("/api/oee/history?by=week", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("by: 'week' is not one of hour, shift, day, total", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Trends_LineView_AndSparklines_AreDrawn_InPlantTime()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(timezoneId: "UTC");
        await using (context)
        {
            await page.GotoAsync("/");
            await DashboardPageTests.WaitForDataAsync(page);

            // Each machine has its two charts; the hour chart has this hour's OEE point (a machine whose hour has an
            // OEE: one in a planned stop since the shift began has none), labelled on the plant's clock, not UTC's.
            foreach (var machine in new[] { "press", "welder", "assembly" })
            {
                await Assertions.Expect(page.Locator($"#trends article.trend[data-machine='{machine}'] .chart-hour svg.chart")).ToBeAttachedAsync(new() { Timeout = 30_000 });
                await Assertions.Expect(page.Locator($"#trends article.trend[data-machine='{machine}'] .chart-shift svg.chart")).ToBeAttachedAsync();
            }

            var dot = page.Locator("#trends article.trend .chart-hour circle.dot.s-oee").First;
            await Assertions.Expect(dot).ToBeAttachedAsync(new() { Timeout = 30_000 });
            Assert.Contains(ParisNow("HH") + ":00–", await dot.Locator("title").TextContentAsync(), StringComparison.Ordinal);
            await Assertions.Expect(page.Locator("#trends article.trend .chart-shift circle.dot.s-oee").First).ToBeAttachedAsync();

            // The line's OEE is the bottleneck's, named in the rule on screen.
            var lineOee = page.Locator("#line-oee");
            await Assertions.Expect(lineOee).ToHaveTextAsync(new Regex("^\\d+\\.\\d %$"), new() { Timeout = 15_000 });
            var bottleneck = await lineOee.GetAttributeAsync("data-machine");
            Assert.Contains(bottleneck, new[] { "press", "welder", "assembly" });
            await Assertions.Expect(page.Locator("#line-rule")).ToContainTextAsync("the machine with the lowest OEE this shift");
            await Assertions.Expect(page.Locator("#line h3 span")).ToHaveTextAsync("Line OEE this shift");
            await Assertions.Expect(page.Locator("#line a.report-link")).ToHaveTextAsync("Coaching report");
            await Assertions.Expect(page.Locator("#h-trends")).ToHaveTextAsync("Trends");
            Assert.Equal(1, await page.Locator("#line-machines li.bottleneck").CountAsync());
            Assert.Equal(3, await page.Locator("#line-machines li").CountAsync());

            // A sparkline per live numeric tag: the temperature's last minutes.
            var spark = page.Locator("#tag-rows tr[data-tag='press/temperature'] td.spark svg polyline");
            await Assertions.Expect(spark).ToBeAttachedAsync(new() { Timeout = 15_000 });
            await Assertions.Expect(page.Locator("#tag-rows tr[data-tag='press/temperature'] td.spark svg polyline")).ToHaveAttributeAsync("points", new Regex("\\d+(\\.\\d)?,\\d+(\\.\\d)? .+"), new() { Timeout = 15_000 });

            await page.Locator("#line").ScreenshotAsync(new() { Path = Path.Combine(DashboardGateway.ArtefactsDirectory, "line-view.png") });
            await page.Locator("#trends").ScreenshotAsync(new() { Path = Path.Combine(DashboardGateway.ArtefactsDirectory, "trends.png") });
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task Timeline_AStop_ShowsStartDurationAndReasonUnderThePointer_AndZoomsToTheLastHour()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(timezoneId: "UTC");
        await using (context)
        {
            await page.GotoAsync("/");
            await DashboardPageTests.WaitForDataAsync(page);
            var stop = page.Locator("article.machine .timeline rect[data-state='down'], article.machine .timeline rect[data-state='idle'], article.machine .timeline rect[data-state='setup']").First;
            await Assertions.Expect(stop).ToBeAttachedAsync(new() { Timeout = 45_000 });

            // The readout under the timeline: state, reason, start and end on the plant's clock, duration.
            // One call, so the rect read is the one the pointer moves over (the timeline is redrawn every second).
            var found = await page.EvaluateAsync<string[]>("""
                () => {
                  const r = document.querySelector("article.machine .timeline rect[data-state='down'], article.machine .timeline rect[data-state='idle'], article.machine .timeline rect[data-state='setup']");
                  r.dispatchEvent(new MouseEvent("mousemove", { bubbles: true }));
                  return [r.closest("article.machine").dataset.machine, r.dataset.start];
                }
                """);
            var card = page.Locator($"article.machine[data-machine='{found[0]}']");
            var start = found[1];
            var readout = await card.Locator(".timeline-readout").InnerTextAsync();
            var expectedStart = TimeZoneInfo.ConvertTime(DateTimeOffset.Parse(start!, CultureInfo.InvariantCulture), s_paris).ToString("HH:mm:ss", CultureInfo.InvariantCulture);
            Assert.Matches(new Regex("^(Down|Idle|Setup)( · .+)? — " + expectedStart + "–\\d{2}:\\d{2}:\\d{2} \\(\\d+ (s|min \\d{2} s)\\)$"), readout);

            // Zoom: the timeline covers the last hour (on the plant's clock), and back.
            var zoom = card.Locator(".timeline button.zoom");
            await zoom.ClickAsync();
            await Assertions.Expect(zoom).ToHaveAttributeAsync("aria-pressed", "true");
            var axisStart = await card.Locator(".timeline-axis span").First.InnerTextAsync();
            var hourAgo = TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(TimeProvider.System.GetUtcNow().AddHours(-1), s_paris).DateTime);
            var drift = Math.Abs((hourAgo - TimeOnly.ParseExact(axisStart, "HH:mm", CultureInfo.InvariantCulture)).TotalMinutes);
            Assert.True(Math.Min(drift, 1440 - drift) <= 2, $"zoomed axis starts {axisStart}, an hour ago was {hourAgo:HH:mm}");
            await Assertions.Expect(card.Locator(".timeline-head span").First).ToHaveTextAsync("Last hour");
            await card.Locator(".timeline").ScreenshotAsync(new() { Path = Path.Combine(DashboardGateway.ArtefactsDirectory, "timeline-zoomed.png") });
            await zoom.ClickAsync();
            await Assertions.Expect(card.Locator(".timeline-axis span").First).ToHaveTextAsync(_gateway.ShiftStart.ToString("HH:mm", CultureInfo.InvariantCulture));
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task MachineInPlannedStop_WithNothingPlanned_SaysPlannedStop_NotDashes()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(timezoneId: "UTC");
        await using (context)
        {
            await page.GotoAsync("/");
            await DashboardPageTests.WaitForDataAsync(page);
            await page.WaitForFunctionAsync("() => view.oee && view.oee.machines.length === 3");
            // The stream's next oee event as the gateway sends it for a machine in planned stop since the shift began:
            // no planned time, so every ratio is null.
            await page.EvaluateAsync("""
                () => {
                  source.close(); // no real event may redraw the card while it is checked
                  const report = structuredClone(view.oee);
                  const m = report.machines.find((x) => x.name === "press");
                  m.state = "planned-stop"; m.reason = null;
                  const w = report.machines.find((x) => x.name === "welder");
                  w.state = "running"; w.currentShift.oee = 0.5;
                  for (const k of ["availability", "performance", "quality", "oee"]) { m.currentShift[k] = null; m.lastHour[k] = null; }
                  renderOee(report);
                }
                """);
            var press = page.Locator("article.machine[data-machine='press']");
            await Assertions.Expect(press.Locator(".gauge text.lbl")).ToHaveTextAsync("Planned stop");
            await Assertions.Expect(press.Locator(".kpi output")).ToHaveTextAsync(["planned", "planned", "planned"]);
            await Assertions.Expect(press.Locator(".state")).ToHaveTextAsync("Planned stop");
            Assert.Equal("OEE", await page.Locator("article.machine[data-machine='welder'] .gauge text.lbl").TextContentAsync());
            Assert.Equal("50%", await page.Locator("article.machine[data-machine='welder'] .gauge text.pct").TextContentAsync());
            await press.ScreenshotAsync(new() { Path = Path.Combine(DashboardGateway.ArtefactsDirectory, "planned-stop.png") });
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task Report_InEnglishAndFrench_PeriodAgainstBaseline_Printable()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(timezoneId: "UTC");
        await using (context)
        {
            var today = ParisNow("yyyy-MM-dd");

            // The report reads the history once, when it opens: wait until the press has an OEE today (a planned stop
            // since the shift began, up to 24 s for this seed's time scale, leaves it without one).
            using var http = new HttpClient { BaseAddress = _gateway.BaseUri };
            await Infrastructure.Eventually.TrueAsync(async () =>
            {
                using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/oee/history?by=total&machine=press", UriKind.Relative)));
                var periods = json.RootElement.GetProperty("periods");
                return periods.GetArrayLength() > 0 && periods[0].TryGetProperty("oee", out var oee) && oee.ValueKind == JsonValueKind.Number;
            }, () => "an OEE of press today in the history", TimeSpan.FromSeconds(60));

            await page.GotoAsync("/report?lang=en");
            var press = page.Locator("section.machine[data-machine='press']");
            await Assertions.Expect(press.Locator("tr[data-kpi='oee'] td").Nth(2)).ToHaveTextAsync(new Regex("^\\d+\\.\\d %$"), new() { Timeout = 30_000 });
            Assert.Equal(today, await page.Locator("#to").InputValueAsync()); // the plant's today, not the browser's
            Assert.Equal("—", await press.Locator("tr[data-kpi='oee'] td").Nth(1).InnerTextAsync()); // no history in the baseline week
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Coaching report");
            await Assertions.Expect(page.Locator("#summary")).ToContainTextAsync("Europe/Paris");
            Assert.Equal(6, await press.Locator(".pareto .loss").CountAsync());
            await Assertions.Expect(page.Locator("#definition-list")).ToContainTextAsync("ISO 22400-2");
            Assert.Equal(3, await page.Locator("section.machine").CountAsync());
            await page.ScreenshotAsync(new() { Path = Path.Combine(DashboardGateway.ArtefactsDirectory, "report-en.png"), FullPage = true });

            await page.ClickAsync(".lang button[data-lang='fr']");
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Rapport d'accompagnement");
            await Assertions.Expect(press.Locator("tr[data-kpi='oee'] td").First).ToHaveTextAsync("TRS");
            await Assertions.Expect(press.Locator("tr[data-kpi='oee'] td").Nth(2)).ToHaveTextAsync(new Regex("^\\d+,\\d %$"));
            await Assertions.Expect(page.Locator("#definition-list")).ToContainTextAsync("temps de cycle idéal");
            Assert.Contains("lang=fr", page.Url, StringComparison.Ordinal);
            await page.ScreenshotAsync(new() { Path = Path.Combine(DashboardGateway.ArtefactsDirectory, "report-fr.png"), FullPage = true });

            // Printed: the controls are left out; the PDF is what a consultant hands over.
            await page.EmulateMediaAsync(new() { Media = Media.Print });
            await Assertions.Expect(page.Locator("#periods")).ToBeHiddenAsync();
            await Assertions.Expect(press).ToBeVisibleAsync();
            var pdf = await page.PdfAsync(new() { Path = Path.Combine(DashboardGateway.ArtefactsDirectory, "report-fr.pdf"), Format = "A4" });
            Assert.True(pdf.Length > 10_000, $"PDF of {pdf.Length} bytes");
            Assert.Empty(errors);
        }
    }
}
