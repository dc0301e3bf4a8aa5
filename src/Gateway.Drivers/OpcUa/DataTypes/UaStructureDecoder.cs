using System.Globalization;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>
/// Decodes the binary body of an ExtensionObject (OPC 10000-6 §5.2.6 structures, §5.2.7 optional fields, unions,
/// subtyped values) with its <see cref="UaStructureType"/> into a <see cref="SampleStructure"/>: fields in
/// declaration order, built-in scalars with their exact kinds (Float stays Float, UInt64 unsigned), one-dimensional
/// arrays as typed arrays, nested structures as structures, enumerations as Int32, an absent optional field as no
/// value, a union as the one field it holds. DateTime, Guid, NodeId and the other built-in types become text (as the
/// driver publishes them as tags). A body that does not match (too short, bytes left over, an unknown nested
/// encoding) raises <see cref="UaDecodingException"/> naming the field (<c>MotorData.Position.X: …</c>).
/// </summary>
public static class UaStructureDecoder
{
    /// <summary>Structures in structures deeper than this are refused (a recursive type gone wrong).</summary>
    public const int MaxDepth = 32;

    /// <param name="type">The body's structure type.</param>
    /// <param name="body">The ExtensionObject's body (binary encoding).</param>
    /// <param name="byEncoding">The structure type of a nested ExtensionObject's encoding id (null when not known).</param>
    public static SampleValue Decode(UaStructureType type, ReadOnlySpan<byte> body, Func<NodeId, UaStructureType?> byEncoding)
    {
        ArgumentNullException.ThrowIfNull(type);
        try
        {
            var decoder = new UaDecoder(body);
            var value = ReadStructure(ref decoder, type, byEncoding, 0);
            if (decoder.Remaining != 0)
            {
                throw new UaDecodingException($"{decoder.Remaining} bytes left over after the last field (the body is {body.Length} bytes)");
            }

            return value;
        }
        catch (FieldException ex)
        {
            throw new UaDecodingException($"{type.Name}.{ex.Path}: {ex.Reason}");
        }
        catch (UaDecodingException ex)
        {
            throw new UaDecodingException($"{type.Name}: {ex.Message}");
        }
    }

    private static SampleValue ReadStructure(ref UaDecoder d, UaStructureType type, Func<NodeId, UaStructureType?> byEncoding, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new UaDecodingException($"structures nested deeper than {MaxDepth}");
        }

        if (type.Problem is not null)
        {
            throw new UaDecodingException(type.Problem);
        }

        var fields = type.Fields;
        if (type.IsUnion)
        {
            var selected = d.ReadUInt32();
            if (selected == 0)
            {
                return SampleValue.FromStructure(new SampleStructure(type.Name, [], []));
            }

            if (selected > fields.Length)
            {
                throw new UaDecodingException($"union switch field {selected} but the definition has {fields.Length} fields");
            }

            var field = fields[selected - 1];
            return SampleValue.FromStructure(new SampleStructure(type.Name, [field.Name], [ReadField(ref d, field, byEncoding, depth)]));
        }

        var mask = type.Layout == StructureType.StructureWithOptionalFields ? d.ReadUInt32() : 0u;
        var names = new string[fields.Length];
        var values = new SampleValue[fields.Length];
        var optional = 0;
        for (var i = 0; i < fields.Length; i++)
        {
            var field = fields[i];
            names[i] = field.Name;
            if (type.Layout == StructureType.StructureWithOptionalFields && field.IsOptional)
            {
                var present = optional < 32 && (mask & (1u << optional)) != 0;
                optional++;
                if (!present)
                {
                    values[i] = SampleValue.None;
                    continue;
                }
            }

            values[i] = ReadField(ref d, field, byEncoding, depth);
        }

        return SampleValue.FromStructure(new SampleStructure(type.Name, names, values));
    }

    private static SampleValue ReadField(ref UaDecoder d, UaFieldType field, Func<NodeId, UaStructureType?> byEncoding, int depth)
    {
        try
        {
            return field.IsArray ? ReadArray(ref d, field, byEncoding, depth) : ReadScalar(ref d, field, byEncoding, depth);
        }
        catch (FieldException ex)
        {
            throw new FieldException(field.Name + "." + ex.Path, ex.Reason);
        }
        catch (UaDecodingException ex)
        {
            throw new FieldException(field.Name, ex.Message);
        }
    }

    private static SampleValue ReadScalar(ref UaDecoder d, UaFieldType field, Func<NodeId, UaStructureType?> byEncoding, int depth)
    {
        if (field.AllowsSubtypes)
        {
            return field.Kind == UaFieldKind.Structure
                ? ReadExtensionObject(ref d, byEncoding, depth)
                : ConvertVariant(d.ReadVariant(), byEncoding, depth);
        }

        return field.Kind switch
        {
            UaFieldKind.Structure => ReadStructure(ref d, field.Structure!, byEncoding, depth + 1),
            UaFieldKind.Enumeration => SampleValue.FromInteger(d.ReadInt32()),
            _ => ReadBuiltIn(ref d, field.BuiltIn, byEncoding, depth),
        };
    }

    private static SampleValue ReadBuiltIn(ref UaDecoder d, BuiltInType type, Func<NodeId, UaStructureType?> byEncoding, int depth) => type switch
    {
        BuiltInType.Boolean => SampleValue.FromBoolean(d.ReadBoolean()),
        BuiltInType.SByte => SampleValue.FromInteger(d.ReadSByte()),
        BuiltInType.Byte => SampleValue.FromInteger(d.ReadByte()),
        BuiltInType.Int16 => SampleValue.FromInteger(d.ReadInt16()),
        BuiltInType.UInt16 => SampleValue.FromInteger(d.ReadUInt16()),
        BuiltInType.Int32 => SampleValue.FromInteger(d.ReadInt32()),
        BuiltInType.UInt32 => SampleValue.FromInteger(d.ReadUInt32()),
        BuiltInType.Int64 => SampleValue.FromInteger(d.ReadInt64()),
        BuiltInType.UInt64 => SampleValue.FromUnsignedInteger(d.ReadUInt64()),
        BuiltInType.Float => SampleValue.FromFloat(d.ReadFloat()),
        BuiltInType.Double => SampleValue.FromDouble(d.ReadDouble()),
        BuiltInType.String or BuiltInType.XmlElement => SampleValue.FromString(d.ReadString() ?? string.Empty),
        BuiltInType.DateTime => SampleValue.FromString(d.ReadDateTime().ToString("O", CultureInfo.InvariantCulture)),
        BuiltInType.ByteString => SampleValue.FromString(Convert.ToBase64String(d.ReadByteString() ?? [])),
        BuiltInType.StatusCode => SampleValue.FromInteger(d.ReadUInt32()),
        BuiltInType.LocalizedText => SampleValue.FromString(d.ReadLocalizedText().Text ?? string.Empty),
        BuiltInType.ExtensionObject => ReadExtensionObject(ref d, byEncoding, depth),
        BuiltInType.Variant => ConvertVariant(d.ReadVariant(), byEncoding, depth),
        BuiltInType.DataValue => ConvertVariant(d.ReadDataValue().Value, byEncoding, depth),
        BuiltInType.Guid => SampleValue.FromString(d.ReadGuid().ToString()),
        BuiltInType.NodeId => SampleValue.FromString(d.ReadNodeId().ToString()),
        BuiltInType.ExpandedNodeId => SampleValue.FromString(d.ReadExpandedNodeId().ToString()),
        BuiltInType.QualifiedName => SampleValue.FromString(d.ReadQualifiedName().ToString()),
        BuiltInType.DiagnosticInfo => SampleValue.FromString(d.ReadDiagnosticInfo()?.ToString() ?? string.Empty),
        _ => throw new UaDecodingException($"built-in type {(int)type} cannot be a structure field"),
    };

    /// <summary>A nested ExtensionObject (a field of DataType Structure, or one allowing subtypes): decoded by its own encoding id.</summary>
    private static SampleValue ReadExtensionObject(ref UaDecoder d, Func<NodeId, UaStructureType?> byEncoding, int depth)
    {
        var typeId = d.ReadNodeId();
        var encoding = d.ReadByte();
        if (encoding == 0)
        {
            return SampleValue.None;
        }

        if (encoding != 1)
        {
            throw new UaDecodingException($"an ExtensionObject of encoding {typeId} in encoding {encoding} (only binary is decoded)");
        }

        var length = d.ReadInt32();
        var body = d.ReadRaw(Math.Max(length, 0));
        var type = byEncoding(typeId) ?? throw new UaDecodingException($"an ExtensionObject of encoding {typeId}, a type the server did not define");
        var inner = new UaDecoder(body);
        var value = ReadStructure(ref inner, type, byEncoding, depth + 1);
        if (inner.Remaining != 0)
        {
            throw new UaDecodingException($"{inner.Remaining} bytes left over in the nested {type.Name}");
        }

        return value;
    }

    /// <summary>A Variant field: its value as the driver converts a tag's Variant, nested structures decoded.</summary>
    private static SampleValue ConvertVariant(Variant variant, Func<NodeId, UaStructureType?> byEncoding, int depth)
    {
        if (variant.Value is ExtensionObject { Body: null, RawBody: { } raw } structure)
        {
            var type = byEncoding(structure.TypeId) ?? throw new UaDecodingException($"a Variant holds an ExtensionObject of encoding {structure.TypeId}, a type the server did not define");
            var inner = new UaDecoder(raw);
            return ReadStructure(ref inner, type, byEncoding, depth + 1);
        }

        if (variant.IsArray && variant.Type == BuiltInType.ExtensionObject && !OpcUaArrays.IsMatrix(variant))
        {
            return SampleValue.FromArray(OpcUaArrays.Convert(variant, item => ConvertVariant(new Variant(BuiltInType.ExtensionObject, item), byEncoding, depth)));
        }

        return UaVariantValues.Convert(variant);
    }

    private static SampleValue ReadArray(ref UaDecoder d, UaFieldType field, Func<NodeId, UaStructureType?> byEncoding, int depth)
    {
        var length = d.ReadArrayLength();
        var count = Math.Max(length, 0);
        if (field.Kind == UaFieldKind.Enumeration)
        {
            var items = new int[count];
            for (var i = 0; i < count; i++)
            {
                items[i] = d.ReadInt32();
            }

            return SampleValue.FromArray(SampleArray.Of(items));
        }

        if (field.Kind == UaFieldKind.Structure || field.AllowsSubtypes || field.BuiltIn is BuiltInType.ExtensionObject)
        {
            var items = new SampleValue[count];
            for (var i = 0; i < count; i++)
            {
                items[i] = ReadElement(ref d, field, byEncoding, depth, i);
                if (items[i].Kind != SampleValueKind.Structure)
                {
                    throw new FieldException(i.ToString(CultureInfo.InvariantCulture), $"element {i} is not a structure ({items[i].Kind})");
                }
            }

            return SampleValue.FromArray(SampleArray.OfStructures(items));
        }

        return SampleValue.FromArray(ReadBuiltInArray(ref d, field.BuiltIn, count, byEncoding, depth));
    }

    private static SampleValue ReadElement(ref UaDecoder d, UaFieldType field, Func<NodeId, UaStructureType?> byEncoding, int depth, int index)
    {
        try
        {
            return ReadScalar(ref d, field, byEncoding, depth);
        }
        catch (FieldException ex)
        {
            throw new FieldException(index.ToString(CultureInfo.InvariantCulture) + "." + ex.Path, ex.Reason);
        }
        catch (UaDecodingException ex)
        {
            throw new FieldException(index.ToString(CultureInfo.InvariantCulture), ex.Message);
        }
    }

    private static SampleArray ReadBuiltInArray(ref UaDecoder d, BuiltInType type, int count, Func<NodeId, UaStructureType?> byEncoding, int depth)
    {
        switch (type)
        {
            case BuiltInType.Boolean: { var a = new bool[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadBoolean(); } return SampleArray.Of(a); }
            case BuiltInType.SByte: { var a = new sbyte[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadSByte(); } return SampleArray.Of(a); }
            case BuiltInType.Byte: { var a = new byte[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadByte(); } return SampleArray.Of(a); }
            case BuiltInType.Int16: { var a = new short[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadInt16(); } return SampleArray.Of(a); }
            case BuiltInType.UInt16: { var a = new ushort[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadUInt16(); } return SampleArray.Of(a); }
            case BuiltInType.Int32: { var a = new int[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadInt32(); } return SampleArray.Of(a); }
            case BuiltInType.UInt32: { var a = new uint[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadUInt32(); } return SampleArray.Of(a); }
            case BuiltInType.Int64: { var a = new long[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadInt64(); } return SampleArray.Of(a); }
            case BuiltInType.UInt64: { var a = new ulong[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadUInt64(); } return SampleArray.Of(a); }
            case BuiltInType.Float: { var a = new float[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadFloat(); } return SampleArray.Of(a); }
            case BuiltInType.Double: { var a = new double[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadDouble(); } return SampleArray.Of(a); }
            case BuiltInType.DateTime: { var a = new DateTime[count]; for (var i = 0; i < count; i++) { a[i] = d.ReadDateTime(); } return SampleArray.Of(a); }
            default:
                // Strings, and the other built-in types as their text.
                var texts = new string[count];
                for (var i = 0; i < count; i++)
                {
                    texts[i] = ReadBuiltIn(ref d, type, byEncoding, depth).ToString();
                }

                return SampleArray.Of(texts);
        }
    }

    /// <summary>A decoding failure inside a field, with the path of fields down to it.</summary>
    private sealed class FieldException(string path, string reason) : Exception(reason)
    {
        public string Path { get; } = path;

        public string Reason { get; } = reason;
    }
}
