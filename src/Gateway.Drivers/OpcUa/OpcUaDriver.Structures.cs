using Gateway.Drivers.OpcUa.DataTypes;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa;

/// <summary>Structure values: the DataType definitions read per session, and ExtensionObjects decoded with them.</summary>
public sealed partial class OpcUaDriver
{
    // Replaced whole at each new session (another server, or a changed one, may define other types); read by the
    // publish workers without a lock.
    private volatile UaDataTypeCatalog _dataTypes = UaDataTypeCatalog.Empty;

    /// <summary>The DataType definitions of this session (for tests).</summary>
    internal UaDataTypeCatalog DataTypeCatalog => _dataTypes;

    /// <summary>
    /// Reads the definitions of the tags' DataTypes that are not built-in (and of the types their fields use) into a
    /// new catalog; a tag whose structure cannot be decoded has the reason logged once. A refused read keeps the
    /// previous catalog: the values decide (an undecodable structure is Bad with its reason).
    /// </summary>
    private async Task LoadDataTypesAsync(IReadOnlyList<OpcUaTag> tags, CancellationToken cancellationToken)
    {
        var dataTypes = tags.Select(t => t.DataType).OfType<NodeId>().Where(d => UaDataTypeCatalog.StandardBuiltInOf(d) is null).Distinct().ToArray();
        if (dataTypes.Length == 0)
        {
            return;
        }

        UaDataTypeCatalog catalog;
        try
        {
            catalog = await UaDataTypeLoader.LoadAsync(_client, dataTypes, cancellationToken);
        }
        catch (UaException ex) when (ex is not UaConnectionException)
        {
            OpcUaLog.DataTypesFailed(_logger, Name, ex.Message);
            return;
        }

        _layouts = new();
        _dataTypes = catalog;
        OpcUaLog.DataTypesLoaded(_logger, Name, catalog.StructureCount, dataTypes.Length);
        foreach (var dictionary in catalog.Dictionaries)
        {
            OpcUaLog.DictionaryRead(_logger, Name, dictionary);
        }

        foreach (var tag in tags)
        {
            if (tag.DataType is { } dataType && catalog.ProblemOf(dataType) is { } problem && problem != tag.LoggedStructureProblem)
            {
                tag.LoggedStructureProblem = problem;
                OpcUaLog.TagUnusable(_logger, Name, tag.Info.Key, $"{tag.Address.Text}: its values cannot be decoded: {problem}");
            }
        }
    }

    /// <summary>
    /// The value of a Variant holding ExtensionObjects the message decoder kept raw (scalar or array), decoded with
    /// this session's definitions; null with the status and reason when it cannot be (BadDataEncodingUnsupported for
    /// a type the server did not define, BadDecodingError for a body that does not match its definition).
    /// </summary>
    private SampleValue? DecodeStructure(OpcUaTag tag, Variant value, out uint status, out string? reason)
    {
        var catalog = _dataTypes;
        status = SampleStatus.Good;
        reason = null;
        try
        {
            if (value.Value is ExtensionObject scalar)
            {
                return catalog.Decode(scalar);
            }

            if (value.IsArray && !OpcUaArrays.IsMatrix(value))
            {
                return SampleValue.FromArray(OpcUaArrays.Convert(value, item => item.Body is null ? catalog.Decode(item) : throw new UaDecodingException($"an element of the array is a {item}, not a structure of this server")));
            }

            status = SampleStatus.BadDataEncodingUnsupported;
            reason = $"{tag.Address.Text} holds a matrix of structures, which the gateway does not decode (BadDataEncodingUnsupported)";
            return null;
        }
        catch (UaDecodingException ex)
        {
            var typeId = UndecodableStructure(value);
            var known = typeId is not null && catalog.ByEncoding(typeId) is not null;
            status = known ? SampleStatus.BadDecodingError : SampleStatus.BadDataEncodingUnsupported;
            var problem = !known && tag.DataType is { } dataType && catalog.ProblemOf(dataType) is { } why ? $" ({why})" : "";
            reason = known
                ? $"{tag.Address.Text} holds a structure that does not match its DataTypeDefinition: {ex.Message} (BadDecodingError)"
                : $"{tag.Address.Text} holds a structure of encoding {typeId} that the gateway cannot decode: {ex.Message}{problem} (BadDataEncodingUnsupported)";
            return null;
        }
    }

    private StructureLayout? LayoutOf(ExtensionObject value) =>
        _dataTypes.ByEncoding(value.TypeId) is { } type ? _layouts.GetOrAdd(type, UaStructureLayouts.Of) : null;

    // One layout per structure type of the session (the publish workers ask per value).
    private System.Collections.Concurrent.ConcurrentDictionary<UaStructureType, StructureLayout> _layouts = new();
}
