using Gateway.Drivers;
using Gateway.Drivers.Gpio;
using Iot.Device.Ads1115;
using Iot.Device.Bmxx80;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Gpio;

/// <summary>The real dotnet/iot bindings against register-level chips, checked with the datasheets' worked examples.</summary>
public sealed class I2cSensorTests
{
    /// <summary>The compensation example of Bosch's BMx280 datasheets (section 3.12 / 8.2), with the trimming of a real BME280 for humidity.</summary>
    private static Bme280Chip DatasheetBme280()
    {
        var chip = new Bme280Chip();
        chip.SetTemperatureCalibration(27504, 26435, -1000);
        chip.SetPressureCalibration(36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000);
        chip.SetHumidityCalibration(75, 370, 0, 309, 50, 30);
        chip.SetReadings(adcPressure: 415148, adcTemperature: 519888, adcHumidity: 30000);
        return chip;
    }

    /// <summary>The datasheet's floating-point humidity compensation (BME280 datasheet 8.1), written independently of the binding.</summary>
    private static double DatasheetHumidity(int tFine, int adcH, byte h1, short h2, byte h3, short h4, short h5, sbyte h6)
    {
        var v = tFine - 76800.0;
        v = (adcH - ((h4 * 64.0) + (h5 / 16384.0 * v))) * (h2 / 65536.0 * (1.0 + (h6 / 67108864.0 * v * (1.0 + (h3 / 67108864.0 * v)))));
        v *= 1.0 - (h1 * v / 524288.0);
        return Math.Clamp(v, 0, 100);
    }

    [Fact]
    public void Bme280_DatasheetExample_GivesTwentyFivePointZeroEightDegreesAnd1006Point53HectoPascals()
    {
        using var bme280 = new Bme280(DatasheetBme280());
        bme280.SetPowerMode(Iot.Device.Bmxx80.PowerMode.Bmx280PowerMode.Normal);

        Assert.True(bme280.TryReadTemperature(out var temperature));
        Assert.True(bme280.TryReadPressure(out var pressure));
        Assert.True(bme280.TryReadHumidity(out var humidity));

        // Datasheet: t_fine = 128422, T = 25.08 °C; p = 25767236 / 256 = 100653.27 Pa.
        Assert.Equal(25.08, Math.Round(temperature.DegreesCelsius, 2));
        Assert.Equal(100653.27, pressure.Pascals, 0.01);
        Assert.Equal(DatasheetHumidity(128422, 30000, 75, 370, 0, 309, 50, 30), humidity.Percent, 1e-3);
    }

    [Fact]
    public async Task I2cDriver_Bme280_SamplesCarryDegCRelativeHumidityAndHectoPascal()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = DatasheetBme280();
        await using var driver = PiTestKit.Create(new I2cDriverFactory(chip.Bus), """
            { "name": "env", "type": "i2c", "sensor": "bme280", "address": "0x76", "machine": "cabinet",
              "tags": [ { "name": "t", "address": "temperature" }, { "name": "h", "address": "humidity" },
                        { "name": "p", "address": "pressure", "unit": "hPa" }, { "name": "tf", "address": "temperature", "unit": "degF" } ] }
            """, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);

        await PiTestKit.UntilAsync(() => samples.Snapshot().Count >= 4);
        await stop.CancelAsync();
        await run;

        var t = samples.Of("t")[0];
        Assert.Equal(("degC", Quality.Good), (t.Tag.Unit, t.Quality));
        Assert.Equal(25.08, Math.Round(t.Value.AsDouble, 2));
        Assert.Equal("%RH", samples.Of("h")[0].Tag.Unit);
        Assert.Equal(1006.5327, samples.Of("p")[0].Value.AsDouble, 0.0001);
        Assert.Equal("hPa", samples.Of("p")[0].Tag.Unit);
        Assert.Equal(77.15, Math.Round(samples.Of("tf")[0].Value.AsDouble, 2));

        // Standard oversampling (x4: 0b011) for temperature and pressure, normal mode; x4 for humidity.
        Assert.Equal(0b011_011_11, chip.ControlMeasurement);
        Assert.Equal(0b011, chip.ControlHumidity);
    }

    [Fact]
    public void Bme280_WrongChipId_IsRefusedByTheBinding()
    {
        var notABme280 = new WrongIdChip();

        Assert.Throws<IOException>(() => new Bme280(notABme280));
    }

    private sealed class WrongIdChip : EightBitRegisterChip
    {
        public WrongIdChip()
            : base(0x76) => Registers[0xD0] = 0x58; // a BMP280
    }

    [Fact]
    public void Sht3x_DatasheetConversion_GivesTwentyFiveDegreesAndFiftyPercent()
    {
        // Datasheet 4.13: T = -45 + 175 × S_T / (2^16 - 1); RH = 100 × S_RH / (2^16 - 1).
        var chip = new Sht3xChip { RawTemperature = 0x6666, RawHumidity = 0x8000 };
        using var sht3x = new Iot.Device.Sht3x.Sht3x(chip);

        Assert.Equal(-45 + (175.0 * 0x6666 / 65535), sht3x.Temperature.DegreesCelsius, 0.05);
        Assert.Equal(100.0 * 0x8000 / 65535, sht3x.Humidity.Percent, 0.05);
        Assert.Equal([0x30A2, 0x2400, 0x2400], chip.Commands); // soft reset, then single shot at high repeatability per reading
    }

    [Fact]
    public void Sht3x_Crc8_MatchesTheDatasheetExample()
    {
        // Datasheet 4.12, Table 20: CRC (0xBEEF) = 0x92.
        Assert.Equal(0x92, Sht3xChip.Crc8([0xBE, 0xEF]));
        Assert.Equal(0x92, Sht3xCrcCheck.Crc8([0xBE, 0xEF]));
    }

    [Fact]
    public async Task I2cDriver_Sht3xWithCorruptedCrc_GivesBadNotAStaleValue()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = new Sht3xChip { RawTemperature = 0x6666, RawHumidity = 0x8000, CorruptCrc = true };
        await using var driver = PiTestKit.Create(new I2cDriverFactory(chip.Bus), """
            { "name": "room", "type": "i2c", "sensor": "sht3x", "machine": "room",
              "tags": [ { "name": "t", "address": "temperature" }, { "name": "h", "address": "humidity", "unit": "%RH" } ] }
            """, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);

        await PiTestKit.UntilAsync(() => samples.Snapshot().Count >= 2, what: "Bad samples");
        chip.CorruptCrc = false;
        await PiTestKit.UntilAsync(() => samples.Of("h").Any(s => s.Quality == Quality.Good), time, TimeSpan.FromSeconds(1), "recovery");
        await stop.CancelAsync();
        await run;

        Assert.All(samples.Snapshot().Take(2), s => Assert.Equal(Quality.Bad, s.Quality));
        Assert.Equal(50.0, samples.Of("h").First(s => s.Quality == Quality.Good).Value.AsDouble, 0.05);
    }

    [Theory]
    [InlineData((short)0x7FFF, 4.095875)]
    [InlineData((short)0x0001, 0.000125)]
    [InlineData((short)0, 0.0)]
    [InlineData(unchecked((short)0x8000), -4.096)]
    [InlineData((short)0x4000, 2.048)]
    public void Ads1115_OutputCode_ConvertsToVoltsAsInTheDatasheet(short code, double volts)
    {
        // Datasheet Table 8-3 (FSR ±4.096 V): LSB = FSR / 2^15 = 125 µV; 0x7FFF is +FS - 1 LSB; 0x8000 is -FS.
        var chip = new Ads1115Chip { ForcedCode = code };
        using var ads1115 = new Ads1115(chip, InputMultiplexer.AIN0, MeasuringRange.FS4096, DataRate.SPS128, DeviceMode.PowerDown);

        Assert.Equal(volts, ads1115.ReadVoltage(InputMultiplexer.AIN0).Volts, 1e-9);
    }

    [Fact]
    public async Task I2cDriver_Ads1115Loops_ScaleLinearlyAndAnOpenLoopIsBad()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = new Ads1115Chip();
        chip.Inputs[0] = 12e-3 * 165; // 12 mA through 165 Ω: mid-scale
        chip.Inputs[1] = 20e-3 * 165; // 20 mA: top of scale
        chip.Inputs[2] = 0.0;         // open loop: no current
        chip.Inputs[3] = 2.5;         // 10 V through a 4:1 divider
        await using var driver = PiTestKit.Create(new I2cDriverFactory(chip.Bus), """
            { "name": "adc", "type": "i2c", "sensor": "ads1115", "address": 72, "fullScaleVolts": 4.096, "machine": "tank",
              "tags": [
                { "name": "level", "address": "ain0", "signal": "4-20mA", "shuntOhms": 165, "rangeMin": 0, "rangeMax": 10, "unit": "bar" },
                { "name": "full", "address": "ain1", "signal": "4-20mA", "shuntOhms": 165, "rangeMin": 0, "rangeMax": 10, "unit": "bar" },
                { "name": "broken", "address": "ain2", "signal": "4-20mA", "rangeMin": 0, "rangeMax": 10, "unit": "bar" },
                { "name": "speed", "address": "ain3", "signal": "0-10V", "dividerRatio": 4, "rangeMin": 0, "rangeMax": 1500, "unit": "rpm" },
                { "name": "raw", "address": "ain3", "unit": "mV" } ] }
            """, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);

        await PiTestKit.UntilAsync(() => samples.Snapshot().Count >= 5);
        await stop.CancelAsync();
        await run;

        Assert.Equal(5.0, samples.Of("level")[0].Value.AsDouble, 1e-9);   // 1.98 V = code 15840 exactly
        Assert.Equal(10.0, samples.Of("full")[0].Value.AsDouble, 1e-9);   // 3.3 V = code 26400
        Assert.Equal((Quality.Bad, AnalogSignal.BadSensorFailure), (samples.Of("broken")[0].Quality, samples.Of("broken")[0].StatusCode));
        Assert.Equal(1500.0, samples.Of("speed")[0].Value.AsDouble, 1e-9);
        Assert.Equal(2500.0, samples.Of("raw")[0].Value.AsDouble, 1e-9);
        Assert.Equal(("bar", "rpm", "mV"), (samples.Of("level")[0].Tag.Unit, samples.Of("speed")[0].Tag.Unit, samples.Of("raw")[0].Tag.Unit));
    }

    [Theory]
    [InlineData(3.59, null)]
    [InlineData(3.6, -0.25)]
    [InlineData(4.0, 0.0)]
    [InlineData(20.0, 10.0)]
    [InlineData(21.01, null)]
    public void AnalogSignal_LoopCurrent_OpenBelow3Point6mAAndFailedAbove21mA(double milliamps, double? expected)
    {
        var value = AnalogSignal.FromLoop(UnitsNet.ElectricCurrent.FromMilliamperes(milliamps), 0, 10);

        if (expected is null)
        {
            Assert.Null(value);
        }
        else
        {
            Assert.Equal(expected.Value, value!.Value, 1e-9);
        }
    }

    [Fact]
    public async Task I2cDriver_Ina219DatasheetExample_GivesTenAmperesAnd120Watts()
    {
        // Datasheet 8.5.1 example: 12 V bus, 10 A load, 2 mΩ shunt, Current_LSB 1 mA → Cal = 20480; V_shunt = 20 mV (2000 counts).
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = new Ina219Chip { ShuntRegister = 2000, BusCounts = 3000 };
        await using var driver = PiTestKit.Create(new I2cDriverFactory(chip.Bus), """
            { "name": "power", "type": "i2c", "sensor": "ina219", "address": "0x40", "shuntOhms": 0.002, "currentLsbAmps": 0.001, "machine": "press",
              "tags": [ { "name": "i", "address": "current" }, { "name": "ima", "address": "current", "unit": "mA" },
                        { "name": "p", "address": "power" }, { "name": "v", "address": "bus-voltage" }, { "name": "vs", "address": "shunt-voltage", "unit": "mV" } ] }
            """, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);

        await PiTestKit.UntilAsync(() => samples.Snapshot().Count >= 5);
        await stop.CancelAsync();
        await run;

        Assert.Equal(20480, chip.Calibration);
        // The binding takes the current LSB as a float: exact to about 1e-7 relative.
        Assert.Equal(10.0, samples.Of("i")[0].Value.AsDouble, 1e-5);
        Assert.Equal(10000.0, samples.Of("ima")[0].Value.AsDouble, 1e-2);
        Assert.Equal(120.0, samples.Of("p")[0].Value.AsDouble, 1e-4);
        Assert.Equal(("A", "mA", "W"), (samples.Of("i")[0].Tag.Unit, samples.Of("ima")[0].Tag.Unit, samples.Of("p")[0].Tag.Unit));
        Assert.Equal(12.0, samples.Of("v")[0].Value.AsDouble, 1e-9);
        Assert.Equal(20.0, samples.Of("vs")[0].Value.AsDouble, 1e-9);
    }

    [Fact]
    public async Task I2cDriver_Ina219ReverseCurrent_IsNegativeNotWrapped()
    {
        // Datasheet example reversed: -20 mV across 2 mΩ is -10 A; the chip's current register holds -10000.
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = new Ina219Chip { ShuntRegister = -2000, BusCounts = 3000 };
        await using var driver = PiTestKit.Create(new I2cDriverFactory(chip.Bus), """
            { "name": "power", "type": "i2c", "sensor": "ina219", "shuntOhms": 0.002, "currentLsbAmps": 0.001, "machine": "press",
              "tags": [ { "name": "i", "address": "current" } ] }
            """, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);

        await PiTestKit.UntilAsync(() => samples.Snapshot().Count >= 1);
        await stop.CancelAsync();
        await run;

        Assert.Equal(-10.0, samples.Of("i")[0].Value.AsDouble, 1e-5);
    }

    [Fact]
    public async Task I2cDriver_SensorDisappears_TagsTurnBadOnceAndRecoverAfterBackoff()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = DatasheetBme280();
        await using var driver = PiTestKit.Create(new I2cDriverFactory(chip.Bus), """
            { "name": "env", "type": "i2c", "sensor": "bme280", "pollIntervalMs": 1000, "machine": "cabinet",
              "tags": [ { "name": "t", "address": "temperature" }, { "name": "h", "address": "humidity" }, { "name": "p", "address": "pressure" } ] }
            """, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);
        await PiTestKit.UntilAsync(() => samples.Snapshot().Count >= 3, what: "first poll");
        Assert.Equal(DriverState.Connected, driver.State);

        chip.Present = false;
        await PiTestKit.UntilAsync(() => chip.Nacks >= 6, time, TimeSpan.FromSeconds(2), "several failed attempts");
        Assert.Equal(DriverState.Disconnected, driver.State);
        Assert.Contains("acknowledge", driver.LastError, StringComparison.Ordinal);
        var badSoFar = samples.Snapshot().Where(s => s.Quality == Quality.Bad).ToList();

        chip.Present = true;
        var before = samples.Snapshot().Count;
        await PiTestKit.UntilAsync(() => samples.Snapshot().Skip(before).Count(s => s.Quality == Quality.Good) >= 3, time, TimeSpan.FromSeconds(2), "recovery");
        Assert.Equal(DriverState.Connected, driver.State);
        await stop.CancelAsync();
        await run;

        // Bad once per tag for the whole outage, with the communication error status, then Good again.
        Assert.Equal(3, badSoFar.Count);
        Assert.Equal(["h", "p", "t"], badSoFar.Select(s => s.Tag.Path).Order(StringComparer.Ordinal));
        Assert.All(badSoFar, s => Assert.Equal(I2cSensorDriver.BadCommunicationError, s.StatusCode));
        Assert.Equal(3, samples.Snapshot().Count(s => s.Quality == Quality.Bad));
        Assert.Equal((Quality.Good, 25.08), (samples.Of("t")[^1].Quality, Math.Round(samples.Of("t")[^1].Value.AsDouble, 2)));
    }
}
