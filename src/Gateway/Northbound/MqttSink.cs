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

    protected static string Describe(Exception? exception) => MqttFailureExplainer.Describe(exception);
}
