using System.Text;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

using Xunit;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Modbus;

/// <summary>Builds a Modbus driver from a JSON driver section, over any transport.</summary>
internal static class ModbusDriverBuilder
{
    public static ModbusDriver Build(string json, IModbusTransport transport, TimeProvider timeProvider)
    {
        var section = Section(json);
        var config = section.Get<DriverConfig>()!;
        var problems = new List<Gateway.Drivers.ConfigProblem>();
        var plan = ModbusDriverFactory.Resolve(config, section, "drivers[0]", problems);
        Assert.Empty(problems);
        return new ModbusDriver(config.Name, plan, new ModbusClient(transport), new DriverContext(timeProvider, NullLoggerFactory.Instance));
    }

    public static IConfigurationSection Section(string json)
    {
        var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("{\"d\":" + json + "}"))).Build();
        return root.GetSection("d");
    }
}

/// <summary>The polling engine, on a fake clock and an in-memory transport.</summary>
public sealed class ModbusDriverTests
{
    private readonly FakeTimeProvider _time = new();

    /// <summary>Advances the fake clock in steps, letting the poll loops run between steps.</summary>
    private async Task AdvanceAsync(TimeSpan total, TimeSpan step)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < total; elapsed += step)
        {
            _time.Advance(step);
            await Task.Delay(3);
        }
    }

    private static Task WaitForAsync(Func<bool> condition) =>
        Eventually.TrueAsync(condition, "condition", TimeSpan.FromSeconds(10), poll: TimeSpan.FromMilliseconds(5));

    private const string TwoDevices = """
        {
          "name": "line", "type": "modbus-tcp", "host": "plc", "timeoutMs": 200, "intervalMs": 1000,
          "backoffMinMs": 500, "backoffMaxMs": 4000,
          "devices": [ { "name": "press", "unitId": 1 }, { "name": "welder", "unitId": 9, "timeoutMs": 300 } ],
          "tags": [
            { "name": "count", "machine": "press", "address": "holding:0", "device": "press" },
            { "name": "temp", "machine": "press", "address": "holding:1", "type": "int16", "scale": 0.1, "device": "press" },
            { "name": "count", "machine": "welder", "address": "holding:0", "device": "welder" },
            { "name": "running", "machine": "welder", "address": "coil:0", "device": "welder" }
          ]
        }
        """;

    [Fact]
    public async Task Poll_WhenOneDeviceNeverAnswers_MarksItsTagsBadOnceAndOtherDevicesKeepPolling()
    {
        var press = new ModbusDataStore(10, 10, 10, 10);
        press.SetRegisters(ModbusTable.HoldingRegister, 0, [7, 225]);
        var transport = new LoopbackTransport(_time, new() { [1] = press });
        await using var driver = ModbusDriverBuilder.Build(TwoDevices, transport, _time);
        var writer = new CollectingWriter();
        using var stop = new CancellationTokenSource();

        var run = driver.RunAsync(writer, stop.Token);
        await AdvanceAsync(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        await stop.CancelAsync();
        await run;

        var welderCount = writer.For("welder/count");
        var welderRunning = writer.For("welder/running");
        Assert.Equal(Quality.Bad, Assert.Single(welderCount).Quality);
        Assert.Equal(ModbusStatusCodes.BadNoCommunication, welderCount[0].StatusCode);
        Assert.Equal(Quality.Bad, Assert.Single(welderRunning).Quality);
        var pressTemp = writer.For("press/temp");
        Assert.True(pressTemp.Count >= 15, $"press polled {pressTemp.Count} times in 30 s");
        Assert.All(pressTemp, s => Assert.Equal(22.5, s.Value.AsDouble, 9));
        Assert.All(writer.For("press/count"), s => Assert.Equal(7, s.Value.AsInteger));
    }

    [Fact]
    public async Task Poll_WhenDeadDeviceComesBack_EmitsGoodValuesAgain()
    {
        var units = new Dictionary<byte, ModbusDataStore> { [1] = new ModbusDataStore(10, 10, 10, 10) };
        var transport = new LoopbackTransport(_time, units);
        await using var driver = ModbusDriverBuilder.Build(TwoDevices, transport, _time);
        var writer = new CollectingWriter();
        using var stop = new CancellationTokenSource();

        var run = driver.RunAsync(writer, stop.Token);
        await AdvanceAsync(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100));
        var stateWhileDead = driver.State;
        var welder = new ModbusDataStore(10, 10, 10, 10);
        welder.SetRegisters(ModbusTable.HoldingRegister, 0, [31]);
        lock (units)
        {
            units[9] = welder;
        }

        await AdvanceAsync(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        await stop.CancelAsync();
        await run;

        var samples = writer.For("welder/count");
        Assert.Equal(DriverState.Degraded, stateWhileDead);
        Assert.Equal(Quality.Bad, samples[0].Quality);
        Assert.Equal(1, samples.Count(s => s.Quality == Quality.Bad));
        Assert.Equal(Quality.Good, samples[^1].Quality);
        Assert.Equal(31, samples[^1].Value.AsInteger);
    }

    [Fact]
    public async Task Poll_ThousandContiguousRegisters_ReadsThemInEightRequestsPerCycle()
    {
        var tags = string.Join(",", Enumerable.Range(0, 1000).Select(i => $"{{ \"name\": \"r{i}\", \"address\": \"holding:{i}\" }}"));
        var json = $$"""{ "name": "big", "type": "modbus-tcp", "host": "plc", "machine": "m", "intervalMs": 1000, "tags": [ {{tags}} ] }""";
        var transport = new LoopbackTransport(_time, new() { [1] = new ModbusDataStore() });
        await using var driver = ModbusDriverBuilder.Build(json, transport, _time);
        var writer = new CollectingWriter();
        using var stop = new CancellationTokenSource();

        var run = driver.RunAsync(writer, stop.Token);
        await WaitForAsync(() => writer.Snapshot().Count >= 1000);
        var requests = transport.Requests;
        await stop.CancelAsync();
        await run;

        Assert.Equal(1000, writer.Snapshot().Count);
        Assert.Equal(8, requests);
    }

    [Fact]
    public async Task Poll_WhenCoalescedBlockSpansUnmappedAddress_SplitsItAndKeepsTheMappedTagsGood()
    {
        var json = """
            { "name": "d", "type": "modbus-tcp", "host": "plc", "machine": "m", "maxGap": 10,
              "tags": [ { "name": "ok", "address": "holding:5" }, { "name": "missing", "address": "holding:12" } ] }
            """;
        var store = new ModbusDataStore(10, 10, 10, 10);
        store.SetRegisters(ModbusTable.HoldingRegister, 5, [55]);
        var transport = new LoopbackTransport(_time, new() { [1] = store });
        await using var driver = ModbusDriverBuilder.Build(json, transport, _time);
        var writer = new CollectingWriter();
        using var stop = new CancellationTokenSource();

        var run = driver.RunAsync(writer, stop.Token);
        await AdvanceAsync(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(100));
        await stop.CancelAsync();
        await run;

        Assert.All(writer.For("m/ok"), s => Assert.Equal(55, s.Value.AsInteger));
        Assert.True(writer.For("m/ok").Count >= 2);
        var missing = Assert.Single(writer.For("m/missing"));
        Assert.Equal(ModbusStatusCodes.BadOutOfRange, missing.StatusCode);
    }

    [Fact]
    public async Task Poll_EachPollGroupKeepsItsOwnInterval()
    {
        var json = """
            { "name": "d", "type": "modbus-tcp", "host": "plc", "machine": "m",
              "pollGroups": [ { "name": "fast", "intervalMs": 100 }, { "name": "slow", "intervalMs": 2000 } ],
              "tags": [ { "name": "fast", "address": "holding:0", "pollGroup": "fast" }, { "name": "slow", "address": "holding:1", "pollGroup": "slow" } ] }
            """;
        var transport = new LoopbackTransport(_time, new() { [1] = new ModbusDataStore(10, 10, 10, 10) });
        await using var driver = ModbusDriverBuilder.Build(json, transport, _time);
        var writer = new CollectingWriter();
        using var stop = new CancellationTokenSource();

        var run = driver.RunAsync(writer, stop.Token);
        await AdvanceAsync(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        await stop.CancelAsync();
        await run;

        var fast = writer.For("m/fast").Count;
        var slow = writer.For("m/slow").Count;
        Assert.InRange(slow, 1, 6);
        Assert.True(fast >= 5 * slow, $"fast {fast}, slow {slow}");
    }

    [Fact]
    public async Task Write_ToTagNotMarkedWritable_IsRefused()
    {
        var transport = new LoopbackTransport(_time, new() { [1] = new ModbusDataStore(10, 10, 10, 10) });
        await using var driver = ModbusDriverBuilder.Build(TwoDevices, transport, _time);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await driver.WriteAsync(driver.Tags[0], SampleValue.FromInteger(1), CancellationToken.None));

        Assert.Equal(0, transport.Requests);
    }

    [Fact]
    public async Task Write_ToWritableScaledFloatTag_StoresTheRawValueInTheConfiguredOrder()
    {
        var json = """
            { "name": "d", "type": "modbus-tcp", "host": "plc", "machine": "m", "addressBase": 1,
              "tags": [ { "name": "setpoint", "address": "holding:41", "type": "float32", "order": "CDAB", "scale": 0.5, "offset": 10, "writable": true },
                        { "name": "lamp", "address": "coil:3", "writable": true },
                        { "name": "flag", "address": "holding:2.4", "writable": true } ] }
            """;
        var store = new ModbusDataStore(10, 10, 100, 10);
        var transport = new LoopbackTransport(_time, new() { [1] = store });
        await using var driver = ModbusDriverBuilder.Build(json, transport, _time);

        await driver.WriteAsync(driver.Tags[0], SampleValue.FromDouble(70), CancellationToken.None);
        await driver.WriteAsync(driver.Tags[1], SampleValue.FromBoolean(true), CancellationToken.None);
        await driver.WriteAsync(driver.Tags[2], SampleValue.FromBoolean(true), CancellationToken.None);

        var registers = new ushort[2];
        store.GetRegisters(ModbusTable.HoldingRegister, 40, registers);
        Assert.Equal(new ushort[] { 0x0000, 0x42F0 }, registers); // (70 - 10) / 0.5 = 120.0f = 0x42F00000, words swapped
        var coils = new bool[1];
        store.GetBits(ModbusTable.Coil, 2, coils);
        Assert.True(coils[0]);
        var flag = new ushort[1];
        store.GetRegisters(ModbusTable.HoldingRegister, 1, flag);
        Assert.Equal(1 << 4, flag[0]);
    }
}
