using System.ComponentModel.DataAnnotations;

namespace Gateway.Drivers.Gpio;

/// <summary>Driver-level keys of the <c>i2c</c> driver: one driver per chip.</summary>
public sealed class I2cSettings
{
    /// <summary>The I2C bus, <c>/dev/i2c-N</c>; 1 on a Raspberry Pi's header.</summary>
    [Range(0, 255)]
    public int Bus { get; set; } = 1;

    /// <summary>
    /// The chip's 7-bit address, as a hexadecimal string (<c>"0x76"</c>) or a decimal number. Default per sensor:
    /// BME280 0x76, SHT3x 0x44, ADS1115 0x48, INA219 0x40.
    /// </summary>
    [RegularExpression("^(0[xX][0-9A-Fa-f]{1,2}|[0-9]{1,3})$", ErrorMessage = "must be a 7-bit address such as \"0x76\" or 118")]
    public string? Address { get; set; }

    /// <summary><c>bme280</c>, <c>sht3x</c>, <c>ads1115</c> or <c>ina219</c>.</summary>
    [Required]
    [RegularExpression("^(bme280|sht3x|ads1115|ina219)$", ErrorMessage = "must be 'bme280', 'sht3x', 'ads1115' or 'ina219'")]
    public string Sensor { get; set; } = "";

    /// <summary>How often the chip is read, in milliseconds (default 1000).</summary>
    [Range(1, 3_600_000)]
    public int PollIntervalMs { get; set; } = 1000;

    /// <summary>ADS1115: full-scale range of the programmable gain amplifier in volts: 6.144, 4.096 (default), 2.048, 1.024, 0.512 or 0.256.</summary>
    [Range(0.256, 6.144)]
    public double FullScaleVolts { get; set; } = 4.096;

    /// <summary>INA219: the shunt resistor in ohms (default 0.1, the usual breakout board).</summary>
    [Range(0.0001, 1000)]
    public double ShuntOhms { get; set; } = 0.1;

    /// <summary>INA219: the largest current expected, in amperes (default 3.2); sets the current resolution (max / 32768).</summary>
    [Range(0.001, 1000)]
    public double MaxCurrentAmps { get; set; } = 3.2;

    /// <summary>INA219: the current register's resolution in amperes, overriding the one derived from <see cref="MaxCurrentAmps"/>.</summary>
    [Range(0.000001, 1)]
    public double? CurrentLsbAmps { get; set; }
}

/// <summary>
/// Tag-level keys of the <c>i2c</c> driver. The tag's <c>address</c> names the quantity:
/// BME280 <c>temperature</c>, <c>humidity</c>, <c>pressure</c>; SHT3x <c>temperature</c>, <c>humidity</c>;
/// INA219 <c>current</c>, <c>power</c>, <c>bus-voltage</c>, <c>shunt-voltage</c>; ADS1115 <c>ain0</c>..<c>ain3</c>
/// (single-ended) or <c>ain0-ain1</c>, <c>ain0-ain3</c>, <c>ain1-ain3</c>, <c>ain2-ain3</c> (differential).
/// </summary>
public sealed class I2cTagSettings
{
    /// <summary>
    /// ADS1115: what the input carries. <c>voltage</c> (default: the input voltage, in <c>V</c> or <c>mV</c>),
    /// <c>4-20mA</c> (a current loop through <see cref="ShuntOhms"/>; below 3.6 mA or above 21 mA the sample is Bad,
    /// NAMUR NE 43) or <c>0-10V</c> (through a divider of <see cref="DividerRatio"/>).
    /// </summary>
    [RegularExpression("^(voltage|4-20mA|0-10V)$", ErrorMessage = "must be 'voltage', '4-20mA' or '0-10V'")]
    public string Signal { get; set; } = "voltage";

    /// <summary>4-20 mA: the shunt in ohms (default 165: 20 mA gives 3.3 V, within the Pi's supply).</summary>
    [Range(1, 10_000)]
    public double ShuntOhms { get; set; } = 165;

    /// <summary>0-10 V: input volts per volt at the ADC pin (default 4: a 30 kΩ / 10 kΩ divider).</summary>
    [Range(1, 100)]
    public double DividerRatio { get; set; } = 4;

    /// <summary>4-20 mA and 0-10 V: the engineering value at 4 mA or 0 V (default 0).</summary>
    public double RangeMin { get; set; }

    /// <summary>4-20 mA and 0-10 V: the engineering value at 20 mA or 10 V (default 100).</summary>
    public double RangeMax { get; set; } = 100;
}
