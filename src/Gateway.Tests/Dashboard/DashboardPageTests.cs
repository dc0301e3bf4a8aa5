using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Gateway.Tests.Dashboard;

/// <summary>The dashboard in a real headless chromium, against the real gateway.</summary>
[Collection(nameof(DashboardCollection))]
public sealed partial class DashboardPageTests(OpenDashboardFixture fixture, ITestOutputHelper output)
{
    private readonly DashboardGateway _gateway = fixture.Gateway;

    [Fact]
    public async Task Page_Loads_WithMachinesHealthAndTags_AndNoConsoleError()
    {
        var (context, page, errors) = await _gateway.NewPageAsync();
        await using (context)
        {
            var response = await page.GotoAsync("/");
            Assert.Equal(200, response!.Status);
            await WaitForDataAsync(page);

            Assert.Equal(3, await page.Locator("article.machine").CountAsync());
            Assert.Equal(["press", "welder", "assembly"], await page.Locator("article.machine").EvaluateAllAsync<string[]>("cards => cards.map(c => c.dataset.machine)"));
            Assert.Equal("Connected", await page.Locator("#drivers [data-driver='line-sim'] .badge").InnerTextAsync());
            Assert.True(await page.Locator("#tag-rows tr").CountAsync() >= 24, "every tag of the three machines has a row");
            await Expect(page.Locator("#mqtt-state")).ToHaveTextAsync("Connected");
            await Expect(page.Locator("#buffer-fill")).ToContainTextAsync("%");
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task Values_UpdateLive_WithoutReload()
    {
        var (context, page, errors) = await _gateway.NewPageAsync();
        await using (context)
        {
            await page.GotoAsync("/");
            await WaitForDataAsync(page);
            await page.EvaluateAsync("() => { window.__sameDocument = true; }");
            var counter = page.Locator("#tag-rows tr[data-tag='press/total-count'] td.value");
            var before = await counter.InnerTextAsync();
            var updatedBefore = await page.Locator("#updated").InnerTextAsync();
            var total = page.Locator("article.machine[data-machine='press'] .count-total");
            var totalBefore = await total.InnerTextAsync();

            // The press's longest stop is a planned stop of 1200 s x its time scale 0.02 = 24 s: past that it makes
            // parts again, so 30 s is enough whatever state the seed has it in when the page opens.
            await Expect(counter).Not.ToHaveTextAsync(before, new() { Timeout = 30_000 });
            await Expect(page.Locator("#updated")).Not.ToHaveTextAsync(updatedBefore, new() { Timeout = 5_000 });
            await Expect(total).Not.ToHaveTextAsync(totalBefore, new() { Timeout = 30_000 });

            Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page was reloaded");
            output.WriteLine($"press/total-count {before} -> {await counter.InnerTextAsync()}; OEE total {totalBefore} -> {await total.InnerTextAsync()}");
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task Language_FollowsFrenchBrowser_SwitchesToEnglish_AndIsRemembered()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(locale: "fr-FR");
        await using (context)
        {
            await page.GotoAsync("/");
            await WaitForDataAsync(page);
            Assert.Equal("fr-FR", await page.EvaluateAsync<string>("() => navigator.language"));
            await Expect(page.Locator("h1")).ToHaveTextAsync("Tableau de bord de la ligne");
            await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "fr");
            await Expect(page.Locator("#h-tags")).ToHaveTextAsync("Variables en direct");
            await Expect(page.Locator("article.machine[data-machine='press'] .gauge .lbl")).ToHaveTextAsync("TRS");

            await page.ClickAsync("#lang-en");
            await Expect(page.Locator("h1")).ToHaveTextAsync("Line dashboard");
            await Expect(page.Locator("#h-tags")).ToHaveTextAsync("Live tags");
            await Expect(page.Locator("article.machine[data-machine='press'] .gauge .lbl")).ToHaveTextAsync("OEE");
            await Expect(page.Locator("#tag-rows tr[data-tag='press/total-count'] .quality")).ToHaveTextAsync("Good");

            // The choice is kept in localStorage over the browser's language.
            await page.ReloadAsync();
            await WaitForDataAsync(page);
            await Expect(page.Locator("h1")).ToHaveTextAsync("Line dashboard");

            await page.ClickAsync("#lang-fr");
            await Expect(page.Locator("h1")).ToHaveTextAsync("Tableau de bord de la ligne");
            await Expect(page.Locator("#tag-rows tr[data-tag='press/total-count'] .quality")).ToHaveTextAsync("Bonne");
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task TagTable_FiltersByMachineAndText()
    {
        var (context, page, errors) = await _gateway.NewPageAsync();
        await using (context)
        {
            await page.GotoAsync("/");
            await WaitForDataAsync(page);
            var visible = page.Locator("#tag-rows tr:not(.hidden)");

            await page.SelectOptionAsync("#f-machine", "welder");
            var welderRows = await page.Locator("#tag-rows tr[data-machine='welder']").CountAsync();
            Assert.True(welderRows >= 8, $"{welderRows} welder tags");
            await Expect(visible).ToHaveCountAsync(welderRows);
            Assert.All(await visible.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.machine)"), m => Assert.Equal("welder", m));

            await page.FillAsync("#f-text", "temperature");
            await Expect(visible).ToHaveCountAsync(1);
            await Expect(visible.First).ToHaveAttributeAsync("data-tag", "welder/temperature");

            await page.SelectOptionAsync("#f-machine", "");
            await Expect(visible).ToHaveCountAsync(3);
            await Expect(page.Locator("#tag-count")).ToHaveTextAsync(new Regex("^3 of \\d+ tags$"));
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task TagTable_ShowsGoodUncertainAndBadDistinctly_AndFiltersByQuality()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(width: 1280, height: 720);
        await using (context)
        {
            await page.GotoAsync("/");
            await WaitForDataAsync(page);

            // The simulated line is always Good: a PLC tag of each quality is fed to the page's own frame handler,
            // exactly as the stream delivers it (a Bad tag has no value and an OPC UA status code).
            await page.EvaluateAsync("""
                () => {
                  const now = new Date().toISOString();
                  onTags({ full: false, generatedAt: now, tags: [
                    { tag: "zz-plc/pressure", machine: "zz-plc", path: "pressure", value: null, quality: "Bad", statusCode: 2150891520, timestamp: now, unit: "bar" },
                    { tag: "zz-plc/flow", machine: "zz-plc", path: "flow", value: 3.25, quality: "Uncertain", statusCode: 1083441152, timestamp: now, unit: "m3/h" },
                    { tag: "zz-plc/level", machine: "zz-plc", path: "level", value: 71.5, quality: "Good", statusCode: 0, timestamp: now, unit: "%" } ] });
                }
                """);

            var bad = page.Locator("#tag-rows tr[data-tag='zz-plc/pressure']");
            var uncertain = page.Locator("#tag-rows tr[data-tag='zz-plc/flow']");
            var good = page.Locator("#tag-rows tr[data-tag='zz-plc/level']");
            await Expect(bad.Locator(".quality")).ToHaveTextAsync("Bad");
            await Expect(bad.Locator("td.value")).ToHaveTextAsync("—");
            await Expect(bad.Locator(".quality")).ToHaveAttributeAsync("title", "0x80340000");
            await Expect(uncertain.Locator(".quality")).ToHaveTextAsync("Uncertain");
            await Expect(good.Locator(".quality")).ToHaveTextAsync("Good");

            // Distinct by colour (badge and row) and by symbol, not by colour alone.
            const string Look = "row => { const b = row.querySelector('.quality'); return getComputedStyle(b).backgroundColor + '|' + getComputedStyle(b, '::before').content + '|' + getComputedStyle(row.cells[1]).backgroundColor; }";
            var looks = new[] { await good.EvaluateAsync<string>(Look), await uncertain.EvaluateAsync<string>(Look), await bad.EvaluateAsync<string>(Look) };
            Assert.Equal(3, looks.Distinct().Count());
            Assert.Equal(3, looks.Select(l => l.Split('|')[1]).Distinct().Count());

            await page.SelectOptionAsync("#f-machine", "zz-plc");
            await Expect(page.Locator("#tag-rows tr:not(.hidden)")).ToHaveCountAsync(3);
            var shot = Path.Combine(DashboardGateway.ArtefactsDirectory, "dashboard-tag-qualities.png");
            await page.Locator(".table-wrap").ScreenshotAsync(new() { Path = shot });
            Console.WriteLine($"screenshot: {shot}");

            await page.SelectOptionAsync("#f-machine", "");
            await page.SelectOptionAsync("#f-quality", "Bad");
            var visible = page.Locator("#tag-rows tr:not(.hidden)");
            await Expect(visible.First).ToBeVisibleAsync();
            Assert.All(await visible.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.quality)"), q => Assert.Equal("Bad", q));
            Assert.Contains("zz-plc/pressure", await visible.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.tag)"));
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task PerformanceAboveOne_IsShownAsMeasuredWithAWarning_AndThePreviousShiftIsShown()
    {
        var (context, page, errors) = await _gateway.NewPageAsync();
        await using (context)
        {
            await page.GotoAsync("/");
            await WaitForDataAsync(page);

            // A card of its own (not one the stream refreshes), filled with an /api/oee machine whose ideal cycle time
            // is too long: P = 1.25, OEE = 1.25; the previous shift had OEE 0.36.
            var shown = await page.EvaluateAsync<string[]>(@"() => {
                const c = makeCard('probe');
                const period = (name, a, p, q, oee) => ({ name, start: '2026-11-26T05:00:00Z', end: '2026-11-26T13:00:00Z',
                    availability: a, performance: p, quality: q, oee, totalCount: 4500, goodCount: 4500, rejectCount: 0 });
                fillCard(c, { name: 'probe', state: 'running', stateSince: '2026-11-26T07:00:00Z', reason: null,
                    currentShift: period('day', 1, 1.25, 1, 1.25), previousShift: period('night', 0.5, 0.8, 0.9, 0.36),
                    lastHour: period('last-hour', 1, 1.25, 1, 1.25), timeline: [], breaks: [], topDowntimeReasons: [],
                    recentDowntimeEvents: [] }, '2026-11-26T08:00:00Z');
                const [a, p] = c.kpiRows;
                return [p.out.textContent, String(p.row.classList.contains('over')), String(a.row.classList.contains('over')),
                    String(c.overHint.hidden), c.overHint.textContent, c.pct.textContent, c.previousShift.textContent];
            }");

            Assert.Equal("125%", shown[0]);                  // as measured, not clamped to 100 %
            Assert.Equal("true", shown[1]);                  // and marked
            Assert.Equal("false", shown[2]);                 // availability 100 % is not
            Assert.Equal("false", shown[3]);                 // the visible note (no hover on a projector)
            Assert.Contains("idealCycleMs", shown[4], StringComparison.Ordinal);
            Assert.Equal("125%", shown[5]);
            Assert.StartsWith("Previous shift (night, ", shown[6], StringComparison.Ordinal);
            Assert.EndsWith(": 36.0 %", shown[6], StringComparison.Ordinal);
            Assert.Empty(errors);
        }
    }

    [Fact]
    public async Task Screenshots_AtPhoneAndProjectorSize()
    {
        var phone = await ScreenshotAsync("dashboard-phone-390x844.png", 390, 844, scale: 2, mobile: true, locale: "fr-FR");
        var projector = await ScreenshotAsync("dashboard-projector-1920x1080.png", 1920, 1080, scale: 1, mobile: false, locale: "en-GB");
        Assert.True(new FileInfo(phone).Length > 10_000);
        Assert.True(new FileInfo(projector).Length > 10_000);
    }

    private async Task<string> ScreenshotAsync(string name, int width, int height, float scale, bool mobile, string locale)
    {
        var (context, page, errors) = await _gateway.NewPageAsync(locale, width, height, scale, mobile);
        await using (context)
        {
            await page.GotoAsync("/");
            await WaitForDataAsync(page);
            await Expect(page.Locator("article.machine .state").First).Not.ToHaveClassAsync(new Regex("state-unknown"), new() { Timeout = 10_000 });
            await page.WaitForTimeoutAsync(1200); // let the gauge and bar transitions finish
            var path = Path.Combine(DashboardGateway.ArtefactsDirectory, name);
            await page.ScreenshotAsync(new() { Path = path, FullPage = false });
            var full = Path.Combine(DashboardGateway.ArtefactsDirectory, Path.GetFileNameWithoutExtension(name) + "-full.png");
            await page.ScreenshotAsync(new() { Path = full, FullPage = true });

            // The second screen: health and the top of the live tag table.
            await page.EvaluateAsync("() => { document.getElementById('h-health').scrollIntoView(); window.scrollBy(0, -10); }");
            await page.WaitForTimeoutAsync(200);
            var health = Path.Combine(DashboardGateway.ArtefactsDirectory, Path.GetFileNameWithoutExtension(name) + "-health.png");
            await page.ScreenshotAsync(new() { Path = health, FullPage = false });
            Console.WriteLine($"screenshot: {health}");

            // No horizontal scrolling on a phone: everything fits the width.
            Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways");
            output.WriteLine($"screenshot: {path}");
            output.WriteLine($"screenshot: {full}");
            Console.WriteLine($"screenshot: {path}");
            Assert.Empty(errors);
            return path;
        }
    }

    /// <summary>Waits for the first frames of the stream: tags, OEE and health.</summary>
    internal static async Task WaitForDataAsync(IPage page)
    {
        await Expect(page.Locator("#conn")).ToHaveClassAsync(new Regex("\\blive\\b"), new() { Timeout = 15_000 });
        await Expect(page.Locator("#tag-rows tr[data-tag='press/total-count']")).ToHaveCountAsync(1, new() { Timeout = 15_000 });
        await Expect(page.Locator("article.machine")).ToHaveCountAsync(3, new() { Timeout = 15_000 });
        await Expect(page.Locator("#drivers li")).ToHaveCountAsync(1, new() { Timeout = 15_000 });
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
