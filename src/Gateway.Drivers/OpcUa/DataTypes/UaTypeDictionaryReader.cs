using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>
/// Describes a structure DataType of a server older than OPC UA 1.04 (no DataTypeDefinition attribute) from its
/// OPC Binary DataTypeDictionary (OPC 10000-5 Annex D, "DataTypeSystem"): DataType → HasEncoding "Default Binary" →
/// HasDescription → the DataTypeDescription variable (its Value: the type's name in the dictionary) → its parent
/// (inverse HasComponent), the DataTypeDictionary variable, whose Value is the <c>opc:TypeDictionary</c> XML. Each
/// dictionary is read once per reader (one reader per session's load); a server whose MaxByteStringLength is below
/// the dictionary's size is read in chunks with IndexRange.
/// </summary>
public sealed class UaTypeDictionaryReader(UaClient client)
{
    public static readonly NodeId HasDescription = new(0, 39u);
    public static readonly NodeId HasComponent = new(0, 47u);

    /// <summary>Server_ServerCapabilities_MaxByteStringLength (OPC 10000-5 §6.3.2): 0 means no limit.</summary>
    public static readonly NodeId MaxByteStringLength = new(0, 12911u);

    /// <summary>Chunks are never larger than this, whatever the server's limit (a response stays well below the message size).</summary>
    public const int MaxChunk = 1024 * 1024;

    private const uint BadIndexRangeNoData = 0x80B70000;

    private readonly Dictionary<NodeId, Task<UaTypeDictionary>> _dictionaries = [];
    private uint? _maxByteStringLength;

    private readonly List<string> _read = [];
    private int _valueReads;

    /// <summary>The dictionaries read, each once: node, size and the Read requests it took (more than one when chunked).</summary>
    public IReadOnlyList<string> Read => _read;

    /// <summary>
    /// The infos of <paramref name="dataType"/> (first) and the dictionary types it uses, with its Default Binary
    /// encoding <paramref name="encoding"/>; or the reason none can be given.
    /// </summary>
    public async Task<(List<UaDataTypeInfo>? Infos, string? Problem)> DescribeAsync(NodeId dataType, string name, NodeId encoding, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataType);
        ArgumentNullException.ThrowIfNull(encoding);
        var descriptions = await client.BrowseAsync(encoding, HasDescription, BrowseDirection.Forward, cancellationToken);
        if (descriptions.FirstOrDefault(r => r.IsForward)?.NodeId.NodeId is not { IsNull: false } description)
        {
            return (null, "its Default Binary encoding has no HasDescription reference to a DataTypeDescription");
        }

        var typeName = (await client.ReadAsync([new ReadValueId { NodeId = description, AttributeId = AttributeIds.Value }], cancellationToken))[0];
        if (typeName.Value.Value is not string { Length: > 0 } dictionaryName)
        {
            return (null, $"its DataTypeDescription {description} has no name ({typeName.StatusCode})");
        }

        var parents = await client.BrowseAsync(description, HasComponent, BrowseDirection.Inverse, cancellationToken);
        if (parents.FirstOrDefault(r => !r.IsForward)?.NodeId.NodeId is not { IsNull: false } dictionaryNode)
        {
            return (null, $"its DataTypeDescription {description} is in no DataTypeDictionary");
        }

        UaTypeDictionary dictionary;
        try
        {
            if (!_dictionaries.TryGetValue(dictionaryNode, out var read))
            {
                read = ReadDictionaryAsync(dictionaryNode, cancellationToken);
                _dictionaries[dictionaryNode] = read;
            }

            dictionary = await read;
        }
        catch (UaDecodingException ex)
        {
            return (null, $"its DataTypeDictionary {dictionaryNode}: {ex.Message}");
        }

        return (UaTypeDictionaryMapping.Describe(dictionary, dictionaryName, dataType, name, encoding, dictionaryNode.ToString()), null);
    }

    private async Task<UaTypeDictionary> ReadDictionaryAsync(NodeId node, CancellationToken cancellationToken)
    {
        var reads = _valueReads;
        var bytes = await ReadBytesAsync(node, cancellationToken);
        _read.Add($"{node} ({bytes.Length} bytes in {_valueReads - reads} reads)");
        return UaTypeDictionary.Parse(bytes);
    }

    /// <summary>The ByteString Value of <paramref name="node"/>: whole, or in chunks of the server's MaxByteStringLength.</summary>
    private async Task<byte[]> ReadBytesAsync(NodeId node, CancellationToken cancellationToken)
    {
        _maxByteStringLength ??= await ReadLimitAsync(cancellationToken);
        var chunk = (int)Math.Min(_maxByteStringLength.Value == 0 ? uint.MaxValue : _maxByteStringLength.Value, MaxChunk);
        if (_maxByteStringLength.Value == 0)
        {
            var whole = await ReadAsync(node, null, cancellationToken);
            if (whole.StatusCode.IsGood)
            {
                return BytesOf(whole, node);
            }

            // Too large for one response (BadEncodingLimitsExceeded, BadResponseTooLarge …): try in chunks.
        }

        using var buffer = new MemoryStream();
        while (true)
        {
            var start = buffer.Length;
            var part = await ReadAsync(node, $"{start}:{start + chunk - 1}", cancellationToken);
            if (part.StatusCode.Code == BadIndexRangeNoData && start > 0)
            {
                break; // the previous chunk ended exactly at the end
            }

            if (part.StatusCode.IsBad)
            {
                if (start == 0 && _maxByteStringLength.Value != 0)
                {
                    // A server that does not take an IndexRange on this value: whole, then.
                    var whole = await ReadAsync(node, null, cancellationToken);
                    return whole.StatusCode.IsGood ? BytesOf(whole, node) : throw new UaDecodingException($"reading it failed: {whole.StatusCode}");
                }

                throw new UaDecodingException($"reading it from byte {start} failed: {part.StatusCode}");
            }

            var bytes = BytesOf(part, node);
            buffer.Write(bytes);
            if (bytes.Length < chunk)
            {
                break;
            }

            if (buffer.Length > UaTypeDictionary.MaxBytes)
            {
                throw new UaDecodingException($"it is larger than the {UaTypeDictionary.MaxBytes} bytes the gateway reads");
            }
        }

        return buffer.ToArray();
    }

    private async Task<DataValue> ReadAsync(NodeId node, string? indexRange, CancellationToken cancellationToken)
    {
        _valueReads++;
        return (await client.ReadAsync([new ReadValueId { NodeId = node, AttributeId = AttributeIds.Value, IndexRange = indexRange }], cancellationToken))[0];
    }

    private async Task<uint> ReadLimitAsync(CancellationToken cancellationToken)
    {
        try
        {
            var limit = (await client.ReadAsync([new ReadValueId { NodeId = MaxByteStringLength, AttributeId = AttributeIds.Value }], cancellationToken))[0];
            return limit.Value.Value is uint value ? value : 0;
        }
        catch (UaException ex) when (ex is not UaConnectionException)
        {
            return 0;
        }
    }

    private static byte[] BytesOf(DataValue value, NodeId node) => value.Value.Value switch
    {
        byte[] bytes => bytes,
        null => [],
        var other => throw new UaDecodingException($"the Value of {node} is a {other.GetType().Name}, not a ByteString"),
    };
}
