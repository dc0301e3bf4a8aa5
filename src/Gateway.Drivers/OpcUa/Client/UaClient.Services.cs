using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.Client;

public sealed partial class UaClient
{
    public static readonly NodeId RootFolder = new(0, 84u);
    public static readonly NodeId ObjectsFolder = new(0, 85u);
    public static readonly NodeId HierarchicalReferences = new(0, 33u);

    /// <summary>Every forward hierarchical reference of a node, following continuation points with BrowseNext.</summary>
    public async Task<List<ReferenceDescription>> BrowseAsync(NodeId nodeId, CancellationToken cancellationToken)
    {
        var request = new BrowseRequest
        {
            RequestedMaxReferencesPerNode = _options.MaxReferencesPerNode,
            NodesToBrowse =
            [
                new BrowseDescription
                {
                    NodeId = nodeId,
                    BrowseDirection = BrowseDirection.Forward,
                    ReferenceTypeId = HierarchicalReferences,
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
            throw new UaException(StatusCodes.BadUnexpectedError, $"{service} returned {results?.Length ?? 0} results for 1 node");
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
        var results = new (NodeId?, StatusCode)[paths.Count];
        var batch = MaxNodesPerTranslate == 0 ? 1000 : (int)MaxNodesPerTranslate;
        for (var start = 0; start < paths.Count; start += batch)
        {
            var count = Math.Min(batch, paths.Count - start);
            var request = new TranslateBrowsePathsToNodeIdsRequest { BrowsePaths = paths.Skip(start).Take(count).ToArray() };
            var response = await CallAsync<TranslateBrowsePathsToNodeIdsResponse>(request, cancellationToken);
            var items = response.Results ?? [];
            for (var i = 0; i < count; i++)
            {
                if (i >= items.Length)
                {
                    results[start + i] = (null, new StatusCode(StatusCodes.BadUnexpectedError));
                    continue;
                }

                var target = items[i].Targets?.FirstOrDefault(t => t.RemainingPathIndex == uint.MaxValue) ?? items[i].Targets?.FirstOrDefault();
                results[start + i] = items[i].StatusCode.IsGood && target is not null && target.TargetId.ServerIndex == 0
                    ? (target.TargetId.NodeId, items[i].StatusCode)
                    : (null, items[i].StatusCode.IsGood ? new StatusCode(StatusCodes.BadNodeIdUnknown) : items[i].StatusCode);
            }
        }

        return results;
    }

    /// <summary>Reads the Value attribute; split into several requests when over the server's MaxNodesPerRead.</summary>
    public Task<DataValue[]> ReadAsync(IReadOnlyList<NodeId> nodeIds, CancellationToken cancellationToken) =>
        ReadAsync(nodeIds.Select(n => new ReadValueId { NodeId = n, AttributeId = AttributeIds.Value }).ToArray(), cancellationToken);

    /// <summary>Reads any attributes; split into several requests when over the server's MaxNodesPerRead.</summary>
    public async Task<DataValue[]> ReadAsync(IReadOnlyList<ReadValueId> nodes, CancellationToken cancellationToken)
    {
        var results = new DataValue[nodes.Count];
        var batch = MaxNodesPerRead == 0 ? nodes.Count : (int)MaxNodesPerRead;
        batch = Math.Max(batch, 1);
        ReadRequestsSent = 0;
        for (var start = 0; start < nodes.Count; start += batch)
        {
            var count = Math.Min(batch, nodes.Count - start);
            var request = new ReadRequest { MaxAge = 0, TimestampsToReturn = TimestampsToReturn.Both, NodesToRead = nodes.Skip(start).Take(count).ToArray() };
            var response = await CallAsync<ReadResponse>(request, cancellationToken);
            ReadRequestsSent++;
            var values = response.Results ?? [];
            for (var i = 0; i < count; i++)
            {
                results[start + i] = i < values.Length ? values[i] : new DataValue { StatusCode = new StatusCode(StatusCodes.BadUnexpectedError) };
            }
        }

        return results;
    }

    /// <summary>How many Read requests the last <see cref="ReadAsync(IReadOnlyList{ReadValueId}, CancellationToken)"/> sent.</summary>
    public int ReadRequestsSent { get; private set; }

    /// <summary>Writes values (split by the server's MaxNodesPerWrite); returns one status per node.</summary>
    public async Task<StatusCode[]> WriteAsync(IReadOnlyList<(NodeId NodeId, Variant Value)> values, CancellationToken cancellationToken)
    {
        var results = new StatusCode[values.Count];
        var batch = MaxNodesPerWrite == 0 ? Math.Max(1, values.Count) : (int)MaxNodesPerWrite;
        for (var start = 0; start < values.Count; start += batch)
        {
            var count = Math.Min(batch, values.Count - start);
            var request = new WriteRequest
            {
                NodesToWrite = values.Skip(start).Take(count)
                    .Select(v => new WriteValue { NodeId = v.NodeId, AttributeId = AttributeIds.Value, Value = new DataValue { Value = v.Value } }).ToArray(),
            };
            var response = await CallAsync<WriteResponse>(request, cancellationToken);
            var statuses = response.Results ?? [];
            for (var i = 0; i < count; i++)
            {
                results[start + i] = i < statuses.Length ? statuses[i] : new StatusCode(StatusCodes.BadUnexpectedError);
            }
        }

        return results;
    }
}
