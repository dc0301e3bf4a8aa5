using Gateway.Cli;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Xunit;

namespace Gateway.Tests.Modbus;

/// <summary>
/// pymodbus set up unlike our usual peer (tests/peers/modbus_variants.py): other map, unit ids, request limits,
/// missing function codes, holes, 1-based addressing. The subclass gives the script's options.
/// </summary>
public abstract class PymodbusVariantFixture : IAsyncLifetime, IDisposable
{
    private PeerProcess? _peer;

    protected abstract string Mode { get; }

    protected abstract string[] Options { get; }

    /// <summary>A unit the server answers, for the readiness probe.</summary>
    protected abstract byte ProbeUnit { get; }

    public int Port { get; private set; }

    public string Output => _peer?.Output ?? "";

    public async Task InitializeAsync()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "peers", "modbus_variants.py");
        for (var attempt = 0; ; attempt++)
        {
            Port = FreePort.Next();
            _peer = new PeerProcess(Peers.Python, [script, Mode, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. Options]);
            try
            {
                await Peers.WaitUntilAsync(
                    async () =>
                    {
                        await using var client = NewClient();
                        await client.ReadHoldingRegistersAsync(ProbeUnit, 0, 1, TimeSpan.FromSeconds(1), CancellationToken.None);
                        return true;
                    },
                    TimeSpan.FromSeconds(20),
                    () => _peer.Output);
                return;
            }
            catch (TimeoutException) when (attempt < 2)
            {
                _peer.Dispose();
            }
        }
    }

    public ModbusClient NewClient() => Mode == "rtutcp"
        ? new(new ModbusRtuTransport(new TcpSerialLine("127.0.0.1", Port), $"127.0.0.1:{Port}", 0, TimeProvider.System))
        : new(new ModbusTcpTransport("127.0.0.1", Port, TimeProvider.System));

    public IModbusTransport NewTransport() => NewClient().Transport;

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _peer?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A small device on TCP: units 1 and 17, at most 32 registers and 64 bits per request (exception 3 beyond), no FC2, holes at 40-49.</summary>
public sealed class LimitedSparseDeviceFixture : PymodbusVariantFixture
{
    protected override string Mode => "tcp";

    protected override string[] Options => ["--units", "1,17", "--max-registers", "32", "--max-bits", "64", "--limit-exception", "3", "--no-functions", "2", "--sparse"];

    protected override byte ProbeUnit => 17;
}

/// <summary>Two units on one RTU line (over TCP), a 1-based map, at most 16 registers per request (exception 2 beyond).</summary>
public sealed class OneBasedRtuLineFixture : PymodbusVariantFixture
{
    protected override string Mode => "rtutcp";

    protected override string[] Options => ["--units", "3,4", "--max-registers", "16", "--limit-exception", "2", "--one-based"];

    protected override byte ProbeUnit => 3;
}

/// <summary>Runs a driver until <paramref name="done"/> holds (or a generous deadline passes), then stops it.</summary>
internal static class DriverRun
{
    public static async Task<CollectingWriter> UntilAsync(ModbusDriver driver, Func<CollectingWriter, bool> done)
    {
        var writer = new CollectingWriter();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(writer, stop.Token);
        for (var i = 0; i < 600 && !done(writer); i++)
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await run;
        return writer;
    }

    /// <summary>True when every key has had a sample, and the last one of each is Good, or Bad for the keys in <paramref name="bad"/>.</summary>
    public static bool Settled(CollectingWriter writer, IEnumerable<string> keys, params string[] bad) =>
        keys.All(k => writer.For(k) is { Count: > 0 } samples && samples[^1].Quality == (bad.Contains(k) ? Quality.Bad : Quality.Good));
}

public sealed class ModbusLimitedDeviceTests(LimitedSparseDeviceFixture peer) : IClassFixture<LimitedSparseDeviceFixture>
{
    private const string Tags = """
        { "name": "unit", "address": "holding:0" },
        { "name": "big", "address": "holding:10", "type": "uint64" },
        { "name": "ten19", "address": "holding:14", "type": "uint64", "order": "CDAB" },
        { "name": "minus2", "address": "holding:18", "type": "int64", "order": "DCBA" },
        { "name": "half", "address": "holding:22", "type": "float32", "order": "CDAB" },
        { "name": "serial", "address": "holding:30", "type": "string", "length": 16, "order": "BADC" },
        { "name": "hole", "address": "holding:45" },
        { "name": "r50", "address": "holding:50" },
        { "name": "r100", "address": "input:100" },
        { "name": "r131", "address": "input:131" },
        { "name": "r140", "address": "input:140" },
        { "name": "c0", "address": "coil:0" },
        { "name": "c60", "address": "coil:60" },
        { "name": "c99", "address": "coil:99" },
        { "name": "di5", "address": "discrete:5" }
        """;

    private static readonly string[] s_keys = ["unit", "big", "ten19", "minus2", "half", "serial", "hole", "r50", "r100", "r131", "r140", "c0", "c60", "c99", "di5"];

    private string Driver(string limits, int maxGap = 50) => $$"""
        { "name": "small", "type": "modbus-tcp", "host": "127.0.0.1", "port": {{peer.Port}}, "unitId": 17, "machine": "m", "maxGap": {{maxGap}},
          "intervalMs": 200, "timeoutMs": 3000 {{limits}}, "tags": [ {{Tags}} ] }
        """;

    private static void AssertValues(CollectingWriter writer)
    {
        double Last(string key) => writer.For($"m/{key}")[^1].Value.AsDouble;
        Assert.Equal(17, Last("unit"));
        Assert.Equal(18446744073709551610.0, Last("big"));
        Assert.True(Last("big") > 0, "uint64 above long.MaxValue wrapped to a negative number");
        Assert.Equal(1e19, Last("ten19"));
        Assert.Equal(-2, Last("minus2"));
        Assert.Equal(-0.5, Last("half"));
        Assert.Equal("SN-0042-XY-12345", writer.For("m/serial")[^1].Value.AsString);
        Assert.Equal(0, Last("r50"));
        Assert.Equal(100, Last("r100"));
        Assert.Equal(131, Last("r131"));
        Assert.Equal(140, Last("r140"));
        Assert.True(writer.For("m/c0")[^1].Value.AsBoolean);
        Assert.True(writer.For("m/c60")[^1].Value.AsBoolean);
        Assert.True(writer.For("m/c99")[^1].Value.AsBoolean);
    }

    [Fact]
    public async Task Driver_BlocksRefusedWithException3OrSpanningAHole_AreSplitSoOnlyTheBadTagsGoBad()
    {
        // Default limits (125/2000) on a 32-register device with holes: the planner's long blocks are refused at first.
        await using var driver = ModbusDriverBuilder.Build(Driver(""), peer.NewTransport(), TimeProvider.System);
        var keys = s_keys.Select(k => $"m/{k}").ToList();

        var writer = await DriverRun.UntilAsync(driver, w => DriverRun.Settled(w, keys, "m/hole", "m/di5") && w.For("m/unit").Count(s => s.Quality == Quality.Good) >= 3);

        AssertValues(writer);
        Assert.Equal(ModbusStatusCodes.BadOutOfRange, writer.For("m/hole")[^1].StatusCode);
        Assert.Equal(ModbusStatusCodes.BadNotSupported, writer.For("m/di5")[^1].StatusCode);
        foreach (var key in keys.Where(k => k is not "m/hole" and not "m/di5"))
        {
            Assert.DoesNotContain(writer.For(key), s => s.Quality == Quality.Bad);
        }

        Assert.All(driver.PlannedBlocks, p => Assert.InRange(p.Block.Count, 1, p.Block.Table.IsBitTable() ? 64 : 32));
    }

    [Fact]
    public async Task Driver_WithTheDevicesLimits_PlansRequestsTheDeviceAccepts()
    {
        await using var driver = ModbusDriverBuilder.Build(Driver(""", "maxRegistersPerRequest": 32, "maxBitsPerRequest": 64""", maxGap: 2), peer.NewTransport(), TimeProvider.System);
        var planned = driver.PlannedBlocks.Select(p => p.Block).ToList();
        var keys = s_keys.Select(k => $"m/{k}").ToList();

        var writer = await DriverRun.UntilAsync(driver, w => DriverRun.Settled(w, keys, "m/hole", "m/di5") && w.For("m/unit").Count(s => s.Quality == Quality.Good) >= 3);

        AssertValues(writer);
        Assert.All(planned, b => Assert.InRange(b.Count, 1, b.Table.IsBitTable() ? 64 : 32));
        Assert.Equal(planned, driver.PlannedBlocks.Select(p => p.Block)); // nothing was refused, nothing split
    }

    [Fact]
    public async Task Cli_ModbusRead_UInt64AboveInt64Max_PrintsTheExactValue()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "holding:10:2"], 17, "uint64"), output, error, CancellationToken.None);

        Assert.True(code == 0, error.ToString());
        Assert.Equal(["holding:10 uint64 = 18446744073709551610", "holding:14 uint64 = 151630112918215"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Cli_ModbusRead_MoreThanTheDeviceReadsAtOnce_WorksWithMaxPerRequest()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var refused = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "input:100:40"], 17), output, error, CancellationToken.None);
        var hint = error.ToString();
        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "input:100:40"], 17, MaxPerRequest: 32), output, error, CancellationToken.None);

        Assert.Equal(1, refused);
        Assert.Contains("exception 3 (illegal data value)", hint, StringComparison.Ordinal);
        Assert.Contains("--max-per-request", hint, StringComparison.Ordinal);
        Assert.Equal(0, code);
        Assert.Equal(Enumerable.Range(100, 40).Select(n => $"input:{n} = {n}"), output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Cli_ModbusRead_FunctionTheDeviceLacks_SaysSo()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await ModbusCommands.ReadAsync(new ModbusCommands.ReadOptions([$"127.0.0.1:{peer.Port}", "discrete:0:8"], 17), output, error, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.Contains("exception 1 (illegal function): the device does not implement function 2", error.ToString(), StringComparison.Ordinal);
    }
}

public sealed class ModbusOneBasedRtuLineTests(OneBasedRtuLineFixture peer) : IClassFixture<OneBasedRtuLineFixture>
{
    [Fact]
    public async Task Driver_TwoUnitsOnOneLine_OneBasedMap_SmallDeviceLimit_ReadsEveryValue()
    {
        // Register map counting from 1 ("40001" style): holding:1 is wire address 0. Unit 4 declares its limit; unit 3
        // does not, and its long blocks are refused with exception 2 until split.
        var json = $$"""
            { "name": "line", "type": "modbus-tcp", "rtuOverTcp": true, "host": "127.0.0.1", "port": {{peer.Port}}, "addressBase": 1,
              "maxGap": 100, "intervalMs": 200, "timeoutMs": 3000,
              "devices": [ { "name": "u3", "unitId": 3 }, { "name": "u4", "unitId": 4, "maxRegistersPerRequest": 16 } ],
              "tags": [
                { "name": "unit", "machine": "u3", "address": "holding:1", "device": "u3" },
                { "name": "big", "machine": "u3", "address": "holding:11", "type": "uint64", "device": "u3" },
                { "name": "r150", "machine": "u3", "address": "input:151", "device": "u3" },
                { "name": "r199", "machine": "u3", "address": "input:200", "device": "u3" },
                { "name": "unit", "machine": "u4", "address": "holding:1", "device": "u4" },
                { "name": "serial", "machine": "u4", "address": "holding:31", "type": "string", "length": 16, "order": "BADC", "device": "u4" },
                { "name": "r120", "machine": "u4", "address": "holding:121", "device": "u4" },
                { "name": "c3", "machine": "u4", "address": "coil:4", "device": "u4" } ] }
            """;
        await using var driver = ModbusDriverBuilder.Build(json, peer.NewTransport(), TimeProvider.System);
        string[] keys = ["u3/unit", "u3/big", "u3/r150", "u3/r199", "u4/unit", "u4/serial", "u4/r120", "u4/c3"];

        var writer = await DriverRun.UntilAsync(driver, w => DriverRun.Settled(w, keys) && w.For("u3/unit").Count(s => s.Quality == Quality.Good) >= 2);

        Assert.True(DriverRun.Settled(writer, keys), peer.Output);
        foreach (var key in keys)
        {
            Assert.DoesNotContain(writer.For(key), s => s.Quality == Quality.Bad);
        }

        Assert.Equal(3, writer.For("u3/unit")[^1].Value.AsInteger);
        Assert.Equal(18446744073709551610.0, writer.For("u3/big")[^1].Value.AsDouble);
        Assert.Equal(150, writer.For("u3/r150")[^1].Value.AsInteger);
        Assert.Equal(199, writer.For("u3/r199")[^1].Value.AsInteger);
        Assert.Equal(4, writer.For("u4/unit")[^1].Value.AsInteger);
        Assert.Equal("SN-0042-XY-12345", writer.For("u4/serial")[^1].Value.AsString);
        Assert.Equal(120, writer.For("u4/r120")[^1].Value.AsInteger);
        Assert.True(writer.For("u4/c3")[^1].Value.AsBoolean);
        Assert.All(driver.PlannedBlocks.Where(p => p.Device == "u4"), p => Assert.InRange(p.Block.Count, 1, p.Block.Table.IsBitTable() ? 2000 : 16));
    }
}
