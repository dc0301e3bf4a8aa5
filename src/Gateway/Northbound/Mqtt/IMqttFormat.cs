using System.Buffers;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Northbound.Delivery;
using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// The seam between an MQTT output's connection and its payload format. <see cref="MqttOutput"/> owns everything that
/// is the same for every format: connecting and reconnecting (with a probe that ends the wait as soon as the broker
/// answers again), the broker's limits, the publish window, the buffer's two lanes and the acknowledgements, and the
/// overload and stall reports. A format only turns samples into messages and says what to send around them.
/// <para>
/// To plug a format in: implement this interface (see <see cref="Uns.UnsFormat"/>), give it a sink name, and register
/// <c>new MqttOutput(format, ...)</c> as a hosted service; <c>Hosting/GatewayApplication.AddNorthbound</c> does both
/// from <c>mqtt.format</c>. Per connection the output calls <see cref="BuildOptions"/> (the last will), then
/// <see cref="OnConnectedAsync"/> (status, births, subscriptions), then, in a loop, <see cref="BeforeReadAsync"/>
/// (pending rebirths; returning false holds the data in the buffer) and <see cref="Encode"/> for each batch read from a
/// lane; <see cref="OnStoppingAsync"/> on a clean stop, <see cref="OnMessageAsync"/> for every message received.
/// Every call comes from the output's one loop, except <see cref="OnMessageAsync"/> (MQTTnet's receive loop).
/// </para>
/// </summary>
public interface IMqttFormat
{
    /// <summary>The sink's name: its acknowledgements in the buffer and its <c>sink</c> label on /metrics.</summary>
    string SinkName { get; }

    /// <summary>The connection options with this format's last will; called before every connection attempt.</summary>
    MqttClientOptions BuildOptions(MqttOutputContext context);

    /// <summary>Runs after each successful connection, before any data (status, births, subscriptions).</summary>
    Task OnConnectedAsync(MqttOutputContext context, CancellationToken cancellationToken);

    /// <summary>Runs on a clean stop while still connected (offline status, death certificates).</summary>
    Task OnStoppingAsync(MqttOutputContext context, CancellationToken cancellationToken);

    /// <summary>A message arrived on one of the format's subscriptions (Sparkplug commands, host state).</summary>
    Task OnMessageAsync(MqttOutputContext context, MqttApplicationMessageReceivedEventArgs message);

    /// <summary>Runs before each read of the buffer; false holds the data (nothing is read until it returns true).</summary>
    ValueTask<bool> BeforeReadAsync(MqttOutputContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Turns <paramref name="samples"/> (in buffer order, every one of <paramref name="lane"/>) into messages, added to
    /// <paramref name="output"/> in the order they must be sent. Every sample must be covered: the message after whose
    /// acknowledgement a run of samples is delivered in full names that run (<see cref="OutgoingMessages.Add"/>).
    /// History samples are a backlog replayed after an outage: they must never look like the latest value (UNS: the
    /// history topic; Sparkplug: <c>is_historical</c>).
    /// </summary>
    void Encode(IReadOnlyList<BufferedSample> samples, DeliveryLane lane, MqttOutputContext context, OutgoingMessages output);

    /// <summary>How many samples to read from the history lane for one <see cref="Encode"/> call.</summary>
    int HistoryBatchSamples { get; }

    /// <summary>
    /// The backlog of this connection has been sent in full (every history message is in flight or acknowledged).
    /// A format may add messages that carry no new samples (<c>completes</c> null, 0 samples): UNS republishes on
    /// its live topic the newest value of each tag that had no live sample yet, so that its topic shows the latest value.
    /// </summary>
    void OnHistoryDrained(MqttOutputContext context, OutgoingMessages output)
    {
    }

    /// <summary>
    /// True when the messages of both lanes share one sequence (Sparkplug's seq): the output then encodes a lane only
    /// while no message of the other waits to be sent, so that messages go out in the order they were made.
    /// </summary>
    bool SingleSequence => false;

    /// <summary>
    /// How many live samples one message carries at most (UNS: 1; Sparkplug: a DDATA's metrics): the output reads up to
    /// this many live samples per free place of its window.
    /// </summary>
    int LiveSamplesPerMessage => 1;
}

/// <summary>What a format knows of the output it runs in: the configuration, the connection and what the broker allows.</summary>
public sealed class MqttOutputContext
{
    internal MqttOutputContext(GatewayConfig config, string sinkName, Action wake, Action? startLiveFromNow = null)
    {
        Config = config;
        SinkName = sinkName;
        _wake = wake;
        _startLiveFromNow = startLiveFromNow;
        Mqtt5 = config.Mqtt.ProtocolVersion != MqttVersion.V311;
    }

    private readonly Action _wake;
    private readonly Action? _startLiveFromNow;

    public GatewayConfig Config { get; }

    public string SinkName { get; }

    /// <summary>The client of the current connection (also between connections: it is reused).</summary>
    public IMqttClient Client { get; internal set; } = null!;

    /// <summary>What the broker announced in the CONNACK of the current connection.</summary>
    public MqttBrokerLimits Limits { get; internal set; } = MqttBrokerLimits.None;

    /// <summary>False once the broker said it keeps no retained messages.</summary>
    public bool RetainAvailable { get; internal set; } = true;

    /// <summary>
    /// True when the connection speaks MQTT 5 (PUBACK reason codes, CONNACK limits): <c>mqtt.protocolVersion</c>, until
    /// the broker refused 5 and the output fell back to 3.1.1 (<see cref="MqttProtocolFallback"/>).
    /// </summary>
    public bool Mqtt5 { get; internal set; }

    /// <summary>The QoS for data: <c>mqtt.qos</c>, never above the broker's Maximum QoS, never 0 (the buffer needs acknowledgements).</summary>
    public MqttQualityOfServiceLevel DataQos =>
        Config.Mqtt.Qos == 2 && Limits.MaximumQos == MqttQualityOfServiceLevel.ExactlyOnce ? MqttQualityOfServiceLevel.ExactlyOnce : MqttQualityOfServiceLevel.AtLeastOnce;

    /// <summary>The largest payload a message to <paramref name="topic"/> may carry under the broker's Maximum Packet Size.</summary>
    public long MaxPayload(string topic) => MqttBrokerLimits.MaxPayload(Limits.MaximumPacketSize, topic);

    /// <summary>Called by a TLS check that refused the broker's certificate (for the connection failure's explanation).</summary>
    public Action<string>? CertificateRejected { get; internal set; }

    /// <summary>Called by a TLS check that accepted the broker's certificate.</summary>
    public Action? CertificateAccepted { get; internal set; }

    /// <summary>
    /// Publishes <paramref name="message"/> at once, outside the publish window (births, deaths, status): refused
    /// before sending when it is over the broker's Maximum Packet Size (<see cref="MessageTooLargeException"/>), and
    /// a <see cref="PublishRefusedException"/> when the broker refuses it (an MQTT 5 reason code of 0x80 or more).
    /// </summary>
    public async Task PublishCheckedAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        CheckPacketSize(message);
        var result = await Client.PublishAsync(message, cancellationToken);
        if (PublishRefusedException.IsRefusal(result))
        {
            throw new PublishRefusedException(message.Topic, result.ReasonCode, result.ReasonString, Config.Mqtt.Username);
        }
    }

    /// <summary>Refuses, before sending, a message the broker announced it would not take (it would close the connection).</summary>
    internal void CheckPacketSize(MqttApplicationMessage message)
    {
        var limit = Limits.MaximumPacketSize;
        if (limit < MqttBrokerLimits.ProtocolMaximumPacketSize)
        {
            var size = MqttBrokerLimits.PublishPacketSize(message, Mqtt5);
            if (size > limit)
            {
                throw new MessageTooLargeException(message.Topic, size, limit);
            }
        }
    }

    /// <summary>Wakes the output's loop (a rebirth was asked for, the host came online).</summary>
    public void Wake() => _wake();

    /// <summary>
    /// Makes everything appended so far the history lane and only what comes next live, as at a new connection: for
    /// data a format held (<see cref="IMqttFormat.BeforeReadAsync"/> false, e.g. while a Sparkplug primary host was
    /// offline), so that it goes out flagged as a backlog. Call only while nothing of this connection is in flight.
    /// </summary>
    public void StartLiveFromNow() => _startLiveFromNow?.Invoke();
}

/// <summary>The messages one <see cref="IMqttFormat.Encode"/> call produced, in sending order.</summary>
public sealed class OutgoingMessages
{
    private readonly List<Outgoing> _items = [];
    private int _next;

    /// <summary>Messages not yet taken by the output.</summary>
    public int Count => _items.Count - _next;

    /// <summary>
    /// Adds a message to <paramref name="topic"/>: its payload is the first <paramref name="length"/> bytes of
    /// <paramref name="rentedPayload"/>, an array from <see cref="PayloadPool.Shared"/> that the output returns once
    /// it no longer reads it. <paramref name="completes"/>: the range of sequence numbers delivered in full once this
    /// message (and every message before it) is acknowledged; null when it completes nothing by itself.
    /// <paramref name="samples"/>: how many samples it carries (for the counters). Never retained.
    /// </summary>
    public void Add(string topic, byte[] rentedPayload, int length, MqttQualityOfServiceLevel qualityOfService, SequenceRange? completes, int samples) =>
        _items.Add(new Outgoing(topic, rentedPayload, length, qualityOfService, completes, samples));

    internal bool TryPeek(out Outgoing outgoing)
    {
        if (_next < _items.Count)
        {
            outgoing = _items[_next];
            return true;
        }

        outgoing = default;
        return false;
    }

    internal bool TryTake(out Outgoing outgoing)
    {
        if (_next < _items.Count)
        {
            outgoing = _items[_next];
            _items[_next++] = default;
            if (_next == _items.Count)
            {
                _items.Clear();
                _next = 0;
            }

            return true;
        }

        outgoing = default;
        return false;
    }

    /// <summary>Drops what was not sent (the connection is gone), returning the pooled payloads.</summary>
    internal void Clear()
    {
        for (var i = _next; i < _items.Count; i++)
        {
            PayloadPool.Shared.Return(_items[i].RentedPayload);
        }

        _items.Clear();
        _next = 0;
    }

    internal readonly record struct Outgoing(string Topic, byte[] RentedPayload, int Length, MqttQualityOfServiceLevel QualityOfServiceLevel, SequenceRange? Completes, int Samples)
    {
        public ReadOnlySequence<byte> Payload => new(RentedPayload, 0, Length);
    }
}
