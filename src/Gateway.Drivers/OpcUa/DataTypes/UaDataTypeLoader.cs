using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>
/// Reads from the server what a <see cref="UaDataTypeCatalog"/> needs about the DataTypes of some nodes: the
/// BrowseName and DataTypeDefinition attribute (23) of each DataType that is not built-in, then of the types its
/// fields use, level by level (one Read per level); a DataType without a definition is followed up its HasSubtype
/// chain (a simple subtype of a built-in type, an enumeration); a structure whose definition names no
/// DefaultEncodingId has its HasEncoding reference "Default Binary" browsed. A server older than OPC UA 1.04 answers
/// BadAttributeIdInvalid for attribute 23: its structures are described from their DataTypeDictionary instead
/// (<see cref="UaTypeDictionaryReader"/>, each dictionary read once per load), mapped to the same definitions.
/// </summary>
public static class UaDataTypeLoader
{
    public static readonly NodeId HasSubtype = new(0, 45u);
    public static readonly NodeId HasEncoding = new(0, 38u);

    // Bounds a hostile or broken server: type graphs of real PLCs are far smaller.
    private const int MaxTypes = 2000;

    public static async Task<UaDataTypeCatalog> LoadAsync(UaClient client, IEnumerable<NodeId> dataTypes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var infos = new Dictionary<NodeId, UaDataTypeInfo>();
        var pending = dataTypes.Where(NeedsServer).Distinct().ToList();
        var dictionaries = new UaTypeDictionaryReader(client);
        while (pending.Count > 0 && infos.Count < MaxTypes)
        {
            var nodes = new ReadValueId[pending.Count * 2];
            for (var i = 0; i < pending.Count; i++)
            {
                nodes[2 * i] = new ReadValueId { NodeId = pending[i], AttributeId = AttributeIds.BrowseName };
                nodes[(2 * i) + 1] = new ReadValueId { NodeId = pending[i], AttributeId = AttributeIds.DataTypeDefinition };
            }

            var values = await client.ReadAsync(nodes, cancellationToken);
            var next = new List<NodeId>();
            for (var i = 0; i < pending.Count; i++)
            {
                foreach (var info in await DescribeAsync(client, dictionaries, pending[i], values[2 * i], values[(2 * i) + 1], cancellationToken))
                {
                    infos.TryAdd(info.DataTypeId, info);
                }
            }

            foreach (var info in infos.Values)
            {
                foreach (var used in Uses(info))
                {
                    if (NeedsServer(used) && !infos.ContainsKey(used) && !next.Contains(used))
                    {
                        next.Add(used);
                    }
                }
            }

            pending = next;
        }

        var catalog = UaDataTypeCatalog.Build(infos.Values);
        if (dictionaries.Read.Count > 0)
        {
            catalog.Dictionaries = dictionaries.Read;
        }

        return catalog;
    }

    private static bool NeedsServer(NodeId dataType) => !dataType.IsNull && UaDataTypeCatalog.StandardBuiltInOf(dataType) is null;

    /// <summary>The DataTypes an info refers to: its fields' types, or its supertype.</summary>
    private static IEnumerable<NodeId> Uses(UaDataTypeInfo info) => info.Definition is StructureDefinition structure
        ? (structure.Fields ?? []).Select(f => f.DataType)
        : info.SuperType is { } super ? [super] : [];

    private static async Task<IReadOnlyList<UaDataTypeInfo>> DescribeAsync(UaClient client, UaTypeDictionaryReader dictionaries, NodeId dataType, DataValue browseName, DataValue definition, CancellationToken cancellationToken)
    {
        var name = browseName.Value.Value is QualifiedName qualified && !string.IsNullOrEmpty(qualified.Name) ? qualified.Name : dataType.ToString();
        switch (definition.Value.Value)
        {
            case ExtensionObject { Body: StructureDefinition structure }:
                var encoding = structure.DefaultEncodingId is { IsNull: false } declared ? declared : await BrowseDefaultBinaryAsync(client, dataType, cancellationToken);
                return [new UaDataTypeInfo(dataType, name, structure, null, encoding, null)];
            case ExtensionObject { Body: EnumDefinition enumeration }:
                return [new UaDataTypeInfo(dataType, name, enumeration, null, null, null)];
        }

        // No definition: an older server (BadAttributeIdInvalid), or a simple subtype / abstract type.
        var super = await SuperTypeAsync(client, dataType, cancellationToken);
        string? dictionaryProblem = null;
        if (await BrowseDefaultBinaryAsync(client, dataType, cancellationToken) is { IsNull: false } binary)
        {
            // A structure (it has a binary encoding): its DataTypeDictionary describes it.
            try
            {
                var (infos, why) = await dictionaries.DescribeAsync(dataType, name, binary, cancellationToken);
                if (infos is not null)
                {
                    return infos;
                }

                dictionaryProblem = why;
            }
            catch (UaException ex) when (ex is not UaConnectionException)
            {
                dictionaryProblem = $"reading its DataTypeDictionary failed: {ex.Message}";
            }
        }

        var status = definition.StatusCode.Code;
        var problem = status == SampleStatus.BadAttributeIdInvalid
            ? $"the server gives no DataTypeDefinition for DataType {name} ({dataType}): BadAttributeIdInvalid, a server older than OPC UA 1.04"
            : definition.StatusCode.IsBad
                ? $"reading the DataTypeDefinition of DataType {name} ({dataType}) failed: {SampleStatus.Describe(status)}"
                : $"DataType {name} ({dataType}) has no DataTypeDefinition";
        problem += dictionaryProblem is null
            ? "; and no DataTypeDictionary (OPC 10000-5 Annex D) describes it"
            : $"; its DataTypeDictionary (OPC 10000-5 Annex D) does not describe it: {dictionaryProblem}";
        return [new UaDataTypeInfo(dataType, name, null, super, null, problem)];
    }

    private static async Task<NodeId?> SuperTypeAsync(UaClient client, NodeId dataType, CancellationToken cancellationToken)
    {
        try
        {
            var references = await client.BrowseAsync(dataType, HasSubtype, BrowseDirection.Inverse, cancellationToken);
            return references.FirstOrDefault(r => !r.IsForward)?.NodeId.NodeId;
        }
        catch (UaException ex) when (ex is not UaConnectionException)
        {
            return null;
        }
    }

    private static async Task<NodeId?> BrowseDefaultBinaryAsync(UaClient client, NodeId dataType, CancellationToken cancellationToken)
    {
        try
        {
            var references = await client.BrowseAsync(dataType, HasEncoding, BrowseDirection.Forward, cancellationToken);
            return references.FirstOrDefault(r => r.BrowseName.Name == "Default Binary")?.NodeId.NodeId;
        }
        catch (UaException ex) when (ex is not UaConnectionException)
        {
            return null;
        }
    }
}
