using System.Threading.Channels;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.DataTypes;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Gateway.Drivers.OpcUa.Transport;
using Microsoft.Extensions.Logging;
using Polly;

namespace Gateway.Drivers.OpcUa;

/// <summary>
/// The <c>opcua</c> driver: one session per driver, tags by NodeId or browse path, data changes from a subscription
/// (or periodic reads) turned into samples with the source timestamp and the status code mapped to quality.
/// A lost server turns every tag Bad once; the reconnect ladder (Polly backoff) brings them back Good by itself.
/// </summary>
public sealed partial class OpcUaDriver : IDriver
{
    private readonly OpcUaSettings _settings;
    private readonly List<OpcUaTag> _tags;
    private readonly Dictionary<TagInfo, OpcUaTag> _byInfo;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly UaClient _client;
    private readonly ResiliencePipeline _reconnect;

    // Notifications arrive on the client's publish workers; this bounded queue hands them to RunAsync's writer.
    // Full mode Wait: when the pipeline is slow the publish worker blocks, so the server keeps the backlog in its queues.
    private readonly System.Threading.Channels.Channel<Sample> _samples = System.Threading.Channels.Channel.CreateBounded<Sample>(new BoundedChannelOptions(50_000) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    public OpcUaDriver(string name, OpcUaSettings settings, string? password, IReadOnlyList<OpcUaTag> tags, DriverContext context)
    {
        Name = name;
        _settings = settings;
        _tags = [.. tags];
        _byInfo = _tags.ToDictionary(t => t.Info);
        Tags = _tags.Select(t => t.Info).ToArray();
        _timeProvider = context.TimeProvider;
        _logger = context.LoggerFactory.CreateLogger<OpcUaDriver>();
        _client = new UaClient(new UaClientOptions
        {
            EndpointUrl = settings.EndpointUrl,
            SecurityPolicy = settings.SecurityPolicy,
            SecurityMode = settings.SecurityMode,
            UserName = settings.Username,
            Password = password,
            SessionName = "iiot-gateway/" + name,
            RequestTimeout = TimeSpan.FromMilliseconds(settings.RequestTimeoutMs),
            KeepAliveInterval = TimeSpan.FromMilliseconds(settings.KeepAliveIntervalMs),
            SessionTimeout = TimeSpan.FromMilliseconds(settings.SessionTimeoutMs),
            ChannelLifetime = TimeSpan.FromMilliseconds(settings.ChannelLifetimeMs),
            UserCertificate = settings.UserCertificateFile is null ? null : CertificateStore.LoadUserCertificate(settings.UserCertificateFile, settings.UserKeyFile!),
            ApplicationUri = settings.ApplicationUri,
            PkiDirectory = settings.PkiDirectory ?? (context.StateDirectory is null ? null : Path.Combine(context.StateDirectory, "pki")),
            ServerCertificateTrust = settings.CertificateTrust,
        }, _timeProvider, _logger);
        _reconnect = Backoff.Forever(
            _timeProvider,
            TimeSpan.FromMilliseconds(settings.ReconnectDelayMs),
            TimeSpan.FromMilliseconds(settings.MaxReconnectDelayMs),
            new PredicateBuilder().Handle<UaException>().Handle<IOException>(),
            args =>
            {
                ConnectFailed(args.Outcome.Exception);
                return ValueTask.CompletedTask;
            });
    }

    private static readonly System.Diagnostics.Metrics.Meter s_meter = new("Gateway.Drivers.OpcUa");

    /// <summary>Every failed connection attempt, with the driver's name: the host adds it to <c>gateway_driver_errors_total</c>.</summary>
    private static readonly System.Diagnostics.Metrics.Counter<long> s_errors = s_meter.CreateCounter<long>(DriverMetrics.ErrorsCounterName, description: "Errors reported by each driver");

    // The reason last logged at warning (status code and exception type): a retry failing the same way logs at debug only.
    private string? _loggedFailure;

    /// <summary>How many connection attempts failed since the driver started.</summary>
    public long ConnectFailures => Interlocked.Read(ref _connectFailures);

    private long _connectFailures;

    /// <summary>
    /// One failed attempt of the ladder: counted, kept as <see cref="LastError"/>, and logged at warning the first time
    /// and whenever the reason changes (untrusted certificate, wrong password, unreachable, garbage, timeout), not per retry.
    /// </summary>
    private void ConnectFailed(Exception? exception)
    {
        var reason = exception?.Message ?? "unknown failure";
        LastError = reason;
        Interlocked.Increment(ref _connectFailures);
        s_errors.Add(1, new KeyValuePair<string, object?>(DriverMetrics.DriverTag, Name));
        var kind = exception is UaException ua ? $"{exception.GetType().Name}:{ua.StatusCode:X8}" : exception?.GetType().Name;
        if (kind != _loggedFailure)
        {
            _loggedFailure = kind;
            OpcUaLog.ConnectFailed(_logger, Name, _settings.EndpointUrl, reason, _settings.MaxReconnectDelayMs / 1000.0);
        }
        else
        {
            OpcUaLog.ConnectStillFailing(_logger, Name, _settings.EndpointUrl, reason);
        }
    }

    public string Name { get; }

    public IReadOnlyList<TagInfo> Tags { get; }

    public DriverState State { get; private set; } = DriverState.Starting;

    public string? LastError { get; private set; }

    /// <summary>The client, for tests and tools.</summary>
    internal UaClient Client => _client;

    public async Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        var pump = PumpAsync(writer, cancellationToken);
        var setUp = false;
        var resubscribe = false;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // The ladder: a new channel, then the session re-activated, or a new session with its subscriptions
                // transferred or recreated. The first pass (no session yet) creates the session and the subscription.
                await _reconnect.ExecuteAsync(async ct =>
                {
                    try
                    {
                        var newSession = await _client.ReconnectAsync(ct);
                        if (!setUp)
                        {
                            await SetUpAsync(ct);
                            setUp = true;
                        }
                        else
                        {
                            if (newSession && await ReResolveNamespacesAsync(ct) && _settings.Acquisition == OpcUaAcquisition.Subscription)
                            {
                                resubscribe = true;
                            }

                            if (newSession || !Equals(_client.SessionId, _typesSession))
                            {
                                // Another session may be another server (or a changed one): its DataType definitions
                                // again (on a later attempt too when the connection dropped half-way).
                                await ReadSourceTypesAsync(ct);
                                _typesSession = _client.SessionId;
                            }

                            if (resubscribe)
                            {
                                // The subscriptions were recreated with the old indexes: monitor the right nodes
                                // (again on the next attempt when the connection drops half-way).
                                await ResubscribeAsync(ct);
                                resubscribe = false;
                            }

                            if (_settings.Acquisition == OpcUaAcquisition.Subscription)
                            {
                                await RefreshBadTagsAsync(ct);
                            }
                        }
                    }
                    catch (UaException ex)
                    {
                        await MarkAllBadAsync(ex.StatusCode, ex.Message, ct);
                        throw;
                    }
                }, cancellationToken);
                Connected();
                var lost = _settings.Acquisition == OpcUaAcquisition.Polling
                    ? await PollUntilLostAsync(cancellationToken)
                    : await _client.ChannelLost.WaitAsync(cancellationToken);
                var reason = lost?.Message ?? "connection closed";
                OpcUaLog.DriverDisconnected(_logger, Name, _settings.EndpointUrl, reason);
                await MarkAllBadAsync(lost is UaException ua ? ua.StatusCode : SampleStatus.BadConnectionClosed, reason, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            State = DriverState.Stopped;
            _samples.Writer.TryComplete();
            await pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                await _client.CloseAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), _timeProvider, CancellationToken.None);
            }
            catch (Exception ex) when (ex is UaException or TimeoutException or OperationCanceledException)
            {
                // the server will expire the session
            }
        }
    }

    private readonly List<UaSubscription> _subscriptionList = [];

    // The session whose DataTypes were read (ReadSourceTypesAsync): another session reads them again.
    private NodeId? _typesSession;

    private async Task SetUpAsync(CancellationToken cancellationToken)
    {
        await ResolveAsync(cancellationToken);
        await ReadSourceTypesAsync(cancellationToken);
        _typesSession = _client.SessionId;
        if (_settings.Acquisition != OpcUaAcquisition.Subscription)
        {
            return;
        }

        // A set-up interrupted by a lost connection starts again from clean subscriptions.
        await ResubscribeAsync(cancellationToken);
    }

    /// <summary>
    /// A new session may be a restarted server whose NamespaceArray changed order: <c>nsu=</c> tags are looked up
    /// again. Returns true when a tag now maps to another NodeId (or resolves where it did not).
    /// </summary>
    private async Task<bool> ReResolveNamespacesAsync(CancellationToken cancellationToken)
    {
        var changed = false;
        foreach (var tag in _tags.Where(t => t.Address.ByNamespaceUri is not null))
        {
            var nodeId = await _client.ResolveNamespaceAsync(tag.Address.ByNamespaceUri!, cancellationToken);
            if (nodeId is null)
            {
                if (tag.NodeId is not null)
                {
                    OpcUaLog.TagUnusable(_logger, Name, tag.Info.Key, $"the server has no namespace {tag.Address.ByNamespaceUri!.NamespaceUri} any more ({tag.Address.Text})");
                    tag.NodeId = null;
                    changed = true;
                    await EmitAsync(tag, new DataValue { StatusCode = new StatusCode(SampleStatus.BadNodeIdUnknown) }, cancellationToken);
                }
            }
            else if (!nodeId.Equals(tag.NodeId))
            {
                OpcUaLog.NamespaceMoved(_logger, Name, tag.Info.Key, tag.Address.Text, nodeId.ToString());
                tag.NodeId = nodeId;
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>Deletes the subscriptions there are (if any) and creates them again from the tags.</summary>
    private async Task ResubscribeAsync(CancellationToken cancellationToken)
    {
        if (_subscriptionList.Count > 0)
        {
            UaSubscription[] previous = [.. _subscriptionList];
            _subscriptionList.Clear();
            try
            {
                await _client.DeleteSubscriptionsAsync(previous, cancellationToken);
            }
            catch (UaException ex) when (ex is not UaConnectionException)
            {
                // already gone on the server
            }
        }

        await SubscribeAsync(cancellationToken);
    }

    private void Connected()
    {
        State = DriverState.Connected;
        LastError = null;
        _loggedFailure = null;
        OpcUaLog.DriverConnected(_logger, Name, _settings.EndpointUrl, _tags.Count, _settings.Mode);
    }

    private async Task PumpAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        await foreach (var sample in _samples.Reader.ReadAllAsync(cancellationToken))
        {
            await writer.WriteAsync(sample, cancellationToken);
        }
    }

    /// <summary>Browse paths become NodeIds once; a tag that cannot be resolved turns Bad with the server's status.</summary>
    private async Task ResolveAsync(CancellationToken cancellationToken)
    {
        foreach (var tag in _tags.Where(t => t.NodeId is null && t.Address.ByNamespaceUri is not null))
        {
            tag.NodeId = await _client.ResolveNamespaceAsync(tag.Address.ByNamespaceUri!, cancellationToken);
            if (tag.NodeId is null)
            {
                OpcUaLog.TagUnusable(_logger, Name, tag.Info.Key, $"the server has no namespace {tag.Address.ByNamespaceUri!.NamespaceUri} ({tag.Address.Text})");
                await EmitAsync(tag, new DataValue { StatusCode = new StatusCode(SampleStatus.BadNodeIdUnknown) }, cancellationToken);
            }
        }

        var pending = _tags.Where(t => t.NodeId is null && t.Address.BrowsePath is not null).ToArray();
        if (pending.Length == 0)
        {
            return;
        }

        var results = await _client.TranslateAsync(pending.Select(t => t.Address.BrowsePath!).ToArray(), cancellationToken);
        for (var i = 0; i < pending.Length; i++)
        {
            pending[i].NodeId = results[i].NodeId;
            if (results[i].NodeId is null)
            {
                OpcUaLog.TagUnusable(_logger, Name, pending[i].Info.Key, $"browse path {pending[i].Address.Text} does not resolve ({results[i].Status})");
                await EmitAsync(pending[i], new DataValue { StatusCode = results[i].Status }, cancellationToken);
            }
        }
    }

    private async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        var items = _tags.Where(t => t.NodeId is not null)
            .Select(t => new MonitoredItem(t.NodeId!, t.SamplingIntervalMs, (uint)_settings.QueueSize, t.Info.Deadband, t) { DeadbandPercent = t.DeadbandPercent })
            .ToArray();
        var pending = items;
        while (pending.Length > 0)
        {
            UaSubscription subscription;
            try
            {
                subscription = await _client.CreateSubscriptionAsync(_settings.PublishingIntervalMs, OnDataChange, cancellationToken);
            }
            catch (UaException ex) when (ex is not UaConnectionException && _subscriptionList.Count > 0)
            {
                // No further subscription allowed (BadTooManySubscriptions): the items that did not fit stay refused.
                foreach (var item in pending)
                {
                    item.Status = new StatusCode(SampleStatus.BadTooManyMonitoredItems);
                }

                break;
            }

            _subscriptionList.Add(subscription);
            await _client.AddMonitoredItemsAsync(subscription, pending, cancellationToken);
            // A server with a small MaxMonitoredItemsPerSubscription refuses the items past it: they go to another
            // subscription, as long as each new one takes some (otherwise the server's total limit is reached and
            // the remaining tags turn Bad with BadTooManyMonitoredItems below).
            var refused = pending.Where(i => (i.Status.Code & 0xFFFF0000) == SampleStatus.BadTooManyMonitoredItems).ToArray();
            if (refused.Length == 0 || refused.Length == pending.Length)
            {
                if (refused.Length > 0 && _subscriptionList.Count > 1)
                {
                    _subscriptionList.Remove(subscription);
                    await _client.DeleteSubscriptionsAsync([subscription], cancellationToken);
                }

                break;
            }

            subscription.Forget(refused);
            OpcUaLog.SubscriptionSpread(_logger, Name, refused.Length);
            pending = refused;
        }

        foreach (var item in items.Where(i => i.FilterRefused is not null && i.Status.IsGood))
        {
            OpcUaLog.DeadbandRefused(_logger, Name, ((OpcUaTag)item.Context!).Info.Key, SampleStatus.Name(item.FilterRefused!.Value.Code));
        }

        foreach (var item in items.Where(i => i.Status.IsBad))
        {
            var tag = (OpcUaTag)item.Context!;
            OpcUaLog.TagUnusable(_logger, Name, tag.Info.Key, $"monitored item for {tag.Address.Text} refused ({item.Status})");
            await EmitAsync(tag, new DataValue { StatusCode = item.Status }, cancellationToken);
        }
    }

    private void OnDataChange(MonitoredItem item, DataValue value)
    {
        var sample = ToSample((OpcUaTag)item.Context!, value, explainBad: true);
        if (sample is { } s && !_samples.Writer.TryWrite(s))
        {
            try
            {
                // Back-pressure: block this publish worker until the pipeline takes the sample (see the queue's comment).
                _samples.Writer.WriteAsync(s).AsTask().GetAwaiter().GetResult();
            }
            catch (ChannelClosedException)
            {
                // the driver is stopping
            }
        }
    }

    /// <summary>
    /// After a reconnect that kept the session, the subscription only reports what changed since; a tag whose value
    /// did not change would stay Bad. Reads the tags still Bad and emits those the server now reads without Bad status
    /// (a notification that arrived meanwhile wins).
    /// </summary>
    private async Task RefreshBadTagsAsync(CancellationToken cancellationToken)
    {
        var tags = _tags.Where(t => t.NodeId is not null && t.LastQuality == Quality.Bad).ToArray();
        if (tags.Length == 0)
        {
            return;
        }

        DataValue[] values;
        try
        {
            values = await _client.ReadAsync(tags.Select(t => t.NodeId!).ToArray(), cancellationToken);
        }
        catch (UaException ex) when (ex is not UaConnectionException)
        {
            // A refused Read must not send the ladder round again; the subscription still reports changes.
            LastError = ex.Message;
            return;
        }

        for (var i = 0; i < tags.Length; i++)
        {
            if (QualityOf(values[i].StatusCode) != Quality.Bad && ToSample(tags[i], values[i], onlyIfBad: true) is { } sample)
            {
                await _samples.Writer.WriteAsync(sample, cancellationToken);
            }
        }
    }

    /// <summary>Reads every tag each publishing interval; returns the cause when the connection is lost.</summary>
    private async Task<Exception?> PollUntilLostAsync(CancellationToken cancellationToken)
    {
        var tags = _tags.Where(t => t.NodeId is not null).ToArray();
        var nodes = tags.Select(t => t.NodeId!).ToArray();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var values = await _client.ReadAsync(nodes, cancellationToken);
                for (var i = 0; i < tags.Length; i++)
                {
                    if (ToSample(tags[i], values[i], onlyChanges: true, explainBad: true) is { } sample)
                    {
                        await _samples.Writer.WriteAsync(sample, cancellationToken);
                    }
                }
            }
            catch (UaException ex)
            {
                if (_client.Channel is not { IsOpen: true })
                {
                    return ex;
                }

                LastError = ex.Message;
                State = DriverState.Degraded;
            }

            var delay = Task.Delay(TimeSpan.FromMilliseconds(_settings.PublishingIntervalMs), _timeProvider, cancellationToken);
            var lost = _client.ChannelLost;
            if (await Task.WhenAny(delay, lost) == lost)
            {
                return await lost;
            }

            await delay;
        }
    }

    private async ValueTask EmitAsync(OpcUaTag tag, DataValue value, CancellationToken cancellationToken, bool onlyChanges = false)
    {
        var sample = ToSample(tag, value, onlyChanges);
        if (sample is { } s)
        {
            await _samples.Writer.WriteAsync(s, cancellationToken);
        }
    }

    /// <summary>Bad once per disconnect: tags already Bad are not repeated.</summary>
    private async Task MarkAllBadAsync(uint statusCode, string reason, CancellationToken cancellationToken)
    {
        State = DriverState.Disconnected;
        LastError = reason;
        var now = _timeProvider.GetUtcNow();
        foreach (var tag in _tags)
        {
            Sample sample;
            lock (tag)
            {
                if (tag.LastQuality == Quality.Bad)
                {
                    continue;
                }

                tag.LastQuality = Quality.Bad;
                tag.LastValue = SampleValue.None;
                sample = Sample.Bad(tag.Info, now, statusCode == 0 ? SampleStatus.BadNotConnected : statusCode);
            }

            await _samples.Writer.WriteAsync(sample, cancellationToken);
        }
    }

    // explainBad: log the status when the value turns Bad (a node the server cannot read, deleted, access denied).
    private Sample? ToSample(OpcUaTag tag, DataValue value, bool onlyChanges = false, bool onlyIfBad = false, bool explainBad = false)
    {
        var now = _timeProvider.GetUtcNow();
        var quality = QualityOf(value.StatusCode);
        var status = value.StatusCode.Code;
        string? undecodable = null;
        SampleValue? structure = null;
        if (quality != Quality.Bad && UndecodableStructure(value.Value) is not null)
        {
            // Decoded with the server's DataTypeDefinition; one that cannot be is Bad with a reason, never its text with quality Good.
            structure = DecodeStructure(tag, value.Value, out var structureStatus, out undecodable);
            if (structure is null)
            {
                quality = Quality.Bad;
                status = structureStatus;
            }
        }

        var converted = quality == Quality.Bad ? SampleValue.None : structure ?? UaVariantValues.Convert(value.Value, tag.Config);
        lock (tag)
        {
            if ((onlyChanges && tag.LastQuality == quality && tag.LastValue == converted) || (onlyIfBad && tag.LastQuality != Quality.Bad))
            {
                return null;
            }

            if ((explainBad || undecodable is not null) && quality == Quality.Bad && (tag.LastQuality != Quality.Bad || tag.LastStatus != status))
            {
                OpcUaLog.TagUnusable(_logger, Name, tag.Info.Key, undecodable ?? $"the server reports {SampleStatus.Describe(status)} for {tag.Address.Text}");
            }

            tag.LastStatus = status;

            tag.LastQuality = quality;
            tag.LastValue = converted;
            if (!value.Value.IsNull)
            {
                tag.LastType = value.Value.Type;
                var sourceType = structure is not null ? SourceType.Structure : UaVariantValues.SourceTypeOf(value.Value, tag.Config);
                if (structure is { Kind: SampleValueKind.Structure } && value.Value.Value is ExtensionObject decoded && LayoutOf(decoded) is { } layout && !layout.Equals(tag.Info.Structure))
                {
                    // A value of another structure type than the DataType said (or than before): its own layout.
                    tag.Info.Structure = layout;
                }

                if (tag.Info.SourceType != sourceType || tag.Info.IsArray != (value.Value.IsArray && !OpcUaArrays.IsMatrix(value.Value)))
                {
                    // Set before the sample leaves: the outputs read the tag's type with its first value.
                    tag.Info.IsArray = value.Value.IsArray && !OpcUaArrays.IsMatrix(value.Value);
                    tag.Info.SourceType = sourceType;
                }
            }
        }

        var source = value.SourceTimestamp != default ? value.SourceTimestamp : value.ServerTimestamp;
        var sourceTime = source == default ? now : new DateTimeOffset(DateTime.SpecifyKind(source, DateTimeKind.Utc));
        return new Sample(tag.Info, sourceTime, now, converted, quality, status);
    }

    /// <summary>Top two bits of the status code: 00 Good, 01 Uncertain, 10 and 11 Bad.</summary>
    public static Quality QualityOf(StatusCode status) => (status.Code >> 30) switch
    {
        0 => Quality.Good,
        1 => Quality.Uncertain,
        _ => Quality.Bad,
    };

    public async ValueTask WriteAsync(TagInfo tag, SampleValue value, CancellationToken cancellationToken)
    {
        if (!_byInfo.TryGetValue(tag, out var opcTag))
        {
            throw new InvalidOperationException($"driver '{Name}' has no tag '{tag}'");
        }

        if (!opcTag.Config.Writable)
        {
            throw new InvalidOperationException($"tag '{tag}' is not writable (set \"writable\": true in its configuration)");
        }

        if (opcTag.NodeId is null)
        {
            throw new InvalidOperationException($"tag '{tag}' is not resolved on the server");
        }

        var type = opcTag.LastType;
        if (type == BuiltInType.Null)
        {
            var current = await _client.ReadAsync([opcTag.NodeId], cancellationToken);
            type = current[0].Value.Type;
        }

        var raw = value;
        if (value.IsNumeric && value.Kind != SampleValueKind.Boolean && (opcTag.Config.Scale != 1.0 || opcTag.Config.Offset != 0))
        {
            raw = SampleValue.FromDouble((value.AsDouble - opcTag.Config.Offset) / opcTag.Config.Scale);
        }

        var variant = UaVariantValues.ToVariant(raw, type);
        var results = await _client.WriteAsync([(opcTag.NodeId, variant)], cancellationToken);
        if (results.Length != 1 || results[0].IsBad)
        {
            throw new UaException(results.Length == 1 ? results[0].Code : SampleStatus.BadUnexpectedError, $"writing {tag} failed");
        }
    }

    /// <summary>The read-back after a write: one Read of the node's Value, converted and scaled as a data change would be.</summary>
    public async ValueTask<Sample> ReadAsync(TagInfo tag, CancellationToken cancellationToken)
    {
        if (!_byInfo.TryGetValue(tag, out var opcTag))
        {
            throw new InvalidOperationException($"driver '{Name}' has no tag '{tag}'");
        }

        if (opcTag.NodeId is null)
        {
            throw new InvalidOperationException($"tag '{tag}' is not resolved on the server");
        }

        var values = await _client.ReadAsync([opcTag.NodeId], cancellationToken);
        var value = values[0];
        var now = _timeProvider.GetUtcNow();
        var quality = QualityOf(value.StatusCode);
        if (quality == Quality.Bad)
        {
            return Sample.Bad(tag, now, value.StatusCode.Code);
        }

        var source = value.SourceTimestamp != default ? value.SourceTimestamp : value.ServerTimestamp;
        var sourceTime = source == default ? now : new DateTimeOffset(DateTime.SpecifyKind(source, DateTimeKind.Utc));
        return new Sample(tag, sourceTime, now, UaVariantValues.Convert(value.Value, opcTag.Config), quality, value.StatusCode.Code);
    }

    public async ValueTask DisposeAsync() => await _client.DisposeAsync();
}
