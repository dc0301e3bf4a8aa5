using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Hosting;
using Gateway.Northbound.Sparkplug.Protobuf;
using Gateway.Observability;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Northbound.Sparkplug;

/// <summary>
/// Sparkplug B 3.0 edge node: the gateway is the node, each machine a device. NBIRTH and DBIRTH carry every
/// metric with its datatype, alias and engineering unit; data messages use the aliases; seq runs 0-255;
/// bdSeq is in NBIRTH and in the NDEATH registered as the last will. A device whose tags all turned Bad
/// (its PLC is lost) gets a DDEATH, and a DBIRTH when a Good value returns. A <c>Node Control/Rebirth</c>
/// NCMD is honoured. Samples buffered before this connection are sent with <c>is_historical</c> and their
/// original timestamps.
/// </summary>
public sealed class SparkplugPublisher : MqttSink
{
    public const string SinkName = "mqtt-sparkplug";
    public const string RebirthMetric = "Node Control/Rebirth";

    private readonly LiveTags _liveTags;
    private readonly IEnumerable<DriverService> _drivers;
    private readonly string _group;
    private readonly string _node;
    private readonly string _bdSeqFile;
    private readonly Dictionary<string, ulong> _aliases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeviceState> _devices = new(StringComparer.Ordinal);
    private readonly List<(MqttApplicationMessage Message, int Samples)> _outgoing = [];
    private readonly HashSet<string> _needBirth = new(StringComparer.Ordinal);
    private long _bdSeq;
    private long _lastSessionBdSeq;
    private int _seq;
    private DateTimeOffset _connectedAt;
    private volatile bool _rebirthRequested;

    public SparkplugPublisher(IOptions<GatewayConfig> options, SampleBuffer buffer, BufferSignal signal, GatewayMetrics metrics, LiveTags liveTags, IEnumerable<DriverService> drivers, TimeProvider timeProvider, ILogger<SparkplugPublisher> logger)
        : base(SinkName, options.Value, buffer, signal, metrics, timeProvider, logger)
    {
        _liveTags = liveTags;
        _drivers = drivers;
        _group = Config.Mqtt.Sparkplug.GroupId ?? Config.Gateway.Site;
        _node = Config.Mqtt.Sparkplug.EdgeNodeId ?? Config.Gateway.Id;
        _bdSeqFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Config.Buffer.Path))!, "sparkplug-bdseq");
        _lastSessionBdSeq = File.Exists(_bdSeqFile) && long.TryParse(File.ReadAllText(_bdSeqFile).Trim(), out var stored) ? stored : -1;
    }

    public string Topic(string type, string? device = null) =>
        device is null ? $"spBv1.0/{_group}/{type}/{_node}" : $"spBv1.0/{_group}/{type}/{_node}/{device}";

    /// <summary>
    /// Each CONNECT registers an NDEATH whose bdSeq is one more than the previous session's (0-255). An attempt
    /// that never reached the broker did not use its number: the next attempt offers the same one.
    /// </summary>
    protected override MqttClientOptions BuildOptions()
    {
        _bdSeq = (_lastSessionBdSeq + 1) % 256;
        var death = new Payload { Timestamp = Now(), Metrics = { BdSeqMetric() } };
        return MqttConnectionFactory.Build(Config, Topic("NDEATH"), death.ToByteArray(), willRetain: false, clientIdSuffix: "-spb", certificateRejected: CertificateRejected, certificateAccepted: CertificateAccepted);
    }

    protected override async Task OnConnectedAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        _lastSessionBdSeq = _bdSeq;
        WriteBdSeq();
        _connectedAt = Time.GetUtcNow();
        var subscribed = await client.SubscribeAsync(
            new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(Topic("NCMD"), MqttQualityOfServiceLevel.AtLeastOnce)
                .WithTopicFilter(Topic("DCMD") + "/+", MqttQualityOfServiceLevel.AtLeastOnce)
                .Build(),
            cancellationToken);
        foreach (var item in subscribed.Items.Where(i => (int)i.ResultCode >= 0x80))
        {
            // The data still flows, but a host's commands (Node Control/Rebirth) would never arrive: say so.
            MqttLog.SubscriptionRefused(Logger, Name, item.TopicFilter.Topic, item.ResultCode.ToString(), "Sparkplug commands (Node Control/Rebirth) will not reach this node; grant it read access (its ACL)");
        }

        await BirthAsync(client, cancellationToken);
    }

    protected override Task OnStoppingAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        // A clean stop sends the death certificate itself: the broker does not send a will on DISCONNECT.
        var death = new Payload { Timestamp = Now(), Metrics = { BdSeqMetric() } };
        return client.PublishAsync(Message(Topic("NDEATH"), death, MqttQualityOfServiceLevel.AtLeastOnce), cancellationToken);
    }

    protected override Task OnMessageAsync(IMqttClient client, MqttApplicationMessageReceivedEventArgs message)
    {
        if (message.ApplicationMessage.Topic != Topic("NCMD"))
        {
            return Task.CompletedTask;
        }

        try
        {
            var payload = Payload.Parser.ParseFrom(message.ApplicationMessage.Payload);
            if (payload.Metrics.Any(m => (m.Name == RebirthMetric || (m.HasAlias && _aliases.GetValueOrDefault(RebirthMetric) == m.Alias)) && m.BooleanValue))
            {
                // Publishing from the receive loop would wait for a PUBACK that this very loop must read:
                // the drain loop does the rebirth instead.
                SparkplugLog.RebirthRequested(Logger, _node);
                _rebirthRequested = true;
                Signal.Notify();
            }
        }
        catch (InvalidProtocolBufferException ex)
        {
            Counters.AddFailures(1);
            SparkplugLog.MalformedCommand(Logger, message.ApplicationMessage.Topic, ex.Message);
        }

        return Task.CompletedTask;
    }

    protected override async Task OnIdleAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        if (_rebirthRequested)
        {
            _rebirthRequested = false;
            await BirthAsync(client, cancellationToken);
        }
    }

    protected override async Task<BatchOutcome> PublishBatchAsync(IMqttClient client, IReadOnlyList<BufferedSample> batch, CancellationToken cancellationToken)
    {
        _outgoing.Clear();
        var qos = Config.Mqtt.Sparkplug.DataQos == 0 ? MqttQualityOfServiceLevel.AtMostOnce : MqttQualityOfServiceLevel.AtLeastOnce;
        Payload? data = null;
        string? dataDevice = null;
        var dataSamples = 0;
        var dataBytes = 0L;
        var carry = 0; // samples that need no message of their own (Bad values of a dead machine)
        var now = Now();

        void Emit(MqttApplicationMessage message, int samples)
        {
            _outgoing.Add((message, samples + carry));
            carry = 0;
        }

        void FlushData()
        {
            if (data is not null)
            {
                data.Seq = NextSeq();
                Emit(Message(Topic("DDATA", dataDevice), data, qos), dataSamples);
                data = null;
                dataSamples = 0;
            }
        }

        // Metrics the last births did not announce (a tag appearing later, like OEE results): one DBIRTH per
        // machine announces all of this batch's new ones at once.
        _needBirth.Clear();
        foreach (var item in batch)
        {
            var device = Device(item.Sample.Tag.Machine);
            if (device.Tags.TryAdd(item.Sample.Tag.Path, item.Sample))
            {
                _needBirth.Add(device.Name);
            }
        }

        foreach (var item in batch)
        {
            var sample = item.Sample;
            var device = Device(sample.Tag.Machine);
            var known = !_needBirth.Remove(device.Name);
            device.Tags[sample.Tag.Path] = sample;
            if (device.Tags.Values.All(s => s.Quality == Quality.Bad))
            {
                if (device.Alive)
                {
                    // The machine's source is lost: its data ends with a death certificate.
                    FlushData();
                    device.Alive = false;
                    Emit(Message(Topic("DDEATH", device.Name), new Payload { Timestamp = now, Seq = NextSeq() }, MqttQualityOfServiceLevel.AtLeastOnce), 1);
                }
                else
                {
                    carry++;
                }

                continue;
            }

            if (!device.Alive || !known || !device.AnnouncedAs(sample))
            {
                // A returning machine, a metric its last birth did not announce, or a value of another datatype
                // than the birth announced (a tag not yet read at birth is announced as Double; its first string
                // would be decoded by hosts as a Double): a new DBIRTH, which carries this sample's value.
                FlushData();
                device.Alive = true;
                Emit(Message(Topic("DBIRTH", device.Name), DeviceBirth(device, now), MqttQualityOfServiceLevel.AtLeastOnce), 1);
                continue;
            }

            var metric = DataMetric(sample, historical: sample.GatewayTimestamp < _connectedAt);
            var metricBytes = MetricBytes(metric);
            if (dataDevice != device.Name
                || (data is not null && data.Metrics.Count >= Config.Mqtt.Sparkplug.MaxMetricsPerMessage)
                || (data is not null && dataBytes + metricBytes > PayloadLimit(device.Name)))
            {
                FlushData();
            }

            if (data is null)
            {
                data = new Payload { Timestamp = now };
                dataBytes = PayloadHeaderBytes;
            }

            dataDevice = device.Name;
            data.Metrics.Add(metric);
            dataBytes += metricBytes;
            dataSamples++;
        }

        FlushData();
        if (carry > 0 && _outgoing.Count > 0)
        {
            _outgoing[^1] = (_outgoing[^1].Message, _outgoing[^1].Samples + carry);
            carry = 0;
        }

        return await SendAsync(client, carry, cancellationToken);
    }

    /// <summary>
    /// Publishes the prepared messages, at most <see cref="MqttSink.Window"/> awaiting their acknowledgement at
    /// once (the broker's Receive Maximum); the delivered prefix counts their samples. A refusal (MQTT 5 reason
    /// code) ends the prefix like a lost connection: what follows stays in the buffer.
    /// </summary>
    private async Task<BatchOutcome> SendAsync(IMqttClient client, int withoutMessage, CancellationToken cancellationToken)
    {
        var window = Window;
        var pending = new Queue<(int Index, Task<MqttClientPublishResult> Publication)>(Math.Min(window, _outgoing.Count));
        var delivered = withoutMessage;
        var next = 0;
        Exception? failure = null;
        while (pending.Count > 0 || (failure is null && next < _outgoing.Count))
        {
            while (failure is null && next < _outgoing.Count && pending.Count < window)
            {
                try
                {
                    CheckPacketSize(_outgoing[next].Message);
                    pending.Enqueue((next, client.PublishAsync(_outgoing[next].Message, cancellationToken)));
                    next++;
                }
                catch (MessageTooLargeException ex)
                {
                    failure = ex;
                }
            }

            if (pending.Count == 0)
            {
                break;
            }

            var (index, publication) = pending.Dequeue();
            try
            {
                var result = await publication;
                if (failure is null)
                {
                    CheckAccepted(_outgoing[index].Message, result);
                    delivered += _outgoing[index].Samples;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failure ??= ex;
            }
        }

        Counters.AddPublished(delivered);
        return new BatchOutcome(delivered, failure);
    }

    /// <summary>Publishes one message that must fit the broker's limits and must not be refused.</summary>
    private async Task PublishCheckedAsync(IMqttClient client, MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        CheckPacketSize(message);
        CheckAccepted(message, await client.PublishAsync(message, cancellationToken));
    }

    /// <summary>NBIRTH (seq 0) then a DBIRTH per machine, with the values the gateway holds now.</summary>
    private async Task BirthAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        _seq = 0;
        var now = Now();
        var nodeBirth = new Payload { Timestamp = now, Seq = 0 };
        nodeBirth.Metrics.Add(BdSeqMetric());
        nodeBirth.Metrics.Add(new Payload.Types.Metric { Name = RebirthMetric, Alias = Alias(RebirthMetric), Timestamp = now, Datatype = (uint)DataType.Boolean, BooleanValue = false });
        await PublishCheckedAsync(client, Message(Topic("NBIRTH"), nodeBirth, MqttQualityOfServiceLevel.AtMostOnce), cancellationToken);

        foreach (var tag in _drivers.SelectMany(d => d.Driver.Tags))
        {
            var device = Device(tag.Machine);
            if (!device.Tags.ContainsKey(tag.Path))
            {
                device.Tags[tag.Path] = new Sample(tag, _connectedAt, _connectedAt, SampleValue.None, Quality.Uncertain, 0x40000000);
            }
        }

        foreach (var sample in _liveTags.Snapshot())
        {
            Device(sample.Tag.Machine).Tags[sample.Tag.Path] = sample;
        }

        foreach (var device in _devices.Values)
        {
            device.Alive = true;
            await PublishCheckedAsync(client, Message(Topic("DBIRTH", device.Name), DeviceBirth(device, now), MqttQualityOfServiceLevel.AtMostOnce), cancellationToken);
            if (device.Tags.Values.All(s => s.Quality == Quality.Bad))
            {
                device.Alive = false;
                await PublishCheckedAsync(client, Message(Topic("DDEATH", device.Name), new Payload { Timestamp = now, Seq = NextSeq() }, MqttQualityOfServiceLevel.AtLeastOnce), cancellationToken);
            }
        }

        SparkplugLog.Born(Logger, _group, _node, _devices.Count, _bdSeq);
    }

    private Payload DeviceBirth(DeviceState device, ulong now)
    {
        var birth = new Payload { Timestamp = now, Seq = NextSeq() };
        foreach (var sample in device.Tags.Values.OrderBy(s => s.Tag.Path, StringComparer.Ordinal))
        {
            var metric = DataMetric(sample, historical: false);
            metric.Name = sample.Tag.Path;
            metric.Datatype = (uint)device.DataTypeOf(sample);
            metric.Properties ??= new Payload.Types.PropertySet();
            if (sample.Tag.Unit is { } unit)
            {
                metric.Properties.Keys.Add("engUnit");
                metric.Properties.Values.Add(new Payload.Types.PropertyValue { Type = (uint)DataType.String, StringValue = unit });
            }

            birth.Metrics.Add(metric);
        }

        return birth;
    }

    /// <summary>A data metric: alias only, value with its original timestamp, quality as a property when not Good.</summary>
    private Payload.Types.Metric DataMetric(in Sample sample, bool historical)
    {
        var metric = new Payload.Types.Metric
        {
            Alias = Alias(sample.Tag.Machine + "/" + sample.Tag.Path),
            Timestamp = (ulong)sample.SourceTimestamp.ToUnixTimeMilliseconds(),
        };
        if (historical)
        {
            metric.IsHistorical = true;
        }

        switch (sample.Value.Kind)
        {
            case SampleValueKind.Boolean:
                metric.BooleanValue = sample.Value.AsBoolean;
                break;
            case SampleValueKind.Integer:
                metric.LongValue = unchecked((ulong)sample.Value.AsInteger);
                break;
            case SampleValueKind.Double:
                metric.DoubleValue = sample.Value.AsDouble;
                break;
            case SampleValueKind.String:
                metric.StringValue = sample.Value.AsString;
                break;
            default:
                metric.IsNull = true;
                break;
        }

        if (sample.Quality != Quality.Good)
        {
            // Ignition's convention: a Quality property with the OPC classic codes (192 good, 64 uncertain, 0 bad).
            metric.Properties = new Payload.Types.PropertySet
            {
                Keys = { "Quality" },
                Values = { new Payload.Types.PropertyValue { Type = (uint)DataType.Int32, IntValue = sample.Quality == Quality.Uncertain ? 64u : 0u } },
            };
        }

        return metric;
    }

    /// <summary>The broker's Maximum Packet Size (MQTT 5 CONNACK), less a DDATA's topic and the packet's own bytes.</summary>
    private long PayloadLimit(string device) =>
        Limits.MaximumPacketSize >= MqttBrokerLimits.ProtocolMaximumPacketSize
            ? long.MaxValue
            : Limits.MaximumPacketSize - 16 - System.Text.Encoding.UTF8.GetByteCount(Topic("DDATA", device));

    /// <summary>Timestamp and seq of a data payload, at most: two fields of a tag byte and a 10-byte varint.</summary>
    private const int PayloadHeaderBytes = 22;

    /// <summary>A metric's bytes inside the payload: its field tag, its length prefix and its encoding.</summary>
    private static long MetricBytes(Payload.Types.Metric metric)
    {
        var size = metric.CalculateSize();
        return 1 + CodedOutputStream.ComputeLengthSize(size) + size;
    }

    private Payload.Types.Metric BdSeqMetric() =>
        new() { Name = "bdSeq", Timestamp = Now(), Datatype = (uint)DataType.Int64, LongValue = (ulong)_bdSeq };

    private ulong Alias(string key)
    {
        if (!_aliases.TryGetValue(key, out var alias))
        {
            alias = (ulong)_aliases.Count + 1;
            _aliases[key] = alias;
        }

        return alias;
    }

    private ulong NextSeq()
    {
        _seq = (_seq + 1) % 256;
        return (ulong)_seq;
    }

    private DeviceState Device(string name)
    {
        if (!_devices.TryGetValue(name, out var device))
        {
            device = new DeviceState(name);
            _devices[name] = device;
        }

        return device;
    }

    private ulong Now() => (ulong)Time.GetUtcNow().ToUnixTimeMilliseconds();

    private static MqttApplicationMessage Message(string topic, Payload payload, MqttQualityOfServiceLevel qos) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload.ToByteArray()).WithQualityOfServiceLevel(qos).Build();

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
            SparkplugLog.BdSeqNotSaved(Logger, ex.Message);
        }
    }

    private sealed class DeviceState(string name)
    {
        private readonly Dictionary<string, DataType> _types = new(StringComparer.Ordinal);

        public string Name { get; } = name;

        public Dictionary<string, Sample> Tags { get; } = new(StringComparer.Ordinal);

        public bool Alive { get; set; }

        /// <summary>Whether the last birth announced the datatype of this sample's value (a null value fits any).</summary>
        public bool AnnouncedAs(in Sample sample)
        {
            var type = TypeOf(sample.Value.Kind);
            return type == DataType.Unknown || type == _types.GetValueOrDefault(sample.Tag.Path, DataType.Double);
        }

        private static DataType TypeOf(SampleValueKind kind) => kind switch
        {
            SampleValueKind.Boolean => DataType.Boolean,
            SampleValueKind.Integer => DataType.Int64,
            SampleValueKind.Double => DataType.Double,
            SampleValueKind.String => DataType.String,
            _ => DataType.Unknown,
        };

        /// <summary>The datatype announced at birth: from the first value, kept when a value goes null.</summary>
        public DataType DataTypeOf(in Sample sample)
        {
            var type = TypeOf(sample.Value.Kind);
            if (type != DataType.Unknown)
            {
                _types[sample.Tag.Path] = type;
                return type;
            }

            return _types.GetValueOrDefault(sample.Tag.Path, DataType.Double);
        }
    }
}

/// <summary>Sparkplug B datatypes (sparkplug_b.proto's DataType enumeration).</summary>
public enum DataType : uint
{
    Unknown = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    UInt8 = 5,
    UInt16 = 6,
    UInt32 = 7,
    UInt64 = 8,
    Float = 9,
    Double = 10,
    Boolean = 11,
    String = 12,
    DateTime = 13,
    Text = 14,
}

internal static partial class SparkplugLog
{
    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Sparkplug node {Group}/{Node} born with {Devices} devices (bdSeq {BdSeq})")]
    public static partial void Born(ILogger logger, string group, string node, int devices, long bdSeq);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Sparkplug rebirth requested for node {Node}")]
    public static partial void RebirthRequested(ILogger logger, string node);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Malformed Sparkplug command on {Topic} ignored: {Reason}")]
    public static partial void MalformedCommand(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "Could not save the Sparkplug bdSeq: {Reason}")]
    public static partial void BdSeqNotSaved(ILogger logger, string reason);
}
