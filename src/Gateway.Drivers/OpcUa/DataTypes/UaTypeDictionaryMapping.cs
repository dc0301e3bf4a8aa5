using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>
/// Maps an <c>opc:StructuredType</c> of a <see cref="UaTypeDictionary"/> to the <see cref="StructureDefinition"/> a
/// 1.04 server would give for it, so that the catalog, the decoder and everything north of the driver are the same
/// for both kinds of server (OPC 10000-6 Annex F, 5.2.6, 5.2.7):
/// <list type="bullet">
/// <item>an Int32 field named by the next field's <c>LengthField</c> is that array's length: the pair is one field of ValueRank 1;</item>
/// <item>leading <c>opc:Bit</c> fields (32 bits in all) are the EncodingMask: a field whose <c>SwitchField</c> is a bit is optional
/// (StructureWithOptionalFields), its bit being its position among the optional fields;</item>
/// <item>a first UInt32 field that every other field switches on with <c>SwitchValue</c> 1, 2, … is a Union;</item>
/// <item>an <c>opc:EnumeratedType</c> of 32 bits is an enumeration (Int32); <c>tns:</c> types are nested structures.</item>
/// </list>
/// Anything else (a fixed-length array, a length in bytes, bits not at the start, a type of another dictionary)
/// makes the type undecodable with a reason that names the field. Nested types get NodeIds of their own that no
/// server uses (<see cref="NestedId"/>); they have no encoding, being inline.
/// </summary>
public static class UaTypeDictionaryMapping
{
    // OPC 10000-6 Annex F: the OPC Binary and UA names of the built-in types.
    private static readonly Dictionary<string, BuiltInType> s_builtIns = new(StringComparer.Ordinal)
    {
        ["Boolean"] = BuiltInType.Boolean, ["SByte"] = BuiltInType.SByte, ["Byte"] = BuiltInType.Byte,
        ["Int16"] = BuiltInType.Int16, ["UInt16"] = BuiltInType.UInt16, ["Int32"] = BuiltInType.Int32, ["UInt32"] = BuiltInType.UInt32,
        ["Int64"] = BuiltInType.Int64, ["UInt64"] = BuiltInType.UInt64, ["Float"] = BuiltInType.Float, ["Double"] = BuiltInType.Double,
        ["String"] = BuiltInType.String, ["CharArray"] = BuiltInType.String, ["DateTime"] = BuiltInType.DateTime, ["Guid"] = BuiltInType.Guid,
        ["ByteString"] = BuiltInType.ByteString, ["XmlElement"] = BuiltInType.XmlElement, ["NodeId"] = BuiltInType.NodeId,
        ["ExpandedNodeId"] = BuiltInType.ExpandedNodeId, ["StatusCode"] = BuiltInType.StatusCode, ["QualifiedName"] = BuiltInType.QualifiedName,
        ["LocalizedText"] = BuiltInType.LocalizedText, ["ExtensionObject"] = BuiltInType.ExtensionObject, ["DataValue"] = BuiltInType.DataValue,
        ["Variant"] = BuiltInType.Variant, ["DiagnosticInfo"] = BuiltInType.DiagnosticInfo,
    };

    /// <summary>The NodeId the catalog knows a nested dictionary type by (namespace of the DataType that uses it).</summary>
    public static NodeId NestedId(ushort namespaceIndex, string dictionaryKey, string typeName) => new(namespaceIndex, $"\u0001{dictionaryKey}#{typeName}");

    /// <summary>
    /// What the catalog needs for the DataType <paramref name="dataTypeId"/> described as <paramref name="typeName"/>
    /// in <paramref name="dictionary"/>: its own info first, then one per dictionary type it uses, nested included.
    /// </summary>
    public static List<UaDataTypeInfo> Describe(UaTypeDictionary dictionary, string typeName, NodeId dataTypeId, string name, NodeId encodingId, string dictionaryKey)
    {
        ArgumentNullException.ThrowIfNull(dictionary);
        ArgumentNullException.ThrowIfNull(dataTypeId);
        var infos = new List<UaDataTypeInfo>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>();
        infos.Add(Map(dictionary, typeName, dataTypeId, name, encodingId, dictionaryKey, pending, inline: false));
        done.Add(typeName);
        while (pending.TryDequeue(out var nested))
        {
            if (done.Add(nested))
            {
                infos.Add(Map(dictionary, nested, NestedId(dataTypeId.NamespaceIndex, dictionaryKey, nested), nested, null, dictionaryKey, pending, inline: true));
            }
        }

        return infos;
    }

    private static UaDataTypeInfo Map(UaTypeDictionary dictionary, string typeName, NodeId id, string name, NodeId? encodingId, string key, Queue<string> pending, bool inline)
    {
        var type = dictionary.Find(typeName);
        if (type is null)
        {
            return Problem($"the type dictionary {dictionary.TargetNamespace} has no type {typeName}");
        }

        if (type.IsOpaque)
        {
            return Problem($"{typeName} is an opc:OpaqueType in the type dictionary; the gateway does not decode opaque types");
        }

        if (type.EnumBits is { } bits)
        {
            return bits == 32
                ? new UaDataTypeInfo(id, name, new EnumDefinition { Fields = [.. type.EnumValues.Select(v => new EnumField { Name = v.Name, Value = v.Value })] }, null, null, null, inline)
                : Problem($"the enumeration {typeName} has {bits} bits in the type dictionary; OPC UA binary enumerations are 32 bits");
        }

        try
        {
            var definition = MapStructure(dictionary, type, id.NamespaceIndex, key, pending);
            definition.DefaultEncodingId = encodingId ?? NodeId.Null;
            return new UaDataTypeInfo(id, name, definition, null, encodingId, null, inline);
        }
        catch (UaDecodingException ex)
        {
            return Problem($"{typeName} in the type dictionary {dictionary.TargetNamespace}: {ex.Message}");
        }

        UaDataTypeInfo Problem(string why) => new(id, name, null, null, null, why, inline);
    }

    private static StructureDefinition MapStructure(UaTypeDictionary dictionary, UaDictionaryType type, ushort namespaceIndex, string key, Queue<string> pending)
    {
        var source = type.Fields;
        var first = 0;
        var bitIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var bits = 0;
        for (; first < source.Count && source[first].TypeName == UaTypeDictionary.OpcBinary + "Bit"; first++)
        {
            bitIndex[source[first].Name] = bits;
            bits += (int)(source[first].Length ?? 1);
        }

        if (bits is not (0 or 32))
        {
            throw new UaDecodingException($"its leading opc:Bit fields make {bits} bits; an EncodingMask is 32");
        }

        var isUnion = first < source.Count - 1 && source[first].TypeName == UaTypeDictionary.OpcBinary + "UInt32" && source.Skip(first + 1).All(f => f.SwitchField == source[first].Name && f.SwitchValue is not null);
        var fields = new List<StructureField>();
        var optionalCount = 0;
        for (var i = isUnion ? first + 1 : first; i < source.Count; i++)
        {
            var field = source[i];
            if (field.TypeName == UaTypeDictionary.OpcBinary + "Bit")
            {
                throw new UaDecodingException($"field {field.Name} is an opc:Bit after other fields; only a leading EncodingMask is decoded");
            }

            if (field.IsLengthInBytes || (field.Length is not null && field.LengthField is null))
            {
                throw new UaDecodingException($"field {field.Name} has a fixed length or a length in bytes, which OPC UA binary structures do not have");
            }

            var isOptional = false;
            if (isUnion)
            {
                if (field.SwitchValue != (uint)(fields.Count + 1))
                {
                    throw new UaDecodingException($"union field {field.Name} has SwitchValue {field.SwitchValue}; OPC 10000-6 numbers them 1, 2, … in order");
                }
            }
            else if (field.SwitchField is { } switchField)
            {
                if (!bitIndex.TryGetValue(switchField, out var bit) || field.SwitchValue is not (null or 1))
                {
                    throw new UaDecodingException($"field {field.Name} switches on {switchField}, which is not a bit of the leading EncodingMask");
                }

                if (bit != optionalCount)
                {
                    throw new UaDecodingException($"optional field {field.Name} is bit {bit} of the EncodingMask; OPC 10000-6 gives it bit {optionalCount}");
                }

                isOptional = true;
                optionalCount++;
            }

            if (i + 1 < source.Count && source[i + 1].LengthField == field.Name)
            {
                if (field.TypeName != UaTypeDictionary.OpcBinary + "Int32" || field.SwitchField is not null)
                {
                    throw new UaDecodingException($"the length field {field.Name} of {source[i + 1].Name} is not a plain opc:Int32");
                }

                continue; // the array's length prefix, read with the array
            }

            if (field.LengthField is { } lengthField && (i == 0 || source[i - 1].Name != lengthField))
            {
                throw new UaDecodingException($"array field {field.Name} has its LengthField {lengthField} not right before it");
            }

            fields.Add(new StructureField
            {
                Name = field.Name,
                DataType = DataTypeOf(dictionary, field, namespaceIndex, key, pending),
                ValueRank = field.LengthField is null ? -1 : 1,
                IsOptional = isOptional,
            });
        }

        var layout = isUnion ? StructureType.Union : optionalCount > 0 ? StructureType.StructureWithOptionalFields : StructureType.Structure;
        if (!isUnion && bits == 32 && optionalCount == 0)
        {
            // An EncodingMask with no optional field: still on the wire.
            layout = StructureType.StructureWithOptionalFields;
        }

        return new StructureDefinition { BaseDataType = new NodeId(0, 22u), StructureType = layout, Fields = [.. fields] };
    }

    private static NodeId DataTypeOf(UaTypeDictionary dictionary, UaDictionaryField field, ushort namespaceIndex, string key, Queue<string> pending)
    {
        var type = field.TypeName;
        if ((type.Namespace == UaTypeDictionary.OpcBinary || type.Namespace == UaTypeDictionary.Ua) && s_builtIns.TryGetValue(type.LocalName, out var builtIn))
        {
            return new NodeId(0, (uint)builtIn);
        }

        if (type.NamespaceName == dictionary.TargetNamespace && dictionary.Find(type.LocalName) is not null)
        {
            pending.Enqueue(type.LocalName);
            return NestedId(namespaceIndex, key, type.LocalName);
        }

        throw new UaDecodingException($"field {field.Name} is of type {type.LocalName} of {type.NamespaceName}, which this dictionary does not define");
    }
}
