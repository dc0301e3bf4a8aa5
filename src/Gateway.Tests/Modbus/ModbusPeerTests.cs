using System.Text;
using Gateway.Cli;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Xunit;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Modbus;

/// <summary>Expected values of tests/peers/modbus_server.py's typed area, computed there with Python's struct.</summary>
public static class PeerMap
{
    public static TheoryData<ModbusTable, int, ModbusDataType, ModbusWordOrder, string> TypedValues()
    {
        var data = new TheoryData<ModbusTable, int, ModbusDataType, ModbusWordOrder, string>();
        foreach (var table in new[] { ModbusTable.HoldingRegister, ModbusTable.InputRegister })
        {
            data.Add(table, 100, ModbusDataType.Int16, ModbusWordOrder.ABCD, "-1234");
            data.Add(table, 101, ModbusDataType.UInt16, ModbusWordOrder.ABCD, "54321");
            var orders = Enum.GetValues<ModbusWordOrder>();
            for (var i = 0; i < orders.Length; i++)
            {
                data.Add(table, 102 + (2 * i), ModbusDataType.Int32, orders[i], "-123456789");
                data.Add(table, 110 + (2 * i), ModbusDataType.UInt32, orders[i], "3000000000");
                data.Add(table, 120 + (2 * i), ModbusDataType.Float32, orders[i], "123.456");
                data.Add(table, 130 + (4 * i), ModbusDataType.Int64, orders[i], "-1234567890123");
                data.Add(table, 150 + (4 * i), ModbusDataType.Float64, orders[i], "-9876.54321");
            }

            data.Add(table, 170, ModbusDataType.String, ModbusWordOrder.ABCD, "GATEWAY-01");
            data.Add(table, 175, ModbusDataType.String, ModbusWordOrder.BADC, "GATEWAY-01");
        }

        return data;
    }

    public static string Text(SampleValue value, ModbusDataType type) => type == ModbusDataType.Float32
        ? ((float)value.AsDouble).ToString("R", System.Globalization.CultureInfo.InvariantCulture)
        : value.ToString();

    public static readonly bool[] SpecCoils = Bits([0xCD, 0x6B, 0x05], 19);
    public static readonly bool[] SpecDiscreteInputs = Bits([0xAC, 0xDB, 0x35], 22);

    private static bool[] Bits(byte[] packed, int count)
    {
        var bits = new bool[count];
        ModbusPdu.UnpackBits(packed, bits);
        return bits;
    }
}

/// <summary>Against pymodbus over TCP: every function code, type and word order, exceptions, a silent unit.</summary>
public sealed class ModbusPymodbusTcpTests(PymodbusTcpFixture peer) : IClassFixture<PymodbusTcpFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task ReadCoils_Fc1_ReturnsTheSpecificationExamplePattern()
    {
        await using var client = peer.NewClient();

        var bits = await client.ReadCoilsAsync(2, 20, 19, s_timeout, CancellationToken.None);

        Assert.Equal(PeerMap.SpecCoils, bits);
    }

    [Fact]
    public async Task ReadDiscreteInputs_Fc2_ReturnsTheSpecificationExamplePattern()
    {
        await using var client = peer.NewClient();

        var bits = await client.ReadDiscreteInputsAsync(2, 20, 22, s_timeout, CancellationToken.None);

        Assert.Equal(PeerMap.SpecDiscreteInputs, bits);
    }

    [Fact]
    public async Task ReadHoldingRegisters_Fc3_AddressesTheRequestedUnit()
    {
        await using var client = peer.NewClient();

        var unit2 = await client.ReadHoldingRegistersAsync(2, 0, 1, s_timeout, CancellationToken.None);
        var unit1 = await client.ReadHoldingRegistersAsync(1, 0, 3, s_timeout, CancellationToken.None);

        Assert.Equal(2, unit2[0]);
        Assert.InRange(unit1[1], 200, 250); // temperature × 10
    }

    [Fact]
    public async Task ReadInputRegisters_Fc4_ReturnsTheStoredWords()
    {
        await using var client = peer.NewClient();

        var registers = await client.ReadInputRegistersAsync(2, 100, 2, s_timeout, CancellationToken.None);

        Assert.Equal(new ushort[] { 64302, 54321 }, registers);
    }

    [Fact]
    public async Task WriteSingleCoil_Fc5_IsReadBack()
    {
        await using var client = peer.NewClient();

        await client.WriteSingleCoilAsync(2, 10, true, s_timeout, CancellationToken.None);
        var on = await client.ReadCoilsAsync(2, 10, 1, s_timeout, CancellationToken.None);
        await client.WriteSingleCoilAsync(2, 10, false, s_timeout, CancellationToken.None);
        var off = await client.ReadCoilsAsync(2, 10, 1, s_timeout, CancellationToken.None);

        Assert.True(on[0]);
        Assert.False(off[0]);
    }

    [Fact]
    public async Task WriteSingleRegister_Fc6_IsReadBack()
    {
        await using var client = peer.NewClient();

        await client.WriteSingleRegisterAsync(2, 11, 4321, s_timeout, CancellationToken.None);
        var registers = await client.ReadHoldingRegistersAsync(2, 11, 1, s_timeout, CancellationToken.None);

        Assert.Equal(4321, registers[0]);
    }

    [Fact]
    public async Task WriteMultipleCoils_Fc15_IsReadBack()
    {
        await using var client = peer.NewClient();
        bool[] pattern = [true, false, true, true, false, false, true, false];

        await client.WriteMultipleCoilsAsync(2, 12, pattern, s_timeout, CancellationToken.None);
        var bits = await client.ReadCoilsAsync(2, 12, 8, s_timeout, CancellationToken.None);

        Assert.Equal(pattern, bits);
    }

    [Fact]
    public async Task WriteMultipleRegisters_Fc16_TypedFloat64InCdabOrder_IsReadBack()
    {
        await using var client = peer.NewClient();
        var format = new ModbusValueFormat(ModbusDataType.Float64, ModbusWordOrder.CDAB);

        await client.WriteValueAsync(2, ModbusTable.HoldingRegister, 14, format, -1, SampleValue.FromDouble(2.718281828), s_timeout, CancellationToken.None);
        var value = await client.ReadValueAsync(2, ModbusTable.HoldingRegister, 14, format, -1, s_timeout, CancellationToken.None);

        Assert.Equal(2.718281828, value.AsDouble);
    }

    [Theory]
    [MemberData(nameof(PeerMap.TypedValues), MemberType = typeof(PeerMap))]
    public async Task ReadValue_EveryTypeAndWordOrder_MatchesPythonStructEncoding(ModbusTable table, int address, ModbusDataType type, ModbusWordOrder order, string expected)
    {
        await using var client = peer.NewClient();

        var value = await client.ReadValueAsync(2, table, (ushort)address, new ModbusValueFormat(type, order, 10), -1, s_timeout, CancellationToken.None);

        Assert.Equal(expected, PeerMap.Text(value, type));
    }

    [Fact]
    public async Task ReadValue_BitInRegister_ReadsThatBit()
    {
        await using var client = peer.NewClient();
        var format = new ModbusValueFormat(ModbusDataType.Bool);

        var bit3 = await client.ReadValueAsync(2, ModbusTable.HoldingRegister, 180, format, 3, s_timeout, CancellationToken.None);
        var bit2 = await client.ReadValueAsync(2, ModbusTable.HoldingRegister, 180, format, 2, s_timeout, CancellationToken.None);

        Assert.True(bit3.AsBoolean);
        Assert.False(bit2.AsBoolean);
    }

    [Fact]
    public async Task Read_UnmappedAddress_ThrowsModbusExceptionCode2()
    {
        await using var client = peer.NewClient();

        var exception = await Assert.ThrowsAsync<ModbusException>(() => client.ReadHoldingRegistersAsync(1, 200, 1, s_timeout, CancellationToken.None));

        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, exception.Code);
        Assert.Equal("illegal data address", exception.CodeName);
    }

    [Fact]
    public async Task Read_UnitThatNeverAnswers_TimesOutAndTheConnectionStillServesOtherUnits()
    {
        await using var client = peer.NewClient();

        await Assert.ThrowsAsync<TimeoutException>(() => client.ReadHoldingRegistersAsync(9, 0, 1, TimeSpan.FromMilliseconds(300), CancellationToken.None));
        var other = await client.ReadHoldingRegistersAsync(2, 0, 1, s_timeout, CancellationToken.None);

        Assert.Equal(2, other[0]);
    }

    [Fact]
    public async Task Driver_WhenOneUnitNeverAnswers_ReportsItBadOnceWhileTheOthersStayGood()
    {
        var json = $$"""
            { "name": "peer", "type": "modbus-tcp", "host": "127.0.0.1", "port": {{peer.Port}}, "intervalMs": 200, "backoffMinMs": 200, "backoffMaxMs": 1000,
              "devices": [ { "name": "live", "unitId": 1, "timeoutMs": 500 }, { "name": "fixed", "unitId": 2 }, { "name": "dead", "unitId": 9, "timeoutMs": 150 } ],
              "tags": [
                { "name": "counter", "machine": "live", "address": "holding:0", "device": "live" },
                { "name": "temperature", "machine": "live", "address": "holding:1", "scale": 0.1, "unit": "degC", "device": "live" },
                { "name": "float", "machine": "fixed", "address": "holding:122", "type": "float32", "order": "CDAB", "device": "fixed" },
                { "name": "name", "machine": "fixed", "address": "input:170", "type": "string", "length": 10, "device": "fixed" },
                { "name": "flag", "machine": "fixed", "address": "holding:180.15", "device": "fixed" },
                { "name": "coil", "machine": "fixed", "address": "coil:22", "device": "fixed" },
                { "name": "counter", "machine": "dead", "address": "holding:0", "device": "dead" } ] }
            """;
        var transport = new ModbusTcpTransport("127.0.0.1", peer.Port, TimeProvider.System);
        await using var driver = ModbusDriverBuilder.Build(json, transport, TimeProvider.System);
        var writer = new CollectingWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));

        await driver.RunAsync(writer, stop.Token);

        var dead = Assert.Single(writer.For("dead/counter"));
        Assert.Equal(Quality.Bad, dead.Quality);
        Assert.Equal(ModbusStatusCodes.BadNoCommunication, dead.StatusCode);
        var counter = writer.For("live/counter");
        Assert.True(counter.Count >= 5, $"live unit polled {counter.Count} times");
        Assert.All(counter, s => Assert.Equal(Quality.Good, s.Quality));
        Assert.InRange(writer.For("live/temperature")[^1].Value.AsDouble, 20.0, 25.0);
        Assert.Equal(123.456f, (float)writer.For("fixed/float")[^1].Value.AsDouble);
        Assert.Equal("GATEWAY-01", writer.For("fixed/name")[^1].Value.AsString);
        Assert.True(writer.For("fixed/flag")[^1].Value.AsBoolean);
        Assert.True(writer.For("fixed/coil")[^1].Value.AsBoolean); // 0xCD: coil 22 is bit 2
        Assert.Equal(DriverState.Stopped, driver.State);
    }

    [Fact]
    public async Task Cli_ModbusRead_Float32Cdab_PrintsTheValueAndExitsZero()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "holding:122"], 2, "float32", "CDAB"), output, error, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Equal("holding:122 float32 = 123.456", output.ToString().Trim());
    }

    [Fact]
    public async Task Cli_ModbusRead_AddressBaseOne_ReadsTheWireAddressOneLess_AndPrintsInTheManualsNumbering()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var wire = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "input:101:2"], 2, AddressBase: 1), output, error, CancellationToken.None);
        await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "input:100:2"], 2), wire, error, CancellationToken.None);
        var zero = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "input:0"], 2, AddressBase: 1), TextWriter.Null, error, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Equal(["input:101 = 64302", "input:102 = 54321"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal(["input:100 = 64302", "input:101 = 54321"], wire.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal(2, zero);
        Assert.Contains("with --address-base 1 addresses start at 1", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_ModbusRead_RawRegisters_PrintsOneLinePerRegister()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "input:100:2"], 2), output, error, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Equal(["input:100 = 64302", "input:101 = 54321"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Cli_ModbusRead_UnmappedAddress_ExitsOneNamingTheException()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "holding:200"], 1), output, error, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.Contains("exception 2 (illegal data address)", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_ModbusRead_UnitThatNeverAnswers_ExitsThree()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "holding:0"], 9, TimeoutMs: 200), output, error, CancellationToken.None);

        Assert.Equal(3, code);
    }
}

/// <summary>Command-line checks that need no peer.</summary>
public sealed class ModbusCliTests
{
    [Fact]
    public async Task Cli_ModbusRead_RefusedPort_ExitsThree()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{FreePort.Next()}", "holding:0"], 1), output, error, CancellationToken.None);

        Assert.Equal(3, code);
        Assert.Contains("ConnectionRefused", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("holding")]
    [InlineData("registers:0")]
    [InlineData("holding:0:200")]
    [InlineData("coils:0:2001")]
    public async Task Cli_ModbusRead_MalformedSpec_ExitsTwo(string spec)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions(["127.0.0.1", spec], 1), output, error, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.StartsWith("modbus read:", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_ModbusRead_SerialWithHostAndBadParity_ExitsTwo()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var withHost = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions(["127.0.0.1", "holding:0"], 1, Serial: "/dev/ttyUSB0"), output, error, CancellationToken.None);
        var badParity = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions(["holding:0"], 1, Serial: "/dev/ttyUSB0", Parity: "mark"), output, error, CancellationToken.None);

        Assert.Equal(2, withHost);
        Assert.Equal(2, badParity);
    }

    [Fact]
    public async Task Cli_ParseErrors_ExitTwoThroughTheRootCommand()
    {
        var root = new System.CommandLine.RootCommand();
        foreach (var command in CliCommands.Extra())
        {
            root.Subcommands.Add(command);
        }

        var code = await CliRunner.InvokeAsync(root, ["modbus", "read", "127.0.0.1", "holding:0", "--unit", "abc"]);

        Assert.Equal(2, code);
    }
}

/// <summary>Against pymodbus over RTU on a socat pseudo-terminal pair.</summary>
public sealed class ModbusPymodbusRtuTests(PymodbusRtuFixture peer) : IClassFixture<PymodbusRtuFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Rtu_ReadsEveryTableOverAPty()
    {
        await using var client = peer.NewClient();

        var coils = await client.ReadCoilsAsync(2, 20, 19, s_timeout, CancellationToken.None);
        var discrete = await client.ReadDiscreteInputsAsync(2, 20, 22, s_timeout, CancellationToken.None);
        var holding = await client.ReadHoldingRegistersAsync(2, 0, 1, s_timeout, CancellationToken.None);
        var input = await client.ReadInputRegistersAsync(2, 100, 2, s_timeout, CancellationToken.None);

        Assert.Equal(PeerMap.SpecCoils, coils);
        Assert.Equal(PeerMap.SpecDiscreteInputs, discrete);
        Assert.Equal(2, holding[0]);
        Assert.Equal(new ushort[] { 64302, 54321 }, input);
    }

    [Fact]
    public async Task Rtu_WritesWithFc5Fc6Fc15Fc16_AreReadBack()
    {
        await using var client = peer.NewClient();

        await client.WriteSingleCoilAsync(2, 10, true, s_timeout, CancellationToken.None);
        await client.WriteMultipleCoilsAsync(2, 11, [true, false, true], s_timeout, CancellationToken.None);
        await client.WriteSingleRegisterAsync(2, 10, 777, s_timeout, CancellationToken.None);
        await client.WriteMultipleRegistersAsync(2, 11, [1, 2, 3], s_timeout, CancellationToken.None);
        var coils = await client.ReadCoilsAsync(2, 10, 4, s_timeout, CancellationToken.None);
        var registers = await client.ReadHoldingRegistersAsync(2, 10, 4, s_timeout, CancellationToken.None);

        Assert.Equal([true, true, false, true], coils);
        Assert.Equal(new ushort[] { 777, 1, 2, 3 }, registers);
    }

    [Theory]
    [InlineData(120, ModbusWordOrder.ABCD)]
    [InlineData(122, ModbusWordOrder.CDAB)]
    [InlineData(124, ModbusWordOrder.BADC)]
    [InlineData(126, ModbusWordOrder.DCBA)]
    public async Task Rtu_TypedFloat32_InEachOrder_MatchesPython(int address, ModbusWordOrder order)
    {
        await using var client = peer.NewClient();

        var value = await client.ReadValueAsync(2, ModbusTable.HoldingRegister, (ushort)address, new ModbusValueFormat(ModbusDataType.Float32, order), -1, s_timeout, CancellationToken.None);

        Assert.Equal(123.456f, (float)value.AsDouble);
    }

    [Fact]
    public async Task Rtu_UnmappedAddress_ThrowsModbusExceptionCode2()
    {
        await using var client = peer.NewClient();

        var exception = await Assert.ThrowsAsync<ModbusException>(() => client.ReadHoldingRegistersAsync(2, 200, 1, s_timeout, CancellationToken.None));

        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, exception.Code);
    }

    [Fact]
    public async Task Rtu_UnitThatNeverAnswers_TimesOutAndTheLineStillServesOtherUnits()
    {
        await using var client = peer.NewClient();

        await Assert.ThrowsAsync<TimeoutException>(() => client.ReadHoldingRegistersAsync(9, 0, 1, TimeSpan.FromMilliseconds(300), CancellationToken.None));
        var other = await client.ReadHoldingRegistersAsync(2, 0, 1, s_timeout, CancellationToken.None);

        Assert.Equal(2, other[0]);
    }

    [Fact]
    public async Task Cli_ModbusRead_OverSerial_PrintsValues()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions(["input:170:10"], 2, "string", Serial: peer.ClientPort, Baud: 19200, Parity: "none"), output, error, CancellationToken.None);

        Assert.True(code == 0, error.ToString());
        Assert.Equal("input:170 string = GATEWAY-01", output.ToString().Trim());
    }
}

/// <summary>Against pymodbus's RTU framer over TCP (serial-to-Ethernet converters).</summary>
public sealed class ModbusPymodbusRtuOverTcpTests(PymodbusRtuOverTcpFixture peer) : IClassFixture<PymodbusRtuOverTcpFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task RtuOverTcp_ReadsAndWritesRegisters()
    {
        await using var client = peer.NewClient();

        await client.WriteMultipleRegistersAsync(2, 12, [5, 6], s_timeout, CancellationToken.None);
        var registers = await client.ReadHoldingRegistersAsync(2, 12, 2, s_timeout, CancellationToken.None);
        var coils = await client.ReadCoilsAsync(2, 20, 19, s_timeout, CancellationToken.None);

        Assert.Equal(new ushort[] { 5, 6 }, registers);
        Assert.Equal(PeerMap.SpecCoils, coils);
    }

    [Fact]
    public async Task RtuOverTcp_UnmappedAddressAndSilentUnit_AreReportedAndTheConnectionRecovers()
    {
        await using var client = peer.NewClient();

        var exception = await Assert.ThrowsAsync<ModbusException>(() => client.ReadInputRegistersAsync(2, 200, 1, s_timeout, CancellationToken.None));
        await Assert.ThrowsAsync<TimeoutException>(() => client.ReadInputRegistersAsync(9, 0, 1, TimeSpan.FromMilliseconds(300), CancellationToken.None));
        var value = await client.ReadValueAsync(2, ModbusTable.InputRegister, 130, new ModbusValueFormat(ModbusDataType.Int64), -1, s_timeout, CancellationToken.None);

        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, exception.Code);
        Assert.Equal(-1234567890123, value.AsInteger);
    }

    [Fact]
    public async Task Cli_ModbusRead_RtuOverTcp_PrintsValues()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "holding:150"], 2, "float64", RtuOverTcp: true), output, error, CancellationToken.None);

        Assert.True(code == 0, error.ToString());
        Assert.Equal("holding:150 float64 = -9876.54321", output.ToString().Trim());
    }
}

/// <summary>The driver against our own TCP server that goes away and comes back.</summary>
public sealed class ModbusReconnectTests
{
    [Fact]
    public async Task Driver_WhenServerGoesAwayAndComesBack_ReportsBadOnceThenGoodAgain()
    {
        var store = new ModbusDataStore(10, 10, 10, 10);
        store.SetRegisters(ModbusTable.HoldingRegister, 0, [42]);
        var server = new ModbusTcpServer(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), _ => store);
        server.Start();
        var port = server.LocalEndPoint.Port;
        var json = $$"""
            { "name": "plc", "type": "modbus-tcp", "host": "127.0.0.1", "port": {{port}}, "machine": "m", "intervalMs": 50, "timeoutMs": 1000,
              "backoffMinMs": 50, "backoffMaxMs": 200, "tags": [ { "name": "value", "address": "holding:0" } ] }
            """;
        await using var driver = ModbusDriverBuilder.Build(json, new ModbusTcpTransport("127.0.0.1", port, TimeProvider.System), TimeProvider.System);
        var writer = new CollectingWriter();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(writer, stop.Token);

        await WaitForAsync(() => writer.For("m/value").Count(v => v.Quality == Quality.Good) >= 3);
        // On a loaded machine a poll may time out before the server goes; only what follows its going counts.
        var before = writer.For("m/value").Count;
        await server.DisposeAsync();
        await WaitForAsync(() => writer.For("m/value").Any(s => s.Quality == Quality.Bad));
        await Task.Delay(1000); // several failed retries while the server is away
        var stateWhileDown = driver.State;
        store.SetRegisters(ModbusTable.HoldingRegister, 0, [43]);
        await using var restarted = new ModbusTcpServer(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), _ => store);
        restarted.Start();
        await WaitForAsync(() => writer.For("m/value").LastOrDefault().Value.AsInteger == 43);
        await stop.CancelAsync();
        await run;

        var samples = writer.For("m/value");
        var bad = Assert.Single(samples.Skip(before), s => s.Quality == Quality.Bad);
        Assert.True(bad.StatusCode is ModbusStatusCodes.BadNotConnected or ModbusStatusCodes.BadCommunicationError, $"0x{bad.StatusCode:X8}");
        Assert.Equal(DriverState.Disconnected, stateWhileDown);
        Assert.Equal(43, samples[^1].Value.AsInteger);
        Assert.Equal(Quality.Good, samples[^1].Quality);
    }

    private static Task WaitForAsync(Func<bool> condition) =>
        Eventually.TrueAsync(condition, "condition", TimeSpan.FromSeconds(15));
}
