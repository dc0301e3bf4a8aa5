namespace Gateway.Drivers;

/// <summary>How far a value can be trusted, after OPC UA's three severities.</summary>
public enum Quality : byte
{
    /// <summary>The value is reliable.</summary>
    Good = 0,

    /// <summary>The value may be stale, out of range or otherwise doubtful.</summary>
    Uncertain = 1,

    /// <summary>The value is not usable: the source is unreachable, failed or misconfigured.</summary>
    Bad = 2,
}

/// <summary>The kind of value a sample carries.</summary>
public enum SampleValueKind : byte
{
    /// <summary>No value (for example a Bad sample emitted when a device is lost).</summary>
    None = 0,
    Boolean = 1,
    Integer = 2,
    Double = 3,
    String = 4,

    /// <summary>A 32-bit IEEE float, kept at its source width (published as the shortest text that reads back as that float).</summary>
    Float = 5,

    /// <summary>An unsigned 64-bit integer (values above <see cref="long.MaxValue"/> stay exact).</summary>
    UnsignedInteger = 6,

    /// <summary>A one-dimensional typed array (<see cref="SampleArray"/>).</summary>
    Array = 7,

    /// <summary>A structure with named fields (<see cref="SampleStructure"/>).</summary>
    Structure = 8,
}

/// <summary>
/// A typed value without boxing: a boolean, a signed or unsigned 64-bit integer, a float32, a double, a string, an
/// array or a structure. Scalars allocate nothing; a string, array or structure is one reference in the same slot.
/// </summary>
public readonly struct SampleValue : IEquatable<SampleValue>
{
    private readonly long _integer;
    private readonly double _double;
    // The string, the SampleArray or the SampleStructure (by Kind); null for the other kinds.
    private readonly object? _reference;

    private SampleValue(SampleValueKind kind, long integer, double @double, object? reference)
    {
        Kind = kind;
        _integer = integer;
        _double = @double;
        _reference = reference;
    }

    public SampleValueKind Kind { get; }

    public static SampleValue None => default;

    public static SampleValue FromBoolean(bool value) => new(SampleValueKind.Boolean, value ? 1 : 0, 0, null);

    public static SampleValue FromInteger(long value) => new(SampleValueKind.Integer, value, 0, null);

    public static SampleValue FromDouble(double value) => new(SampleValueKind.Double, 0, value, null);

    /// <summary>A float32 at its source width; stored exactly (every float is a double).</summary>
    public static SampleValue FromFloat(float value) => new(SampleValueKind.Float, 0, value, null);

    public static SampleValue FromUnsignedInteger(ulong value) => new(SampleValueKind.UnsignedInteger, unchecked((long)value), 0, null);

    public static SampleValue FromString(string value) => new(SampleValueKind.String, 0, 0, value ?? throw new ArgumentNullException(nameof(value)));

    public static SampleValue FromArray(SampleArray value) => new(SampleValueKind.Array, 0, 0, value ?? throw new ArgumentNullException(nameof(value)));

    public static SampleValue FromStructure(SampleStructure value) => new(SampleValueKind.Structure, 0, 0, value ?? throw new ArgumentNullException(nameof(value)));

    public bool AsBoolean => Kind switch
    {
        SampleValueKind.Boolean or SampleValueKind.Integer or SampleValueKind.UnsignedInteger => _integer != 0,
        SampleValueKind.Double or SampleValueKind.Float => _double != 0,
        _ => false,
    };

    /// <summary>The value as a signed integer (an unsigned one above <see cref="long.MaxValue"/> saturates).</summary>
    public long AsInteger => Kind switch
    {
        SampleValueKind.Boolean or SampleValueKind.Integer => _integer,
        SampleValueKind.UnsignedInteger => _integer < 0 ? long.MaxValue : _integer,
        SampleValueKind.Double or SampleValueKind.Float => (long)_double,
        _ => 0,
    };

    /// <summary>The value as an unsigned integer (negative values saturate at 0).</summary>
    public ulong AsUnsignedInteger => Kind switch
    {
        SampleValueKind.UnsignedInteger => unchecked((ulong)_integer),
        SampleValueKind.Boolean or SampleValueKind.Integer => _integer < 0 ? 0 : (ulong)_integer,
        SampleValueKind.Double or SampleValueKind.Float => _double <= 0 ? 0 : (ulong)_double,
        _ => 0,
    };

    public double AsDouble => Kind switch
    {
        SampleValueKind.Boolean or SampleValueKind.Integer => _integer,
        SampleValueKind.UnsignedInteger => unchecked((ulong)_integer),
        SampleValueKind.Double or SampleValueKind.Float => _double,
        _ => double.NaN,
    };

    /// <summary>The value as a float32 (a double is rounded to the nearest float).</summary>
    public float AsFloat => (float)AsDouble;

    public string? AsString => Kind == SampleValueKind.String ? (string?)_reference : null;

    /// <summary>The array, or null when the value is not one.</summary>
    public SampleArray? AsArray => Kind == SampleValueKind.Array ? (SampleArray?)_reference : null;

    /// <summary>The structure, or null when the value is not one.</summary>
    public SampleStructure? AsStructure => Kind == SampleValueKind.Structure ? (SampleStructure?)_reference : null;

    /// <summary>True for booleans, integers (signed or unsigned), float32s and doubles.</summary>
    public bool IsNumeric => Kind is SampleValueKind.Boolean or SampleValueKind.Integer or SampleValueKind.Double or SampleValueKind.Float or SampleValueKind.UnsignedInteger;

    /// <summary>True for a float32 or a double.</summary>
    public bool IsFloatingPoint => Kind is SampleValueKind.Double or SampleValueKind.Float;

    /// <summary>True for a signed or an unsigned integer (not a boolean).</summary>
    public bool IsWholeNumber => Kind is SampleValueKind.Integer or SampleValueKind.UnsignedInteger;

    public bool Equals(SampleValue other) => Kind == other.Kind && Kind switch
    {
        SampleValueKind.None => true,
        SampleValueKind.Double or SampleValueKind.Float => _double.Equals(other._double),
        SampleValueKind.String => string.Equals((string?)_reference, (string?)other._reference, StringComparison.Ordinal),
        SampleValueKind.Array or SampleValueKind.Structure => Equals(_reference, other._reference),
        _ => _integer == other._integer,
    };

    public override bool Equals(object? obj) => obj is SampleValue other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Kind, _integer, _double, _reference);

    public static bool operator ==(SampleValue left, SampleValue right) => left.Equals(right);

    public static bool operator !=(SampleValue left, SampleValue right) => !left.Equals(right);

    public override string ToString() => Kind switch
    {
        SampleValueKind.None => "null",
        SampleValueKind.Boolean => _integer != 0 ? "true" : "false",
        SampleValueKind.Integer => _integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        SampleValueKind.Double => _double.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        SampleValueKind.Float => ((float)_double).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        SampleValueKind.UnsignedInteger => unchecked((ulong)_integer).ToString(System.Globalization.CultureInfo.InvariantCulture),
        SampleValueKind.Array or SampleValueKind.Structure => _reference!.ToString()!,
        _ => (string?)_reference ?? string.Empty,
    };
}

/// <summary>
/// One reading, protocol-neutral: which tag, when the source measured it, when the gateway received it,
/// its typed value, its quality (with the OPC UA status code where there is one).
/// </summary>
/// <param name="Tag">The tag the sample belongs to; carries the machine, the UNS path and the unit.</param>
/// <param name="SourceTimestamp">When the source measured the value (UTC).</param>
/// <param name="GatewayTimestamp">When the gateway received it (UTC).</param>
/// <param name="Value">The typed value; <see cref="SampleValue.None"/> when there is none.</param>
/// <param name="Quality">Good, Uncertain or Bad.</param>
/// <param name="StatusCode">The OPC UA status code (0 = Good); drivers of other protocols map their errors onto it.</param>
public readonly record struct Sample(
    TagInfo Tag,
    DateTimeOffset SourceTimestamp,
    DateTimeOffset GatewayTimestamp,
    SampleValue Value,
    Quality Quality,
    uint StatusCode = 0)
{
    public static Sample Good(TagInfo tag, DateTimeOffset sourceTimestamp, DateTimeOffset gatewayTimestamp, SampleValue value) =>
        new(tag, sourceTimestamp, gatewayTimestamp, value, Quality.Good, 0);

    public static Sample Bad(TagInfo tag, DateTimeOffset timestamp, uint statusCode) =>
        new(tag, timestamp, timestamp, SampleValue.None, Quality.Bad, statusCode);
}
