using System.Globalization;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Discovery;

/// <summary>
/// Browsing an OPC UA server's address space with the gateway's own client, shared by <c>opcua browse</c> (a tree to a
/// depth) and the commissioning page (one node's children per call, see <see cref="ChildrenAsync"/>).
/// </summary>
public static partial class OpcUaBrowser
{
    /// <summary>A node of a browsed tree; DataType as <c>Float[1000]</c>, <c>Double[,]</c>, <c>Vendor (structure)</c>.</summary>
    public sealed record TreeNode(string NodeId, string BrowseName, string NodeClass, string? DataType, List<TreeNode>? Children);

    public static async Task<TreeNode> BrowseTreeAsync(UaClient client, NodeId start, int depth, CancellationToken ct)
    {
        var attributes = await client.ReadAsync([new ReadValueId { NodeId = start, AttributeId = AttributeIds.BrowseName }, new ReadValueId { NodeId = start, AttributeId = AttributeIds.NodeClass }], ct);
        var browseName = attributes[0].Value.Value is QualifiedName qn ? qn.ToString() : start.ToString();
        var nodeClass = attributes[1].Value.Value is int nc ? ((NodeClass)nc).ToString() : "";
        var root = new TreeNode(start.ToString(), browseName, nodeClass, null, []);
        await ExpandAsync(client, root, start, depth, new Dictionary<NodeId, string>(), ct);
        return root;
    }

    // typeNames: DataType NodeId → name, shared by the whole tree so that each type is read once.
    private static async Task ExpandAsync(UaClient client, TreeNode node, NodeId nodeId, int depth, Dictionary<NodeId, string> typeNames, CancellationToken ct)
    {
        if (depth <= 0)
        {
            return;
        }

        var references = await client.BrowseAsync(nodeId, ct);
        var local = references.Where(r => r.NodeId.ServerIndex == 0).ToArray();
        var variables = local.Where(r => r.NodeClass is NodeClass.Variable or NodeClass.VariableType).ToArray();
        var dataTypes = new Dictionary<NodeId, string>();
        if (variables.Length > 0)
        {
            // DataType, ValueRank and ArrayDimensions of each variable: arrays print as Float[1000] (or Float[] with no
            // dimensions), matrices as Double[2,3].
            var values = await client.ReadAsync(variables.SelectMany(r => new[] { AttributeIds.DataType, AttributeIds.ValueRank, ArrayDimensionsAttribute }
                .Select(a => new ReadValueId { NodeId = r.NodeId.NodeId, AttributeId = a })).ToArray(), ct);
            await NameTypesAsync(client, values.Where((_, i) => i % 3 == 0).Select(v => v.Value.Value).OfType<NodeId>(), typeNames, ct);
            for (var i = 0; i < variables.Length; i++)
            {
                if (values[3 * i].Value.Value is NodeId dataType)
                {
                    var name = TypeName(dataType, typeNames);
                    dataTypes[variables[i].NodeId.NodeId] = name + ArrayMark(values[(3 * i) + 1].Value.Value as int?, values[(3 * i) + 2].Value.Value as uint[]);
                }
            }
        }

        foreach (var reference in local)
        {
            var child = new TreeNode(reference.NodeId.NodeId.ToString(), reference.BrowseName.ToString(), reference.NodeClass.ToString(),
                dataTypes.GetValueOrDefault(reference.NodeId.NodeId), []);
            node.Children!.Add(child);
            if (reference.NodeClass is NodeClass.Object or NodeClass.Variable or NodeClass.View)
            {
                await ExpandAsync(client, child, reference.NodeId.NodeId, depth - 1, typeNames, ct);
            }
        }
    }

    /// <summary>
    /// Names the DataTypes that are not built-in (UtcTime, ServerState, Range, a vendor's structure) by their
    /// BrowseName, into <paramref name="typeNames"/>; a vendor type with a StructureDefinition (DataTypeDefinition
    /// attribute) is marked "(structure)". Each type is read once per dictionary.
    /// </summary>
    internal static async Task NameTypesAsync(UaClient client, IEnumerable<NodeId> dataTypes, Dictionary<NodeId, string> typeNames, CancellationToken ct)
    {
        var unnamed = dataTypes.Where(t => BuiltInName(t) is null && !typeNames.ContainsKey(t)).Distinct().ToArray();
        if (unnamed.Length == 0)
        {
            return;
        }

        var names = await client.ReadAsync(unnamed.SelectMany(t => new[] { new ReadValueId { NodeId = t, AttributeId = AttributeIds.BrowseName }, new ReadValueId { NodeId = t, AttributeId = DataTypeDefinitionAttribute } }).ToArray(), ct);
        for (var i = 0; i < unnamed.Length; i++)
        {
            var name = names[2 * i].Value.Value is QualifiedName { Name.Length: > 0 } qualified ? qualified.ToString() : unnamed[i].ToString();
            // Vendor types only: the standard ones (Range, EUInformation, ...) keep their plain names.
            var structure = unnamed[i].NamespaceIndex != 0
                && names[(2 * i) + 1].Value.Value is ExtensionObject { TypeId: { NamespaceIndex: 0, Numeric: StructureDefinitionEncoding } };
            typeNames[unnamed[i]] = structure ? name + " (structure)" : name;
        }
    }

    /// <summary>A DataType's name: built-in, or as <see cref="NameTypesAsync"/> found it, or its NodeId.</summary>
    internal static string TypeName(NodeId dataType, Dictionary<NodeId, string> typeNames) =>
        BuiltInName(dataType) ?? typeNames.GetValueOrDefault(dataType, dataType.ToString());

    internal const uint ArrayDimensionsAttribute = 16;
    private const uint DataTypeDefinitionAttribute = 23; // OPC 10000-3 §5.8.3, servers of 1.04 and later
    private const uint StructureDefinitionEncoding = 122; // StructureDefinition_Encoding_DefaultBinary

    /// <summary>"" for a scalar; [] for an array of unknown length; [1000], [2,3] with the ArrayDimensions (0: any length).</summary>
    internal static string ArrayMark(int? valueRank, uint[]? dimensions) => valueRank switch
    {
        null or -1 or -3 => "",
        _ when dimensions is { Length: > 0 } => "[" + string.Join(",", dimensions.Select(d => d == 0 ? "" : d.ToString(CultureInfo.InvariantCulture))) + "]",
        1 => "[]",
        > 1 => "[" + new string(',', valueRank.Value - 1) + "]",
        _ => "[…]", // 0 (one or more dimensions) or -2 (scalar or array)
    };

    /// <summary>DataTypes i=1..25 are the built-in types, except i=22 Structure and i=24 BaseDataType (OPC 10000-6 §5.1.2).</summary>
    internal static string? BuiltInName(NodeId dataType) =>
        dataType.NamespaceIndex != 0 || dataType.IdType != NodeIdType.Numeric ? null : dataType.Numeric switch
        {
            22 => "Structure",
            24 => "BaseDataType",
            >= 1 and <= 25 => ((BuiltInType)dataType.Numeric).ToString(),
            _ => null,
        };
}
