using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>
/// The <see cref="StructureLayout"/> of a structure type: its leaves in declaration order, nested structures
/// flattened (<c>Position/X</c>), with the source type each leaf's values have once decoded by
/// <see cref="UaStructureDecoder"/> (an enumeration Int32, a DateTime or a NodeId text, an array of structures Structure).
/// </summary>
public static class UaStructureLayouts
{
    // A structure that contains itself (through optional fields or subtypes) is cut off here: deeper leaves are JSON.
    private const int MaxDepth = 8;

    public static StructureLayout Of(UaStructureType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var leaves = new List<StructureLeaf>();
        Add(type, null, leaves, 0);
        return new StructureLayout(type.Name, leaves);
    }

    private static void Add(UaStructureType type, string? prefix, List<StructureLeaf> leaves, int depth)
    {
        foreach (var field in type.Fields)
        {
            var path = prefix is null ? field.Name : prefix + "/" + field.Name;
            if (field.Kind == UaFieldKind.Structure && !field.IsArray && !field.AllowsSubtypes && depth < MaxDepth)
            {
                Add(field.Structure!, path, leaves, depth + 1);
                continue;
            }

            leaves.Add(new StructureLeaf(path, TypeOf(field), field.IsArray));
        }
    }

    private static SourceType TypeOf(UaFieldType field)
    {
        if (field.Kind == UaFieldKind.Structure || (field.AllowsSubtypes && field.Kind != UaFieldKind.Enumeration && field.BuiltIn == BuiltInType.ExtensionObject))
        {
            return SourceType.Structure;
        }

        if (field.AllowsSubtypes)
        {
            // A Variant on the wire: whatever the value holds.
            return SourceType.Unknown;
        }

        if (field.Kind == UaFieldKind.Enumeration)
        {
            return SourceType.Int32;
        }

        return field.BuiltIn switch
        {
            BuiltInType.Variant or BuiltInType.DataValue or BuiltInType.Null => SourceType.Unknown,
            BuiltInType.ExtensionObject => SourceType.Structure,
            BuiltInType.DateTime when !field.IsArray => SourceType.String,
            var builtIn => OpcUaArrays.ElementTypeOf(builtIn),
        };
    }
}
