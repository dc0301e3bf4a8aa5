namespace Gateway.Drivers;

/// <summary>
/// The datatype a tag has at its source (the PLC's register type, the OPC UA DataType), as far as it survives into
/// the published value: a scaled tag is a Double whatever its registers hold. Set by the driver when it creates the
/// tag (from the configured <c>type</c>), or when the source first tells it (the OPC UA Variant's built-in type);
/// not per sample. Outputs with typed wire formats (Sparkplug B's Int8 … UInt64) announce the value with it; a value
/// that does not fit it (or a tag whose type is <see cref="Unknown"/>) goes by its sample kind.
/// </summary>
public enum SourceType : byte
{
    /// <summary>Not known (yet): outputs go by the sample's kind.</summary>
    Unknown = 0,
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float,
    Double,
    String,
    DateTime,

    /// <summary>A structure (an OPC UA ExtensionObject decoded with its DataTypeDefinition): published as an object.</summary>
    Structure,
}

/// <summary>Source types of configured and read values.</summary>
public static class SourceTypes
{
    /// <summary>
    /// The type a tag publishes when its raw value of <paramref name="raw"/> goes through scale and offset: a numeric
    /// value scaled (scale not 1 or offset not 0) is computed in double; booleans and text are never scaled.
    /// </summary>
    public static SourceType Published(SourceType raw, double scale, double offset) =>
        (scale == 1.0 && offset == 0.0) || raw is SourceType.Boolean or SourceType.String or SourceType.DateTime or SourceType.Structure or SourceType.Unknown ? raw : SourceType.Double;

    /// <summary>Whether <paramref name="value"/>, a whole number, fits the integer type <paramref name="type"/> (false for non-integer types).</summary>
    public static bool Fits(SourceType type, in SampleValue value)
    {
        if (value.Kind == SampleValueKind.UnsignedInteger && value.AsUnsignedInteger > long.MaxValue)
        {
            return type == SourceType.UInt64;
        }

        var v = value.AsInteger;
        return type switch
        {
            SourceType.Int8 => v is >= sbyte.MinValue and <= sbyte.MaxValue,
            SourceType.Int16 => v is >= short.MinValue and <= short.MaxValue,
            SourceType.Int32 => v is >= int.MinValue and <= int.MaxValue,
            SourceType.Int64 => true,
            SourceType.UInt8 => v is >= 0 and <= byte.MaxValue,
            SourceType.UInt16 => v is >= 0 and <= ushort.MaxValue,
            SourceType.UInt32 => v is >= 0 and <= uint.MaxValue,
            SourceType.UInt64 => v >= 0,
            _ => false,
        };
    }
}
