using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Gateway.Tests.Dashboard;

/// <summary>The login, with <c>http.passwordFile</c> set: a gateway of its own.</summary>
public sealed class DashboardLoginTests(PasswordDashboardFixture fixture) : IClassFixture<PasswordDashboardFixture>
{
    private readonly DashboardGateway _gateway = fixture.Gateway;

    [Fact]
    public async Task WithPassword_ApiAndMetricsWithoutSession_Are401_HealthzIsOpen()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _gateway.BaseUri };
        foreach (var path in new[] { "/api/tags", "/api/oee", "/api/oee/history", "/api/status", "/api/stream", "/metrics" })
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {response.StatusCode}");
        }

        using (var healthz = await http.GetAsync(new Uri("/healthz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        }

        using (var page = await http.GetAsync(new Uri("/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
            Assert.StartsWith("/login", page.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        // The coaching report is behind the password like the dashboard.
        using (var report = await http.GetAsync(new Uri("/report?lang=fr", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, report.StatusCode);
            Assert.Equal("/login?next=%2Freport%3Flang%3Dfr", report.Headers.Location!.OriginalString);
        }

        // Prometheus sends the password as a bearer token (authorization: credentials_file).
        using var metrics = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        metrics.Headers.Authorization = new AuthenticationHeaderValue("Bearer", DashboardGateway.Password);
        using var metricsResponse = await http.SendAsync(metrics);
        Assert.Equal(HttpStatusCode.OK, metricsResponse.StatusCode);
        Assert.Contains("gateway_samples_buffered_total", await metricsResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not the password");
        using var wrongResponse = await http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.DoesNotContain(DashboardGateway.Password, _gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithPassword_WrongPasswordIsRefused_RightPasswordOpensTheDashboard()
    {
        var (context, page, errors) = await _gateway.NewPageAsync(locale: "en-GB");
        await using (context)
        {
            await page.GotoAsync("/");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/login\\?next=%2F$"));
            await Assertions.Expect(page.Locator("button.primary")).ToHaveTextAsync("Sign in");

            await page.FillAsync("#password", "wrong password");
            await page.ClickAsync("button.primary");
            await Assertions.Expect(page.Locator("#error")).ToHaveTextAsync("Wrong password.");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/login\\?error=password"));
            var shot = Path.Combine(DashboardGateway.ArtefactsDirectory, "dashboard-login-wrong-password.png");
            await page.ScreenshotAsync(new() { Path = shot });
            Console.WriteLine($"screenshot: {shot}");
            Assert.Empty(await context.CookiesAsync());

            await page.FillAsync("#password", DashboardGateway.Password);
            await page.ClickAsync("button.primary");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/$"));
            await DashboardPageTests.WaitForDataAsync(page);
            await Assertions.Expect(page.Locator("#logout")).ToBeVisibleAsync();

            var cookie = Assert.Single(await context.CookiesAsync());
            Assert.Equal("gateway_session", cookie.Name);
            Assert.True(cookie.HttpOnly);
            Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
            Assert.False(cookie.Secure); // plain http on loopback; Secure is set over https
            Assert.DoesNotContain(DashboardGateway.Password, cookie.Value, StringComparison.Ordinal);

            // The session cookie opens the API too.
            var api = await page.APIRequest.GetAsync("/api/tags");
            Assert.Equal(200, api.Status);

            // Logging out drops the cookie: the API is closed again.
            await page.ClickAsync("#logout button");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/login$"));
            Assert.Empty(await context.CookiesAsync());
            Assert.Equal(401, (await page.APIRequest.GetAsync("/api/tags")).Status);

            // A cookie the gateway did not sign is refused (a forged value).
            await context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = "gateway_session", Value = "9999999999.AAAA.AAAA", Domain = "127.0.0.1", Path = "/" }]);
            var forged = await page.APIRequest.GetAsync("/api/tags");
            Assert.Equal(401, forged.Status);

            Assert.DoesNotContain(errors, e => !e.Contains("401", StringComparison.Ordinal));
            Assert.DoesNotContain(DashboardGateway.Password, _gateway.Output, StringComparison.Ordinal);
        }
    }
}

/// <summary>One gateway with <c>http.passwordFile</c>, for the login tests.</summary>
public sealed class PasswordDashboardFixture : IAsyncLifetime
{
    public DashboardGateway Gateway { get; } = new(withPassword: true);

    public Task InitializeAsync() => Gateway.StartAsync();

    public Task DisposeAsync() => Gateway.DisposeAsync().AsTask();
}
