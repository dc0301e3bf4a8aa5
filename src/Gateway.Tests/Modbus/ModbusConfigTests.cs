using Gateway.Configuration;
using Gateway.Drivers;

using Xunit;

namespace Gateway.Tests.Modbus;

/// <summary>Configuration checks of Modbus drivers, as <c>check-config</c> reports them.</summary>
public sealed class ModbusConfigTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-modbus-config-").FullName;

    private List<string> Problems(string drivers)
    {
        var path = Path.Combine(_directory, "gateway.json");
        var buffer = Path.Combine(_directory, "buffer.db").Replace("\\", "/", StringComparison.Ordinal);
        File.WriteAllText(path, $$"""
            {
              "gateway": { "id": "gw1", "enterprise": "acme", "site": "lyon", "area": "a1", "line": "l1" },
              "buffer": { "path": "{{buffer}}" },
              "drivers": [ {{drivers}} ]
            }
            """);
        var loaded = ConfigLoader.Load(path, BuiltInDrivers.Factories, includeEnvironment: false);
        return loaded.Problems.Select(p => p.ToString()).ToList();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void CheckConfig_CompleteModbusDrivers_HaveNoProblems()
    {
        var problems = Problems("""
            { "name": "press", "type": "modbus-tcp", "host": "10.0.0.5", "port": 502, "machine": "press", "addressBase": 1, "maxGap": 4,
              "pollGroups": [ { "name": "fast", "intervalMs": 200 } ],
              "tags": [
                { "name": "speed", "address": "holding:40", "type": "float32", "order": "CDAB", "unit": "rpm", "pollGroup": "fast" },
                { "name": "serial", "address": "holding:100", "type": "string", "length": 16 },
                { "name": "alarm", "address": "holding:20.3" },
                { "name": "start", "address": "coil:1", "writable": true } ] },
            { "name": "rtu", "type": "modbus-rtu", "serialPort": "/dev/ttyUSB0", "baud": 9600, "parity": "none", "stopBits": 2,
              "devices": [ { "name": "oven", "unitId": 3 }, { "name": "chiller", "unitId": 4, "timeoutMs": 300 } ],
              "tags": [ { "name": "oven-t", "path": "t", "machine": "oven", "address": "input:0", "type": "int16", "scale": 0.1, "device": "oven" },
                        { "name": "chiller-t", "path": "t", "machine": "chiller", "address": "input:0", "device": "chiller" } ] }
            """);

        Assert.Empty(problems);
    }

    [Fact]
    public void CheckConfig_ReportsEachModbusProblemWithItsJsonPath()
    {
        var problems = Problems("""
            { "name": "press", "type": "modbus-tcp", "machine": "m", "addressBase": 1,
              "tags": [
                { "name": "a", "address": "register:5" },
                { "name": "b", "address": "holding:5", "type": "float" },
                { "name": "c", "address": "coil:5", "type": "float32" },
                { "name": "d", "address": "holding:5", "type": "string" },
                { "name": "e", "address": "holding:5", "pollGroup": "fast" },
                { "name": "f", "address": "input:5", "writable": true },
                { "name": "g", "address": "holding:0" },
                { "name": "h", "address": "holding:5", "order": "ADCB" },
                { "name": "i", "address": "holding:5", "device": "oven" } ] }
            """);

        Assert.Contains("drivers[0].host: is required for modbus-tcp", problems);
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[0].address: 'register:5'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[1].type: must be one of", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[2].type: 'coil:5' holds one bit", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[3].length: is required for strings", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[4].pollGroup: unknown poll group 'fast'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[5].writable:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[6].address: 'holding:0' is outside the wire range", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[7].order: must be ABCD, CDAB, BADC or DCBA", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[8].device: unknown device 'oven'", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckConfig_UnknownModbusKey_IsRejectedWithASuggestion()
    {
        var problems = Problems("""
            { "name": "press", "type": "modbus-tcp", "host": "plc", "machine": "m", "timeoutMS": 100, "tags": [ { "name": "a", "address": "holding:1", "ordr": "CDAB" } ] }
            """);

        Assert.Contains("drivers[0].tags[0].ordr: unknown key (did you mean 'order'?)", problems);
    }

    [Fact]
    public void CheckConfig_RtuDriver_NeedsSerialPortAndUnicastUnitIds()
    {
        var problems = Problems("""
            { "name": "rtu", "type": "modbus-rtu", "host": "plc", "parity": "mark",
              "devices": [ { "name": "a", "unitId": 0 }, { "name": "b", "unitId": 248 }, { "name": "c", "unitId": 5 }, { "name": "c", "unitId": 5 } ],
              "tags": [ { "name": "x", "machine": "m", "address": "holding:1" } ] }
            """);

        Assert.Contains("drivers[0].serialPort: is required for modbus-rtu (for example '/dev/ttyUSB0')", problems);
        Assert.Contains("drivers[0].host: is for modbus-tcp; modbus-rtu uses serialPort", problems);
        Assert.Contains("drivers[0].parity: must be none, even or odd, got 'mark'", problems);
        Assert.Contains(problems, p => p.StartsWith("drivers[0].devices[0].unitId: must be between 1 and 247", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].devices[1].unitId: must be between 1 and 247", StringComparison.Ordinal));
        Assert.Contains("drivers[0].devices[3].name: duplicate device name 'c'", problems);
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[0].device: is required when the driver has several devices", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckConfig_RequestLimits_AreCheckedWithTheirJsonPaths()
    {
        var problems = Problems("""
            { "name": "press", "type": "modbus-tcp", "host": "plc", "machine": "m", "maxRegistersPerRequest": 126, "maxBitsPerRequest": 0,
              "devices": [ { "name": "a", "unitId": 1, "maxRegistersPerRequest": 0, "maxBitsPerRequest": 2001 },
                           { "name": "b", "unitId": 2, "maxRegistersPerRequest": 8 } ],
              "tags": [ { "name": "sn", "address": "holding:0", "type": "string", "length": 20, "device": "b" },
                        { "name": "e", "address": "holding:40", "type": "uint64", "device": "b" } ] }
            """);

        Assert.Contains("drivers[0].maxRegistersPerRequest: must be between 1 and 125, got 126", problems);
        Assert.Contains("drivers[0].maxBitsPerRequest: must be between 1 and 2000, got 0", problems);
        Assert.Contains("drivers[0].devices[0].maxRegistersPerRequest: must be between 1 and 125, got 0", problems);
        Assert.Contains("drivers[0].devices[0].maxBitsPerRequest: must be between 1 and 2000, got 2001", problems);
        Assert.Contains("drivers[0].tags[0].length: needs 10 registers in one request, more than device 'b' maxRegistersPerRequest (8)", problems);
        Assert.DoesNotContain(problems, p => p.StartsWith("drivers[0].tags[1]", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckConfig_UnknownDeviceKey_IsRejected()
    {
        var problems = Problems("""
            { "name": "press", "type": "modbus-tcp", "host": "plc", "machine": "m",
              "devices": [ { "name": "b", "unitId": 2, "maxRegisters": 4 } ], "tags": [ { "name": "a", "address": "holding:1", "device": "b" } ] }
            """);

        Assert.Contains(problems, p => p.StartsWith("drivers[0].devices[0].maxRegisters: unknown key", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckConfig_ValueWiderThanTheDriversLimit_IsRefused()
    {
        var problems = Problems("""
            { "name": "meter", "type": "modbus-tcp", "host": "plc", "machine": "m", "maxRegistersPerRequest": 2,
              "tags": [ { "name": "energy", "address": "holding:0", "type": "uint64" }, { "name": "power", "address": "holding:4", "type": "float32" } ] }
            """);

        Assert.Equal(["drivers[0].tags[0].type: needs 4 registers in one request, more than drivers[0].maxRegistersPerRequest (2)"], problems);
    }

    [Fact]
    public void CheckConfig_PollIntervalOfOneMillisecond_IsAccepted()
    {
        var problems = Problems("""
            { "name": "fast", "type": "modbus-tcp", "host": "10.0.0.5", "machine": "m", "intervalMs": 1,
              "pollGroups": [ { "name": "faster", "intervalMs": 1 } ],
              "tags": [ { "name": "a", "address": "holding:5" }, { "name": "b", "address": "holding:6", "pollGroup": "faster" } ] }
            """);

        Assert.Empty(problems);
    }

    [Fact]
    public void CheckConfig_PollIntervalBelowOneMillisecond_IsRefusedWithTheRange()
    {
        var problems = Problems("""
            { "name": "fast", "type": "modbus-tcp", "host": "10.0.0.5", "machine": "m", "intervalMs": 0,
              "pollGroups": [ { "name": "faster", "intervalMs": 0 } ],
              "tags": [ { "name": "a", "address": "holding:5", "pollGroup": "faster" } ] }
            """);

        Assert.Contains("drivers[0].intervalMs: must be between 1 and 86400000, got 0", problems);
        Assert.Contains("drivers[0].pollGroups[0].intervalMs: must be between 1 and 86400000, got 0", problems);
    }

    [Fact]
    public void ModbusSources_DoNotUseTheSimulatedDriver()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var offenders = Directory.EnumerateFiles(Path.Combine(directory.FullName, "src", "Gateway.Drivers", "Modbus"), "*.cs")
            .Where(file => File.ReadAllText(file).Contains("Gateway.Drivers.Simulation", StringComparison.Ordinal))
            .Select(Path.GetFileName)
            .ToList();

        Assert.Empty(offenders);
    }
}
