using System.Buffers;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound.Delivery;
using Gateway.Northbound.Mqtt;
using Gateway.Writes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Northbound.Uns;

/// <summary>
/// The Unified Namespace format for <see cref="MqttOutput"/>: one message per live sample on its tag's topic; the
/// backlog of an outage as JSON arrays on the gateway's history topic (buffer order, so per-topic order is kept),
/// never on the live topics, so that a "latest value" subscriber never sees an old value after a newer one. A history
/// message holds at most <see cref="HistoryBatchSamples"/> samples and stays under the broker's Maximum Packet Size.
/// The retained status topic says <c>online</c>, and <c>offline</c> as the last will.
/// </summary>
public sealed class UnsFormat : IMqttFormat, IDisposable
{
    public const string Name = "mqtt-uns";

    /// <summary>Most samples in one history message.</summary>
    public const int HistorySamplesPerMessage = 500;

    /// <summary>Largest history payload aimed at when the broker sets no lower limit (bytes).</summary>
    public const int HistoryPayloadTarget = 128 * 1024;

    private static readonly byte[] s_online = "online"u8.ToArray();
    private static readonly byte[] s_offline = "offline"u8.ToArray();

    private readonly UnsEncoder _encoder;

    // Per connection: the tags that had a live sample, and the newest backlog sample of the others.
    private readonly HashSet<TagInfo> _liveTags = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<TagInfo, Sample> _newestHistory = new(ReferenceEqualityComparer.Instance);

    private readonly MqttWrites? _writes;

    /// <param name="config">The whole configuration.</param>
    /// <param name="writes">The write gate: with it (and <c>writes.enabled</c>) the tags' <c>/set</c> topics are subscribed.</param>
    /// <param name="logger">For the write subscriptions.</param>
    public UnsFormat(GatewayConfig config, WriteGate? writes = null, ILogger? logger = null)
    {
        _encoder = new UnsEncoder(config.Gateway, config.Mqtt.TopicPrefix);
        if (writes is { Enabled: true })
        {
            _writes = new MqttWrites(writes, _encoder.Topic, logger ?? NullLogger.Instance);
        }
    }

    /// <summary>The UNS write side (<c>/set</c> topics); null when writes are off.</summary>
    public MqttWrites? Writes => _writes;

    public string SinkName => Name;

    /// <summary>Several history messages' worth per read of the backlog.</summary>
    public int HistoryBatchSamples => HistorySamplesPerMessage * 4;

    public UnsEncoder Encoder => _encoder;

    public MqttClientOptions BuildOptions(MqttOutputContext context) =>
        MqttConnectionFactory.Build(context.Config, _encoder.StatusTopic, s_offline, willRetain: context.RetainAvailable, certificateRejected: context.CertificateRejected, certificateAccepted: context.CertificateAccepted);

    public async Task OnConnectedAsync(MqttOutputContext context, CancellationToken cancellationToken)
    {
        _liveTags.Clear();
        _newestHistory.Clear();
        var status = Status(context, s_online);
        var result = await context.Client.PublishAsync(status, cancellationToken);
        if (PublishRefusedException.IsRefusal(result))
        {
            throw new PublishRefusedException(status.Topic, result.ReasonCode, result.ReasonString, context.Config.Mqtt.Username);
        }

        if (_writes is not null)
        {
            await _writes.SubscribeAsync(context.Client, context.Mqtt5, cancellationToken);
        }
    }

    public Task OnStoppingAsync(MqttOutputContext context, CancellationToken cancellationToken) =>
        context.Client.PublishAsync(Status(context, s_offline), cancellationToken);

    public Task OnMessageAsync(MqttOutputContext context, MqttApplicationMessageReceivedEventArgs message)
    {
        _writes?.TryHandle(context.Client, message.ApplicationMessage);
        return Task.CompletedTask;
    }

    public ValueTask<bool> BeforeReadAsync(MqttOutputContext context, CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public void Encode(IReadOnlyList<BufferedSample> samples, DeliveryLane lane, MqttOutputContext context, OutgoingMessages output)
    {
        var qos = context.DataQos;
        if (lane == DeliveryLane.Live)
        {
            for (var i = 0; i < samples.Count; i++)
            {
                var item = samples[i];
                _liveTags.Add(item.Sample.Tag);
                var (array, length) = _encoder.LivePayload(item.Sample);
                output.Add(_encoder.Topic(item.Sample.Tag), array, length, qos, new SequenceRange(item.Id, item.Id), 1);
            }

            return;
        }

        // History: arrays bounded by sample count and size; each message completes the run of samples it carries.
        var limit = Math.Min(HistoryPayloadTarget, context.MaxPayload(_encoder.HistoryTopic));
        var start = 0;
        while (start < samples.Count)
        {
            _encoder.BeginHistory();
            var end = start;
            while (end < samples.Count && end - start < HistorySamplesPerMessage)
            {
                var sample = samples[end].Sample;
                if (!_encoder.TryAppendHistory(sample, limit, out var size))
                {
                    break; // over the limit with this sample (a large one): it starts the next message
                }

                if (!_liveTags.Contains(sample.Tag))
                {
                    _newestHistory[sample.Tag] = sample;
                }

                end++;
                if (size >= limit * 3 / 4)
                {
                    break; // the next element would probably go over: end the message here rather than take it back
                }
            }

            var (array, length) = _encoder.EndHistory();
            output.Add(_encoder.HistoryTopic, array, length, qos, new SequenceRange(samples[start].Id, samples[end - 1].Id), end - start);
            start = end;
        }
    }

    /// <summary>
    /// The newest backlog value of each tag that had no live sample on this connection goes to its live topic too: a tag
    /// that changed during the outage and not since would otherwise show its value from before the outage there. It is
    /// the newest value of that tag (every live sample is newer than the backlog, and the tag had none), so order holds.
    /// </summary>
    public void OnHistoryDrained(MqttOutputContext context, OutgoingMessages output)
    {
        foreach (var (tag, sample) in _newestHistory)
        {
            if (_liveTags.Contains(tag))
            {
                continue;
            }

            var (array, length) = _encoder.LivePayload(sample);
            output.Add(_encoder.Topic(tag), array, length, context.DataQos, null, 0);
        }

        _newestHistory.Clear();
    }

    private MqttApplicationMessage Status(MqttOutputContext context, byte[] payload) =>
        new MqttApplicationMessageBuilder().WithTopic(_encoder.StatusTopic).WithPayload(payload).WithRetainFlag(context.RetainAvailable).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    public void Dispose() => _encoder.Dispose();
}
