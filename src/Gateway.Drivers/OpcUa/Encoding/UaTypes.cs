using System.Globalization;

namespace Gateway.Drivers.OpcUa.Encoding;

/// <summary>The 25 built-in types of OPC 10000-6 §5.1.2, with the Variant type ids.</summary>
public enum BuiltInType : byte
{
    Null = 0,
    Boolean = 1,
    SByte = 2,
    Byte = 3,
    Int16 = 4,
    UInt16 = 5,
    Int32 = 6,
    UInt32 = 7,
    Int64 = 8,
    UInt64 = 9,
    Float = 10,
    Double = 11,
    String = 12,
    DateTime = 13,
    Guid = 14,
    ByteString = 15,
    XmlElement = 16,
    NodeId = 17,
    ExpandedNodeId = 18,
    StatusCode = 19,
    QualifiedName = 20,
    LocalizedText = 21,
    ExtensionObject = 22,
    DataValue = 23,
    Variant = 24,
    DiagnosticInfo = 25,
}

/// <summary>A decoding failure: malformed or hostile input. Caught at the message boundary.</summary>
public sealed class UaDecodingException : Exception
{
    public UaDecodingException()
    {
    }

    public UaDecodingException(string message)
        : base(message)
    {
    }

    public UaDecodingException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>An OPC UA status code: top two bits severity (00 Good, 01 Uncertain, 10/11 Bad).</summary>
public readonly record struct StatusCode(uint Code)
{
    public static readonly StatusCode Good = new(0);

    public bool IsGood => (Code & 0xC0000000) == 0;

    public bool IsUncertain => (Code & 0xC0000000) == 0x40000000;

    public bool IsBad => (Code & 0x80000000) != 0;

    public override string ToString() => SampleStatus.Name(Code);
}

/// <summary>How a NodeId's identifier is encoded.</summary>
public enum NodeIdType : byte
{
    Numeric = 0,
    String = 1,
    Guid = 2,
    Opaque = 3,
}

/// <summary>An OPC UA NodeId: a namespace index and a numeric, string, GUID or opaque identifier.</summary>
public sealed class NodeId : IEquatable<NodeId>
{
    public static readonly NodeId Null = new(0, 0u);

    public NodeId(ushort namespaceIndex, uint identifier)
    {
        NamespaceIndex = namespaceIndex;
        IdType = NodeIdType.Numeric;
        Numeric = identifier;
    }

    public NodeId(ushort namespaceIndex, string identifier)
    {
        NamespaceIndex = namespaceIndex;
        IdType = NodeIdType.String;
        Text = identifier;
    }

    public NodeId(ushort namespaceIndex, Guid identifier)
    {
        NamespaceIndex = namespaceIndex;
        IdType = NodeIdType.Guid;
        Guid = identifier;
    }

    public NodeId(ushort namespaceIndex, byte[] identifier)
    {
        NamespaceIndex = namespaceIndex;
        IdType = NodeIdType.Opaque;
        Opaque = identifier;
    }

    public ushort NamespaceIndex { get; }

    public NodeIdType IdType { get; }

    public uint Numeric { get; }

    public string? Text { get; }

    public Guid Guid { get; }

    public byte[]? Opaque { get; }

    public bool IsNull => IdType switch
    {
        NodeIdType.Numeric => Numeric == 0 && NamespaceIndex == 0,
        NodeIdType.String => string.IsNullOrEmpty(Text) && NamespaceIndex == 0,
        NodeIdType.Guid => Guid == Guid.Empty && NamespaceIndex == 0,
        _ => (Opaque is null || Opaque.Length == 0) && NamespaceIndex == 0,
    };

    /// <summary>Parses <c>ns=2;s=Machine1.Temperature</c>, <c>i=85</c>, <c>ns=1;g=...</c>, <c>ns=1;b=base64</c>.</summary>
    public static bool TryParse(string? text, out NodeId nodeId)
    {
        nodeId = Null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        ushort ns = 0;
        // Only leading blanks are dropped: a string identifier may end (or begin, after "s=") with spaces of its own.
        var rest = text.AsSpan().TrimStart();
        if (rest.StartsWith("ns=", StringComparison.Ordinal))
        {
            var semi = rest.IndexOf(';');
            if (semi < 0 || !ushort.TryParse(rest[3..semi], NumberStyles.None, CultureInfo.InvariantCulture, out ns))
            {
                return false;
            }

            rest = rest[(semi + 1)..];
        }

        if (rest.Length < 2 || rest[1] != '=')
        {
            return false;
        }

        var value = rest[0] == 's' ? rest[2..] : rest[2..].TrimEnd();
        switch (rest[0])
        {
            case 'i':
                if (!uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric))
                {
                    return false;
                }

                nodeId = new NodeId(ns, numeric);
                return true;
            case 's':
                if (value.Length == 0)
                {
                    return false;
                }

                nodeId = new NodeId(ns, value.ToString());
                return true;
            case 'g':
                if (!Guid.TryParse(value, out var guid))
                {
                    return false;
                }

                nodeId = new NodeId(ns, guid);
                return true;
            case 'b':
                var bytes = new byte[value.Length];
                if (!Convert.TryFromBase64Chars(value, bytes, out var written))
                {
                    return false;
                }

                nodeId = new NodeId(ns, bytes[..written]);
                return true;
            default:
                return false;
        }
    }

    public static NodeId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a NodeId (expected for example ns=2;s=Name, i=85, ns=1;g=GUID, ns=1;b=BASE64)");

    public bool Equals(NodeId? other) =>
        other is not null && NamespaceIndex == other.NamespaceIndex && IdType == other.IdType && IdType switch
        {
            NodeIdType.Numeric => Numeric == other.Numeric,
            NodeIdType.String => string.Equals(Text, other.Text, StringComparison.Ordinal),
            NodeIdType.Guid => Guid == other.Guid,
            _ => (Opaque ?? []).AsSpan().SequenceEqual(other.Opaque ?? []),
        };

    public override bool Equals(object? obj) => Equals(obj as NodeId);

    public override int GetHashCode() => IdType switch
    {
        NodeIdType.Numeric => HashCode.Combine(NamespaceIndex, Numeric),
        NodeIdType.String => HashCode.Combine(NamespaceIndex, Text),
        NodeIdType.Guid => HashCode.Combine(NamespaceIndex, Guid),
        _ => HashCode.Combine(NamespaceIndex, Opaque?.Length ?? 0),
    };

    public static bool operator ==(NodeId? left, NodeId? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(NodeId? left, NodeId? right) => !(left == right);

    public override string ToString()
    {
        var prefix = NamespaceIndex == 0 ? "" : $"ns={NamespaceIndex.ToString(CultureInfo.InvariantCulture)};";
        return IdType switch
        {
            NodeIdType.Numeric => prefix + "i=" + Numeric.ToString(CultureInfo.InvariantCulture),
            NodeIdType.String => prefix + "s=" + Text,
            NodeIdType.Guid => prefix + "g=" + Guid.ToString(),
            _ => prefix + "b=" + Convert.ToBase64String(Opaque ?? []),
        };
    }
}

/// <summary>A NodeId that may name its namespace by URI and its server by index.</summary>
public sealed record ExpandedNodeId(NodeId NodeId, string? NamespaceUri = null, uint ServerIndex = 0)
{
    public static readonly ExpandedNodeId Null = new(NodeId.Null);

    public override string ToString() =>
        (ServerIndex != 0 ? $"svr={ServerIndex};" : "") + (NamespaceUri is null ? NodeId.ToString() : $"nsu={NamespaceUri};{NodeId}");

    /// <summary>The local NodeId when the reference stays on this server and uses an index.</summary>
    public NodeId ToNodeId() => NodeId;

    /// <summary>
    /// Parses a NodeId that names its namespace by URI, <c>nsu=urn:plant;s=Line 1.Temp</c> (OPC 10000-6 §5.3.1.11; a ';'
    /// inside the URI is written %3B), or any form <see cref="NodeId.TryParse"/> takes. The namespace index of a URI is
    /// only known from the server's NamespaceArray: see <c>UaClient.ResolveNamespaceAsync</c>.
    /// </summary>
    public static bool TryParse(string? text, out ExpandedNodeId expanded)
    {
        expanded = Null;
        var trimmed = text?.TrimStart();
        if (trimmed is null || !trimmed.StartsWith("nsu=", StringComparison.Ordinal))
        {
            if (NodeId.TryParse(text, out var local))
            {
                expanded = new ExpandedNodeId(local);
                return true;
            }

            return false;
        }

        var semi = trimmed.IndexOf(';', StringComparison.Ordinal);
        if (semi <= 4 || trimmed.AsSpan(semi + 1).StartsWith("ns=", StringComparison.Ordinal) || !NodeId.TryParse(trimmed[(semi + 1)..], out var nodeId))
        {
            return false;
        }

        expanded = new ExpandedNodeId(nodeId, Uri.UnescapeDataString(trimmed[4..semi]));
        return true;
    }
}

/// <summary>A name qualified by a namespace index (browse names).</summary>
public readonly record struct QualifiedName(ushort NamespaceIndex, string? Name)
{
    public override string ToString() => NamespaceIndex == 0 ? Name ?? "" : $"{NamespaceIndex}:{Name}";
}

/// <summary>Human-readable text with an optional locale.</summary>
public readonly record struct LocalizedText(string? Locale, string? Text)
{
    public override string ToString() => Text ?? "";
}

/// <summary>Vendor diagnostics attached to results; decoded and mostly ignored by the client.</summary>
public sealed record DiagnosticInfo
{
    public int? SymbolicId { get; init; }

    public int? NamespaceUri { get; init; }

    public int? Locale { get; init; }

    public int? LocalizedText { get; init; }

    public string? AdditionalInfo { get; init; }

    public StatusCode? InnerStatusCode { get; init; }

    public DiagnosticInfo? InnerDiagnosticInfo { get; init; }
}

/// <summary>
/// A structure wrapped with its encoding id. <see cref="Body"/> is the decoded <see cref="IEncodeable"/> when
/// the type is known, else the raw bytes are kept in <see cref="RawBody"/> (unknown structures are skipped, not fatal).
/// </summary>
public sealed class ExtensionObject : IEquatable<ExtensionObject>
{
    public static readonly ExtensionObject Null = new(NodeId.Null, 0, null, null);

    public ExtensionObject(NodeId typeId, byte encoding, byte[]? rawBody, IEncodeable? body)
    {
        TypeId = typeId;
        Encoding = encoding;
        RawBody = rawBody;
        Body = body;
    }

    public ExtensionObject(IEncodeable body)
        : this(new NodeId(0, body.BinaryEncodingId), 1, null, body)
    {
    }

    public NodeId TypeId { get; }

    /// <summary>0 no body, 1 binary, 2 XML.</summary>
    public byte Encoding { get; }

    public byte[]? RawBody { get; }

    public IEncodeable? Body { get; }

    public bool IsNull => TypeId.IsNull && Encoding == 0;

    public bool Equals(ExtensionObject? other) =>
        other is not null && TypeId == other.TypeId && Encoding == other.Encoding &&
        (Body is null ? other.Body is null && (RawBody ?? []).AsSpan().SequenceEqual(other.RawBody ?? []) : Body.Equals(other.Body));

    public override bool Equals(object? obj) => Equals(obj as ExtensionObject);

    public override int GetHashCode() => TypeId.GetHashCode();

    public override string ToString() => Body switch
    {
        Range or EUInformation => Body.ToString()!,
        not null => Body.GetType().Name,
        _ => $"ExtensionObject({TypeId}, {RawBody?.Length ?? 0} bytes)",
    };
}

/// <summary>A value with its status and timestamps (OPC 10000-4 §7.11).</summary>
public sealed record DataValue
{
    public Variant Value { get; init; }

    public StatusCode StatusCode { get; init; }

    public DateTime SourceTimestamp { get; init; }

    public ushort SourcePicoseconds { get; init; }

    public DateTime ServerTimestamp { get; init; }

    public ushort ServerPicoseconds { get; init; }

    public override string ToString() => $"{Value} [{StatusCode}] src={SourceTimestamp:O}";
}

/// <summary>
/// A Variant: a scalar of one built-in type, a one-dimensional array (a typed .NET array) or a matrix
/// (the flattened array plus <see cref="Dimensions"/>).
/// </summary>
public readonly struct Variant : IEquatable<Variant>
{
    public Variant(BuiltInType type, object? value, int[]? dimensions = null)
    {
        Type = type;
        Value = value;
        Dimensions = dimensions;
    }

    public static Variant Null => default;

    public BuiltInType Type { get; }

    /// <summary>The scalar value, or an array of the built-in type's .NET type.</summary>
    public object? Value { get; }

    /// <summary>The dimensions of a matrix; null for scalars and one-dimensional arrays.</summary>
    public int[]? Dimensions { get; }

    public bool IsArray => Value is Array and not byte[] || (Value is byte[] && Type != BuiltInType.ByteString);

    public bool IsNull => Type == BuiltInType.Null;

    public static Variant From(bool value) => new(BuiltInType.Boolean, value);

    public static Variant From(int value) => new(BuiltInType.Int32, value);

    public static Variant From(uint value) => new(BuiltInType.UInt32, value);

    public static Variant From(double value) => new(BuiltInType.Double, value);

    public static Variant From(string value) => new(BuiltInType.String, value);

    public bool Equals(Variant other)
    {
        if (Type != other.Type || !DimensionsEqual(Dimensions, other.Dimensions))
        {
            return false;
        }

        return ValueEquals(Value, other.Value);
    }

    internal static bool ValueEquals(object? a, object? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        if (a is Array arrayA && b is Array arrayB)
        {
            if (arrayA.Length != arrayB.Length || a.GetType() != b.GetType())
            {
                return false;
            }

            for (var i = 0; i < arrayA.Length; i++)
            {
                if (!ValueEquals(arrayA.GetValue(i), arrayB.GetValue(i)))
                {
                    return false;
                }
            }

            return true;
        }

        if (a is double da && b is double db)
        {
            return da.Equals(db);
        }

        if (a is float fa && b is float fb)
        {
            return fa.Equals(fb);
        }

        return a.Equals(b);
    }

    private static bool DimensionsEqual(int[]? a, int[]? b) =>
        (a is null && b is null) || (a is not null && b is not null && a.AsSpan().SequenceEqual(b));

    public override bool Equals(object? obj) => obj is Variant other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Type, Value is Array a ? a.Length : Value?.GetHashCode() ?? 0);

    public static bool operator ==(Variant left, Variant right) => left.Equals(right);

    public static bool operator !=(Variant left, Variant right) => !left.Equals(right);

    /// <summary>The value as text; a matrix nests its rows (the flattened values vary fastest in the last dimension, OPC 10000-6 §5.2.2.16).</summary>
    public override string ToString() =>
        Dimensions is { Length: > 1 } dimensions && Value is Array flat && dimensions.All(d => d >= 0) && dimensions.Aggregate(1L, (p, d) => p * d) == flat.Length
            ? FormatMatrix(flat, dimensions, 0, 0)
            : Format(Value);

    private static string FormatMatrix(Array flat, int[] dimensions, int level, int offset)
    {
        var stride = 1;
        for (var i = level + 1; i < dimensions.Length; i++)
        {
            stride *= dimensions[i];
        }

        var parts = new string[dimensions[level]];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = level == dimensions.Length - 1 ? Format(flat.GetValue(offset + i)) : FormatMatrix(flat, dimensions, level + 1, offset + (i * stride));
        }

        return "[" + string.Join(", ", parts) + "]";
    }

    /// <summary>Formats a value for tools (arrays in brackets, invariant culture).</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => s,
        byte[] bytes when value.GetType() == typeof(byte[]) => "0x" + Convert.ToHexString(bytes),
        Array array => "[" + string.Join(", ", array.Cast<object?>().Select(Format)) + "]",
        bool b => b ? "true" : "false",
        DateTime dt => dt.ToString("O", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
