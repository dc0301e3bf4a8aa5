using System.Globalization;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;
using Gateway.Tests.S7;

namespace Gateway.Tests.Integration;

/// <summary>
/// <c>gateway modbus write</c> against pymodbus (read back with mbpoll) and <c>gateway s7 write</c> against node-snap7:
/// the real executable, its exit codes as for reads.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class WritesCliTests
{
    [Fact]
    public async Task ModbusWrite_Float32CdabAndCoil_ReadBackWithMbpoll_ExitCodesAsForReads()
    {
        var port = PortAllocator.FreeTcpPort();
        using var plc = new PeerProcess(Peers.Python, Peers.ModbusScript, "tcp", port.ToString(CultureInfo.InvariantCulture));
        await PortAllocator.WaitForPortAsync(port, TimeSpan.FromSeconds(15));
        var target = $"127.0.0.1:{port}";

        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("modbus", "write", target, "holding:16", "3.5", "--type", "float32", "--order", "CDAB");
        Assert.True(exit == 0, stderr);
        Assert.Equal("holding:16 = 3.5", stdout.Trim());
        Assert.Equal(new[] { 0x0000, 0x4060 }, await Mbpoll.ReadAsync(port, "holding", 16, 2)); // 3.5f is 0x40600000, low word first

        (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("modbus", "write", target, "coil:12", "1", "--unit", "1");
        Assert.True(exit == 0, stderr);
        Assert.Equal("coil:12 = 1", stdout.Trim());
        Assert.Equal(new[] { 1 }, await Mbpoll.ReadAsync(port, "coil", 12, 1));

        (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("modbus", "write", target, "holding:18", "-2", "--type", "int16");
        Assert.True(exit == 0, stderr);
        Assert.Equal(new[] { 0xFFFE }, await Mbpoll.ReadAsync(port, "holding", 18, 1));

        // The device refuses (exception 2, illegal data address): 1. Usage: 2. Nothing listening: 3.
        (exit, _, stderr) = await GatewayProcess.RunVerbAsync("modbus", "write", target, "holding:250", "5");
        Assert.Equal(1, exit);
        Assert.Contains("exception 2", stderr, StringComparison.Ordinal);
        (exit, _, stderr) = await GatewayProcess.RunVerbAsync("modbus", "write", target, "input:0", "5");
        Assert.Equal(2, exit);
        Assert.Contains("only coils and holding registers", stderr, StringComparison.Ordinal);
        (exit, _, stderr) = await GatewayProcess.RunVerbAsync("modbus", "write", target, "holding:10", "70000");
        Assert.Equal(2, exit);
        Assert.Contains("does not fit uint16", stderr, StringComparison.Ordinal);
        (exit, _, _) = await GatewayProcess.RunVerbAsync("modbus", "write", $"127.0.0.1:{PortAllocator.FreeTcpPort()}", "holding:10", "1");
        Assert.Equal(3, exit);
        Assert.Equal(new[] { 0 }, await Mbpoll.ReadAsync(port, "holding", 10, 1)); // nothing written by the refused ones
    }

    [Fact]
    public async Task S7Write_RealAndBit_ReadBackFromTheCpu_MissingDbExits1()
    {
        await using var cpu = await Snap7Server.StartAsync();
        var target = $"127.0.0.1:{cpu.Port}";

        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("s7", "write", target, "DB1.DBD120", "3.5", "--type", "real", "--slot", "1");
        Assert.True(exit == 0, stderr);
        Assert.Equal("DB1.DBD120 real = 3.5", stdout.Trim());
        (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("s7", "write", target, "DB1.DBX0.1", "true", "--slot", "1");
        Assert.True(exit == 0, stderr);
        Assert.Equal("DB1.DBX0.1 bool = 1", stdout.Trim());

        // Read back by a fresh connection: the CPU holds them, and the neighbouring bits are untouched.
        (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("s7", "read", target, "DB1.DBB0", "--slot", "1");
        Assert.True(exit == 0, stderr);
        Assert.Equal("DB1.DBB0 byte = 7", stdout.Trim()); // 0b101 before, bit 1 set now
        (exit, stdout, _) = await GatewayProcess.RunVerbAsync("s7", "read", target, "DB1.DBD120", "--slot", "1", "--type", "real");
        Assert.Equal("DB1.DBD120 real = 3.5", stdout.Trim());

        (exit, _, stderr) = await GatewayProcess.RunVerbAsync("s7", "write", target, "DB42.DBW0", "1", "--slot", "1");
        Assert.Equal(1, exit);
        Assert.Contains("DB42.DBW0", stderr, StringComparison.Ordinal);
        (exit, _, _) = await GatewayProcess.RunVerbAsync("s7", "write", target, "DB1.DBW0", "abc", "--slot", "1");
        Assert.Equal(2, exit);
    }
}
