using System.Globalization;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;

namespace Gateway.Tests.Commissioning;

/// <summary>Issue 16, the unit-id scan in the page: tests/peers/modbus_server.py serves units 1 and 2, unit 3 never answers; a found unit becomes the driver's unitId and is scanned.</summary>
public sealed partial class CommissionPageTests
{
    [Fact]
    public async Task FindUnits_InThePage_ListsTheUnitsThatAnswer_AClickSetsUnitIdAndScansIt()
    {
        using var config = new TestConfig();
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await using var browser = await Browser.StartAsync(config.HttpPort);
        var page = browser.Page;

        await page.GotoAsync("/commission");
        await AddDriverAsync(page, "plc", "modbus-tcp");
        await SetFieldAsync(page, "host", "127.0.0.1");
        await SetFieldAsync(page, "port", plc.Port.ToString(CultureInfo.InvariantCulture));
        await page.FillAsync("#units", "1-3");
        await page.FillAsync("#ranges", "holding:0-1");
        await page.ClickAsync("#find-units");

        await Expect(page.Locator("#unit-list button.unit")).ToHaveCountAsync(2);
        await Expect(page.Locator("#unit-list button.unit[data-unit='1']")).ToBeVisibleAsync();
        await Expect(page.Locator("#unit-list button.unit[data-unit='3']")).ToHaveCountAsync(0);
        await page.ClickAsync("#unit-list button.unit[data-unit='2']");
        await Expect(page.Locator("#fields input[data-key='unitId']")).ToHaveValueAsync("2");
        await Expect(page.Locator("#scan-table tr[data-address='holding:0'] button[data-type='uint16']")).ToHaveTextAsync("u16 2"); // unit 2's HR0 is 2

        await page.FillAsync("#units", "0-300");
        await page.ClickAsync("#find-units");
        await Expect(page.Locator("#message")).ToContainTextAsync("between 1 and 247");
        Assert.All(browser.Errors, e => Assert.Contains("status of 400", e, StringComparison.Ordinal));
    }
}
