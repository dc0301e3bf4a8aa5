using Gateway.Drivers;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Observability;
using Microsoft.Extensions.Logging;
using MQTTnet;
using Polly;

namespace Gateway.Northbound;

/// <summary>How much of a batch a sink delivered: a prefix of it, and the error that stopped it, if any.</summary>
public readonly record struct BatchOutcome(int Delivered, Exception? Failure);

/// <summary>
/// A northbound output over MQTT that consumes the disk buffer: it connects (Polly: exponential backoff
/// with jitter), reads the samples after its cursor oldest first, publishes them, and acknowledges the
/// delivered prefix so the buffer can delete what every output has delivered.
/// </summary>
public abstract class MqttSink : BackgroundService
{
    private readonly TimeProvider _timeProvider;

    protected MqttSink(string name, GatewayConfig config, SampleBuffer buffer, BufferSignal signal, GatewayMetrics metrics, TimeProvider timeProvider, ILogger logger)
    {
        Name = name;
        Config = config;
        Buffer = buffer;
        Signal = signal;
        Metrics = metrics;
        Counters = metrics.Sink(name);
        _timeProvider = timeProvider;
        Logger = logger;
    }

    /// <summary>The sink's name in the buffer's cursors and in the metrics.</summary>
    public string Name { get; }

    protected GatewayConfig Config { get; }

    protected SampleBuffer Buffer { get; }

    protected BufferSignal Signal { get; }

    protected GatewayMetrics Metrics { get; }

    protected SinkCounters Counters { get; }

    protected ILogger Logger { get; }

    protected TimeProvider Time => _timeProvider;

    public string Endpoint => $"{Config.Mqtt.Host ?? "127.0.0.1 (embedded)"}:{Config.Mqtt.Port}";

    /// <summary>Logs why the broker's certificate was refused (the TLS exception alone does not say).</summary>
    protected void CertificateRejected(string reason)
    {
        _tlsRejection = reason;
        MqttLog.CertificateRejected(Logger, Name, Endpoint, reason);
    }

    /// <summary>The connection options, with this sink's last will; called before every connection attempt.</summary>
    protected abstract MqttClientOptions BuildOptions();

    /// <summary>Runs after each successful connection, before the backlog is sent (status, births, subscriptions).</summary>
    protected virtual Task OnConnectedAsync(IMqttClient client, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs on a clean stop while still connected (offline status, death certificates).</summary>
    protected virtual Task OnStoppingAsync(IMqttClient client, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Publishes a batch (oldest first); returns how many leading samples the broker acknowledged. Used by the
    /// batch-at-a-time <see cref="DrainAsync"/>; a sink that streams overrides that instead.
    /// </summary>
    protected virtual Task<BatchOutcome> PublishBatchAsync(IMqttClient client, IReadOnlyList<BufferedSample> batch, CancellationToken cancellationToken) =>
        throw new InvalidOperationException($"{GetType().Name} overrides neither DrainAsync nor PublishBatchAsync");

    /// <summary>Runs before each read of the buffer, while connected (pending rebirths).</summary>
    protected virtual Task OnIdleAsync(IMqttClient client, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A hook for incoming messages (Sparkplug commands).</summary>
    protected virtual Task OnMessageAsync(IMqttClient client, MqttApplicationMessageReceivedEventArgs message) => Task.CompletedTask;

    /// <summary>What the broker announced in the CONNACK of the current connection.</summary>
    protected MqttBrokerLimits Limits { get; private set; } = MqttBrokerLimits.None;

    /// <summary>False once the broker said it has no retained messages (MQTT 5 Retain Available, or a CONNECT refused with 0x9A).</summary>
    protected bool RetainAvailable { get; private set; } = true;

    /// <summary>True when the connection speaks MQTT 5 (PUBACK reason codes, CONNACK limits).</summary>
    protected bool Mqtt5 => Config.Mqtt.ProtocolVersion != "3.1.1";

    /// <summary>How many QoS 1/2 publications may await their acknowledgement: ours, within the broker's Receive Maximum.</summary>
    protected int Window => Math.Max(1, Math.Min(Config.Mqtt.MaxInflight, Limits.ReceiveMaximum));

    /// <summary>Refuses, before sending, a message the broker announced it would not take (it would close the connection).</summary>
    protected void CheckPacketSize(MqttApplicationMessage message)
    {
        if (Limits.MaximumPacketSize < MqttBrokerLimits.ProtocolMaximumPacketSize)
        {
            var size = MqttBrokerLimits.PublishPacketSize(message, Mqtt5);
            if (size > Limits.MaximumPacketSize)
            {
                throw new MessageTooLargeException(message.Topic, size, Limits.MaximumPacketSize);
            }
        }
    }

    /// <summary>Throws when the broker answered the publication with a refusal (MQTT 5 reason code 0x80 or more).</summary>
    protected void CheckAccepted(MqttApplicationMessage message, MqttClientPublishResult result)
    {
        if (PublishRefusedException.IsRefusal(result))
        {
            throw new PublishRefusedException(message.Topic, result.ReasonCode, result.ReasonString, Config.Mqtt.Username);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Mqtt5 && Config.Mqtt.Username is { } user)
        {
            // MQTT 3.1.1 has no PUBACK reason code: a broker whose ACL denies a topic acknowledges the
            // publication and drops it (mosquitto does), so the buffer cannot tell delivered from discarded.
            MqttLog.Mqtt311AclBlind(Logger, Name, Endpoint, user);
        }

        var wake = Signal.Subscribe();
        var factory = new MqttClientFactory(new MqttNetLoggerBridge(Logger));
        using var client = factory.CreateMqttClient();
        client.DisconnectedAsync += args =>
        {
            if (Counters.Connected)
            {
                Counters.ConnectedChanged(false);
                MqttLog.Disconnected(Logger, Name, Endpoint, args.ReasonString is { Length: > 0 } text ? $"{args.Reason} ({text})" : args.Reason.ToString());
            }

            return Task.CompletedTask;
        };
        client.ApplicationMessageReceivedAsync += args => OnMessageAsync(client, args);

        // One policy for a connection that fails and for a session that fails before delivering anything (a
        // refused publication, a message the broker closes the connection on): both wait longer each time, so
        // that a broker that refuses is not hammered. A session that delivered something starts afresh.
        var reconnect = Backoff.Forever(
            _timeProvider,
            TimeSpan.FromMilliseconds(250),
            TimeSpan.FromMilliseconds(Config.Mqtt.MaxReconnectDelayMs),
            new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
            args =>
            {
                if (args.Outcome.Exception is SessionFailedException failed)
                {
                    MqttLog.SessionFailed(Logger, Name, Endpoint, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, failed.Message, Buffer.Count);
                }
                else
                {
                    MqttLog.ConnectFailed(Logger, Name, Endpoint, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, DescribeConnectFailure(args.Outcome.Exception), Buffer.Count);
                }

                return ValueTask.CompletedTask;
            });

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await reconnect.ExecuteAsync(
                    async ct =>
                    {
                        await ConnectAsync(client, ct);
                        await RunSessionAsync(client, wake, ct);
                    },
                    stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (client.IsConnected)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await OnStoppingAsync(client, timeout.Token);
                    await client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token);
                }
                catch (Exception ex)
                {
                    MqttLog.PublishInterrupted(Logger, Name, Endpoint, Describe(ex));
                }
            }

            Counters.ConnectedChanged(false);
        }
    }

    private MqttBrokerLimits? _loggedLimits;
    private string? _tlsRejection;
    private bool _tlsAccepted;

    /// <summary>Records what the certificate check said, for the connection failure's explanation.</summary>
    protected void CertificateAccepted() => _tlsAccepted = true;

    private async Task ConnectAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        _tlsRejection = null;
        _tlsAccepted = false;
        byte[]? connAck = null;
        Task Inspect(MQTTnet.Diagnostics.PacketInspection.InspectMqttPacketEventArgs args)
        {
            if (args.Direction == MQTTnet.Diagnostics.PacketInspection.MqttPacketFlowDirection.Inbound && connAck is null)
            {
                if (args.Buffer is [0x20, ..])
                {
                    connAck = args.Buffer;
                }
            }

            return Task.CompletedTask;
        }

        // Packet inspection copies every packet: it is on only while connecting, to read the CONNACK properties
        // MQTTnet does not surface (Receive Maximum, Maximum Packet Size).
        client.InspectPacketAsync += Inspect;
        MqttClientConnectResult result;
        try
        {
            result = await client.ConnectAsync(BuildOptions(), cancellationToken);
        }
        finally
        {
            client.InspectPacketAsync -= Inspect;
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            // MQTT 5 brokers answer a refusal with a CONNACK reason code rather than a dropped socket.
            if (client.IsConnected)
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptions(), cancellationToken);
            }

            if (result.ResultCode == MqttClientConnectResultCode.RetainNotSupported && RetainAvailable)
            {
                RetainNotAvailable();
            }

            throw new BrokerRefusedException(result.ResultCode, result.ReasonString);
        }

        Limits = Mqtt5 ? MqttBrokerLimits.From(connAck, result) : MqttBrokerLimits.None;
        if (!Limits.RetainAvailable && RetainAvailable)
        {
            RetainNotAvailable();
        }

        if (Limits != MqttBrokerLimits.None && Limits != _loggedLimits)
        {
            _loggedLimits = Limits;
            MqttLog.BrokerLimits(Logger, Name, Limits.ReceiveMaximum, Limits.MaximumPacketSize, (int)Limits.MaximumQos, Limits.RetainAvailable);
        }
    }

    private void RetainNotAvailable()
    {
        // A will with the retain flag is refused outright by such a broker (MQTT 5.0 §3.1.2.5): without it the
        // data still flows, only the status topic is no longer retained.
        RetainAvailable = false;
        MqttLog.RetainNotAvailable(Logger, Name, Endpoint);
    }

    /// <summary>
    /// One connection's work: births and status, then the backlog and live data until the connection fails.
    /// Returns when the session delivered something before failing (the next connection starts afresh), and
    /// throws <see cref="SessionFailedException"/> when it delivered nothing (the next one waits longer).
    /// </summary>
    private async Task RunSessionAsync(IMqttClient client, SemaphoreSlim wake, CancellationToken cancellationToken)
    {
        Counters.ConnectedChanged(true);
        MqttLog.Connected(Logger, Name, Endpoint, Buffer.Count);
        var cursorBefore = Buffer.CursorOf(Name);
        try
        {
            await OnConnectedAsync(client, cancellationToken);
            await DrainAsync(client, wake, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = Describe(ex);
            if (!Mqtt5 && MqttFailureExplainer.IsConnectionDrop(ex) && Buffer.CursorOf(Name) == cursorBefore)
            {
                // MQTT 3.1.1 has no way to refuse a publication but closing the connection (§3.3.5).
                reason += " - the broker closed the connection while publications awaited their acknowledgement: MQTT 3.1.1 brokers refuse that way a packet over their size limit (mosquitto: max_packet_size) or, for some brokers, a topic their ACL denies; see the broker's log";
            }

            if (ex is PublishRefusedException or MessageTooLargeException)
            {
                MqttLog.PublishRefused(Logger, Name, Endpoint, reason);
            }
            else
            {
                MqttLog.PublishInterrupted(Logger, Name, Endpoint, reason);
            }

            if (client.IsConnected)
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None);
            }

            Counters.ConnectedChanged(false);
            if (Buffer.CursorOf(Name) == cursorBefore)
            {
                throw new SessionFailedException(reason, ex);
            }

            return;
        }

        Counters.ConnectedChanged(false);
    }

    private string DescribeConnectFailure(Exception? exception) =>
        MqttFailureExplainer.Connect(
            exception,
            Config.Mqtt.Tls is { Enabled: true },
            _tlsRejection,
            _tlsAccepted,
            Config.Mqtt.Tls is { Enabled: true, CertFile: not null },
            Endpoint,
            Mqtt5);

    /// <summary>Sends the buffer after this sink's cursor, batch after batch, until the connection fails.</summary>
    protected virtual async Task DrainAsync(IMqttClient client, SemaphoreSlim wake, CancellationToken cancellationToken)
    {
        var batch = new List<BufferedSample>(Config.Buffer.ReadBatchSize);
        var cursor = Buffer.CursorOf(Name);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!client.IsConnected)
            {
                throw new InvalidOperationException("the connection to the broker was lost");
            }

            await OnIdleAsync(client, cancellationToken);
            batch.Clear();
            Buffer.ReadOldest(cursor, Config.Buffer.ReadBatchSize, batch);
            if (batch.Count == 0)
            {
                await wake.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }

            var outcome = await PublishBatchAsync(client, batch, cancellationToken);
            if (outcome.Delivered > 0)
            {
                cursor = batch[outcome.Delivered - 1].Id;
                Buffer.Acknowledge(Name, cursor);
            }

            if (outcome.Failure is not null)
            {
                Counters.AddFailures(batch.Count - outcome.Delivered);
                throw outcome.Failure;
            }
        }
    }

    protected static string Describe(Exception? exception) => exception switch
    {
        null => "unknown error",
        PublishRefusedException or MessageTooLargeException or SessionFailedException => exception.Message,
        MQTTnet.Exceptions.MqttClientUnexpectedDisconnectReceivedException disconnect when disconnect.ReasonCode == MQTTnet.Protocol.MqttDisconnectReasonCode.PacketTooLarge =>
            "the broker closed the connection: a packet was over its maximum size (mosquitto: max_packet_size)",
        MQTTnet.Exceptions.MqttClientUnexpectedDisconnectReceivedException disconnect when disconnect.ReasonCode == MQTTnet.Protocol.MqttDisconnectReasonCode.NotAuthorized =>
            "the broker closed the connection: not authorised (its ACL)",
        MQTTnet.Exceptions.MqttClientUnexpectedDisconnectReceivedException disconnect =>
            $"the broker closed the connection: {disconnect.ReasonCode}{(string.IsNullOrEmpty(disconnect.ReasonString) ? "" : " (" + disconnect.ReasonString + ")")}",
        MQTTnet.Adapter.MqttConnectingFailedException connecting => $"connection refused by the broker: {connecting.Message}",
        BrokerRefusedException refused => refused.Message,
        _ => exception.GetBaseException().Message,
    };
}

/// <summary>The broker answered CONNECT with a refusal (bad credentials, not authorised, banned...).</summary>
public sealed class BrokerRefusedException(MqttClientConnectResultCode code, string? reason)
    : Exception($"connection refused by the broker: {code}{(string.IsNullOrEmpty(reason) ? "" : " (" + reason + ")")}{Hint(code)}")
{
    private static string Hint(MqttClientConnectResultCode code) => code switch
    {
        MqttClientConnectResultCode.BadUserNameOrPassword or MqttClientConnectResultCode.NotAuthorized => " - check mqtt.username and mqtt.passwordFile",
        MqttClientConnectResultCode.ClientIdentifierNotValid => " - check mqtt.clientId",
        MqttClientConnectResultCode.QoSNotSupported => " - the broker allows QoS 0 only (mosquitto: max_qos 0); the gateway needs QoS 1 acknowledgements to release samples from the buffer, so they stay buffered",
        MqttClientConnectResultCode.RetainNotSupported => " - the broker has no retained messages (mosquitto: retain_available false); the next attempt does without",
        MqttClientConnectResultCode.Banned => " - this client is banned by the broker",
        MqttClientConnectResultCode.ServerUnavailable or MqttClientConnectResultCode.ServerBusy => " - the broker is not taking connections now",
        MqttClientConnectResultCode.PacketTooLarge => " - the CONNECT packet is over the broker's maximum packet size",
        _ => "",
    };

    public MqttClientConnectResultCode Code { get; } = code;
}

/// <summary>A connection whose session failed before the buffer advanced: the next attempt waits longer.</summary>
public sealed class SessionFailedException(string message, Exception inner) : Exception(message, inner);

internal static partial class MqttLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "{Sink}: connected to MQTT broker {Endpoint}; {Backlog} samples waiting in the buffer")]
    public static partial void Connected(ILogger logger, string sink, string endpoint, long backlog);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "{Sink}: cannot connect to MQTT broker {Endpoint} (attempt {Attempt}, next in {DelaySeconds:F1} s): {Reason}; {Backlog} samples kept in the buffer")]
    public static partial void ConnectFailed(ILogger logger, string sink, string endpoint, int attempt, double delaySeconds, string reason, long backlog);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "{Sink}: disconnected from MQTT broker {Endpoint}: {Reason}")]
    public static partial void Disconnected(ILogger logger, string sink, string endpoint, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "{Sink}: publishing to {Endpoint} interrupted: {Reason}; unacknowledged samples stay in the buffer")]
    public static partial void PublishInterrupted(ILogger logger, string sink, string endpoint, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "{Sink}: TLS refused for {Endpoint}: {Reason}")]
    public static partial void CertificateRejected(ILogger logger, string sink, string endpoint, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "{Sink}: publishing to {Endpoint}: {Reason}; that sample and the ones after it stay in the buffer and are offered again")]
    public static partial void PublishRefused(ILogger logger, string sink, string endpoint, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "{Sink}: publishing to {Endpoint} failed again (attempt {Attempt}, next connection in {DelaySeconds:F1} s): {Reason}; {Backlog} samples kept in the buffer")]
    public static partial void SessionFailed(ILogger logger, string sink, string endpoint, int attempt, double delaySeconds, string reason, long backlog);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "{Sink}: the broker {Endpoint} has no retained messages: the status topic and the last will are published without the retain flag")]
    public static partial void RetainNotAvailable(ILogger logger, string sink, string endpoint);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "{Sink}: the broker allows {ReceiveMaximum} publications in flight, packets up to {MaximumPacketSize} bytes, QoS up to {MaximumQos}, retain {RetainAvailable}")]
    public static partial void BrokerLimits(ILogger logger, string sink, int receiveMaximum, long maximumPacketSize, int maximumQos, bool retainAvailable);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Warning, Message = "{Sink}: MQTT 3.1.1 with user '{User}' on {Endpoint}: a broker acknowledges and silently drops publications its ACL denies (3.1.1 has no refusal code), so samples could leave the buffer undelivered; check the user's write access to the topics, or use mqtt.protocolVersion 5, where refusals are reported")]
    public static partial void Mqtt311AclBlind(ILogger logger, string sink, string endpoint, string user);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "{Sink}: the broker refused the subscription to {Filter} ({ReasonCode}): {Consequence}")]
    public static partial void SubscriptionRefused(ILogger logger, string sink, string filter, string reasonCode, string consequence);
}
