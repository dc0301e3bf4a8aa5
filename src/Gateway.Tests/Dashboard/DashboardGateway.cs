using System.Globalization;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Gateway.Tests.Dashboard;

/// <summary>
/// The real gateway with a simulated line of three machines that change state every few seconds, an <c>oee</c>
/// section whose shift started a minute ago (so the shift timeline is mostly known), the embedded broker on a free
/// port, and optionally a dashboard password; plus a headless Debian chromium driven by Playwright.
/// </summary>
public sealed class DashboardGateway : IAsyncDisposable
{
    public const string Password = "Sesame ouvre-toi 42!";

    private readonly TestConfig _config = new();
    private GatewayProcess? _gateway;
    private IPlaywright? _playwright;

    public DashboardGateway(bool withPassword, string timeZone = "UTC")
    {
        _config.Root["mqtt"]!["port"] = PortAllocator.FreeTcpPort();
        _config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "line-sim",
            ["type"] = "simulated",
            ["seed"] = 11,
            ["intervalMs"] = 250,
            ["machines"] = new JsonArray(
                Machine("press", 400, 40, 0.02),
                Machine("welder", 700, 15, 0.03),
                Machine("assembly", 900, 25, 0.025)),
            ["tags"] = new JsonArray(
                new JsonObject { ["name"] = "press/temperature", ["deadband"] = 0.05 },
                new JsonObject { ["name"] = "welder/temperature", ["deadband"] = 0.05 }),
        });

        // A shift that began a minute ago, on the plant's clock: the timeline covers what the gateway saw.
        var start = TimeZoneInfo.ConvertTime(TimeProvider.System.GetUtcNow().AddMinutes(-1), TimeZoneInfo.FindSystemTimeZoneById(timeZone));
        ShiftStart = start;
        _config.Root["oee"] = new JsonObject
        {
            ["publishIntervalSeconds"] = 1,
            ["shiftPlan"] = new JsonObject
            {
                ["timeZone"] = timeZone,
                ["shifts"] = new JsonArray(new JsonObject
                {
                    ["name"] = "A",
                    ["start"] = start.ToString("HH:mm", CultureInfo.InvariantCulture),
                    ["end"] = start.AddMinutes(8).ToString("HH:mm", CultureInfo.InvariantCulture),
                }),
                ["breaks"] = new JsonArray(new JsonObject
                {
                    ["name"] = "coffee",
                    ["start"] = start.AddMinutes(5).ToString("HH:mm", CultureInfo.InvariantCulture),
                    ["end"] = start.AddMinutes(6).ToString("HH:mm", CultureInfo.InvariantCulture),
                }),
            },
            ["machines"] = new JsonArray(
                OeeMachine("press", 400),
                OeeMachine("welder", 700),
                OeeMachine("assembly", 900)),
        };

        if (withPassword)
        {
            var file = Path.Combine(_config.Directory, "dashboard.password");
            File.WriteAllText(file, Password + "\n");
            _config.Root["http"]!["passwordFile"] = file;
        }
    }

    public int Port => _config.HttpPort;

    /// <summary>The start of the test shift (to the second), on the plant's clock.</summary>
    public DateTimeOffset ShiftStart { get; }

    /// <summary>The configuration, for tests that add to it before <see cref="StartAsync"/>.</summary>
    public TestConfig Config => _config;

    public Uri BaseUri => new($"http://127.0.0.1:{_config.HttpPort}");

    public IBrowser Browser { get; private set; } = null!;

    public string Output => _gateway?.Output ?? "";

    /// <summary>Where the screenshots go: <c>artefacts/screenshots</c> next to the test binary.</summary>
    public static string ArtefactsDirectory => Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artefacts", "screenshots")).FullName;

    public async Task StartAsync()
    {
        _gateway = new GatewayProcess(_config.Write(), _config.HttpPort);
        await _gateway.StartAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh browser context (its own cookies and storage) and page, collecting console errors.</summary>
    public async Task<(IBrowserContext Context, IPage Page, List<string> Errors)> NewPageAsync(string locale = "en-GB", int width = 1280, int height = 900, float scale = 1, bool mobile = false, string? timezoneId = null)
    {
        var context = await Browser.NewContextAsync(new()
        {
            TimezoneId = timezoneId,
            Locale = locale,
            ViewportSize = new() { Width = width, Height = height },
            DeviceScaleFactor = scale,
            IsMobile = mobile,
            HasTouch = mobile,
            BaseURL = BaseUri.ToString(),
        });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (errors)
                {
                    errors.Add(message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add(error);
            }
        };
        return (context, page, errors);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        _config.Dispose();
    }

    private static JsonObject Machine(string name, int cycleMs, int rejectPermille, double timeScale) => new()
    {
        ["name"] = name,
        ["idealCycleMs"] = cycleMs,
        ["rejectPermille"] = rejectPermille,
        ["stateTimeScale"] = timeScale,
    };

    private static JsonObject OeeMachine(string name, int cycleMs) => new()
    {
        ["name"] = name,
        ["stateTag"] = "state",
        ["downReasonTag"] = "down-reason",
        ["totalCountTag"] = "total-count",
        ["rejectCountTag"] = "reject-count",
        ["idealCycleMs"] = cycleMs,
        ["microStopSeconds"] = 5,
    };
}

/// <summary>One gateway without a password, shared by the dashboard tests that only read.</summary>
public sealed class OpenDashboardFixture : IAsyncLifetime
{
    public DashboardGateway Gateway { get; } = new(withPassword: false);

    public Task InitializeAsync() => Gateway.StartAsync();

    public Task DisposeAsync() => Gateway.DisposeAsync().AsTask();
}

[CollectionDefinition(nameof(DashboardCollection))]
public sealed class DashboardCollection : ICollectionFixture<OpenDashboardFixture>;
