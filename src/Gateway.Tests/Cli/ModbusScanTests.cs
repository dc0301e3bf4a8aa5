using System.Text.Json.Nodes;
using Gateway.Cli;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;

namespace Gateway.Tests.Cli;

/// <summary>Issue 16: <c>modbus scan</c> against pymodbus (tests/peers/modbus_server.py: registers 0-199, coils 0-99, exception 2 beyond).</summary>
public sealed class ModbusScanTests(PymodbusTcpFixture plc) : IClassFixture<PymodbusTcpFixture>
{
    private async Task<(int Exit, string Out, string Error)> ScanAsync(ModbusScan.ScanOptions options)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ModbusScan.RunAsync(options with { Target = $"127.0.0.1:{plc.Port}" }, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    private static string Line(string output, string address) =>
        output.Split('\n').Single(l => l.StartsWith(address + " ", StringComparison.Ordinal));

    [Fact]
    public async Task Scan_BlockRunningIntoTheUnmappedArea_ReadsEveryMappedRegister_AndReportsTheHoleOnce()
    {
        var (exit, output, _) = await ScanAsync(new ModbusScan.ScanOptions(null, Ranges: "holding:190-209,coil:90-109", Block: 20));

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("holding:199  0x0000", output, StringComparison.Ordinal);
        Assert.Contains("holding:200-209: exception 2 (IllegalDataAddress), not read", output, StringComparison.Ordinal);
        Assert.Contains("coil:99 = ", output, StringComparison.Ordinal);
        Assert.Contains("coil:100-109: exception 2 (IllegalDataAddress), not read", output, StringComparison.Ordinal);
        Assert.Equal(10, output.Split('\n').Count(l => l.StartsWith("holding:19", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Scan_Float32Pairs_ShowEachWordOrder_SoTheRightOneStandsOut()
    {
        var (_, output, _) = await ScanAsync(new ModbusScan.ScanOptions(null, Ranges: "holding:100-101,holding:181-184"));

        // 22.1 is stored ABCD at 181 and CDAB at 183 (computed by the peer with Python's struct).
        Assert.Contains(" f32 ABCD=22.1 ", Line(output, "holding:181"), StringComparison.Ordinal);
        Assert.Contains(" CDAB=22.1 ", Line(output, "holding:183"), StringComparison.Ordinal);
        Assert.Contains("i16=-1234", Line(output, "holding:100"), StringComparison.Ordinal);
        Assert.Contains("u16=54321", Line(output, "holding:101"), StringComparison.Ordinal);
        Assert.DoesNotContain(" f32", Line(output, "holding:184"), StringComparison.Ordinal); // 185 was not read: no pair
    }

    [Fact]
    public async Task ScanUnits_FindsTheUnitIdsThatAnswer()
    {
        var (exit, output, _) = await ScanAsync(new ModbusScan.ScanOptions(null, Units: "1-4", TimeoutMs: 300));

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("unit 2: answers (holding:0 = 2)", output, StringComparison.Ordinal);
        Assert.Contains("2 unit(s) answer: 1, 2", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_RangeOutsideTheTables_IsAUsageError()
    {
        var (exit, _, error) = await ScanAsync(new ModbusScan.ScanOptions(null, Ranges: "holding:10-5"));

        Assert.Equal(ExitCodes.UsageOrConfiguration, exit);
        Assert.Contains("--ranges 'holding:10-5'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmitTags_PickedAndRangeFragments_PassCheckConfig_AndCarryTheChosenReading()
    {
        var (pickExit, picked, _) = await ScanAsync(new ModbusScan.ScanOptions(null, Ranges: "holding:180-189", EmitTags: true, Pick: ["holding:183=float32:CDAB,holding:100=int16", "coil:0"]));
        var (rangeExit, ranged, holes) = await ScanAsync(new ModbusScan.ScanOptions(null, Ranges: "holding:120-123,holding:196-203", EmitTags: true, Type: "float32", Order: "ABCD"));

        Assert.Equal(ExitCodes.Success, pickExit);
        Assert.Equal(ExitCodes.Success, rangeExit);
        var pickedTags = JsonNode.Parse(picked)!.AsArray();
        Assert.Equal(["holding-183", "holding-100", "coil-0"], pickedTags.Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal("CDAB", pickedTags[0]!["order"]!.GetValue<string>());
        Assert.Equal("bool", pickedTags[2]!["type"]!.GetValue<string>());
        // Pairs from each range's first address; 200-203 are holes, so the pairs 200 and 202 are left out.
        Assert.Equal(["holding-120", "holding-122", "holding-196", "holding-198"], JsonNode.Parse(ranged)!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
        Assert.Contains("holding:200-203: exception 2", holes, StringComparison.Ordinal);
        Assert.Equal(0, await CheckConfigAsync(picked));
        Assert.Equal(0, await CheckConfigAsync(ranged));
    }

    /// <summary>The fragment as the tags of a modbus-tcp driver, through the check-config verb.</summary>
    private async Task<int> CheckConfigAsync(string fragment)
    {
        using var config = new TestConfig();
        config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "plc",
            ["type"] = "modbus-tcp",
            ["host"] = "127.0.0.1",
            ["port"] = plc.Port,
            ["machine"] = "press",
            ["tags"] = JsonNode.Parse(fragment),
        });
        var (exit, _, stderr) = await GatewayProcess.RunVerbAsync("check-config", config.Write());
        Assert.True(exit == 0, stderr);
        return exit;
    }
}
