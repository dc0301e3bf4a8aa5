using System.Globalization;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Discovery;

/// <summary>One child of a browsed node, as the commissioning page shows it.</summary>
/// <param name="NodeId">Its NodeId, as <c>ns=1;s=Machine1.Temperature</c>: what a tag's <c>address</c> takes.</param>
/// <param name="BrowseName">Its BrowseName, with the namespace index (<c>1:Temperature</c>).</param>
/// <param name="DisplayName">Its DisplayName text.</param>
/// <param name="NodeClass"><c>Object</c>, <c>Variable</c>, <c>Method</c>, ...</param>
/// <param name="DataType">For a variable: <c>Double</c>, <c>Float[1000]</c>, <c>Vendor (structure)</c>; else null.</param>
/// <param name="ValueRank">For a variable: -1 scalar, 1 array, ...</param>
/// <param name="ArrayDimensions">For an array with fixed dimensions: their lengths (0 for any length).</param>
/// <param name="Access">For a variable: <c>read</c>, <c>read/write</c>, <c>write</c> or <c>none</c> (AccessLevel bits 0 and 1).</param>
/// <param name="Value">For a variable: its current value as text (at most 200 characters).</param>
/// <param name="Status">For a variable: the status of that read (<c>Good</c>, <c>BadNotReadable</c>, ...).</param>
/// <param name="TagType">The tag <c>type</c> the gateway names for its DataType; null when it reads it as it comes.</param>
/// <param name="HasChildren">True for objects, folders and views: the page may expand them.</param>
public sealed record OpcUaChild(
    string NodeId,
    string BrowseName,
    string DisplayName,
    string NodeClass,
    string? DataType,
    int? ValueRank,
    uint[]? ArrayDimensions,
    string? Access,
    string? Value,
    string? Status,
    string? TagType,
    bool HasChildren);

public static partial class OpcUaBrowser
{
    private const int MaxValueText = 200;

    /// <summary>
    /// The children of one node (a lazy tree: one call per expanded node), with each variable's DataType, ValueRank,
    /// ArrayDimensions, AccessLevel and current value and status, read in one request.
    /// </summary>
    public static async Task<List<OpcUaChild>> ChildrenAsync(UaClient client, NodeId parent, CancellationToken ct)
    {
        var references = (await client.BrowseAsync(parent, ct)).Where(r => r.NodeId.ServerIndex == 0).ToArray();
        var variables = references.Where(r => r.NodeClass is NodeClass.Variable).ToArray();
        var attributes = new[] { AttributeIds.DataType, AttributeIds.ValueRank, ArrayDimensionsAttribute, AttributeIds.AccessLevel, AttributeIds.Value };
        var values = variables.Length == 0
            ? []
            : await client.ReadAsync(variables.SelectMany(r => attributes.Select(a => new ReadValueId { NodeId = r.NodeId.NodeId, AttributeId = a })).ToArray(), ct);
        var typeNames = new Dictionary<NodeId, string>();
        await NameTypesAsync(client, values.Where((_, i) => i % attributes.Length == 0).Select(v => v.Value.Value).OfType<NodeId>(), typeNames, ct);
        var byNode = new Dictionary<NodeId, int>();
        for (var i = 0; i < variables.Length; i++)
        {
            byNode[variables[i].NodeId.NodeId] = i * attributes.Length;
        }

        var children = new List<OpcUaChild>(references.Length);
        foreach (var reference in references)
        {
            var id = reference.NodeId.NodeId;
            var browsable = reference.NodeClass is NodeClass.Object or NodeClass.View;
            if (!byNode.TryGetValue(id, out var at))
            {
                children.Add(new OpcUaChild(id.ToString(), reference.BrowseName.ToString(), reference.DisplayName.Text ?? reference.BrowseName.Name ?? "", reference.NodeClass.ToString(), null, null, null, null, null, null, null, browsable));
                continue;
            }

            var dataType = values[at].Value.Value as NodeId;
            var valueRank = values[at + 1].Value.Value as int?;
            var dimensions = values[at + 2].Value.Value as uint[];
            var typeName = dataType is null ? null : TypeName(dataType, typeNames);
            var value = values[at + 4];
            children.Add(new OpcUaChild(
                id.ToString(),
                reference.BrowseName.ToString(),
                reference.DisplayName.Text ?? reference.BrowseName.Name ?? "",
                reference.NodeClass.ToString(),
                typeName is null ? null : typeName + ArrayMark(valueRank, dimensions),
                valueRank,
                dimensions,
                Access(values[at + 3].Value.Value),
                Shorten(value.StatusCode.IsBad ? null : value.Value.ToString()),
                value.StatusCode.ToString(),
                valueRank is null or -1 ? TagEmitter.OpcUaType(typeName) : null,
                false));
        }

        return children;
    }

    /// <summary>AccessLevel (OPC 10000-3 §8.57): bit 0 CurrentRead, bit 1 CurrentWrite.</summary>
    private static string? Access(object? accessLevel) => accessLevel is byte level
        ? (level & 3) switch { 3 => "read/write", 1 => "read", 2 => "write", _ => "none" }
        : null;

    private static string? Shorten(string? text) => text is { Length: > MaxValueText } ? text[..MaxValueText] + "…" : text;
}
