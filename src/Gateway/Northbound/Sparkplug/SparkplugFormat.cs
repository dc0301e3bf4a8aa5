using System.Buffers;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound.Delivery;
using Gateway.Northbound.Mqtt;
using Gateway.Observability;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Northbound.Sparkplug;

/// <summary>
/// Sparkplug B 3.0 as a format of <see cref="MqttOutput"/>: a <see cref="SparkplugSession"/> makes the messages, this
/// class connects it to the output. Per connection: the NDEATH will with the next bdSeq (persisted beside the buffer,
/// so that it goes on across restarts), subscriptions to NCMD and DCMD, the NBIRTH, then the DBIRTHs once every tag
/// of the running drivers (<see cref="IDriverCatalog"/>) has a value or a second has passed (data waits in the buffer
/// meanwhile), then the samples: the live lane as DDATA, the history lane as DDATA with <c>is_historical</c>.
/// <para>
/// With <c>mqtt.sparkplug.primaryHostId</c> (Sparkplug 3.0, primary host application): the node also subscribes to
/// <c>spBv1.0/STATE/&lt;id&gt;</c> and births only once the host says online; until then nothing is read from the
/// buffer. What the buffer gathered meanwhile becomes the history lane (<see cref="MqttOutputContext.StartLiveFromNow"/>),
/// so it goes out with <c>is_historical</c> after the births. When the host says offline, the node ends its session as
/// the specification asks (NDEATH, then DISCONNECT); the output reconnects and the node waits again. A STATE older
/// than the newest seen is ignored (<see cref="PrimaryHostState"/>).
/// </para>
/// </summary>
public sealed partial class SparkplugFormat : IMqttFormat
{
    public const string Name = "mqtt-sparkplug";

    private readonly GatewayConfig _config;
    private readonly IDriverCatalog _catalog;
    private readonly LiveTags? _liveTags;
    private readonly ILogger _logger;
    private readonly SparkplugSession _session;
    private readonly List<SparkplugMessage> _messages = [];
    private readonly string _bdSeqFile;
    private int[] _carriedBy = [];
    private long _lastSessionBdSeq;
    private long _bdSeq;
    private bool _birthsPending;
    private volatile bool _rebirthRequested;
    private OutgoingMessages? _liveQueue;
    private OutgoingMessages? _historyQueue;
    private readonly long?[] _uncompletedFrom = new long?[2];
    private readonly int[] _uncounted = new int[2];
    private int[] _extraSamples = [];
    private bool _observedAtBegin;
    private readonly PrimaryHostState? _host;
    private readonly Lock _hostLock = new();
    private readonly GatewayMetrics? _metrics;
    private bool? _reportedOnline;
    private bool _sessionBegun;
    private long _catalogVersion;

    public SparkplugFormat(GatewayConfig config, IDriverCatalog catalog, LiveTags? liveTags, TimeProvider time, ILogger logger, GatewayMetrics? metrics = null, Gateway.Writes.WriteGate? writes = null)
    {
        _metrics = metrics;
        _config = config;
        _catalog = catalog;
        _liveTags = liveTags;
        _logger = logger;
        var sparkplug = config.Mqtt.Sparkplug;
        _session = new SparkplugSession(
            new SparkplugSessionOptions
            {
                GroupId = sparkplug.GroupId ?? config.Gateway.Site,
                EdgeNodeId = sparkplug.EdgeNodeId ?? config.Gateway.Id,
                MaxMetricsPerMessage = sparkplug.MaxMetricsPerMessage,
                DataQos = sparkplug.DataQos,
            },
            time,
            logger);
        if (writes is { Enabled: true })
        {
            // DCMD metrics are writes through the gate, off the receive loop; the new value comes back as DDATA.
            _session.WriteRequested = r => _ = Task.Run(() => Gateway.Writes.MqttWrites.WriteCommandAsync(writes, r.TagKey, r.Topic, r.Value, r.Problem));
        }

        _bdSeqFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(config.Buffer.Path))!, "sparkplug-bdseq");
        if (sparkplug.PrimaryHostId is { Length: > 0 } hostId)
        {
            _host = new PrimaryHostState(hostId);
            _metrics?.SetPrimaryHostOnline(hostId, false);
        }

        _lastSessionBdSeq = File.Exists(_bdSeqFile) && long.TryParse(File.ReadAllText(_bdSeqFile).Trim(), out var stored) ? stored : -1;
    }

    public string SinkName => Name;

    /// <summary>The session that makes the messages (for tests and the dashboard).</summary>
    public SparkplugSession Session => _session;

    /// <summary>The primary host as the node knows it; null without <c>mqtt.sparkplug.primaryHostId</c>.</summary>
    public PrimaryHostState? PrimaryHost => _host;

    /// <summary>True while the node has a session (it published its NBIRTH on this connection).</summary>
    public bool SessionBegun => _sessionBegun;

    /// <summary>A few DDATA's worth per read of the backlog.</summary>
    public int HistoryBatchSamples => Math.Clamp(_config.Mqtt.Sparkplug.MaxMetricsPerMessage * 4, 100, 4000);

    /// <summary>Sparkplug's seq runs across both lanes: the output sends the messages in the order they were made.</summary>
    public bool SingleSequence => true;

    /// <summary>A DDATA carries up to <c>mqtt.sparkplug.maxMetricsPerMessage</c> samples.</summary>
    public int LiveSamplesPerMessage => _config.Mqtt.Sparkplug.MaxMetricsPerMessage;

    /// <summary>
    /// Each CONNECT registers an NDEATH whose bdSeq is one more than the previous session's (0-255). An attempt
    /// that never reached the broker did not use its number: the next attempt offers the same one.
    /// </summary>
    public MqttClientOptions BuildOptions(MqttOutputContext context)
    {
        _bdSeq = (_lastSessionBdSeq + 1) % 256;
        using var death = _session.DeathPayload(_bdSeq);
        return MqttConnectionFactory.Build(context.Config, _session.Topic("NDEATH"), death.Span, willRetain: false, clientIdSuffix: "-spb", certificateRejected: context.CertificateRejected, certificateAccepted: context.CertificateAccepted);
    }

    public async Task OnConnectedAsync(MqttOutputContext context, CancellationToken cancellationToken)
    {
        _lastSessionBdSeq = _bdSeq;
        WriteBdSeq();
        _liveQueue = null;
        _historyQueue = null;
        _uncompletedFrom[0] = null;
        _uncompletedFrom[1] = null;
        _uncounted[0] = 0;
        _uncounted[1] = 0;
        _rebirthRequested = false;
        _sessionBegun = false;
        _birthsPending = false;
        var subscription = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(_session.Topic("NCMD"), MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter(_session.Topic("DCMD") + "/+", MqttQualityOfServiceLevel.AtLeastOnce);
        if (_host is not null)
        {
            // The host must say online on this connection before the node births: its retained STATE comes with this.
            lock (_hostLock)
            {
                _host.Forget();
            }

            subscription.WithTopicFilter(_host.Topic, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        var subscribed = await context.Client.SubscribeAsync(subscription.Build(), cancellationToken);
        foreach (var item in subscribed.Items.Where(i => (int)i.ResultCode >= 0x80))
        {
            // The data still flows, but a host's commands (Node Control/Rebirth) would never arrive: say so.
            MqttLog.SubscriptionRefused(_logger, Name, item.TopicFilter.Topic, item.ResultCode.ToString(), "Sparkplug commands (Node Control/Rebirth) will not reach this node; grant it read access (its ACL)");
        }

        if (_host is null)
        {
            await BeginAsync(context, cancellationToken);
        }
        else if (!HostOnline)
        {
            LogWaitingForHost(_logger, Name, _host.HostId, _host.Topic);
        }
    }

    private bool HostOnline
    {
        get
        {
            lock (_hostLock)
            {
                return _host?.Online ?? true;
            }
        }
    }

    /// <summary>The node's session on this connection: NBIRTH now, the DBIRTHs once the tags were read (or a second passed).</summary>
    private async Task BeginAsync(MqttOutputContext context, CancellationToken cancellationToken)
    {
        _sessionBegun = true;
        _messages.Clear();
        if (_catalog.Version != _catalogVersion)
        {
            // Drivers changed (a reload) while there was no session: forget the tags gone before the births list them.
            _catalogVersion = _catalog.Version;
            _session.Retag(_catalog.Tags, _messages);
        }

        _session.Begin(_bdSeq, context.Limits.MaximumPacketSize, _catalog.Tags, _liveTags?.Snapshot(), _messages);
        _birthsPending = true;
        _observedAtBegin = true;
        await PublishNowAsync(context, cancellationToken);
    }

    public Task OnStoppingAsync(MqttOutputContext context, CancellationToken cancellationToken) =>
        // A clean stop sends the death certificate itself: the broker does not send a will on DISCONNECT. A node
        // still waiting for its primary host never was born on this connection: no death either.
        _sessionBegun ? PublishDeathAsync(context, cancellationToken) : Task.CompletedTask;

    private async Task PublishDeathAsync(MqttOutputContext context, CancellationToken cancellationToken)
    {
        var message = ToMqtt(_session.NodeDeath(), out var array);
        try
        {
            await context.PublishCheckedAsync(message, cancellationToken);
        }
        finally
        {
            PayloadPool.Shared.Return(array);
        }
    }

    public Task OnMessageAsync(MqttOutputContext context, MqttApplicationMessageReceivedEventArgs message)
    {
        var payload = message.ApplicationMessage.Payload;
        var bytes = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        if (_host is not null && message.ApplicationMessage.Topic == _host.Topic)
        {
            ObserveHost(context, bytes);
            return Task.CompletedTask;
        }

        if (_session.HandleCommand(message.ApplicationMessage.Topic, bytes))
        {
            // Publishing from the receive loop would wait for a PUBACK that this very loop must read: the output's
            // loop does the rebirth instead.
            _rebirthRequested = true;
            context.Wake();
        }

        return Task.CompletedTask;
    }

    /// <summary>A STATE of the primary host (MQTTnet's receive loop): one log line per change, the gauge, and a wake-up.</summary>
    private void ObserveHost(MqttOutputContext context, ReadOnlySpan<byte> payload)
    {
        PrimaryHostChange change;
        bool online;
        long? timestamp;
        long? newest;
        lock (_hostLock)
        {
            newest = _host!.Timestamp;
            change = _host.Observe(payload);
            online = _host.Online;
            timestamp = _host.Timestamp;
        }

        switch (change)
        {
            case PrimaryHostChange.Stale:
                if (PrimaryHostState.TryParse(payload, out var staleOnline, out var staleAt))
                {
                    LogStaleState(_logger, Name, _host.HostId, staleOnline ? "online" : "offline", staleAt, newest ?? 0);
                }

                return;
            case PrimaryHostChange.Malformed:
                LogMalformedState(_logger, Name, _host.HostId, _host.Topic, System.Text.Encoding.UTF8.GetString(payload[..Math.Min(payload.Length, 200)]));
                return;
            case PrimaryHostChange.Unchanged:
                return;
        }

        _metrics?.SetPrimaryHostOnline(_host.HostId, online);
        if (_reportedOnline != online)
        {
            _reportedOnline = online;
            if (online)
            {
                LogHostOnline(_logger, Name, _host.HostId, timestamp ?? 0);
            }
            else
            {
                LogHostOffline(_logger, Name, _host.HostId, timestamp ?? 0);
            }
        }

        // The output's loop births or ends the session: publishing from the receive loop would wait on itself.
        context.Wake();
    }

    public async ValueTask<bool> BeforeReadAsync(MqttOutputContext context, CancellationToken cancellationToken)
    {
        if (_host is not null)
        {
            if (!HostOnline)
            {
                if (_sessionBegun)
                {
                    // Sparkplug 3.0: a node whose primary host went offline ends its session (NDEATH, DISCONNECT). What
                    // was in flight is read again on the next connection; the output reconnects and the node waits.
                    _sessionBegun = false;
                    LogSessionEnded(_logger, Name, _host.HostId);
                    await PublishDeathAsync(context, cancellationToken);
                    await context.Client.DisconnectAsync(new MqttClientDisconnectOptions(), cancellationToken);
                }

                return false;
            }

            if (!_sessionBegun)
            {
                // Everything the buffer gathered while the host was away goes out after the births, as is_historical.
                context.StartLiveFromNow();
                await BeginAsync(context, cancellationToken);
            }
        }

        if (_rebirthRequested && (_liveQueue?.Count ?? 0) == 0 && (_historyQueue?.Count ?? 0) == 0)
        {
            // Nothing made before the rebirth is still waiting to be sent: the NBIRTH's seq 0 comes after all of it.
            _rebirthRequested = false;
            _messages.Clear();
            _session.Rebirth(_messages);
            await PublishNowAsync(context, cancellationToken);
        }

        if (_sessionBegun && _catalog.Version != _catalogVersion && (_liveQueue?.Count ?? 0) == 0 && (_historyQueue?.Count ?? 0) == 0)
        {
            // A reload changed the drivers: a new DBIRTH for each device whose metrics changed (SparkplugSession.Retag).
            _catalogVersion = _catalog.Version;
            _messages.Clear();
            _session.Retag(_catalog.Tags, _messages);
            await PublishNowAsync(context, cancellationToken);
        }

        if (_birthsPending)
        {
            // The first DBIRTHs announce each tag's datatype: wait (bounded) until every tag has been read once.
            // Right after Begin (which took the live values) there is nothing new to observe.
            if (_liveTags is not null && !_observedAtBegin)
            {
                _session.Observe(_liveTags.Current());
            }

            _observedAtBegin = false;

            _messages.Clear();
            _session.Flush(_messages);
            await PublishNowAsync(context, cancellationToken);
            _birthsPending = _session.PendingBirths > 0;
        }

        return !_birthsPending;
    }

    public void Encode(IReadOnlyList<BufferedSample> samples, DeliveryLane lane, MqttOutputContext context, OutgoingMessages output)
    {
        if (lane == DeliveryLane.Live)
        {
            _liveQueue = output;
        }
        else
        {
            _historyQueue = output;
        }

        _messages.Clear();
        var historical = lane == DeliveryLane.History;
        for (var i = 0; i < samples.Count; i++)
        {
            var item = samples[i];
            _session.Add(item.Sample, item.Id, historical, _messages);
        }

        // Nothing stays held across calls: a birth this batch needs goes out now.
        _session.Flush(_messages, force: true);
        Hand(samples, lane, output);
    }

    /// <summary>
    /// Hands the session's messages to the output. Each message names the run of this batch's samples that is
    /// delivered in full once it (and every message before it) is acknowledged: the batch's longest prefix whose
    /// samples are all carried by it or by earlier messages. Samples that need no message (Bad values of a dead
    /// machine) count as carried by the message before them, or, when none, by the lane's next message: that message
    /// also counts them (<c>gateway_samples_published_total</c>).
    /// </summary>
    private void Hand(IReadOnlyList<BufferedSample> samples, DeliveryLane lane, OutgoingMessages output)
    {
        var count = samples.Count;
        if (_carriedBy.Length < count)
        {
            _carriedBy = new int[Math.Max(count, _carriedBy.Length * 2)];
        }

        if (_extraSamples.Length < _messages.Count)
        {
            _extraSamples = new int[Math.Max(_messages.Count, _extraSamples.Length * 2)];
        }

        var carriedBy = _carriedBy;
        var extraSamples = _extraSamples;
        Array.Fill(carriedBy, -1, 0, count);
        Array.Clear(extraSamples, 0, _messages.Count);
        var sent = -1;
        for (var j = 0; j < _messages.Count; j++)
        {
            var message = _messages[j];
            var index = message.Type == SparkplugMessageType.None ? Math.Max(sent, 0) : ++sent;
            if (message.Type == SparkplugMessageType.None)
            {
                // Published by no message of their own: counted with the message that completes them.
                extraSamples[index] += message.SampleCount;
            }

            foreach (var range in message.Samples)
            {
                var position = IndexOf(samples, range.First);
                for (var id = range.First; id <= range.Last && position < count; id++)
                {
                    while (position < count && samples[position].Id < id)
                    {
                        position++;
                    }

                    if (position < count && samples[position].Id == id)
                    {
                        carriedBy[position] = index;
                    }
                }
            }
        }

        var laneIndex = (int)lane;
        var done = 0;
        var next = 0;
        var real = 0;
        foreach (var message in _messages)
        {
            if (message.Type == SparkplugMessageType.None)
            {
                message.Dispose();
                continue;
            }

            while (next < count && carriedBy[next] >= 0 && carriedBy[next] <= real)
            {
                next++;
            }

            SequenceRange? completes = null;
            var carried = message.SampleCount + extraSamples[real];
            if (next > done)
            {
                if (_uncompletedFrom[laneIndex] is { } from)
                {
                    // Also completes (and counts) the earlier batches' samples that needed no message.
                    completes = new SequenceRange(from, samples[next - 1].Id);
                    carried += _uncounted[laneIndex];
                    _uncompletedFrom[laneIndex] = null;
                    _uncounted[laneIndex] = 0;
                }
                else
                {
                    completes = new SequenceRange(samples[done].Id, samples[next - 1].Id);
                }

                done = next;
            }

            var array = message.DetachPayload(out var length) ?? throw new InvalidOperationException($"{message.Type} has no payload");
            output.Add(message.Topic ?? throw new InvalidOperationException($"{message.Type} has no topic"), array, length, message.QualityOfService == 0 ? MqttQualityOfServiceLevel.AtMostOnce : MqttQualityOfServiceLevel.AtLeastOnce, completes, carried);
            real++;
        }

        if (real == 0 && _messages.Count > 0)
        {
            _uncounted[laneIndex] += extraSamples[0];
        }

        if (done < count)
        {
            // Carried by no message of this batch (a dead machine's Bad values): the lane's next message completes them.
            _uncompletedFrom[laneIndex] ??= samples[done].Id;
        }

        _messages.Clear();
    }

    private static int IndexOf(IReadOnlyList<BufferedSample> samples, long id)
    {
        int low = 0, high = samples.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            if (samples[middle].Id < id)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    /// <summary>Publishes the session's messages at once (births: QoS 0, carrying no sample).</summary>
    private async Task PublishNowAsync(MqttOutputContext context, CancellationToken cancellationToken)
    {
        foreach (var message in _messages)
        {
            if (message.Type == SparkplugMessageType.None)
            {
                continue;
            }

            var published = ToMqtt(message, out var array);
            try
            {
                await context.PublishCheckedAsync(published, cancellationToken);
            }
            finally
            {
                PayloadPool.Shared.Return(array);
            }
        }

        _messages.Clear();
    }

    /// <summary>
    /// The MQTT message of <paramref name="message"/>, whose payload's pooled array it takes over: the caller returns
    /// <paramref name="rentedPayload"/> to <see cref="PayloadPool.Shared"/> once the publication completed.
    /// </summary>
    private static MqttApplicationMessage ToMqtt(SparkplugMessage message, out byte[] rentedPayload)
    {
        rentedPayload = message.DetachPayload(out var length) ?? throw new InvalidOperationException($"{message.Type} has no payload");
        return new MqttApplicationMessage
        {
            Topic = message.Topic,
            Payload = new ReadOnlySequence<byte>(rentedPayload, 0, length),
            QualityOfServiceLevel = message.QualityOfService == 0 ? MqttQualityOfServiceLevel.AtMostOnce : MqttQualityOfServiceLevel.AtLeastOnce,
        };
    }

    private void WriteBdSeq()
    {
        try
        {
            var temporary = _bdSeqFile + ".tmp";
            File.WriteAllText(temporary, _bdSeq.ToString(System.Globalization.CultureInfo.InvariantCulture));
            File.Move(temporary, _bdSeqFile, overwrite: true);
        }
        catch (IOException ex)
        {
            LogBdSeqNotSaved(_logger, Name, ex.Message);
        }
    }

    [LoggerMessage(EventId = 3204, Level = LogLevel.Information, Message = "{Sink}: waiting for the Sparkplug primary host '{Host}' to say online on {Topic} before the NBIRTH; the data stays in the buffer")]
    private static partial void LogWaitingForHost(ILogger logger, string sink, string host, string topic);

    [LoggerMessage(EventId = 3205, Level = LogLevel.Information, Message = "{Sink}: Sparkplug primary host '{Host}' is online (STATE timestamp {Timestamp}): births, then the buffered data as historical")]
    private static partial void LogHostOnline(ILogger logger, string sink, string host, long timestamp);

    [LoggerMessage(EventId = 3206, Level = LogLevel.Warning, Message = "{Sink}: Sparkplug primary host '{Host}' is offline (STATE timestamp {Timestamp}): nothing is published, the data stays in the buffer until it is back")]
    private static partial void LogHostOffline(ILogger logger, string sink, string host, long timestamp);

    [LoggerMessage(EventId = 3207, Level = LogLevel.Information, Message = "{Sink}: Sparkplug STATE of '{Host}' ignored: its timestamp {Timestamp} ({State}) is older than {Newest}, already seen")]
    private static partial void LogStaleState(ILogger logger, string sink, string host, string state, long timestamp, long newest);

    [LoggerMessage(EventId = 3208, Level = LogLevel.Warning, Message = "{Sink}: Sparkplug STATE of '{Host}' on {Topic} ignored: not the Sparkplug 3.0 JSON {{\"online\":true|false,\"timestamp\":<ms>}}: {Payload}")]
    private static partial void LogMalformedState(ILogger logger, string sink, string host, string topic, string payload);

    [LoggerMessage(EventId = 3209, Level = LogLevel.Information, Message = "{Sink}: Sparkplug session ended (NDEATH, DISCONNECT) because the primary host '{Host}' went offline; reconnecting to wait for it")]
    private static partial void LogSessionEnded(ILogger logger, string sink, string host);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "{Sink}: could not save the Sparkplug bdSeq: {Reason}; the next start may repeat this session's bdSeq")]
    private static partial void LogBdSeqNotSaved(ILogger logger, string sink, string reason);
}
