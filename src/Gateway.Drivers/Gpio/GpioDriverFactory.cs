using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Gateway.Drivers.Gpio;

/// <summary>Creates <c>gpio</c> drivers.</summary>
public sealed partial class GpioDriverFactory : IDriverFactory
{
    private readonly Func<GpioSettings, GpioDriver> _createDriver;

    public GpioDriverFactory()
        : this(CreateKernelDriver)
    {
    }

    /// <summary>Tests pass an emulated chip here.</summary>
    internal GpioDriverFactory(Func<GpioSettings, GpioDriver> createDriver) => _createDriver = createDriver;

    public IReadOnlyCollection<string> Types { get; } = ["gpio"];

    public Type? SettingsType(string type) => typeof(GpioSettings);

    public Type? TagSettingsType(string type) => typeof(GpioTagSettings);

    public IEnumerable<ConfigProblem> Validate(DriverConfig config, IConfigurationSection section, string path)
    {
        var problems = new List<ConfigProblem>();
        problems.AddRange(ConfigValidation.Annotations(Bind(section), path));
        var pins = new Dictionary<int, string>();
        for (var i = 0; i < config.Tags.Count; i++)
        {
            var tag = config.Tags[i];
            var tagPath = $"{path}.tags[{i}]";
            var settings = BindTag(section, i);
            problems.AddRange(ConfigValidation.Annotations(settings, tagPath));
            if (!TryParsePin(tag.Address, out var pin))
            {
                problems.Add(new ConfigProblem(tagPath + ".address", $"must be 'pin:N' with N the line number on the chip (BCM on a Raspberry Pi), got '{tag.Address}'"));
            }
            else if (pins.TryGetValue(pin, out var first))
            {
                problems.Add(new ConfigProblem(tagPath + ".address", $"pin {pin} is already used by {first}"));
            }
            else
            {
                pins[pin] = tagPath;
            }

            if (settings.Mode == "output" && !tag.Writable)
            {
                problems.Add(new ConfigProblem(tagPath + ".writable", "an output must be declared 'writable': true"));
            }

            if (settings.Mode != "output" && tag.Writable)
            {
                problems.Add(new ConfigProblem(tagPath + ".writable", $"only outputs can be written; this tag is an {settings.Mode} (set \"mode\": \"output\")"));
            }

            var expected = settings.Mode == "counter" ? new[] { "int64", "int32", "uint32" } : ["bool"];
            if (tag.Type is not null && !expected.Contains(tag.Type))
            {
                problems.Add(new ConfigProblem(tagPath + ".type", $"a gpio {settings.Mode} is {string.Join(" or ", expected)}, got '{tag.Type}'"));
            }

            if (tag.Scale != 1.0 || tag.Offset != 0)
            {
                problems.Add(new ConfigProblem(tagPath + (tag.Scale != 1.0 ? ".scale" : ".offset"), "does not apply to gpio tags (bools and counts)"));
            }
        }

        return problems;
    }

    public IDriver Create(DriverConfig config, IConfigurationSection section, DriverContext context)
    {
        var settings = Bind(section);
        var pins = config.Tags.Select((tag, i) =>
        {
            var pin = TryParsePin(tag.Address, out var number) ? number : throw new InvalidOperationException($"tag '{tag.Name}': invalid address '{tag.Address}'");
            var tagSettings = BindTag(section, i);
            // A pin is a Boolean; a counter pin counts edges (Int64).
            return new GpioPin(tag.ToTagInfo(config, tagSettings.Mode == "counter" ? SourceType.Int64 : SourceType.Boolean), pin, tagSettings, tag.Writable);
        });
        return new GpioPinsDriver(config.Name, settings, pins, context, () => _createDriver(settings));
    }

    /// <summary>Parses <c>pin:17</c>.</summary>
    public static bool TryParsePin(string? address, out int pin)
    {
        pin = -1;
        var match = address is null ? null : PinAddress().Match(address);
        return match is { Success: true } && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out pin) && pin < 1024;
    }

    /// <summary>The kernel driver the settings ask for.</summary>
    public static GpioDriver CreateKernelDriver(GpioSettings settings) => settings.Driver switch
    {
        "libgpiod" => new LibGpiodDriver(settings.Chip),
        "libgpiod2" => new LibGpiodV2Driver(settings.Chip),
        "sysfs" => new SysFsDriver(),
        _ => CreateAuto(settings.Chip),
    };

    private static GpioDriver CreateAuto(int chip)
    {
        // libgpiod v2 (Debian 13 / Raspberry Pi OS trixie), then v1 (bookworm), then the deprecated sysfs interface.
        var failures = new List<string>();
        try
        {
            return new LibGpiodV2Driver(chip);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or PlatformNotSupportedException or IOException or InvalidOperationException or TypeInitializationException or ArgumentException)
        {
            failures.Add("libgpiod v2: " + ex.Message);
        }

        try
        {
            return new LibGpiodDriver(chip);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or PlatformNotSupportedException or IOException or InvalidOperationException or TypeInitializationException or ArgumentException)
        {
            failures.Add("libgpiod v1: " + ex.Message);
        }

        if (Directory.Exists("/sys/class/gpio"))
        {
            return new SysFsDriver();
        }

        throw new IOException($"no GPIO interface for gpiochip{chip}: install libgpiod (apt install libgpiod2 or libgpiod3), or check that /dev/gpiochip{chip} exists ({string.Join("; ", failures)})");
    }

    private static GpioSettings Bind(IConfigurationSection section)
    {
        var settings = new GpioSettings();
        section.Bind(settings);
        return settings;
    }

    private static GpioTagSettings BindTag(IConfigurationSection section, int index)
    {
        var settings = new GpioTagSettings();
        section.GetSection("tags").GetSection(index.ToString(CultureInfo.InvariantCulture)).Bind(settings);
        return settings;
    }

    [GeneratedRegex("^pin:([0-9]{1,4})$")]
    private static partial Regex PinAddress();
}
