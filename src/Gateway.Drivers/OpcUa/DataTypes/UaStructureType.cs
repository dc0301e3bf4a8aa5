using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>What a structure field holds on the wire.</summary>
public enum UaFieldKind
{
    /// <summary>A built-in type (<see cref="UaFieldType.BuiltIn"/>): ExtensionObject and Variant included.</summary>
    BuiltIn,

    /// <summary>A structure encoded inline (<see cref="UaFieldType.Structure"/>).</summary>
    Structure,

    /// <summary>An enumeration: an Int32 on the wire.</summary>
    Enumeration,
}

/// <summary>One field of a <see cref="UaStructureType"/>, resolved: its name, what it holds, array or not, optional or not.</summary>
public sealed class UaFieldType
{
    public required string Name { get; init; }

    public required UaFieldKind Kind { get; init; }

    /// <summary>The built-in type of a <see cref="UaFieldKind.BuiltIn"/> field (Int32 for an enumeration).</summary>
    public BuiltInType BuiltIn { get; init; }

    /// <summary>The nested structure of a <see cref="UaFieldKind.Structure"/> field.</summary>
    public UaStructureType? Structure { get; set; }

    /// <summary>A one-dimensional array (ValueRank 1): Int32 length, then the elements.</summary>
    public bool IsArray { get; init; }

    /// <summary>Counted in the EncodingMask of a StructureWithOptionalFields.</summary>
    public bool IsOptional { get; init; }

    /// <summary>
    /// A field of a structure or union with subtyped values that allows subtypes: a structure goes as an
    /// ExtensionObject, anything else as a Variant.
    /// </summary>
    public bool AllowsSubtypes { get; init; }
}

/// <summary>
/// A structure DataType as the server defines it (its DataTypeDefinition, OPC 10000-3 §8.48), resolved so that its
/// binary body (OPC 10000-6 §5.2.6, §5.2.7) can be decoded field by field: nested structures point at their own
/// <see cref="UaStructureType"/>. Built once per session by <see cref="UaDataTypeCatalog"/>.
/// </summary>
public sealed class UaStructureType
{
    public required NodeId DataTypeId { get; init; }

    /// <summary>The DataType's browse name (without namespace index), for example <c>MotorData</c>.</summary>
    public required string Name { get; init; }

    public required StructureType Layout { get; init; }

    /// <summary>The fields in declaration order (empty until resolved).</summary>
    public UaFieldType[] Fields { get; set; } = [];

    /// <summary>Its DefaultBinary encoding id: the TypeId of its ExtensionObjects; null when the server gave none.</summary>
    public NodeId? EncodingId { get; set; }

    /// <summary>Why a value of this type cannot be decoded (a field of a type the server does not define); null when it can.</summary>
    public string? Problem { get; set; }

    public bool IsUnion => Layout is StructureType.Union or StructureType.UnionWithSubtypedValues;

    public override string ToString() => $"{Name} ({DataTypeId})";
}
