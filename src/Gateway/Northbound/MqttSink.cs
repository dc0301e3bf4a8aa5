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
    protected void CertificateRejected(string reason) => MqttLog.CertificateRejected(Logger, Name, Endpoint, reason);

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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wake = Signal.Subscribe();
        var factory = new MqttClientFactory(new MqttNetLoggerBridge(Logger));
        using var client = factory.CreateMqttClient();
        client.DisconnectedAsync += args =>
        {
            if (Counters.Connected)
            {
                Counters.ConnectedChanged(false);
                MqttLog.Disconnected(Logger, Name, Endpoint, args.Reason.ToString());
            }

            return Task.CompletedTask;
        };
        client.ApplicationMessageReceivedAsync += args => OnMessageAsync(client, args);

        var reconnect = Backoff.Forever(
            _timeProvider,
            TimeSpan.FromMilliseconds(250),
            TimeSpan.FromMilliseconds(Config.Mqtt.MaxReconnectDelayMs),
            new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
            args =>
            {
                MqttLog.ConnectFailed(Logger, Name, Endpoint, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, Describe(args.Outcome.Exception), Buffer.Count);
                return ValueTask.CompletedTask;
            });

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await reconnect.ExecuteAsync(
                    async ct =>
                    {
                        var result = await client.ConnectAsync(BuildOptions(), ct);
                        if (result.ResultCode != MqttClientConnectResultCode.Success)
                        {
                            // MQTT 5 brokers answer a refusal with a CONNACK reason code rather than a dropped socket.
                            if (client.IsConnected)
                            {
                                await client.DisconnectAsync(new MqttClientDisconnectOptions(), ct);
                            }

                            throw new BrokerRefusedException(result.ResultCode, result.ReasonString);
                        }
                    },
                    stoppingToken);
                Counters.ConnectedChanged(true);
                MqttLog.Connected(Logger, Name, Endpoint, Buffer.Count);
                try
                {
                    await OnConnectedAsync(client, stoppingToken);
                    await DrainAsync(client, wake, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    MqttLog.PublishInterrupted(Logger, Name, Endpoint, Describe(ex));
                    if (client.IsConnected)
                    {
                        await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None);
                    }
                }

                Counters.ConnectedChanged(false);
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
        _ => "",
    };

    public MqttClientConnectResultCode Code { get; } = code;
}

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

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "{Sink}: the broker refused the sample of {Tag} ({ReasonCode}); it is dropped")]
    public static partial void Rejected(ILogger logger, string sink, string tag, string reasonCode);
}
