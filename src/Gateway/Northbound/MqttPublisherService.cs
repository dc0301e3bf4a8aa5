using System.Buffers;
using System.Text.Json;
using Gateway.Drivers;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;

namespace Gateway.Northbound;

/// <summary>
/// Publishes the buffer to the broker as UNS topics with QoS 1: oldest first, deleting samples only once
/// the broker acknowledged them. Reconnects through a Polly pipeline with exponential backoff and jitter;
/// the retained status topic says <c>online</c>, and <c>offline</c> as the last will.
/// </summary>
public sealed class MqttPublisherService : BackgroundService
{
    private static readonly byte[] s_online = "online"u8.ToArray();
    private static readonly byte[] s_offline = "offline"u8.ToArray();

    private readonly GatewayConfig _config;
    private readonly SampleBuffer _buffer;
    private readonly BufferSignal _signal;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<MqttPublisherService> _logger;
    private readonly UnsFormatter _formatter;
    private readonly MqttQualityOfServiceLevel _qos;

    public MqttPublisherService(IOptions<GatewayConfig> options, SampleBuffer buffer, BufferSignal signal, GatewayMetrics metrics, TimeProvider timeProvider, ILogger<MqttPublisherService> logger)
    {
        _config = options.Value;
        _buffer = buffer;
        _signal = signal;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
        _formatter = new UnsFormatter(_config.Gateway, _config.Mqtt.TopicPrefix);
        _qos = _config.Mqtt.Qos == 2 ? MqttQualityOfServiceLevel.ExactlyOnce : MqttQualityOfServiceLevel.AtLeastOnce;
    }

    public string Endpoint => $"{_config.Mqtt.Host ?? "127.0.0.1 (embedded)"}:{_config.Mqtt.Port}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wake = _signal.Subscribe();
        var factory = new MqttClientFactory(new MqttNetLoggerBridge(_logger));
        using var client = factory.CreateMqttClient();
        client.DisconnectedAsync += args =>
        {
            if (_metrics.MqttConnected)
            {
                _metrics.MqttConnectedChanged(false);
                MqttLog.Disconnected(_logger, Endpoint, args.Reason.ToString());
            }

            return Task.CompletedTask;
        };

        var options = MqttConnectionFactory.Build(_config, _formatter.StatusTopic, s_offline);
        var reconnect = new ResiliencePipelineBuilder { TimeProvider = _timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(250),
                MaxDelay = TimeSpan.FromMilliseconds(_config.Mqtt.MaxReconnectDelayMs),
                OnRetry = args =>
                {
                    MqttLog.ConnectFailed(_logger, Endpoint, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, Describe(args.Outcome.Exception));
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await reconnect.ExecuteAsync(async ct => await client.ConnectAsync(options, ct), stoppingToken);
                _metrics.MqttConnectedChanged(true);
                MqttLog.Connected(_logger, Endpoint, _buffer.Count);
                try
                {
                    await PublishStatusAsync(client, s_online, stoppingToken);
                    await DrainAsync(client, wake, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    MqttLog.PublishInterrupted(_logger, Endpoint, Describe(ex));
                }

                _metrics.MqttConnectedChanged(false);
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
                    await PublishStatusAsync(client, s_offline, timeout.Token);
                    await client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token);
                }
                catch (Exception ex)
                {
                    MqttLog.PublishInterrupted(_logger, Endpoint, Describe(ex));
                }
            }

            _metrics.MqttConnectedChanged(false);
        }
    }

    private Task<MqttClientPublishResult> PublishStatusAsync(IMqttClient client, byte[] payload, CancellationToken cancellationToken) =>
        client.PublishAsync(
            new MqttApplicationMessageBuilder().WithTopic(_formatter.StatusTopic).WithPayload(payload).WithRetainFlag(true).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(),
            cancellationToken);

    /// <summary>
    /// Publishes the buffer oldest first, keeping at most <c>mqtt.maxInflight</c> messages waiting for their
    /// PUBACK. Over one TCP connection PUBACKs come in order, so what fails is a suffix of what was sent:
    /// resending it after reconnecting keeps each tag's order. Throws when the connection is lost.
    /// </summary>
    private async Task DrainAsync(IMqttClient client, SemaphoreSlim wake, CancellationToken cancellationToken)
    {
        var batch = new List<BufferedSample>(_config.Buffer.ReadBatchSize);
        var acknowledged = new List<long>(_config.Buffer.ReadBatchSize);
        var window = Math.Max(1, _config.Mqtt.MaxInflight);
        var inflight = new Queue<(long Id, TagInfo Tag, Task<MqttClientPublishResult> Publication)>(window);
        var payload = new ArrayBufferWriter<byte>(256);
        using var json = new Utf8JsonWriter(payload, new JsonWriterOptions { SkipValidation = true });
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!client.IsConnected)
            {
                throw new InvalidOperationException("the connection to the broker was lost");
            }

            batch.Clear();
            _buffer.ReadOldest(0, _config.Buffer.ReadBatchSize, batch);
            if (batch.Count == 0)
            {
                await wake.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }

            acknowledged.Clear();
            Exception? failure = null;
            var refused = 0;
            var next = 0;
            while ((next < batch.Count && failure is null) || inflight.Count > 0)
            {
                // Keep the window full, then retire the oldest publication.
                while (next < batch.Count && failure is null && inflight.Count < window)
                {
                    var item = batch[next++];
                    payload.ResetWrittenCount();
                    json.Reset(payload);
                    UnsFormatter.WritePayload(item.Sample, json);
                    var message = new MqttApplicationMessageBuilder()
                        .WithTopic(_formatter.Topic(item.Sample.Tag))
                        .WithPayload(payload.WrittenSpan.ToArray())
                        .WithQualityOfServiceLevel(_qos)
                        .Build();
                    inflight.Enqueue((item.Id, item.Sample.Tag, client.PublishAsync(message, cancellationToken)));
                }

                var (id, tag, publication) = inflight.Dequeue();
                try
                {
                    var result = await publication;
                    if ((int)result.ReasonCode >= 0x80)
                    {
                        // The broker refused this message for good (not authorised, bad topic): drop it,
                        // counted and logged, rather than block the buffer behind it forever.
                        _metrics.AddPublishFailures(1);
                        refused++;
                        MqttLog.Rejected(_logger, tag.Key, result.ReasonCode.ToString());
                    }

                    acknowledged.Add(id);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    failure ??= ex;
                    _metrics.AddPublishFailures(1);
                }
            }

            _buffer.Acknowledge(acknowledged);
            _metrics.AddPublished(acknowledged.Count - refused);
            if (failure is not null)
            {
                throw failure;
            }
        }
    }

    private static string Describe(Exception? exception) => exception switch
    {
        null => "unknown error",
        MQTTnet.Adapter.MqttConnectingFailedException connecting => $"connection refused by the broker: {connecting.Message}",
        _ => exception.GetBaseException().Message,
    };
}

internal static partial class MqttLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Connected to MQTT broker {Endpoint}; {Backlog} samples waiting in the buffer")]
    public static partial void Connected(ILogger logger, string endpoint, long backlog);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Cannot connect to MQTT broker {Endpoint} (attempt {Attempt}, next in {DelaySeconds:F1} s): {Reason}; samples stay in the buffer")]
    public static partial void ConnectFailed(ILogger logger, string endpoint, int attempt, double delaySeconds, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Disconnected from MQTT broker {Endpoint}: {Reason}")]
    public static partial void Disconnected(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Publishing to {Endpoint} interrupted: {Reason}; unacknowledged samples stay in the buffer")]
    public static partial void PublishInterrupted(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "The broker refused the sample of {Tag} ({ReasonCode}); it is dropped")]
    public static partial void Rejected(ILogger logger, string tag, string reasonCode);
}
