using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;
using Gateway.Tests.Modbus;
using Gateway.Tests.Northbound;
using Gateway.Tests.OpcUa;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Gateway.Tests.Commissioning;

/// <summary>
/// Issue 16, "Done when": the real gateway process publishing a simulated line to mosquitto; in Debian's chromium the
/// commissioning page adds an OPC UA driver against node-opcua and a Modbus driver against pymodbus, browses and
/// scans, picks 5 tags, previews and saves; the 5 tags then arrive at the subscriber from the same process, and the
/// simulated counter has no gap.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed partial class CommissionPageTests(PymodbusTcpFixture plc, ITestOutputHelper output) : IClassFixture<PymodbusTcpFixture>
{
    private const string Line = "acme/lyon/assembly/line-1/";
    private const string CounterTopic = Line + "m1/total-count";

    [Fact]
    public async Task Commission_OpcUaAndModbusDrivers_Pick5Tags_Preview_Save_TagsArriveAtTheBroker_SamePid_CounterWithoutGap()
    {
        await using var ua = await NodeOpcUaServer.StartAsync();
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        var pid = gateway.Pid;
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 5, TimeSpan.FromSeconds(30), "the simulated counter");
        await using var browser = await Browser.StartAsync(config.HttpPort);
        var page = browser.Page;

        await page.GotoAsync("/commission");
        await Expect(page.Locator("#drivers li[data-driver='sim']")).ToBeVisibleAsync();

        // OPC UA: add, browse lazily, pick three variables of Machine1.
        await AddDriverAsync(page, "ua", "opcua");
        await page.FillAsync("#fields input[data-key='endpointUrl']", ua.Url);
        await page.DispatchEventAsync("#fields input[data-key='endpointUrl']", "change");
        await page.ClickAsync("#browse");
        await page.ClickAsync("#tree li[data-name='machine1'] > button.expand");
        var machine = page.Locator("#tree li[data-name='machine1'] > ul");
        await Expect(machine.Locator("li[data-name='temperature'] .meta")).ToContainTextAsync("Double");
        await Expect(machine.Locator("li[data-name='temperature'] .meta")).ToContainTextAsync("read");
        await page.FillAsync("#search", "part");
        await Expect(machine.Locator("li[data-name='temperature']")).ToBeHiddenAsync();
        await page.FillAsync("#search", "");
        foreach (var name in new[] { "temperature", "partcount", "running" })
        {
            await machine.Locator($"li[data-name='{name}'] > input.pick").CheckAsync();
        }

        await Expect(page.Locator("#tags tr")).ToHaveCountAsync(3);
        await page.ClickAsync("#preview");
        await Expect(page.Locator("#preview-rows tr[data-tag='machine1.temperature'] .quality")).ToHaveTextAsync("Good");
        await Expect(page.Locator("#preview-rows tr[data-tag='machine1.temperature'] .topic")).ToHaveTextAsync(Line + "ua/machine1/temperature");
        await Expect(page.Locator("#preview-rows tr[data-tag='machine1.temperature'] .payload")).ToContainTextAsync("\"value\":");

        // Modbus: add, scan, pick the counter as u16 and the CDAB float 22.1.
        await AddDriverAsync(page, "plc", "modbus-tcp");
        await SetFieldAsync(page, "host", "127.0.0.1");
        await SetFieldAsync(page, "port", plc.Port.ToString(CultureInfo.InvariantCulture));
        await SetFieldAsync(page, "intervalMs", "200");
        await page.FillAsync("#ranges", "holding:0-2,holding:181-188");
        await page.ClickAsync("#scan");
        await Expect(page.Locator("#scan-table tr[data-address='holding:183'] button[data-type='float32'][data-order='CDAB']")).ToContainTextAsync("22.1");
        await Expect(page.Locator("#scan-table tr[data-address='holding:183'] button[data-type='float32'][data-order='ABCD']")).Not.ToContainTextAsync("22.1");
        await page.ClickAsync("#scan-table tr[data-address='holding:0'] button[data-type='uint16']");
        await page.ClickAsync("#scan-table tr[data-address='holding:183'] button[data-type='float32'][data-order='CDAB']");
        await Expect(page.Locator("#tags tr")).ToHaveCountAsync(2);
        await page.ClickAsync("#preview");
        await Expect(page.Locator("#preview-rows tr[data-tag='holding-183'] .payload")).ToContainTextAsync("22.1");

        await page.ClickAsync("#save");
        await Expect(page.Locator("#save-result .reload")).ToHaveAttributeAsync("data-result", "applied", new() { Timeout = 30_000 });
        output.WriteLine(await page.Locator("#save-result").InnerTextAsync());
        var savedAt = DateTimeOffset.UtcNow;

        string[] topics = [Line + "ua/machine1/temperature", Line + "ua/machine1/partcount", Line + "ua/machine1/running", Line + "plc/holding-0", Line + "plc/holding-183"];
        await collector.WaitUntilAsync(m => topics.All(t => m.Any(x => x.Topic == t)), TimeSpan.FromSeconds(30), "the 5 commissioned tags");
        await collector.WaitUntilAsync(m => Unique(m).Count(x => x.Topic == CounterTopic && Time(x) > savedAt.AddSeconds(2)) >= 5, TimeSpan.FromSeconds(30), "counter samples after the save");

        Assert.Equal(pid, gateway.Pid);
        Assert.False(gateway.HasExited);
        Assert.InRange(collector.Messages.First(m => m.Topic == Line + "plc/holding-183").Json.GetProperty("value").GetDouble(), 22.09, 22.11);
        AssertIncrementsByOne([.. Unique(collector.Messages).Where(m => m.Topic == CounterTopic).Select(m => m.LongValue).Order()]);
        Assert.Equal(1, Regex.Count(gateway.Output, "Simulated driver sim started"));
        Assert.Contains("Config saved from the commissioning page by http 127.0.0.1 (no password)", gateway.Output, StringComparison.Ordinal);
        Assert.Contains("added ua (3 tags); added plc (2 tags)", gateway.Output, StringComparison.Ordinal);
        var file = await File.ReadAllTextAsync(config.FilePath);
        Assert.Contains(ua.Url, file, StringComparison.Ordinal);
        Assert.True(File.Exists(config.FilePath + ".1"));
        Assert.Empty(browser.Errors);
    }

    [Fact]
    public async Task RefusedSave_ShowsEveryProblemWithItsJsonPath_FileUntouched_OldConfigKeepsPublishing()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200);
        var before = await File.ReadAllBytesAsync(config.Write());
        await using var gateway = new GatewayProcess(config.FilePath, config.HttpPort);
        await gateway.StartAsync();
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 5, TimeSpan.FromSeconds(30), "the simulated counter");
        await using var browser = await Browser.StartAsync(config.HttpPort);
        var page = browser.Page;

        await page.GotoAsync("/commission");
        await AddDriverAsync(page, "plc", "modbus-tcp");
        await SetFieldAsync(page, "host", "127.0.0.1");
        await SetFieldAsync(page, "port", plc.Port.ToString(CultureInfo.InvariantCulture));
        await page.FillAsync("#ranges", "holding:0-1");
        await page.ClickAsync("#scan");
        await page.ClickAsync("#scan-table tr[data-address='holding:0'] button[data-type='uint16']");
        await page.FillAsync("#tags tr[data-tag='holding-0'] input[data-key='address']", "holding:70000");
        await page.DispatchEventAsync("#tags tr[data-tag='holding-0'] input[data-key='address']", "change");
        await page.ClickAsync("#save");
        var refusedAt = DateTimeOffset.UtcNow;

        await Expect(page.Locator("#save-result .problems li[data-path^='drivers[1].tags[0]']")).ToHaveCountAsync(1);
        output.WriteLine(await page.Locator("#save-result").InnerTextAsync());
        Assert.Equal(before, await File.ReadAllBytesAsync(config.FilePath));
        Assert.False(File.Exists(config.FilePath + ".1"));
        await collector.WaitUntilAsync(m => Unique(m).Count(x => x.Topic == CounterTopic && Time(x) > refusedAt) >= 5, TimeSpan.FromSeconds(30), "counter samples after the refusal");
        Assert.DoesNotContain("Config reload from", gateway.Output, StringComparison.Ordinal);
        Assert.Contains("Config save from the commissioning page by http 127.0.0.1 (no password)", gateway.Output, StringComparison.Ordinal);
        Assert.All(browser.Errors, e => Assert.Contains("status of 400", e, StringComparison.Ordinal)); // the refusal's answer only
    }

    private static async Task AddDriverAsync(IPage page, string name, string type)
    {
        await page.FillAsync("#new-name", name);
        await page.SelectOptionAsync("#new-type", type);
        await page.ClickAsync("#add-driver");
        await Expect(page.Locator("#editing")).ToHaveTextAsync($"{name} ({type})");
    }

    private static async Task SetFieldAsync(IPage page, string key, string value)
    {
        var selector = $"#fields input[data-key='{key}']";
        await page.FillAsync(selector, value);
        await page.DispatchEventAsync(selector, "change");
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static DateTimeOffset Time(Received message) => DateTimeOffset.Parse(message.Timestamp, CultureInfo.InvariantCulture);

    private static List<Received> Unique(IEnumerable<Received> messages) => [.. UnsHistory.Unique(messages).Select(m => m.Sample)];

    private static void AssertIncrementsByOne(List<long> values)
    {
        Assert.NotEmpty(values);
        for (var i = 1; i < values.Count; i++)
        {
            Assert.True(values[i] == values[i - 1] + 1, $"counter went from {values[i - 1]} to {values[i]} at position {i} of {values.Count}");
        }
    }

    /// <summary>Debian's chromium, headless, one page on the gateway, collecting console errors.</summary>
    private sealed class Browser : IAsyncDisposable
    {
        private IPlaywright _playwright = null!;
        private IBrowser _browser = null!;

        public IPage Page { get; private set; } = null!;

        public List<string> Errors { get; } = [];

        public static async Task<Browser> StartAsync(int port)
        {
            var result = new Browser { _playwright = await Playwright.CreateAsync() };
            result._browser = await result._playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = "/usr/bin/chromium",
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            var context = await result._browser.NewContextAsync(new() { Locale = "en-GB", BaseURL = $"http://127.0.0.1:{port}/" });
            context.SetDefaultTimeout(20_000);
            result.Page = await context.NewPageAsync();
            result.Page.Console += (_, message) =>
            {
                if (message.Type == "error")
                {
                    lock (result.Errors)
                    {
                        result.Errors.Add(message.Text);
                    }
                }
            };
            result.Page.PageError += (_, error) =>
            {
                lock (result.Errors)
                {
                    result.Errors.Add(error);
                }
            };
            return result;
        }

        public async ValueTask DisposeAsync()
        {
            await _browser.CloseAsync();
            _playwright.Dispose();
        }
    }
}
