using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>What the server says about one DataType that is not a built-in type (read by <see cref="UaDataTypeLoader"/>).</summary>
/// <param name="DataTypeId">The DataType's NodeId.</param>
/// <param name="Name">Its browse name, without the namespace index.</param>
/// <param name="Definition">Its DataTypeDefinition attribute: a <see cref="StructureDefinition"/>, an <see cref="EnumDefinition"/>, or null.</param>
/// <param name="SuperType">Its supertype (HasSubtype inverse), for a DataType without a definition; null when not known.</param>
/// <param name="EncodingId">Its Default Binary encoding (from the definition, or browsed by HasEncoding); null when none.</param>
/// <param name="Problem">Why it cannot be used (no definition on an older server, …); null when it can.</param>
/// <param name="IsInline">A type of a DataTypeDictionary used only inside other structures (no DataType node, no encoding of its own).</param>
public sealed record UaDataTypeInfo(NodeId DataTypeId, string Name, IEncodeable? Definition, NodeId? SuperType, NodeId? EncodingId, string? Problem, bool IsInline = false);

/// <summary>
/// The DataTypes of one session that are not built-in: structures resolved into <see cref="UaStructureType"/>s
/// (found by DataType and by encoding id), enumerations (Int32 on the wire) and simple subtypes of a built-in type
/// (Duration is a Double). Immutable once built; a new session builds a new one (another server may define other types).
/// </summary>
public sealed class UaDataTypeCatalog
{
    public static readonly UaDataTypeCatalog Empty = new([]);

    // Namespace-0 DataTypes that are not built-in types (OPC 10000-3 §8, 10000-6 §5.1.2) and what travels on the wire.
    private static readonly Dictionary<uint, BuiltInType> s_standardSubtypes = new()
    {
        [26] = BuiltInType.Variant, // Number
        [27] = BuiltInType.Variant, // Integer
        [28] = BuiltInType.Variant, // UInteger
        [29] = BuiltInType.Int32, // Enumeration
        [30] = BuiltInType.ByteString, // Image
        [288] = BuiltInType.UInt32, // IntegerId
        [289] = BuiltInType.UInt32, // Counter
        [290] = BuiltInType.Double, // Duration
        [291] = BuiltInType.String, // NumericRange
        [292] = BuiltInType.String, // Time
        [293] = BuiltInType.DateTime, // Date
        [294] = BuiltInType.DateTime, // UtcTime
        [295] = BuiltInType.String, // LocaleId
        [311] = BuiltInType.ByteString, // ApplicationInstanceCertificate
        [11737] = BuiltInType.UInt64, // BitFieldMaskDataType
        [12877] = BuiltInType.String, // NormalizedString
        [12878] = BuiltInType.String, // DecimalString
        [12879] = BuiltInType.String, // DurationString
        [12880] = BuiltInType.String, // TimeString
        [12881] = BuiltInType.String, // DateString
        [17588] = BuiltInType.UInt32, // Index
    };

    private readonly Dictionary<NodeId, UaStructureType> _structures = [];
    private readonly Dictionary<NodeId, UaStructureType> _byEncoding = [];
    private readonly Dictionary<NodeId, BuiltInType> _simple = [];
    private readonly HashSet<NodeId> _enumerations = [];
    private readonly Dictionary<NodeId, string> _problems = [];

    private UaDataTypeCatalog(IReadOnlyCollection<UaDataTypeInfo> infos)
    {
        var byId = infos.ToDictionary(i => i.DataTypeId);
        foreach (var info in infos)
        {
            switch (info.Definition)
            {
                case StructureDefinition definition:
                    var type = new UaStructureType { DataTypeId = info.DataTypeId, Name = info.Name, Layout = definition.StructureType, EncodingId = info.EncodingId };
                    _structures[info.DataTypeId] = type;
                    if (info.EncodingId is { IsNull: false } encoding)
                    {
                        _byEncoding[encoding] = type;
                    }

                    break;
                case EnumDefinition:
                    _enumerations.Add(info.DataTypeId);
                    break;
                default:
                    if (BaseOf(info, byId) is { } builtIn)
                    {
                        _simple[info.DataTypeId] = builtIn;
                    }
                    else
                    {
                        _problems[info.DataTypeId] = info.Problem ?? $"DataType {info.Name} ({info.DataTypeId}) has no definition the gateway can use";
                    }

                    break;
            }
        }

        foreach (var info in infos)
        {
            if (info.Definition is StructureDefinition definition)
            {
                Resolve(_structures[info.DataTypeId], definition, info.IsInline);
            }
        }
    }

    /// <summary>A catalog from what the server said about each DataType (every nested type included).</summary>
    public static UaDataTypeCatalog Build(IReadOnlyCollection<UaDataTypeInfo> infos) => infos.Count == 0 ? Empty : new(infos);

    /// <summary>True for DataTypes ns=0;i=1 … 25: the built-in types, 22 Structure being an ExtensionObject and 24 BaseDataType a Variant.</summary>
    public static bool IsBuiltIn(NodeId dataType) => dataType is { NamespaceIndex: 0, IdType: NodeIdType.Numeric, Numeric: >= 1 and <= 25 };

    /// <summary>The wire type of a DataType known without asking the server (a built-in type or a standard subtype of one); null otherwise.</summary>
    public static BuiltInType? StandardBuiltInOf(NodeId dataType)
    {
        if (IsBuiltIn(dataType))
        {
            return (BuiltInType)dataType.Numeric;
        }

        return dataType is { NamespaceIndex: 0, IdType: NodeIdType.Numeric } && s_standardSubtypes.TryGetValue(dataType.Numeric, out var type) ? type : null;
    }

    /// <summary>The structure type of a DataType; null when it is not one this catalog knows.</summary>
    public UaStructureType? StructureOf(NodeId dataType) => _structures.GetValueOrDefault(dataType);

    /// <summary>The structure type whose Default Binary encoding is <paramref name="encodingId"/>; null when none.</summary>
    public UaStructureType? ByEncoding(NodeId encodingId) => _byEncoding.GetValueOrDefault(encodingId);

    /// <summary>The built-in type a simple subtype defined by the server travels as (a vendor's subtype of Double); null when it is not one.</summary>
    public BuiltInType? SimpleBuiltInOf(NodeId dataType) => _simple.TryGetValue(dataType, out var type) ? type : null;

    public bool IsEnumeration(NodeId dataType) => _enumerations.Contains(dataType) || dataType is { NamespaceIndex: 0, IdType: NodeIdType.Numeric, Numeric: 29 };

    /// <summary>Why values of this DataType cannot be decoded; null when they can (or it is not one this catalog read).</summary>
    public string? ProblemOf(NodeId dataType) => _structures.TryGetValue(dataType, out var type) ? type.Problem : _problems.GetValueOrDefault(dataType);

    /// <summary>The DataTypeDictionaries read to build this catalog (a server older than OPC UA 1.04), each as "node (size, reads)".</summary>
    public IReadOnlyList<string> Dictionaries { get; internal set; } = [];

    /// <summary>The number of structure types known.</summary>
    public int StructureCount => _structures.Count;

    /// <summary>
    /// The structure in an ExtensionObject whose body the message decoder kept raw; raises <see cref="UaDecodingException"/>
    /// with the reason when its encoding is not known or its body does not match its definition.
    /// </summary>
    public SampleValue Decode(ExtensionObject value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.IsNull || value.Encoding == 0)
        {
            return SampleValue.None;
        }

        var type = ByEncoding(value.TypeId) ?? throw new UaDecodingException($"no structure DataType of this server has the encoding {value.TypeId}");
        if (value.Encoding != 1 || value.RawBody is not { } body)
        {
            throw new UaDecodingException($"{type.Name} arrived in encoding {value.Encoding}; only the binary encoding is decoded");
        }

        return UaStructureDecoder.Decode(type, body, ByEncoding);
    }

    private static BuiltInType? BaseOf(UaDataTypeInfo info, Dictionary<NodeId, UaDataTypeInfo> byId)
    {
        var current = info;
        for (var hops = 0; hops < 16 && current.SuperType is { } super; hops++)
        {
            if (StandardBuiltInOf(super) is { } builtIn)
            {
                return super is { NamespaceIndex: 0, Numeric: 22 } ? null : builtIn;
            }

            if (!byId.TryGetValue(super, out var next))
            {
                return null;
            }

            if (next.Definition is EnumDefinition)
            {
                return BuiltInType.Int32;
            }

            current = next;
        }

        return null;
    }

    private void Resolve(UaStructureType type, StructureDefinition definition, bool isInline)
    {
        var fields = definition.Fields ?? [];
        var resolved = new UaFieldType[fields.Length];
        var subtyped = definition.StructureType is StructureType.StructureWithSubtypedValues or StructureType.UnionWithSubtypedValues;
        for (var i = 0; i < fields.Length; i++)
        {
            var field = fields[i];
            var name = string.IsNullOrEmpty(field.Name) ? "Field" + i : field.Name;
            if (field.ValueRank is not (-1 or 1))
            {
                type.Problem ??= $"field {name} has ValueRank {field.ValueRank}; only scalars and one-dimensional arrays are decoded";
            }

            var isArray = field.ValueRank == 1;
            var optional = field.IsOptional && definition.StructureType == StructureType.StructureWithOptionalFields;
            var allowsSubtypes = field.IsOptional && subtyped;
            if (_structures.TryGetValue(field.DataType, out var nested))
            {
                resolved[i] = new UaFieldType { Name = name, Kind = UaFieldKind.Structure, Structure = nested, IsArray = isArray, IsOptional = optional, AllowsSubtypes = allowsSubtypes };
            }
            else if (IsEnumeration(field.DataType))
            {
                resolved[i] = new UaFieldType { Name = name, Kind = UaFieldKind.Enumeration, BuiltIn = BuiltInType.Int32, IsArray = isArray, IsOptional = optional, AllowsSubtypes = allowsSubtypes };
            }
            else if ((StandardBuiltInOf(field.DataType) ?? (_simple.TryGetValue(field.DataType, out var simple) ? simple : null)) is { } builtIn)
            {
                resolved[i] = new UaFieldType { Name = name, Kind = UaFieldKind.BuiltIn, BuiltIn = builtIn, IsArray = isArray, IsOptional = optional, AllowsSubtypes = allowsSubtypes };
            }
            else
            {
                type.Problem ??= $"field {name} is of DataType {field.DataType}, " + (_problems.TryGetValue(field.DataType, out var why) ? why : "which the server does not define");
                resolved[i] = new UaFieldType { Name = name, Kind = UaFieldKind.BuiltIn, BuiltIn = BuiltInType.Null, IsArray = isArray, IsOptional = optional };
            }
        }

        type.Fields = resolved;
        if (type.EncodingId is null or { IsNull: true } && !isInline)
        {
            type.Problem ??= $"the server names no Default Binary encoding for {type.Name}";
        }
    }
}
