using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gateway.Tests.Dashboard;

/// <summary>The outage drill from the dashboard, behind the password: a gateway of its own (the drill cuts its link).</summary>
public sealed class DashboardDrillTests(DrillDashboardFixture fixture) : IClassFixture<DrillDashboardFixture>
{
    private readonly DashboardGateway _gateway = fixture.Gateway;

    [Fact]
    public async Task DrillButton_AfterLogin_CutsTheLink_BufferCardFillsWithCountdown_ThenEndDrains()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(locale: "en-GB", timezoneId: "UTC");
        await using (context)
        {
            await page.GotoAsync("/");
            await page.FillAsync("#password", DashboardGateway.Password);
            await page.ClickAsync("button.primary");
            await Expect(page).ToHaveURLAsync(new Regex("/$"));
            await DashboardPageTests.WaitForDataAsync(page);
            await Expect(page.Locator("#mqtt-state")).ToHaveTextAsync("Connected");
            var button = page.Locator("#drill-outage");
            await Expect(button).ToHaveTextAsync("Outage drill (60 s)");

            await button.ClickAsync();

            await Expect(page.Locator("#drill-status")).ToHaveTextAsync(new Regex("^Outage drill: north link cut, (60|59|58|57|56|55) s left$"));
            await Expect(button).ToHaveTextAsync("End drill");
            await Expect(page.Locator("#mqtt-state")).ToHaveTextAsync("Disconnected", new() { Timeout = 15_000 });
            await Expect(page.Locator("#buffer-waiting")).ToHaveTextAsync(new Regex("^[0-9,]+ samples waiting · oldest "), new() { Timeout = 15_000 });
            await Expect(page.Locator("#buffer-samples")).Not.ToHaveTextAsync("0");
            // The backlog mark (over 1,000 samples waiting) comes as the line keeps producing.
            await Expect(page.Locator("#buffer-waiting")).ToHaveClassAsync(new Regex("backlog"), new() { Timeout = 40_000 });
            var shot = Path.Combine(DashboardGateway.ArtefactsDirectory, "dashboard-outage-drill.png");
            await page.Locator("#health-buffer").ScreenshotAsync(new() { Path = shot });
            Console.WriteLine($"screenshot: {shot}");

            // French follows the language button.
            await page.ClickAsync("#lang-fr");
            await Expect(page.Locator("#drill-status")).ToHaveTextAsync(new Regex("^Exercice : liaison coupée, encore [0-9]+ s$"));
            await page.ClickAsync("#lang-en");

            await button.ClickAsync();

            await Expect(page.Locator("#drill-status")).ToHaveTextAsync("");
            await Expect(page.Locator("#mqtt-state")).ToHaveTextAsync("Connected", new() { Timeout = 30_000 });
            await Expect(page.Locator("#buffer-waiting")).ToHaveClassAsync("waiting", new() { Timeout = 30_000 });
            Assert.Empty(errors);
        }

        await LogAsync("(session): outage start 60 s: north link cut for 60 s");
        await LogAsync("(session): outage end: north link restored");
    }

    [Fact]
    public async Task DrillApi_WithoutLogin_Is401_CrossSite_Is403_Bearer_Starts()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri };
        using (var anonymous = await http.PostAsync(new Uri("/api/drill/outage?seconds=5", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DashboardGateway.Password);
        using (var crossSite = new HttpRequestMessage(HttpMethod.Post, "/api/drill/outage?seconds=5"))
        {
            crossSite.Headers.Add("Origin", "http://evil.example");
            using var response = await http.SendAsync(crossSite);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("cross-site request refused", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var status = await http.GetAsync(new Uri("/api/status", UriKind.Relative)))
        {
            Assert.Contains("\"outage\":null", await status.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var started = await http.PostAsync(new Uri("/api/drill/outage?seconds=5", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        }

        using (var status = await http.GetAsync(new Uri("/api/status", UriKind.Relative)))
        {
            Assert.Matches("\"outage\":\\{\"endsAt\":\"[^\"]+\",\"secondsLeft\":[0-9.]+\\}", await status.Content.ReadAsStringAsync());
        }

        using (var ended = await http.PostAsync(new Uri("/api/drill/outage/end", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        }

        await LogAsync("(bearer): outage start 5 s: 403 cross-site request refused");
        await LogAsync("(bearer): outage end: north link restored");
    }

    [Fact]
    public async Task DrillCli_WithPassword_NeedsThePasswordFile_ExitCodes()
    {
        var url = _gateway.BaseUri.ToString().TrimEnd('/');
        var passwordFile = Path.Combine(_gateway.Config.Directory, "dashboard.password");

        var withoutPassword = await Gateway.Tests.Infrastructure.GatewayProcess.RunVerbAsync("drill", "outage", "--seconds", "5", "--url", url);
        var badSeconds = await Gateway.Tests.Infrastructure.GatewayProcess.RunVerbAsync("drill", "outage", "--seconds", "0", "--url", url, "--password-file", passwordFile);
        var nobody = await Gateway.Tests.Infrastructure.GatewayProcess.RunVerbAsync("drill", "outage", "--url", $"http://127.0.0.1:{Gateway.Tests.Infrastructure.PortAllocator.FreeTcpPort()}");
        var started = await Gateway.Tests.Infrastructure.GatewayProcess.RunVerbAsync("drill", "outage", "--seconds", "30", "--no-wait", "--url", url, "--password-file", passwordFile);
        var ended = await Gateway.Tests.Infrastructure.GatewayProcess.RunVerbAsync("drill", "outage", "--end", "--url", url, "--password-file", passwordFile);

        Assert.Equal(1, withoutPassword.ExitCode);
        Assert.Contains("asks for the dashboard password: pass --password-file", withoutPassword.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badSeconds.ExitCode);
        Assert.Contains("--seconds must be 1-3600, got 0", badSeconds.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("no gateway answers at", nobody.Stderr, StringComparison.Ordinal);
        Assert.True(started.ExitCode == 0, started.Stdout + started.Stderr);
        Assert.Contains("north link cut for 30 s", started.Stdout, StringComparison.Ordinal);
        Assert.True(ended.ExitCode == 0, ended.Stdout + ended.Stderr);
        Assert.Contains("north link restored", ended.Stdout, StringComparison.Ordinal);
        await LogAsync("(bearer): outage start 30 s: north link cut for 30 s");
        Assert.DoesNotContain(DashboardGateway.Password, _gateway.Output, StringComparison.Ordinal);
    }

    /// <summary>The gateway's console is read asynchronously: wait for the audit line rather than race it.</summary>
    private Task LogAsync(string text) =>
        Gateway.Tests.Infrastructure.Eventually.TrueAsync(() => _gateway.Output.Contains(text, StringComparison.Ordinal), $"log never said '{text}'; it said:\n{_gateway.Output}", TimeSpan.FromSeconds(20));
}

/// <summary>A gateway with <c>http.passwordFile</c> of its own: its drills cut only its link.</summary>
public sealed class DrillDashboardFixture : IAsyncLifetime
{
    public DashboardGateway Gateway { get; } = new(withPassword: true);

    public Task InitializeAsync() => Gateway.StartAsync();

    public Task DisposeAsync() => Gateway.DisposeAsync().AsTask();
}
