using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.Client;

public sealed partial class UaClient
{
    public static readonly NodeId RootFolder = new(0, 84u);
    public static readonly NodeId ObjectsFolder = new(0, 85u);
    public static readonly NodeId HierarchicalReferences = new(0, 33u);

    /// <summary>Every forward hierarchical reference of a node, following continuation points with BrowseNext.</summary>
    public Task<List<ReferenceDescription>> BrowseAsync(NodeId nodeId, CancellationToken cancellationToken) =>
        BrowseAsync(nodeId, HierarchicalReferences, BrowseDirection.Forward, cancellationToken);

    /// <summary>
    /// The references of a node of <paramref name="referenceType"/> (and its subtypes) in <paramref name="direction"/>
    /// (HasSubtype inverse: a DataType's supertype; HasEncoding forward: its encodings), following continuation points.
    /// </summary>
    public async Task<List<ReferenceDescription>> BrowseAsync(NodeId nodeId, NodeId referenceType, BrowseDirection direction, CancellationToken cancellationToken)
    {
        var request = new BrowseRequest
        {
            RequestedMaxReferencesPerNode = _options.MaxReferencesPerNode,
            NodesToBrowse =
            [
                new BrowseDescription
                {
                    NodeId = nodeId,
                    BrowseDirection = direction,
                    ReferenceTypeId = referenceType,
                    IncludeSubtypes = true,
                    ResultMask = 0x3F,
                },
            ],
        };
        var response = await CallAsync<BrowseResponse>(request, cancellationToken);
        var result = Single(response.Results, "Browse");
        var references = new List<ReferenceDescription>(result.References ?? []);
        var continuation = result.ContinuationPoint;
        try
        {
            while (continuation is { Length: > 0 })
            {
                var next = await CallAsync<BrowseNextResponse>(new BrowseNextRequest { ContinuationPoints = [continuation] }, cancellationToken);
                result = Single(next.Results, "BrowseNext");
                references.AddRange(result.References ?? []);
                continuation = result.ContinuationPoint;
            }
        }
        catch (OperationCanceledException) when (continuation is { Length: > 0 } && _channel is { IsOpen: true })
        {
            await ReleaseContinuationPointAsync(continuation);
            throw;
        }

        return references;
    }

    private async Task ReleaseContinuationPointAsync(byte[] continuation)
    {
        try
        {
            await CallAsync<BrowseNextResponse>(new BrowseNextRequest { ReleaseContinuationPoints = true, ContinuationPoints = [continuation] }, CancellationToken.None, TimeSpan.FromSeconds(5));
        }
        catch (UaException)
        {
            // the server frees it when the session ends
        }
    }

    private static BrowseResult Single(BrowseResult[]? results, string service)
    {
        if (results is not { Length: 1 })
        {
            throw new UaException(SampleStatus.BadUnexpectedError, $"{service} returned {results?.Length ?? 0} results for 1 node");
        }

        if (results[0].StatusCode.IsBad)
        {
            throw new UaException(results[0].StatusCode.Code, $"{service} failed");
        }

        return results[0];
    }

    /// <summary>
    /// Parses a browse path <c>/Objects/1:Machine1/1:Temperature</c> (from the Root folder; <c>ns:</c> prefixes
    /// give the namespace index of each browse name, 0 when absent).
    /// </summary>
    public static BrowsePath ParseBrowsePath(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!path.StartsWith('/') || segments.Length == 0)
        {
            throw new FormatException($"'{path}' is not a browse path (expected for example /Objects/1:Machine1/1:Temperature)");
        }

        var elements = new RelativePathElement[segments.Length];
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            ushort ns = 0;
            var colon = segment.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && ushort.TryParse(segment.AsSpan(0, colon), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
            {
                ns = parsed;
                segment = segment[(colon + 1)..];
            }

            elements[i] = new RelativePathElement { ReferenceTypeId = HierarchicalReferences, IncludeSubtypes = true, TargetName = new QualifiedName(ns, segment) };
        }

        return new BrowsePath { StartingNode = RootFolder, Elements = elements };
    }

    /// <summary>Resolves browse paths to NodeIds; an unresolved path gives its status code instead.</summary>
    public async Task<(NodeId? NodeId, StatusCode Status)[]> TranslateAsync(IReadOnlyList<BrowsePath> paths, CancellationToken cancellationToken)
    {
        var items = await InBatchesAsync(paths, () => MaxNodesPerTranslate, limit => MaxNodesPerTranslate = limit, async slice =>
        {
            var response = await CallAsync<TranslateBrowsePathsToNodeIdsResponse>(new TranslateBrowsePathsToNodeIdsRequest { BrowsePaths = slice }, cancellationToken);
            return response.Results ?? [];
        }, status => new BrowsePathResult { StatusCode = new StatusCode(status) });
        var results = new (NodeId?, StatusCode)[paths.Count];
        for (var i = 0; i < paths.Count; i++)
        {
            var target = items[i].Targets?.FirstOrDefault(t => t.RemainingPathIndex == uint.MaxValue) ?? items[i].Targets?.FirstOrDefault();
            results[i] = items[i].StatusCode.IsGood && target is not null && target.TargetId.ServerIndex == 0
                ? (target.TargetId.NodeId, items[i].StatusCode)
                : (null, items[i].StatusCode.IsGood ? new StatusCode(SampleStatus.BadNodeIdUnknown) : items[i].StatusCode);
        }

        return results;
    }

    public static readonly NodeId NamespaceArray = new(0, 2255u);

    /// <summary>
    /// The local NodeId of an <see cref="ExpandedNodeId"/> that names its namespace by URI: the URI's index in the server's
    /// NamespaceArray, read at each call (a server may renumber its namespaces when it restarts). Null when the server
    /// has no such namespace.
    /// </summary>
    public async Task<NodeId?> ResolveNamespaceAsync(ExpandedNodeId id, CancellationToken cancellationToken)
    {
        if (id.NamespaceUri is null)
        {
            return id.NodeId;
        }

        var array = await ReadAsync([NamespaceArray], cancellationToken);
        var index = array[0].Value.Value is string[] uris ? Array.IndexOf(uris, id.NamespaceUri) : -1;
        if (index < 0 || index > ushort.MaxValue)
        {
            return null;
        }

        var n = id.NodeId;
        var ns = (ushort)index;
        return n.IdType switch
        {
            NodeIdType.Numeric => new NodeId(ns, n.Numeric),
            NodeIdType.String => new NodeId(ns, n.Text!),
            NodeIdType.Guid => new NodeId(ns, n.Guid),
            _ => new NodeId(ns, n.Opaque ?? []),
        };
    }

    /// <summary>Reads the Value attribute; split into several requests when over the server's MaxNodesPerRead.</summary>
    public Task<DataValue[]> ReadAsync(IReadOnlyList<NodeId> nodeIds, CancellationToken cancellationToken) =>
        ReadAsync(nodeIds.Select(n => new ReadValueId { NodeId = n, AttributeId = AttributeIds.Value }).ToArray(), cancellationToken);

    /// <summary>Reads any attributes; split into several requests when over the server's MaxNodesPerRead.</summary>
    public async Task<DataValue[]> ReadAsync(IReadOnlyList<ReadValueId> nodes, CancellationToken cancellationToken)
    {
        ReadRequestsSent = 0;
        return await InBatchesAsync(nodes, () => MaxNodesPerRead, limit => MaxNodesPerRead = limit, async slice =>
        {
            var request = new ReadRequest { MaxAge = 0, TimestampsToReturn = TimestampsToReturn.Both, NodesToRead = slice };
            var response = await CallAsync<ReadResponse>(request, cancellationToken);
            ReadRequestsSent++;
            return response.Results ?? [];
        }, status => new DataValue { StatusCode = new StatusCode(status) });
    }

    /// <summary>
    /// Calls a service over <paramref name="items"/> in batches of the server's operation limit (0: unknown, then all
    /// at once up to <paramref name="unknownLimitBatch"/>). A server that enforces a limit it does not advertise (or
    /// advertises wrongly) refuses a batch with BadTooManyOperations: the batch is halved, the smaller limit kept for
    /// later calls, and the batch sent again. A request or response too large for the negotiated message size or chunk
    /// count (BadRequestTooLarge, BadResponseTooLarge, BadTcpMessageTooLarge, BadEncodingLimitsExceeded) is split the same way without changing the limit, and an item
    /// whose response alone is too large gets that status as its result, so that one huge value does not fail the others.
    /// Returns exactly one result per item; missing results get <paramref name="failed"/>(BadUnexpectedError).
    /// </summary>
    private static async Task<TResult[]> InBatchesAsync<TItem, TResult>(IReadOnlyList<TItem> items, Func<uint> limit, Action<uint> learn,
        Func<TItem[], Task<TResult[]>> call, Func<uint, TResult> failed, int unknownLimitBatch = 1000)
    {
        var results = new TResult[items.Count];
        var batch = limit() is var known and > 0 ? (int)Math.Min(known, int.MaxValue) : unknownLimitBatch;
        var start = 0;
        while (start < items.Count)
        {
            var count = Math.Min(Math.Max(1, batch), items.Count - start);
            var slice = new TItem[count];
            for (var i = 0; i < count; i++)
            {
                slice[i] = items[start + i];
            }

            TResult[] part;
            try
            {
                part = await call(slice);
            }
            catch (UaException ex) when (ex is not UaConnectionException && ex.StatusCode == SampleStatus.BadTooManyOperations && count > 1)
            {
                batch = count / 2;
                learn((uint)batch);
                continue;
            }
            catch (UaException ex) when (ex is not UaConnectionException && IsTooLarge(ex.StatusCode))
            {
                if (count > 1)
                {
                    // Only this batch is split: the next ones start again from the count limit.
                    var half = count / 2;
                    var first = await InBatchesAsync(slice[..half], () => 0, _ => { }, call, failed, half);
                    var second = await InBatchesAsync(slice[half..], () => 0, _ => { }, call, failed, count - half);
                    first.CopyTo(results, start);
                    second.CopyTo(results, start + half);
                }
                else
                {
                    results[start] = failed(ex.StatusCode);
                }

                start += count;
                continue;
            }

            for (var i = 0; i < count; i++)
            {
                results[start + i] = i < part.Length ? part[i] : failed(SampleStatus.BadUnexpectedError);
            }

            start += count;
        }

        return results;

        static bool IsTooLarge(uint status) =>
            (status & 0xFFFF0000) is SampleStatus.BadRequestTooLarge or SampleStatus.BadResponseTooLarge or SampleStatus.BadTcpMessageTooLarge or SampleStatus.BadEncodingLimitsExceeded;
    }

    /// <summary>How many Read requests the last <see cref="ReadAsync(IReadOnlyList{ReadValueId}, CancellationToken)"/> sent.</summary>
    public int ReadRequestsSent { get; private set; }

    /// <summary>Writes values (split by the server's MaxNodesPerWrite); returns one status per node.</summary>
    public async Task<StatusCode[]> WriteAsync(IReadOnlyList<(NodeId NodeId, Variant Value)> values, CancellationToken cancellationToken) =>
        await InBatchesAsync(values, () => MaxNodesPerWrite, limit => MaxNodesPerWrite = limit, async slice =>
        {
            var request = new WriteRequest
            {
                NodesToWrite = slice.Select(v => new WriteValue { NodeId = v.NodeId, AttributeId = AttributeIds.Value, Value = new DataValue { Value = v.Value } }).ToArray(),
            };
            var response = await CallAsync<WriteResponse>(request, cancellationToken);
            return response.Results ?? [];
        }, status => new StatusCode(status));
}
