namespace Gateway.Drivers.OpcUa.Encoding;

/// <summary>StructureDefinition.StructureType (OPC 10000-3 §8.49): how a structure's body is laid out.</summary>
public enum StructureType
{
    /// <summary>Every field, in order.</summary>
    Structure = 0,

    /// <summary>A UInt32 EncodingMask first (bit i set: the i-th optional field is present), then the fields present.</summary>
    StructureWithOptionalFields = 1,

    /// <summary>A UInt32 SwitchField first (0: no field; n: field n, counted from 1), then that one field.</summary>
    Union = 2,

    /// <summary>Every field; a field with IsOptional set allows subtypes (an ExtensionObject or a Variant on the wire).</summary>
    StructureWithSubtypedValues = 3,

    /// <summary>A union whose fields may hold subtypes.</summary>
    UnionWithSubtypedValues = 4,
}

/// <summary>One field of a <see cref="StructureDefinition"/> (OPC 10000-3 §8.51, StructureField).</summary>
public sealed class StructureField : IEncodeable
{
    public string? Name { get; set; }

    public LocalizedText Description { get; set; }

    /// <summary>The field's DataType: a built-in type (ns=0;i=1 … 25), an enumeration, a structure or a subtype of one.</summary>
    public NodeId DataType { get; set; } = NodeId.Null;

    /// <summary>-1 scalar, 1 one-dimensional array, 2 or more a matrix.</summary>
    public int ValueRank { get; set; } = -1;

    public uint[]? ArrayDimensions { get; set; }

    public uint MaxStringLength { get; set; }

    /// <summary>Optional (StructureWithOptionalFields) or allowing subtypes (StructureWithSubtypedValues).</summary>
    public bool IsOptional { get; set; }

    public uint BinaryEncodingId => 14844;

    public void Encode(UaEncoder e)
    {
        e.WriteString(Name);
        e.WriteLocalizedText(Description);
        e.WriteNodeId(DataType);
        e.WriteInt32(ValueRank);
        e.WriteUInt32Array(ArrayDimensions);
        e.WriteUInt32(MaxStringLength);
        e.WriteBoolean(IsOptional);
    }

    public void Decode(ref UaDecoder d)
    {
        Name = d.ReadString();
        Description = d.ReadLocalizedText();
        DataType = d.ReadNodeId();
        ValueRank = d.ReadInt32();
        ArrayDimensions = d.ReadUInt32Array();
        MaxStringLength = d.ReadUInt32();
        IsOptional = d.ReadBoolean();
    }
}

/// <summary>
/// The DataTypeDefinition attribute (23) of a structure DataType (OPC 10000-3 §8.48; DefaultBinary i=122): its
/// binary encoding's id, its base type, its layout and its fields in declaration order.
/// </summary>
public sealed class StructureDefinition : IEncodeable
{
    public const uint EncodingId = 122;

    public NodeId DefaultEncodingId { get; set; } = NodeId.Null;

    public NodeId BaseDataType { get; set; } = NodeId.Null;

    public StructureType StructureType { get; set; }

    public StructureField[]? Fields { get; set; }

    public uint BinaryEncodingId => EncodingId;

    public void Encode(UaEncoder e)
    {
        e.WriteNodeId(DefaultEncodingId);
        e.WriteNodeId(BaseDataType);
        e.WriteInt32((int)StructureType);
        e.WriteEncodeableArray(Fields);
    }

    public void Decode(ref UaDecoder d)
    {
        DefaultEncodingId = d.ReadNodeId();
        BaseDataType = d.ReadNodeId();
        var type = d.ReadInt32();
        if (type is < 0 or > 4)
        {
            throw new UaDecodingException($"invalid StructureType {type}");
        }

        StructureType = (StructureType)type;
        Fields = d.ReadEncodeableArray<StructureField>();
    }
}

/// <summary>One value of an <see cref="EnumDefinition"/> (OPC 10000-3 §8.52, EnumField).</summary>
public sealed class EnumField : IEncodeable
{
    public long Value { get; set; }

    public LocalizedText DisplayName { get; set; }

    public LocalizedText Description { get; set; }

    public string? Name { get; set; }

    public uint BinaryEncodingId => 14845;

    public void Encode(UaEncoder e)
    {
        e.WriteInt64(Value);
        e.WriteLocalizedText(DisplayName);
        e.WriteLocalizedText(Description);
        e.WriteString(Name);
    }

    public void Decode(ref UaDecoder d)
    {
        Value = d.ReadInt64();
        DisplayName = d.ReadLocalizedText();
        Description = d.ReadLocalizedText();
        Name = d.ReadString();
    }
}

/// <summary>The DataTypeDefinition attribute (23) of an enumeration DataType (OPC 10000-3 §8.50; DefaultBinary i=123). Enumerations travel as Int32.</summary>
public sealed class EnumDefinition : IEncodeable
{
    public const uint EncodingId = 123;

    public EnumField[]? Fields { get; set; }

    public uint BinaryEncodingId => EncodingId;

    public void Encode(UaEncoder e) => e.WriteEncodeableArray(Fields);

    public void Decode(ref UaDecoder d) => Fields = d.ReadEncodeableArray<EnumField>();
}
