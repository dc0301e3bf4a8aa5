using System.ComponentModel.DataAnnotations;

namespace Gateway.Drivers.Gpio;

/// <summary>Driver-level keys of the <c>gpio</c> driver.</summary>
public sealed class GpioSettings
{
    /// <summary>
    /// The kernel interface: <c>auto</c> (default: libgpiod v2, then v1, then sysfs), <c>libgpiod</c> (v1),
    /// <c>libgpiod2</c> or <c>sysfs</c>.
    /// </summary>
    [RegularExpression("^(auto|libgpiod|libgpiod2|sysfs)$", ErrorMessage = "must be 'auto', 'libgpiod', 'libgpiod2' or 'sysfs'")]
    public string Driver { get; set; } = "auto";

    /// <summary>
    /// The GPIO chip, <c>/dev/gpiochipN</c>. Default 0: the header pins on a Raspberry Pi 1-4 and on a Pi 5
    /// with a current kernel (older Pi 5 kernels used <c>gpiochip4</c>).
    /// </summary>
    [Range(0, 63)]
    public int Chip { get; set; }

    /// <summary>
    /// How often counters are published and inputs re-read, in milliseconds (default 1000). Input changes are
    /// published as they happen; this period bounds how stale a missed edge can leave an input.
    /// </summary>
    [Range(1, 3_600_000)]
    public int PollIntervalMs { get; set; } = 1000;
}

/// <summary>Tag-level keys of the <c>gpio</c> driver. A tag's <c>address</c> is <c>pin:N</c> (the chip's line number, BCM on a Pi).</summary>
public sealed class GpioTagSettings
{
    /// <summary><c>input</c> (default: a bool), <c>counter</c> (an integer pulse count) or <c>output</c> (a bool; needs <c>writable: true</c>).</summary>
    [RegularExpression("^(input|counter|output)$", ErrorMessage = "must be 'input', 'counter' or 'output'")]
    public string Mode { get; set; } = "input";

    /// <summary>Bias of an input: <c>none</c> (default, an external resistor), <c>up</c> or <c>down</c>.</summary>
    [RegularExpression("^(none|up|down)$", ErrorMessage = "must be 'none', 'up' or 'down'")]
    public string Pull { get; set; } = "none";

    /// <summary>Which edges a counter counts: <c>rising</c> (default), <c>falling</c> or <c>both</c> (after <see cref="ActiveLow"/>).</summary>
    [RegularExpression("^(rising|falling|both)$", ErrorMessage = "must be 'rising', 'falling' or 'both'")]
    public string Edge { get; set; } = "rising";

    /// <summary>
    /// Edges closer than this to the last accepted edge are contact bounce and ignored, in milliseconds.
    /// Default 1 for counters (a 100 Hz signal has 5 ms half-periods), 10 for inputs (switches).
    /// </summary>
    [Range(0, 1000)]
    public double? DebounceMs { get; set; }

    /// <summary>Inverts the level: a switch to ground with a pull-up reads true when closed.</summary>
    public bool ActiveLow { get; set; }
}
