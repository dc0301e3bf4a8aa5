using System.Device.I2c;
using Iot.Device.Adc;
using Iot.Device.Ads1115;
using Iot.Device.Bmxx80;
using Iot.Device.Bmxx80.PowerMode;
using Iot.Device.Sht3x;
using UnitsNet;

namespace Gateway.Drivers.Gpio;

/// <summary>One chip behind a dotnet/iot binding; reads quantities as UnitsNet types.</summary>
internal interface II2cSensor : IDisposable
{
    /// <summary>Reads one quantity (a tag's address); null when the chip returned no value. Throws <see cref="IOException"/> when the chip does not answer.</summary>
    IQuantity? Read(string quantity);
}

/// <summary>What each sensor kind measures: the tag addresses it accepts and their UnitsNet quantity.</summary>
internal static class I2cSensorKinds
{
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, Type>> Quantities = new Dictionary<string, IReadOnlyDictionary<string, Type>>(StringComparer.Ordinal)
    {
        ["bme280"] = new Dictionary<string, Type> { ["temperature"] = typeof(Temperature), ["humidity"] = typeof(RelativeHumidity), ["pressure"] = typeof(Pressure) },
        ["sht3x"] = new Dictionary<string, Type> { ["temperature"] = typeof(Temperature), ["humidity"] = typeof(RelativeHumidity) },
        ["ina219"] = new Dictionary<string, Type> { ["current"] = typeof(ElectricCurrent), ["power"] = typeof(Power), ["bus-voltage"] = typeof(ElectricPotential), ["shunt-voltage"] = typeof(ElectricPotential) },
        ["ads1115"] = new Dictionary<string, Type>
        {
            ["ain0"] = typeof(ElectricPotential), ["ain1"] = typeof(ElectricPotential), ["ain2"] = typeof(ElectricPotential), ["ain3"] = typeof(ElectricPotential),
            ["ain0-ain1"] = typeof(ElectricPotential), ["ain0-ain3"] = typeof(ElectricPotential), ["ain1-ain3"] = typeof(ElectricPotential), ["ain2-ain3"] = typeof(ElectricPotential),
        },
    };

    public static readonly IReadOnlyDictionary<string, byte> DefaultAddresses = new Dictionary<string, byte>(StringComparer.Ordinal)
    {
        ["bme280"] = 0x76,
        ["sht3x"] = 0x44,
        ["ads1115"] = 0x48,
        ["ina219"] = 0x40,
    };

    public static II2cSensor Open(I2cSettings settings, I2cDevice device) => settings.Sensor switch
    {
        "bme280" => new Bme280Sensor(device),
        "sht3x" => new Sht3xSensor(device),
        "ads1115" => new Ads1115Sensor(device, settings.FullScaleVolts),
        "ina219" => new Ina219Sensor(device, settings),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Sensor, "unknown sensor"),
    };

    /// <summary>The INA219 calibration register and current LSB (datasheet 8.5.1: Cal = trunc(0.04096 / (Current_LSB × R_shunt))).</summary>
    public static (ushort Calibration, double CurrentLsb) Ina219Calibration(I2cSettings settings)
    {
        var lsb = settings.CurrentLsbAmps ?? settings.MaxCurrentAmps / 32768.0;
        var calibration = Math.Truncate(0.04096 / (lsb * settings.ShuntOhms));
        return (calibration is >= 1 and <= 65534 ? (ushort)calibration : (ushort)0, lsb);
    }

    public static Iot.Device.Ads1115.MeasuringRange? MeasuringRange(double fullScaleVolts) => fullScaleVolts switch
    {
        6.144 => Iot.Device.Ads1115.MeasuringRange.FS6144,
        4.096 => Iot.Device.Ads1115.MeasuringRange.FS4096,
        2.048 => Iot.Device.Ads1115.MeasuringRange.FS2048,
        1.024 => Iot.Device.Ads1115.MeasuringRange.FS1024,
        0.512 => Iot.Device.Ads1115.MeasuringRange.FS0512,
        0.256 => Iot.Device.Ads1115.MeasuringRange.FS0256,
        _ => null,
    };
}

internal sealed class Bme280Sensor : II2cSensor
{
    private readonly Bme280 _bme280;

    public Bme280Sensor(I2cDevice device)
    {
        // The binding checks the chip id (0x60) and reads the calibration words.
        _bme280 = new Bme280(device)
        {
            TemperatureSampling = Sampling.Standard,
            PressureSampling = Sampling.Standard,
            HumiditySampling = Sampling.Standard,
        };
        _bme280.SetPowerMode(Bmx280PowerMode.Normal);
    }

    public IQuantity? Read(string quantity) => quantity switch
    {
        "temperature" => _bme280.TryReadTemperature(out var temperature) ? temperature : null,
        "pressure" => _bme280.TryReadPressure(out var pressure) ? pressure : null,
        "humidity" => _bme280.TryReadHumidity(out var humidity) ? RelativeHumidity.FromPercent(humidity.Percent) : null,
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "BME280 measures temperature, humidity and pressure"),
    };

    public void Dispose() => _bme280.Dispose();
}

internal sealed class Sht3xSensor : II2cSensor
{
    private readonly Sht3x _sht3x;

    public Sht3xSensor(I2cDevice device) =>
        _sht3x = new Sht3x(new Sht3xCrcCheck(device), Resolution.High);

    public IQuantity? Read(string quantity) => quantity switch
    {
        "temperature" => _sht3x.Temperature,
        "humidity" => _sht3x.Humidity,
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "SHT3x measures temperature and humidity"),
    };

    public void Dispose() => _sht3x.Dispose();
}

/// <summary>
/// The SHT3x binding drops a reading whose CRC is wrong and silently returns the previous one; this
/// decorator checks the CRC-8 of both words (datasheet 4.12: polynomial 0x31, init 0xFF) and throws instead,
/// so a disturbed bus gives a Bad sample rather than a stale Good one.
/// </summary>
internal sealed class Sht3xCrcCheck(I2cDevice inner) : I2cDevice
{
    public override I2cConnectionSettings ConnectionSettings => inner.ConnectionSettings;

    public override byte ReadByte() => inner.ReadByte();

    public override void Read(Span<byte> buffer)
    {
        inner.Read(buffer);
        if (buffer.Length == 6 && (Crc8(buffer[..2]) != buffer[2] || Crc8(buffer.Slice(3, 2)) != buffer[5]))
        {
            throw new IOException("SHT3x measurement failed its CRC check");
        }
    }

    public override void WriteByte(byte value) => inner.WriteByte(value);

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => inner.WriteRead(writeBuffer, readBuffer);

    public static byte Crc8(ReadOnlySpan<byte> data)
    {
        byte crc = 0xFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x80) != 0 ? (byte)((crc << 1) ^ 0x31) : (byte)(crc << 1);
            }
        }

        return crc;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

internal sealed class Ads1115Sensor : II2cSensor
{
    private readonly Ads1115 _ads1115;
    private readonly I2cDevice _device;

    public Ads1115Sensor(I2cDevice device, double fullScaleVolts)
    {
        _device = device;

        // Single-shot (power-down) mode: each read starts a conversion on the asked input, as advised when switching inputs.
        _ads1115 = new Ads1115(device, InputMultiplexer.AIN0, I2cSensorKinds.MeasuringRange(fullScaleVolts) ?? Iot.Device.Ads1115.MeasuringRange.FS4096, DataRate.SPS128, DeviceMode.PowerDown);
    }

    public IQuantity? Read(string quantity) => _ads1115.ReadVoltage(quantity switch
    {
        "ain0" => InputMultiplexer.AIN0,
        "ain1" => InputMultiplexer.AIN1,
        "ain2" => InputMultiplexer.AIN2,
        "ain3" => InputMultiplexer.AIN3,
        "ain0-ain1" => InputMultiplexer.AIN0_AIN1,
        "ain0-ain3" => InputMultiplexer.AIN0_AIN3,
        "ain1-ain3" => InputMultiplexer.AIN1_AIN3,
        "ain2-ain3" => InputMultiplexer.AIN2_AIN3,
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "ADS1115 inputs are ain0..ain3 or a differential pair"),
    });

    public void Dispose()
    {
        try
        {
            // The binding resets the comparator registers first: on a lost chip that throws before it closes the bus.
            _ads1115.Dispose();
        }
        finally
        {
            _device.Dispose();
        }
    }
}

internal sealed class Ina219Sensor : II2cSensor
{
    private readonly Ina219 _ina219;
    private readonly I2cDevice _device;

    public Ina219Sensor(I2cDevice device, I2cSettings settings)
    {
        _device = device;
        _ina219 = new Ina219(device);
        _ina219.Reset();
        _ina219.BusVoltageRange = Ina219BusVoltageRange.Range32v;
        _ina219.PgaSensitivity = Ina219PgaSensitivity.PlusOrMinus320mv;
        var (calibration, lsb) = I2cSensorKinds.Ina219Calibration(settings);
        _currentLsb = (float)lsb;
        _ina219.SetCalibration(calibration, _currentLsb);
    }

    private readonly float _currentLsb;

    /// <summary>
    /// The current register is two's complement (datasheet 8.6.3.5) but the binding reads it unsigned, so a
    /// small reverse current (or noise around zero) would read as tens of amperes: undo the wrap.
    /// </summary>
    private ElectricCurrent Signed(ElectricCurrent unsigned)
    {
        var register = Math.Round(unsigned.Amperes / _currentLsb);
        return register > short.MaxValue ? ElectricCurrent.FromAmperes((register - 65536) * _currentLsb) : unsigned;
    }

    public IQuantity? Read(string quantity) => quantity switch
    {
        "current" => Signed(_ina219.ReadCurrent()),
        "power" => _ina219.ReadPower(),
        "bus-voltage" => _ina219.ReadBusVoltage(),
        "shunt-voltage" => _ina219.ReadShuntVoltage(),
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "INA219 measures current, power, bus-voltage and shunt-voltage"),
    };

    public void Dispose()
    {
        // The INA219 binding leaves the device it was given open.
        _ina219.Dispose();
        _device.Dispose();
    }
}
