using Gateway.Cli;
using Gateway.Tests.Modbus;

namespace Gateway.Tests.Cli;

/// <summary>Issue 16: <c>modbus scan --serial</c>, the unit-id scan of an RTU line (pymodbus on a socat pty pair).</summary>
public sealed class ModbusScanSerialTests(PymodbusRtuFixture line) : IClassFixture<PymodbusRtuFixture>
{
    [Fact]
    public async Task ScanUnits_OnASerialLine_FindsTheUnitsThatAnswer_AndThenScansOne()
    {
        using var units = new StringWriter();
        using var registers = new StringWriter();
        using var error = new StringWriter();

        var unitsExit = await ModbusScan.RunAsync(new ModbusScan.ScanOptions(null, Units: "1-3", TimeoutMs: 300, Serial: line.ClientPort, Parity: "none"), units, error, CancellationToken.None);
        var scanExit = await ModbusScan.RunAsync(new ModbusScan.ScanOptions(null, Unit: 2, Ranges: "holding:0-0,holding:198-201", Serial: line.ClientPort, Parity: "none"), registers, error, CancellationToken.None);

        Assert.True(unitsExit == ExitCodes.Success, error.ToString());
        Assert.Contains("2 unit(s) answer: 1, 2", units.ToString(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Success, scanExit);
        Assert.Contains("holding:0  0x0002  u16=2", registers.ToString(), StringComparison.Ordinal); // unit 2's HR0 is 2
        Assert.Contains("holding:200-201: exception 2", registers.ToString(), StringComparison.Ordinal);
    }
}
