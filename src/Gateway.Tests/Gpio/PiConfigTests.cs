using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Gpio;

/// <summary>gpio and i2c settings are checked at load with their JSON paths, like every other key.</summary>
public sealed class PiConfigTests
{
    private static IReadOnlyList<ConfigProblem> Load(string driverJson)
    {
        using var config = new TestConfig();
        config.Root["drivers"]!.AsArray().Add(JsonNode.Parse(driverJson));
        return ConfigLoader.Load(config.Write(), BuiltInDrivers.Factories, includeEnvironment: false).Problems;
    }

    [Fact]
    public void Load_ValidGpioAndI2cDrivers_HasNoProblem()
    {
        Assert.Empty(Load("""{ "name": "io", "type": "gpio", "driver": "libgpiod", "chip": 4, "tags": [ { "name": "parts", "address": "pin:17", "mode": "counter", "edge": "falling", "pull": "up", "debounceMs": 2 }, { "name": "lamp", "address": "pin:5", "mode": "output", "writable": true } ] }"""));
        Assert.Empty(Load("""{ "name": "env", "type": "i2c", "bus": 1, "address": "0x77", "sensor": "bme280", "pollIntervalMs": 5000, "tags": [ { "name": "t", "address": "temperature", "unit": "degF", "deadband": 0.1 } ] }"""));
    }

    [Theory]
    [InlineData("""{ "name": "io", "type": "gpio", "tags": [ { "name": "a", "address": "17" } ] }""", "drivers[0].tags[0].address")]
    [InlineData("""{ "name": "io", "type": "gpio", "tags": [ { "name": "a", "address": "pin:17" }, { "name": "b", "address": "pin:17" } ] }""", "drivers[0].tags[1].address")]
    [InlineData("""{ "name": "io", "type": "gpio", "tags": [ { "name": "a", "address": "pin:17", "mode": "output" } ] }""", "drivers[0].tags[0].writable")]
    [InlineData("""{ "name": "io", "type": "gpio", "tags": [ { "name": "a", "address": "pin:17", "writable": true } ] }""", "drivers[0].tags[0].writable")]
    [InlineData("""{ "name": "io", "type": "gpio", "tags": [ { "name": "a", "address": "pin:17", "pull": "sideways" } ] }""", "drivers[0].tags[0].pull")]
    [InlineData("""{ "name": "io", "type": "gpio", "tags": [ { "name": "a", "address": "pin:17", "mode": "counter", "edge": "up" } ] }""", "drivers[0].tags[0].edge")]
    [InlineData("""{ "name": "io", "type": "gpio", "tags": [ { "name": "a", "address": "pin:17", "debounce": 5 } ] }""", "drivers[0].tags[0].debounce")]
    [InlineData("""{ "name": "io", "type": "gpio", "tags": [ { "name": "a", "address": "pin:17", "debounceMs": -1 } ] }""", "drivers[0].tags[0].debounceMs")]
    [InlineData("""{ "name": "io", "type": "gpio", "tags": [ { "name": "a", "address": "pin:17", "mode": "counter", "type": "bool" } ] }""", "drivers[0].tags[0].type")]
    [InlineData("""{ "name": "io", "type": "gpio", "driver": "pigpio", "tags": [] }""", "drivers[0].driver")]
    [InlineData("""{ "name": "io", "type": "gpio", "chip": "zero", "tags": [] }""", "drivers[0].chip")]
    [InlineData("""{ "name": "env", "type": "i2c", "sensor": "bmp999", "tags": [] }""", "drivers[0].sensor")]
    [InlineData("""{ "name": "env", "type": "i2c", "tags": [] }""", "drivers[0].sensor")]
    [InlineData("""{ "name": "env", "type": "i2c", "sensor": "bme280", "address": "0x80", "tags": [] }""", "drivers[0].address")]
    [InlineData("""{ "name": "env", "type": "i2c", "sensor": "bme280", "pollIntervalMs": 0, "tags": [] }""", "drivers[0].pollIntervalMs")]
    [InlineData("""{ "name": "env", "type": "i2c", "sensor": "bme280", "tags": [ { "name": "t", "address": "voltage" } ] }""", "drivers[0].tags[0].address")]
    [InlineData("""{ "name": "env", "type": "i2c", "sensor": "bme280", "tags": [ { "name": "t", "address": "temperature", "unit": "hPa" } ] }""", "drivers[0].tags[0].unit")]
    [InlineData("""{ "name": "env", "type": "i2c", "sensor": "bme280", "tags": [ { "name": "t", "address": "temperature", "signal": "4-20mA" } ] }""", "drivers[0].tags[0].signal")]
    [InlineData("""{ "name": "adc", "type": "i2c", "sensor": "ads1115", "fullScaleVolts": 5, "tags": [] }""", "drivers[0].fullScaleVolts")]
    [InlineData("""{ "name": "adc", "type": "i2c", "sensor": "ads1115", "tags": [ { "name": "p", "address": "ain0", "signal": "4-20mA" } ] }""", "drivers[0].tags[0].unit")]
    [InlineData("""{ "name": "adc", "type": "i2c", "sensor": "ads1115", "tags": [ { "name": "p", "address": "ain0", "signal": "4-20 mA", "unit": "bar" } ] }""", "drivers[0].tags[0].signal")]
    [InlineData("""{ "name": "adc", "type": "i2c", "sensor": "ads1115", "tags": [ { "name": "p", "address": "ain0", "signal": "0-10V", "unit": "bar", "rangeMin": 5, "rangeMax": 5 } ] }""", "drivers[0].tags[0].rangeMax")]
    [InlineData("""{ "name": "adc", "type": "i2c", "sensor": "ads1115", "tags": [ { "name": "p", "address": "ain0", "shunt": 165 } ] }""", "drivers[0].tags[0].shunt")]
    [InlineData("""{ "name": "pw", "type": "i2c", "sensor": "ina219", "shuntOhms": 0.1, "maxCurrentAmps": 0.001, "tags": [] }""", "drivers[0].maxCurrentAmps")]
    [InlineData("""{ "name": "pw", "type": "i2c", "sensor": "ina219", "tags": [ { "name": "i", "address": "current", "writable": true } ] }""", "drivers[0].tags[0].writable")]
    public void Load_BrokenPiDriver_IsRefusedWithItsJsonPath(string driverJson, string expectedPath)
    {
        var problems = Load(driverJson);

        Assert.Contains(problems, p => p.Path == expectedPath);
        Assert.All(problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Reason)));
    }
}
