namespace Gateway.Drivers;

/// <summary>
/// A one-dimensional array value as the source has it (an OPC UA Variant of ValueRank 1): one typed .NET array per
/// element type, never boxed. <see cref="ElementType"/> says which: Boolean → <c>bool[]</c>, Int8 → <c>sbyte[]</c>,
/// UInt8 → <c>byte[]</c>, Int16 … UInt64 → <c>short[]</c> … <c>ulong[]</c>, Float → <c>float[]</c>, Double →
/// <c>double[]</c>, String → <c>string[]</c>, DateTime → <c>DateTime[]</c> (UTC), and Structure →
/// <see cref="SampleValue"/>[] (an array of structures, each a <see cref="SampleValueKind.Structure"/> value).
/// Immutable once built: the producer hands over its array and does not touch it again.
/// </summary>
public sealed class SampleArray : IEquatable<SampleArray>
{
    private SampleArray(SourceType elementType, Array items)
    {
        ElementType = elementType;
        Items = items;
    }

    /// <summary>The type of every element (never <see cref="SourceType.Unknown"/>).</summary>
    public SourceType ElementType { get; }

    /// <summary>The typed array (see the class summary for which .NET type goes with which element type).</summary>
    public Array Items { get; }

    /// <summary>The number of elements.</summary>
    public int Length => Items.Length;

    public static SampleArray Of(bool[] items) => new(SourceType.Boolean, items);

    public static SampleArray Of(sbyte[] items) => new(SourceType.Int8, items);

    public static SampleArray Of(byte[] items) => new(SourceType.UInt8, items);

    public static SampleArray Of(short[] items) => new(SourceType.Int16, items);

    public static SampleArray Of(ushort[] items) => new(SourceType.UInt16, items);

    public static SampleArray Of(int[] items) => new(SourceType.Int32, items);

    public static SampleArray Of(uint[] items) => new(SourceType.UInt32, items);

    public static SampleArray Of(long[] items) => new(SourceType.Int64, items);

    public static SampleArray Of(ulong[] items) => new(SourceType.UInt64, items);

    public static SampleArray Of(float[] items) => new(SourceType.Float, items);

    public static SampleArray Of(double[] items) => new(SourceType.Double, items);

    /// <summary>Strings; a null element becomes the empty string.</summary>
    public static SampleArray Of(string?[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var copy = new string[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            copy[i] = items[i] ?? string.Empty;
        }

        return new(SourceType.String, copy);
    }

    /// <summary>Timestamps, kept as UTC.</summary>
    public static SampleArray Of(DateTime[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = DateTime.SpecifyKind(items[i], DateTimeKind.Utc);
        }

        return new(SourceType.DateTime, items);
    }

    /// <summary>An array of structures: every element must be a <see cref="SampleValueKind.Structure"/> value.</summary>
    public static SampleArray OfStructures(SampleValue[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var item in items)
        {
            if (item.Kind != SampleValueKind.Structure)
            {
                throw new ArgumentException($"an array of structures holds a {item.Kind}", nameof(items));
            }
        }

        return new(SourceType.Structure, items);
    }

    /// <summary>Element <paramref name="index"/> as a scalar sample value (a structure for an array of structures; a DateTime as ISO 8601 text).</summary>
    // Switches go by ElementType, never by `Items is short[]`: the runtime lets a ushort[] pass as a short[] (and
    // int[]/uint[], long[]/ulong[], sbyte[]/byte[]), so a type pattern would read unsigned elements as signed.
    public SampleValue this[int index] => ElementType switch
    {
        SourceType.Boolean => SampleValue.FromBoolean(((bool[])Items)[index]),
        SourceType.Int8 => SampleValue.FromInteger(((sbyte[])Items)[index]),
        SourceType.UInt8 => SampleValue.FromInteger(((byte[])Items)[index]),
        SourceType.Int16 => SampleValue.FromInteger(((short[])Items)[index]),
        SourceType.UInt16 => SampleValue.FromInteger(((ushort[])Items)[index]),
        SourceType.Int32 => SampleValue.FromInteger(((int[])Items)[index]),
        SourceType.UInt32 => SampleValue.FromInteger(((uint[])Items)[index]),
        SourceType.Int64 => SampleValue.FromInteger(((long[])Items)[index]),
        SourceType.UInt64 => SampleValue.FromUnsignedInteger(((ulong[])Items)[index]),
        SourceType.Float => SampleValue.FromFloat(((float[])Items)[index]),
        SourceType.Double => SampleValue.FromDouble(((double[])Items)[index]),
        SourceType.String => SampleValue.FromString(((string[])Items)[index]),
        SourceType.DateTime => SampleValue.FromString(((DateTime[])Items)[index].ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
        SourceType.Structure => ((SampleValue[])Items)[index],
        _ => SampleValue.None,
    };

    public bool Equals(SampleArray? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.ElementType != ElementType || other.Length != Length)
        {
            return false;
        }

        return ElementType switch
        {
            SourceType.Boolean => ((bool[])Items).AsSpan().SequenceEqual((bool[])other.Items),
            SourceType.Int8 => ((sbyte[])Items).AsSpan().SequenceEqual((sbyte[])other.Items),
            SourceType.UInt8 => ((byte[])Items).AsSpan().SequenceEqual((byte[])other.Items),
            SourceType.Int16 => ((short[])Items).AsSpan().SequenceEqual((short[])other.Items),
            SourceType.UInt16 => ((ushort[])Items).AsSpan().SequenceEqual((ushort[])other.Items),
            SourceType.Int32 => ((int[])Items).AsSpan().SequenceEqual((int[])other.Items),
            SourceType.UInt32 => ((uint[])Items).AsSpan().SequenceEqual((uint[])other.Items),
            SourceType.Int64 => ((long[])Items).AsSpan().SequenceEqual((long[])other.Items),
            SourceType.UInt64 => ((ulong[])Items).AsSpan().SequenceEqual((ulong[])other.Items),
            SourceType.Float => BitsEqual((float[])Items, (float[])other.Items),
            SourceType.Double => BitsEqual((double[])Items, (double[])other.Items),
            SourceType.String => ((string[])Items).AsSpan().SequenceEqual((string[])other.Items, StringComparer.Ordinal),
            SourceType.DateTime => ((DateTime[])Items).AsSpan().SequenceEqual((DateTime[])other.Items),
            SourceType.Structure => ((SampleValue[])Items).AsSpan().SequenceEqual((SampleValue[])other.Items),
            _ => false,
        };
    }

    public override bool Equals(object? obj) => Equals(obj as SampleArray);

    public override int GetHashCode() => HashCode.Combine(ElementType, Length);

    /// <summary>The array as JSON text (as <see cref="SampleJson"/> writes it).</summary>
    public override string ToString() => SampleJson.ToJson(SampleValue.FromArray(this));

    // Equal as a change filter sees it: NaN equals NaN (no endless "changes"), 0.0 and -0.0 differ.
    private static bool BitsEqual(float[] a, float[] b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool BitsEqual(double[] a, double[] b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (BitConverter.DoubleToInt64Bits(a[i]) != BitConverter.DoubleToInt64Bits(b[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// A structure value (an OPC UA ExtensionObject decoded with the server's DataTypeDefinition): its type's name and
/// its fields in declaration order, each a scalar, an array or a nested structure. Immutable.
/// </summary>
public sealed class SampleStructure : IEquatable<SampleStructure>
{
    private readonly string[] _names;
    private readonly SampleValue[] _values;

    /// <param name="typeName">The structure type's browse name (for example <c>MotorData</c>).</param>
    /// <param name="names">The field names, in declaration order.</param>
    /// <param name="values">The field values, one per name.</param>
    public SampleStructure(string typeName, string[] names, SampleValue[] values)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(values);
        if (names.Length != values.Length)
        {
            throw new ArgumentException($"{names.Length} field names for {values.Length} values", nameof(values));
        }

        TypeName = typeName;
        _names = names;
        _values = values;
    }

    /// <summary>The structure type's name.</summary>
    public string TypeName { get; }

    /// <summary>The number of fields.</summary>
    public int Count => _names.Length;

    /// <summary>The name of field <paramref name="index"/>.</summary>
    public string NameAt(int index) => _names[index];

    /// <summary>The value of field <paramref name="index"/>.</summary>
    public SampleValue ValueAt(int index) => _values[index];

    /// <summary>The value of the field called <paramref name="name"/>, or <see cref="SampleValue.None"/>.</summary>
    public SampleValue this[string name]
    {
        get
        {
            var index = Array.IndexOf(_names, name);
            return index < 0 ? SampleValue.None : _values[index];
        }
    }

    public bool Equals(SampleStructure? other) =>
        ReferenceEquals(this, other)
        || (other is not null && string.Equals(TypeName, other.TypeName, StringComparison.Ordinal)
            && _names.AsSpan().SequenceEqual(other._names, StringComparer.Ordinal) && _values.AsSpan().SequenceEqual(other._values));

    public override bool Equals(object? obj) => Equals(obj as SampleStructure);

    public override int GetHashCode() => HashCode.Combine(TypeName, Count);

    /// <summary>The structure as a JSON object (as <see cref="SampleJson"/> writes it).</summary>
    public override string ToString() => SampleJson.ToJson(SampleValue.FromStructure(this));
}
