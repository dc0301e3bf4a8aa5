using System.Diagnostics;
using System.Net;
using Gateway.Drivers.Modbus;
using Gateway.Drivers.Simulation;
using Xunit;

namespace Gateway.Tests.Modbus;

/// <summary>The simulate server, polled by mbpoll (an independent client) and by our own client.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Disposed by IAsyncLifetime.DisposeAsync.")]
public sealed class ModbusSimulateTests : IAsyncLifetime
{
    private SimulatedModbusServer? _server;

    private int Port => _server!.LocalEndPoint.Port;

    public async Task InitializeAsync()
    {
        _server = new SimulatedModbusServer(new IPEndPoint(IPAddress.Loopback, 0), SimulatedModbusServer.DefaultLine(7, 100, 0.01), TimeProvider.System);
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private static async Task<(int Code, string Output)> MbpollAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("mbpoll") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        return (process.ExitCode, await output + await error);
    }

    private static Dictionary<int, int> Registers(string output) => output
        .Split('\n')
        .Select(line => line.Trim())
        .Where(line => line.StartsWith('['))
        .ToDictionary(
            line => int.Parse(line[1..line.IndexOf(']', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture),
            line => int.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));

    private static readonly int[] s_machines = [0, 1, 2];
    private static readonly int[] s_packMlStates = [2, 4, 6, 11];

    [Fact]
    public async Task Simulate_PolledByMbpoll_ServesEachMachinesStateAndRunningFlag()
    {
        foreach (var machine in s_machines)
        {
            var start = (machine * SimulatedModbusServer.MachineStride).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var (code, output) = await MbpollAsync("-m", "tcp", "-0", "-a", "1", "-r", start, "-c", "2", "-t", "4", "-1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1");

            Assert.True(code == 0, output);
            var registers = Registers(output);
            var state = registers[machine * SimulatedModbusServer.MachineStride];
            var running = registers[(machine * SimulatedModbusServer.MachineStride) + 1];
            Assert.Contains(state, s_packMlStates);
            Assert.Equal(state == 6 ? 1 : 0, running);
        }
    }

    [Fact]
    public async Task Simulate_ScratchRegisterWrittenByMbpoll_IsReadBackByTheGatewayClient()
    {
        var (code, output) = await MbpollAsync("-m", "tcp", "-0", "-a", "5", "-r", "900", "-t", "4", "-1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1", "4321");
        await using var client = new ModbusClient(new ModbusTcpTransport("127.0.0.1", Port, TimeProvider.System));

        var registers = await client.ReadHoldingRegistersAsync(5, 900, 1, TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.True(code == 0, output);
        Assert.Equal(4321, registers[0]);
    }

    [Fact]
    public async Task Simulate_TemperatureAsFloat32_AgreesWithItsScaledCopy()
    {
        await using var client = new ModbusClient(new ModbusTcpTransport("127.0.0.1", Port, TimeProvider.System));

        var registers = await client.ReadHoldingRegistersAsync(1, 6, 3, TimeSpan.FromSeconds(2), CancellationToken.None);
        var temperature = ModbusValueCodec.Decode(registers.AsSpan(0, 2), new ModbusValueFormat(ModbusDataType.Float32)).AsDouble;
        var scaled = (short)registers[2] / 10.0;

        Assert.InRange(temperature, 10, 80);
        Assert.Equal(temperature, scaled, 0.1);
    }

    [Fact]
    public async Task Simulate_AddressBeyondTheMap_AnswersIllegalDataAddressToMbpoll()
    {
        var (code, output) = await MbpollAsync("-m", "tcp", "-0", "-a", "1", "-r", "5000", "-t", "4", "-1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1");

        Assert.NotEqual(0, code);
        Assert.Contains("Illegal data address", output, StringComparison.OrdinalIgnoreCase);
    }
}
