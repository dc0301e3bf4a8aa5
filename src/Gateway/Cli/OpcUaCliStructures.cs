using Gateway.Drivers;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.DataTypes;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Cli;

/// <summary>
/// Structures in <c>opcua read</c> / <c>opcua subscribe</c>: the nodes' DataTypes are read once, their definitions
/// loaded as the driver loads them (DataTypeDefinition, or the DataTypeDictionary of a pre-1.04 server), and an
/// ExtensionObject (scalar or array) is printed as the same JSON object as UNS publishes, with its type's name.
/// </summary>
internal static class OpcUaCliStructures
{
    /// <summary>The catalog of the nodes' DataTypes that are not built-in; empty when there are none or the server refuses.</summary>
    public static async Task<UaDataTypeCatalog> LoadAsync(UaClient client, IEnumerable<NodeId?> nodes, CancellationToken cancellationToken)
    {
        var reads = nodes.OfType<NodeId>().Where(n => !n.IsNull).Select(n => new ReadValueId { NodeId = n, AttributeId = AttributeIds.DataType }).ToArray();
        if (reads.Length == 0)
        {
            return UaDataTypeCatalog.Empty;
        }

        try
        {
            var dataTypes = (await client.ReadAsync(reads, cancellationToken)).Select(v => v.Value.Value as NodeId).OfType<NodeId>()
                .Where(d => UaDataTypeCatalog.StandardBuiltInOf(d) is null).Distinct().ToArray();
            return dataTypes.Length == 0 ? UaDataTypeCatalog.Empty : await UaDataTypeLoader.LoadAsync(client, dataTypes, cancellationToken);
        }
        catch (UaException ex) when (ex is not UaConnectionException)
        {
            Console.Error.WriteLine($"cannot read the DataType definitions: {ex.Message}; structures print opaque");
            return UaDataTypeCatalog.Empty;
        }
    }

    /// <summary>The value and its type as printed: a decoded structure's JSON and name; null when the value holds no structure of the server.</summary>
    public static (string Value, string Type)? Format(Variant value, UaDataTypeCatalog catalog)
    {
        try
        {
            switch (value.Value)
            {
                case ExtensionObject { Body: null, IsNull: false, Encoding: 1 } scalar when catalog.ByEncoding(scalar.TypeId) is { } type:
                    return (SampleJson.ToJson(catalog.Decode(scalar)), type.Name);
                case ExtensionObject[] { Length: > 0 } array when value.Dimensions is not { Length: > 1 } && catalog.ByEncoding(array[0].TypeId) is { } type:
                    var items = array.Select(catalog.Decode).ToArray();
                    return (SampleJson.ToJson(SampleValue.FromArray(SampleArray.OfStructures(items))), type.Name + "[]");
                default:
                    return null;
            }
        }
        catch (UaDecodingException ex)
        {
            return ($"undecodable structure: {ex.Message}", "ExtensionObject");
        }
    }
}
