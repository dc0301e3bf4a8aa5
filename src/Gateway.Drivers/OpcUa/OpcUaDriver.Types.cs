using Gateway.Drivers.OpcUa.DataTypes;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa;

/// <summary>The tags' source types from the server's attributes, read once at connect.</summary>
public sealed partial class OpcUaDriver
{
    /// <summary>
    /// Reads each tag's DataType and ValueRank attributes once per session, before the subscription, so that the
    /// first Sparkplug birth announces the right datatype (FloatArray, Int16 …) even for a tag whose first value comes
    /// late, and loads the definitions of the DataTypes that are not built-in (<see cref="LoadDataTypesAsync"/>): a
    /// structure tag is then known as one, an enumeration as Int32. A tag whose source type is already known (from a
    /// previous connection) keeps it. A refused read changes nothing: the first values decide.
    /// </summary>
    private async Task ReadSourceTypesAsync(CancellationToken cancellationToken)
    {
        var tags = _tags.Where(t => t.NodeId is not null).ToArray();
        if (tags.Length == 0)
        {
            return;
        }

        var nodes = new List<ReadValueId>(tags.Length * 2);
        foreach (var tag in tags)
        {
            nodes.Add(new ReadValueId { NodeId = tag.NodeId!, AttributeId = AttributeIds.DataType });
            nodes.Add(new ReadValueId { NodeId = tag.NodeId!, AttributeId = AttributeIds.ValueRank });
        }

        DataValue[] values;
        try
        {
            values = await _client.ReadAsync(nodes, cancellationToken);
        }
        catch (UaException ex) when (ex is not UaConnectionException)
        {
            return;
        }

        for (var i = 0; i < tags.Length; i++)
        {
            tags[i].DataType = values[2 * i].Value.Value as NodeId;
        }

        await LoadDataTypesAsync(tags, cancellationToken);
        var catalog = _dataTypes;
        for (var i = 0; i < tags.Length; i++)
        {
            var valueRank = values[(2 * i) + 1].Value.Value as int?;
            var (type, isArray) = SourceTypeOf(tags[i].DataType, valueRank, catalog);
            if (type == SourceType.Unknown)
            {
                continue;
            }

            var tag = tags[i];
            lock (tag)
            {
                if (type == SourceType.Structure && !isArray && catalog.StructureOf(tag.DataType!) is { } structure)
                {
                    // Its shape, for the outputs that publish a structure field by field (a changed definition is a changed type).
                    var layout = DataTypes.UaStructureLayouts.Of(structure);
                    if (!layout.Equals(tag.Info.Structure))
                    {
                        tag.Info.Structure = layout;
                    }
                }

                if (tag.Info.SourceType == SourceType.Unknown)
                {
                    tag.Info.IsArray = isArray;
                    tag.Info.SourceType = isArray || type == SourceType.Structure ? type : SourcePublished(type, tag.Config);
                }
            }
        }
    }

    private static SourceType SourcePublished(SourceType type, TagConfig config) => SourceTypes.Published(type, config.Scale, config.Offset);

    /// <summary>
    /// The source type of a node whose DataType is not a built-in type: a structure the catalog decodes, an
    /// enumeration (Int32), or a simple subtype of a built-in type (Duration: Double); otherwise as
    /// <see cref="SourceTypeOf(NodeId?, int?)"/>.
    /// </summary>
    public static (SourceType Type, bool IsArray) SourceTypeOf(NodeId? dataType, int? valueRank, DataTypes.UaDataTypeCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (dataType is null || valueRank is not (1 or -1))
        {
            return (SourceType.Unknown, false);
        }

        if (catalog.StructureOf(dataType) is { Problem: null })
        {
            return (SourceType.Structure, valueRank == 1);
        }

        if (catalog.IsEnumeration(dataType))
        {
            return SourceTypeOf(new NodeId(0, (uint)BuiltInType.Int32), valueRank);
        }

        var builtIn = DataTypes.UaDataTypeCatalog.StandardBuiltInOf(dataType) ?? catalog.SimpleBuiltInOf(dataType);
        return builtIn is { } b and not BuiltInType.ExtensionObject and not BuiltInType.Variant
            ? SourceTypeOf(new NodeId(0, (uint)b), valueRank)
            : (SourceType.Unknown, false);
    }

    /// <summary>
    /// The source type of a node from its DataType attribute (a built-in type's NodeId, ns=0;i=1 … i=13) and its
    /// ValueRank (1: a one-dimensional array; -1: a scalar; anything else, unknown). Matches what
    /// <see cref="UaVariantValues.SourceTypeOf(Variant, TagConfig?)"/> gives for a value of that node (a scalar DateTime is text).
    /// </summary>
    public static (SourceType Type, bool IsArray) SourceTypeOf(NodeId? dataType, int? valueRank)
    {
        if (dataType is null || dataType.NamespaceIndex != 0 || dataType.IdType != NodeIdType.Numeric || dataType.Numeric is < 1 or > 13
            || valueRank is not (1 or -1))
        {
            return (SourceType.Unknown, false);
        }

        var builtIn = (BuiltInType)dataType.Numeric;
        var isArray = valueRank == 1;
        return (isArray ? OpcUaArrays.ElementTypeOf(builtIn) : UaVariantValues.SourceTypeOf(new Variant(builtIn, ScalarOf(builtIn))), isArray);
    }

    private static object ScalarOf(BuiltInType type) => type switch
    {
        BuiltInType.Boolean => false,
        BuiltInType.SByte => (sbyte)0,
        BuiltInType.Byte => (byte)0,
        BuiltInType.Int16 => (short)0,
        BuiltInType.UInt16 => (ushort)0,
        BuiltInType.Int32 => 0,
        BuiltInType.UInt32 => 0u,
        BuiltInType.Int64 => 0L,
        BuiltInType.UInt64 => 0UL,
        BuiltInType.Float => 0f,
        BuiltInType.Double => 0.0,
        BuiltInType.DateTime => DateTime.UnixEpoch,
        _ => string.Empty,
    };

    /// <summary>
    /// The encoding id of an ExtensionObject in the value that the decoder did not turn into a known structure (its
    /// body kept as raw bytes), scalar or array element; null when there is none.
    /// </summary>
    public static NodeId? UndecodableStructure(Variant value)
    {
        switch (value.Value)
        {
            case ExtensionObject { Body: null, IsNull: false } scalar:
                return scalar.TypeId;
            case ExtensionObject[] array:
                foreach (var item in array)
                {
                    if (item is { Body: null, IsNull: false })
                    {
                        return item.TypeId;
                    }
                }

                return null;
            default:
                return null;
        }
    }
}
