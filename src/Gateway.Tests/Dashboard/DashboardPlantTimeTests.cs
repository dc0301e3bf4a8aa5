using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Gateway.Tests.Dashboard;

/// <summary>A gateway whose plant is in Europe/Paris, for the plant-time tests.</summary>
public sealed class ParisDashboardFixture : IAsyncLifetime
{
    public DashboardGateway Gateway { get; } = new(withPassword: false, timeZone: "Europe/Paris");

    public Task InitializeAsync() => Gateway.StartAsync();

    public Task DisposeAsync() => Gateway.DisposeAsync().AsTask();
}

/// <summary>The plant-time, trends and report tests share one Paris gateway (and run one after the other).</summary>
[CollectionDefinition(nameof(ParisDashboardCollection))]
public sealed class ParisDashboardCollection : ICollectionFixture<ParisDashboardFixture>;

/// <summary>
/// Plant time on screen: a browser in UTC (a kiosk on its default zone, a remote consultant) sees the shift and
/// the clock as the plant in Europe/Paris lives them, labelled with the zone.
/// </summary>
[Collection(nameof(ParisDashboardCollection))]
public sealed class DashboardPlantTimeTests(ParisDashboardFixture fixture)
{
    private readonly DashboardGateway _gateway = fixture.Gateway;

    [Fact]
    public async Task ApiOeeAndStatus_CarryThePlantZone_WithoutAnyScript()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri };
        using var oee = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/oee", UriKind.Relative)));
        using var status = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/status", UriKind.Relative)));

        Assert.Equal("Europe/Paris", oee.RootElement.GetProperty("timeZone").GetString());
        Assert.Equal("Europe/Paris", status.RootElement.GetProperty("timeZone").GetString());
        var offset = oee.RootElement.GetProperty("utcOffset").GetString();
        Assert.Matches("^\\+0[12]:00$", offset);
        var plantTime = oee.RootElement.GetProperty("plantTime").GetDateTimeOffset();
        Assert.Equal(oee.RootElement.GetProperty("generatedAt").GetDateTimeOffset(), plantTime);
        Assert.Equal(TimeSpan.Parse(offset![1..], CultureInfo.InvariantCulture), plantTime.Offset);
    }

    [Fact]
    public async Task BrowserInUtc_ShowsTheShiftAndClockInParisTime_LabelledWithTheZone()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(timezoneId: "UTC");
        await using (context)
        {
            await page.GotoAsync("/");
            await DashboardPageTests.WaitForDataAsync(page);

            // The shift started at the plant's local HH:mm; a UTC browser would show it one or two hours earlier.
            var expectedStart = _gateway.ShiftStart.ToString("HH:mm", CultureInfo.InvariantCulture);
            var axisStart = page.Locator("article.machine[data-machine='press'] .timeline-axis span").First;
            await Assertions.Expect(axisStart).ToHaveTextAsync(expectedStart, new() { Timeout = 15_000 });
            await Assertions.Expect(page.Locator("#zone")).ToContainTextAsync("Europe/Paris");

            // "Updated" is the plant's clock now, not UTC's.
            var updated = await page.Locator("#updated").InnerTextAsync();
            var paris = TimeZoneInfo.ConvertTime(TimeProvider.System.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));
            Assert.Matches(new Regex("^\\d{2}:\\d{2}:\\d{2}$"), updated);
            var shown = TimeOnly.ParseExact(updated, "HH:mm:ss", CultureInfo.InvariantCulture);
            var drift = Math.Abs((TimeOnly.FromDateTime(paris.DateTime) - shown).TotalMinutes);
            Assert.True(Math.Min(drift, 1440 - drift) < 2, $"updated {updated}, Paris now {paris:HH:mm:ss}");
            await page.ScreenshotAsync(new() { Path = Path.Combine(DashboardGateway.ArtefactsDirectory, "plant-time-utc-browser.png"), FullPage = true });
            Assert.Empty(errors);
        }
    }
}
