using System.Device.I2c;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Gateway.Drivers.Gpio;

/// <summary>Creates <c>i2c</c> drivers: one chip (BME280, SHT3x, ADS1115, INA219) per driver.</summary>
public sealed class I2cDriverFactory : IDriverFactory
{
    private readonly Func<I2cConnectionSettings, I2cDevice> _createDevice;

    public I2cDriverFactory()
        : this(I2cDevice.Create)
    {
    }

    /// <summary>Tests pass emulated chips here.</summary>
    internal I2cDriverFactory(Func<I2cConnectionSettings, I2cDevice> createDevice) => _createDevice = createDevice;

    public IReadOnlyCollection<string> Types { get; } = ["i2c"];

    public Type? SettingsType(string type) => typeof(I2cSettings);

    public Type? TagSettingsType(string type) => typeof(I2cTagSettings);

    public IEnumerable<ConfigProblem> Validate(DriverConfig config, IConfigurationSection section, string path)
    {
        var settings = Bind(section);
        var problems = ConfigValidation.Annotations(settings, path).ToList();
        if (problems.Count > 0 || !I2cSensorKinds.Quantities.TryGetValue(settings.Sensor, out var quantities))
        {
            return problems;
        }

        var address = ParseAddress(settings);
        if (address is < 0x03 or > 0x77)
        {
            problems.Add(new ConfigProblem(path + ".address", $"must be a 7-bit device address between 0x03 and 0x77, got '{settings.Address}'"));
        }

        if (settings.Sensor == "ads1115" && I2cSensorKinds.MeasuringRange(settings.FullScaleVolts) is null)
        {
            problems.Add(new ConfigProblem(path + ".fullScaleVolts", $"must be one of 6.144, 4.096, 2.048, 1.024, 0.512, 0.256, got {settings.FullScaleVolts.ToString(CultureInfo.InvariantCulture)}"));
        }

        if (settings.Sensor == "ina219" && I2cSensorKinds.Ina219Calibration(settings).Calibration == 0)
        {
            problems.Add(new ConfigProblem(path + (settings.CurrentLsbAmps is null ? ".maxCurrentAmps" : ".currentLsbAmps"), "gives an INA219 calibration value outside 1..65534 with this shuntOhms"));
        }

        for (var i = 0; i < config.Tags.Count; i++)
        {
            var tag = config.Tags[i];
            var tagPath = $"{path}.tags[{i}]";
            var tagSettings = BindTag(section, i);
            problems.AddRange(ConfigValidation.Annotations(tagSettings, tagPath));
            if (tag.Address is null || !quantities.TryGetValue(tag.Address, out var quantity))
            {
                problems.Add(new ConfigProblem(tagPath + ".address", $"a {settings.Sensor} reads {string.Join(", ", quantities.Keys.Select(k => $"'{k}'"))}, got '{tag.Address}'"));
                continue;
            }

            if (tag.Writable)
            {
                problems.Add(new ConfigProblem(tagPath + ".writable", "i2c sensor tags cannot be written"));
            }

            if (tag.Type is not null && tag.Type is not ("float64" or "float32"))
            {
                problems.Add(new ConfigProblem(tagPath + ".type", $"i2c readings are float64, got '{tag.Type}'"));
            }

            if (tagSettings.Signal != "voltage" && settings.Sensor != "ads1115")
            {
                problems.Add(new ConfigProblem(tagPath + ".signal", "applies to ads1115 inputs only"));
            }
            else if (tagSettings.Signal != "voltage")
            {
                if (string.IsNullOrEmpty(tag.Unit))
                {
                    problems.Add(new ConfigProblem(tagPath + ".unit", $"is required for a {tagSettings.Signal} signal: the engineering unit of rangeMin..rangeMax (for example 'bar')"));
                }

                if (tagSettings.RangeMax == tagSettings.RangeMin)
                {
                    problems.Add(new ConfigProblem(tagPath + ".rangeMax", "must differ from rangeMin"));
                }
            }
            else if (tag.Unit is not null && !SampleUnits.Fits(tag.Unit, quantity))
            {
                problems.Add(new ConfigProblem(tagPath + ".unit", $"'{tag.Unit}' is not a unit of {quantity.Name.ToLowerInvariant()}; use one of {string.Join(", ", SampleUnits.For(quantity))}"));
            }
        }

        return problems;
    }

    public IDriver Create(DriverConfig config, IConfigurationSection section, DriverContext context)
    {
        var settings = Bind(section);
        var quantities = I2cSensorKinds.Quantities[settings.Sensor];
        var tags = config.Tags.Select((tag, i) =>
        {
            var tagSettings = BindTag(section, i);
            var quantity = quantities[tag.Address!];
            var unit = tag.Unit ?? SampleUnits.DefaultFor(quantity);
            var info = new TagConfig
            {
                Name = tag.Name,
                Path = tag.Path,
                Machine = tag.Machine,
                Unit = unit,
                Deadband = tag.Deadband,
            }.ToTagInfo(config, SourceType.Double); // sensor readings are computed in double
            return new I2cTag(info, tag.Address!, unit, tagSettings, tag.Scale, tag.Offset);
        }).ToList();
        return new I2cSensorDriver(config.Name, settings, ParseAddress(settings), tags, context, _createDevice);
    }

    /// <summary>The 7-bit address from <c>"0x76"</c>, <c>"118"</c> or the sensor's default; -1 when unreadable.</summary>
    public static int ParseAddress(I2cSettings settings)
    {
        var text = settings.Address;
        if (string.IsNullOrEmpty(text))
        {
            return I2cSensorKinds.DefaultAddresses.TryGetValue(settings.Sensor, out var address) ? address : -1;
        }

        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? int.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex) ? hex : -1
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : -1;
    }

    private static I2cSettings Bind(IConfigurationSection section)
    {
        var settings = new I2cSettings();
        section.Bind(settings);
        return settings;
    }

    private static I2cTagSettings BindTag(IConfigurationSection section, int index)
    {
        var settings = new I2cTagSettings();
        section.GetSection("tags").GetSection(index.ToString(CultureInfo.InvariantCulture)).Bind(settings);
        return settings;
    }
}
