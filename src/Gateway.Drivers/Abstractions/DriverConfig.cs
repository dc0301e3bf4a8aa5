using System.ComponentModel.DataAnnotations;

namespace Gateway.Drivers;

/// <summary>The keys every driver has. Driver-specific keys live in the factory's settings type.</summary>
public sealed class DriverConfig
{
    /// <summary>Unique name of the driver, used in logs, metrics and the dashboard.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]+$", ErrorMessage = "may contain only letters, digits, '_', '.' and '-'")]
    public string Name { get; set; } = "";

    /// <summary><c>modbus-tcp</c>, <c>modbus-rtu</c>, <c>opcua</c>, <c>gpio</c>, <c>i2c</c> or <c>simulated</c>.</summary>
    [Required]
    public string Type { get; set; } = "";

    /// <summary>The default machine (ISA-95 work unit) of the driver's tags; a tag may name its own.</summary>
    public string? Machine { get; set; }

    /// <summary>False keeps the driver configured but not started.</summary>
    public bool Enabled { get; set; } = true;

    public List<TagConfig> Tags { get; set; } = [];
}

/// <summary>The keys every tag has. Driver-specific tag keys live in the factory's tag settings type.</summary>
public sealed class TagConfig
{
    /// <summary>Unique name within the driver.</summary>
    [Required]
    public string Name { get; set; } = "";

    /// <summary>Path under its machine in the Unified Namespace; defaults to <see cref="Name"/>.</summary>
    public string? Path { get; set; }

    /// <summary>The machine the tag belongs to; defaults to the driver's machine.</summary>
    public string? Machine { get; set; }

    /// <summary>Driver-specific address (for example <c>holding:100</c>, <c>ns=2;s=Line.Speed</c>).</summary>
    public string? Address { get; set; }

    /// <summary>Data type: bool, int16, uint16, int32, uint32, int64, float32, float64, string (driver-specific).</summary>
    public string? Type { get; set; }

    /// <summary>Engineering unit, for example <c>degC</c>.</summary>
    public string? Unit { get; set; }

    /// <summary>Engineering value = raw × scale + offset.</summary>
    public double Scale { get; set; } = 1.0;

    public double Offset { get; set; }

    /// <summary>Absolute deadband in engineering units; absent means publish on every change.</summary>
    [Range(0, double.MaxValue)]
    public double? Deadband { get; set; }

    /// <summary>Whether the gateway may write this tag. Default false: read-only towards PLCs.</summary>
    public bool Writable { get; set; }

    /// <summary>
    /// Lowest value a write may set, in engineering units (checked before scale and offset are undone); absent means
    /// only the type's own range. Applies to writes only, never to readings.
    /// </summary>
    public double? Min { get; set; }

    /// <summary>Highest value a write may set, in engineering units; absent means only the type's own range.</summary>
    public double? Max { get; set; }

    /// <summary>
    /// Shortest time between two writes of this tag, in milliseconds (a faster one is refused, not delayed).
    /// Default 1000; 0 turns the limit off.
    /// </summary>
    [Range(0, 86_400_000)]
    public int MinWriteIntervalMs { get; set; } = 1000;

    /// <summary>Builds the tag identity, applying the defaults.</summary>
    public TagInfo ToTagInfo(DriverConfig driver) =>
        new(Machine ?? driver.Machine ?? driver.Name, string.IsNullOrWhiteSpace(Path) ? Name : Path, Unit, Deadband);

    /// <summary>Builds the tag identity with the datatype its values have as published (see <see cref="SourceTypes.Published"/>).</summary>
    public TagInfo ToTagInfo(DriverConfig driver, SourceType sourceType) =>
        new(Machine ?? driver.Machine ?? driver.Name, string.IsNullOrWhiteSpace(Path) ? Name : Path, Unit, Deadband, sourceType);
}
