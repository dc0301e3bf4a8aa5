using static Microsoft.Playwright.Assertions;

namespace Gateway.Tests.Dashboard;

/// <summary>A machine in planned stop says so on its card, where a figure has no value, instead of "—".</summary>
[Collection(nameof(DashboardCollection))]
public sealed class DashboardPlannedStopTests(OpenDashboardFixture fixture)
{
    private readonly DashboardGateway _gateway = fixture.Gateway;

    // The page's own card code (makeCard, fillCard) with a machine whose shift has no planned time yet: the gauge's
    // figure, or its label where it has none (a planned stop says so in the label), the last hour, the first KPI row's title.
    private const string Render = """
        ([state, lang]) => {
          view.lang = lang;
          const c = makeCard("x");
          const now = new Date().toISOString();
          const hourAgo = new Date(Date.now() - 3600000).toISOString();
          const empty = { name: "last-hour", start: hourAgo, end: now, availability: null, performance: null, quality: null, oee: null,
            runSeconds: 0, plannedSeconds: 0, downtimeSeconds: 0, plannedStopSeconds: 3600, unknownSeconds: 0, totalCount: 0, goodCount: 0, rejectCount: 0 };
          fillCard(c, { name: "x", state, reason: null, stateSince: hourAgo, currentShift: null, previousShift: null, lastHour: empty,
            timeline: [], breaks: [], topDowntimeReasons: [], recentDowntimeEvents: [] }, now);
          return [c.pct.textContent || c.lbl.textContent, c.lastHour.textContent, c.kpiRows[0].row.title];
        }
        """;

    [Fact]
    public async Task PlannedStop_WithoutPlannedTime_GaugeAndLastHourSayPlannedStop_InBothLanguages()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(locale: "en-GB");
        await using (context)
        {
            await page.GotoAsync("/");
            await DashboardPageTests.WaitForDataAsync(page);

            var english = await page.EvaluateAsync<string[]>(Render, new object[] { "planned-stop", "en" });
            var french = await page.EvaluateAsync<string[]>(Render, new object[] { "planned-stop", "fr" });
            var unknown = await page.EvaluateAsync<string[]>(Render, new object[] { "unknown", "en" });

            Assert.Equal(["Planned stop", "Last hour: Planned stop", "Availability — Planned stop"], english);
            Assert.Equal("Arrêt planifié", french[0]);
            Assert.Equal("Dernière heure : Arrêt planifié", french[1]);
            Assert.Equal("—", unknown[0]);
            Assert.Equal("Last hour: —", unknown[1]);
            await Expect(page.Locator("article.machine").First).ToBeVisibleAsync();
            Assert.Empty(errors);
        }
    }
}
