using System.Buffers;
using System.Text.Json;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Northbound;

/// <summary>
/// Publishes the buffer as Unified Namespace topics with JSON payloads, QoS 1 (or 2), one message per
/// sample. The retained status topic says <c>online</c>, and <c>offline</c> as the last will.
/// </summary>
public sealed class UnsPublisher : MqttSink
{
    public const string SinkName = "mqtt-uns";

    private static readonly byte[] s_online = "online"u8.ToArray();
    private static readonly byte[] s_offline = "offline"u8.ToArray();

    private readonly UnsFormatter _formatter;
    private readonly MqttQualityOfServiceLevel _qos;
    private readonly ArrayBufferWriter<byte> _payload = new(256);
    private readonly Utf8JsonWriter _json;
    private readonly Queue<(TagInfo Tag, Task<MqttClientPublishResult> Publication)> _inflight;

    public UnsPublisher(IOptions<GatewayConfig> options, SampleBuffer buffer, BufferSignal signal, GatewayMetrics metrics, TimeProvider timeProvider, ILogger<UnsPublisher> logger)
        : base(SinkName, options.Value, buffer, signal, metrics, timeProvider, logger)
    {
        _formatter = new UnsFormatter(Config.Gateway, Config.Mqtt.TopicPrefix);
        _qos = Config.Mqtt.Qos == 2 ? MqttQualityOfServiceLevel.ExactlyOnce : MqttQualityOfServiceLevel.AtLeastOnce;
        _json = new Utf8JsonWriter(_payload, new JsonWriterOptions { SkipValidation = true });
        _inflight = new Queue<(TagInfo, Task<MqttClientPublishResult>)>(Math.Max(1, Config.Mqtt.MaxInflight));
    }

    protected override MqttClientOptions BuildOptions() =>
        MqttConnectionFactory.Build(Config, _formatter.StatusTopic, s_offline, certificateRejected: CertificateRejected);

    protected override Task OnConnectedAsync(IMqttClient client, CancellationToken cancellationToken) =>
        PublishStatusAsync(client, s_online, cancellationToken);

    protected override Task OnStoppingAsync(IMqttClient client, CancellationToken cancellationToken) =>
        PublishStatusAsync(client, s_offline, cancellationToken);

    private Task<MqttClientPublishResult> PublishStatusAsync(IMqttClient client, byte[] payload, CancellationToken cancellationToken) =>
        client.PublishAsync(
            new MqttApplicationMessageBuilder().WithTopic(_formatter.StatusTopic).WithPayload(payload).WithRetainFlag(true).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(),
            cancellationToken);

    /// <summary>
    /// Keeps at most <c>mqtt.maxInflight</c> messages waiting for their PUBACK. Over one TCP connection
    /// PUBACKs come in order, so what fails is a suffix of what was sent: resending it after reconnecting
    /// keeps each tag's order.
    /// </summary>
    protected override async Task<BatchOutcome> PublishBatchAsync(IMqttClient client, IReadOnlyList<BufferedSample> batch, CancellationToken cancellationToken)
    {
        var window = Math.Max(1, Config.Mqtt.MaxInflight);
        var delivered = 0;
        var refused = 0;
        Exception? failure = null;
        var next = 0;
        _inflight.Clear();
        while ((next < batch.Count && failure is null) || _inflight.Count > 0)
        {
            while (next < batch.Count && failure is null && _inflight.Count < window)
            {
                var sample = batch[next++].Sample;
                _payload.ResetWrittenCount();
                _json.Reset(_payload);
                UnsFormatter.WritePayload(sample, _json);
                var message = new MqttApplicationMessageBuilder()
                    .WithTopic(_formatter.Topic(sample.Tag))
                    .WithPayload(_payload.WrittenSpan.ToArray())
                    .WithQualityOfServiceLevel(_qos)
                    .Build();
                _inflight.Enqueue((sample.Tag, client.PublishAsync(message, cancellationToken)));
            }

            var (tag, publication) = _inflight.Dequeue();
            try
            {
                var result = await publication;
                if ((int)result.ReasonCode >= 0x80)
                {
                    // The broker refused this message for good (not authorised, bad topic): drop it,
                    // counted and logged, rather than block the buffer behind it forever.
                    refused++;
                    MqttLog.Rejected(Logger, Name, tag.Key, result.ReasonCode.ToString());
                }

                if (failure is null)
                {
                    delivered++;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failure ??= ex;
            }
        }

        Counters.AddPublished(delivered - refused);
        Counters.AddFailures(refused);
        return new BatchOutcome(delivered, failure);
    }

    public override void Dispose()
    {
        _json.Dispose();
        base.Dispose();
    }
}
