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
    private MqttQualityOfServiceLevel _qos;
    private readonly ArrayBufferWriter<byte> _payload = new(256);
    private readonly Utf8JsonWriter _json;
    private readonly Queue<(MqttApplicationMessage Message, Task<MqttClientPublishResult> Publication)> _inflight;
    private readonly Queue<long> _inflightIds = new();

    public UnsPublisher(IOptions<GatewayConfig> options, SampleBuffer buffer, BufferSignal signal, GatewayMetrics metrics, TimeProvider timeProvider, ILogger<UnsPublisher> logger)
        : base(SinkName, options.Value, buffer, signal, metrics, timeProvider, logger)
    {
        _formatter = new UnsFormatter(Config.Gateway, Config.Mqtt.TopicPrefix);
        _qos = Config.Mqtt.Qos == 2 ? MqttQualityOfServiceLevel.ExactlyOnce : MqttQualityOfServiceLevel.AtLeastOnce;
        _json = new Utf8JsonWriter(_payload, UnsFormatter.JsonOptions);
        _inflight = new Queue<(MqttApplicationMessage, Task<MqttClientPublishResult>)>(Math.Max(1, Config.Mqtt.MaxInflight));
    }

    protected override MqttClientOptions BuildOptions() =>
        MqttConnectionFactory.Build(Config, _formatter.StatusTopic, s_offline, willRetain: RetainAvailable, certificateRejected: CertificateRejected, certificateAccepted: CertificateAccepted);

    protected override async Task OnConnectedAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        // MQTT 5: never above the broker's Maximum QoS ([MQTT-3.3.1-4]); QoS 1 still waits for a PUBACK.
        _qos = Config.Mqtt.Qos == 2 && Limits.MaximumQos == MqttQualityOfServiceLevel.ExactlyOnce ? MqttQualityOfServiceLevel.ExactlyOnce : MqttQualityOfServiceLevel.AtLeastOnce;
        var status = StatusMessage(s_online);
        CheckAccepted(status, await client.PublishAsync(status, cancellationToken));
    }

    protected override Task OnStoppingAsync(IMqttClient client, CancellationToken cancellationToken) =>
        PublishStatusAsync(client, s_offline, cancellationToken);

    private Task<MqttClientPublishResult> PublishStatusAsync(IMqttClient client, byte[] payload, CancellationToken cancellationToken) =>
        client.PublishAsync(StatusMessage(payload), cancellationToken);

    private MqttApplicationMessage StatusMessage(byte[] payload) =>
        new MqttApplicationMessageBuilder().WithTopic(_formatter.StatusTopic).WithPayload(payload).WithRetainFlag(RetainAvailable).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    /// <summary>
    /// Streams the buffer: the window of <c>mqtt.maxInflight</c> publications stays full across reads of the
    /// buffer, and the cursor is saved every read batch (and whenever the buffer runs dry), so a crash resends
    /// at most one batch that the broker already had (at least once). PUBACKs come in order over one TCP
    /// connection: what is acknowledged is a prefix, and what fails is resent in order after reconnecting.
    /// </summary>
    protected override async Task DrainAsync(IMqttClient client, SemaphoreSlim wake, CancellationToken cancellationToken)
    {
        var size = Config.Buffer.ReadBatchSize;
        var window = Window;
        var batch = new List<BufferedSample>(size);
        var next = 0;
        var saved = Buffer.CursorOf(Name);
        var readUpTo = saved;
        var acknowledged = saved;
        var sinceSave = 0;
        _inflight.Clear();
        _inflightIds.Clear();

        void Save()
        {
            if (acknowledged > saved)
            {
                Buffer.Acknowledge(Name, acknowledged);
                Counters.AddPublished(sinceSave);
                saved = acknowledged;
            }

            sinceSave = 0;
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (next == batch.Count)
                {
                    batch.Clear();
                    next = 0;
                    Buffer.ReadOldest(readUpTo, size, batch);
                    if (batch.Count > 0)
                    {
                        readUpTo = batch[^1].Id;
                    }
                }

                while (next < batch.Count && _inflight.Count < window)
                {
                    var item = batch[next];
                    var message = Message(item.Sample);
                    CheckPacketSize(message);
                    next++;
                    _inflight.Enqueue((message, client.PublishAsync(message, cancellationToken)));
                    _inflightIds.Enqueue(item.Id);
                }

                if (_inflight.Count == 0)
                {
                    Save();
                    if (!client.IsConnected)
                    {
                        throw new InvalidOperationException("the connection to the broker was lost");
                    }

                    await wake.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
                    continue;
                }

                var (sent, publication) = _inflight.Dequeue();
                var id = _inflightIds.Dequeue();

                // A refusal (not authorised by the ACL, quota exceeded, topic invalid) is not an acknowledgement:
                // the sample stays in the buffer, with everything after it, and the connection is retried with
                // backoff; the log says which topic and why.
                CheckAccepted(sent, await publication);
                acknowledged = id;
                if (++sinceSave >= size)
                {
                    Save();
                }
            }
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Keep what was acknowledged; the rest is resent after reconnecting.
            Counters.AddFailures(_inflight.Count + 1);
            Save();
            throw;
        }
        finally
        {
            if (cancellationToken.IsCancellationRequested)
            {
                Save();
            }
        }
    }

    private MqttApplicationMessage Message(in Sample sample)
    {
        _payload.ResetWrittenCount();
        _json.Reset(_payload);
        UnsFormatter.WritePayload(sample, _json);
        return new MqttApplicationMessageBuilder()
            .WithTopic(_formatter.Topic(sample.Tag))
            .WithPayload(_payload.WrittenSpan.ToArray())
            .WithQualityOfServiceLevel(_qos)
            .Build();
    }

    public override void Dispose()
    {
        _json.Dispose();
        base.Dispose();
    }
}
