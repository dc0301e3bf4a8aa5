using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;
using Gateway.Tests.Northbound;
using Gateway.Tests.S7;

namespace Gateway.Tests.Commissioning;

/// <summary>Issue 16, S7 in the page: scan a DB of the real snap7 server, pick 3 readings, save; they arrive at mosquitto from the same process.</summary>
public sealed partial class CommissionPageTests
{
    [Fact]
    public async Task Commission_S7Driver_ScanDb1_Pick3Readings_Save_TagsArriveAtTheBroker_SamePid()
    {
        await using var s7 = await Snap7Server.StartAsync();
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        var pid = gateway.Pid;
        await using var browser = await Browser.StartAsync(config.HttpPort);
        var page = browser.Page;

        await page.GotoAsync("/commission");
        await AddDriverAsync(page, "press", "s7");
        await SetFieldAsync(page, "host", "127.0.0.1");
        await SetFieldAsync(page, "port", s7.Port.ToString(CultureInfo.InvariantCulture));
        await SetFieldAsync(page, "intervalMs", "200");
        await page.FillAsync("#s7-db", "1");
        await page.FillAsync("#s7-start", "0");
        await page.FillAsync("#s7-length", "48");
        await page.ClickAsync("#s7-scan");

        var real = page.Locator("#s7-table tr[data-offset='14'] button[data-type='real']");
        await Expect(real).ToHaveTextAsync("REAL 22.1");
        await Expect(page.Locator("#s7-table tr[data-offset='14'] button[data-type='dint']")).Not.ToContainTextAsync("22.1");
        await Expect(page.Locator("#s7-table tr[data-offset='26'] button[data-type='string']")).ToContainTextAsync("\"Hello S7\"");
        await real.ClickAsync();
        await page.ClickAsync("#s7-table tr[data-offset='2'] button[data-type='int']");
        await page.ClickAsync("#s7-table tr[data-offset='0'] button[data-address='DB1.DBX0.2']");
        await Expect(page.Locator("#tags tr")).ToHaveCountAsync(3);
        await Expect(page.Locator("#tags tr[data-tag='db1-dbd14'] input[data-key='address']")).ToHaveValueAsync("DB1.DBD14");

        await page.ClickAsync("#save");
        await Expect(page.Locator("#save-result .reload")).ToHaveAttributeAsync("data-result", "applied", new() { Timeout = 30_000 });

        string[] topics = [Line + "press/db1-dbd14", Line + "press/db1-dbw2", Line + "press/db1-dbx0-2"];
        await collector.WaitUntilAsync(m => topics.All(t => m.Any(x => x.Topic == t)), TimeSpan.FromSeconds(30), "the 3 S7 tags");
        Assert.Equal(pid, gateway.Pid);
        Assert.InRange(collector.Messages.First(m => m.Topic == topics[0]).Json.GetProperty("value").GetDouble(), 22.09, 22.11);
        Assert.Equal(-1234, collector.Messages.First(m => m.Topic == topics[1]).Json.GetProperty("value").GetInt32());
        Assert.True(collector.Messages.First(m => m.Topic == topics[2]).Json.GetProperty("value").GetBoolean());
        Assert.Contains("added press (3 tags)", gateway.Output, StringComparison.Ordinal);
        Assert.Matches(new Regex("\"address\": \"DB1.DBD14\",\\s*\"type\": \"real\""), await File.ReadAllTextAsync(config.FilePath));
        Assert.Empty(browser.Errors);
    }
}
