using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Gateway.Drivers;
using Gateway.Northbound.Sparkplug.Protobuf;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Northbound.Sparkplug;

/// <summary>What a <see cref="SparkplugSession"/> needs to know beyond the samples.</summary>
public sealed class SparkplugSessionOptions
{
    /// <summary>The Sparkplug group id (no '/', '+', '#').</summary>
    public required string GroupId { get; init; }

    /// <summary>The edge node id (no '/', '+', '#').</summary>
    public required string EdgeNodeId { get; init; }

    /// <summary>How many metrics one DDATA carries at most (1 or more).</summary>
    public int MaxMetricsPerMessage { get; init; } = 500;

    /// <summary>QoS (0 or 1) of the messages that carry buffer samples; the others follow Sparkplug (QoS 0).</summary>
    public int DataQos { get; init; } = 1;

    /// <summary>
    /// How long a device's first birth waits for a first value of every tag (so that it announces each tag's real
    /// datatype rather than Double); past it the birth goes out with what is known. Default one second.
    /// </summary>
    public TimeSpan BirthWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The wait instead of <see cref="BirthWait"/> while a tag not read yet has no type at all (an OPC UA node whose
    /// DataType the driver has not read: its server is still connecting). Announcing it would mean Double with a
    /// null, then a second DBIRTH with its real type; a slow handshake on a busy box took more than a second.
    /// A driver that cannot connect turns its tags Bad, which counts as read, so this rarely runs out. Default 10 s.
    /// </summary>
    public TimeSpan UntypedBirthWait { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// A Sparkplug B 3.0 edge node as a pure state machine: buffer samples in, MQTT messages out (topic, payload,
/// QoS, and the buffer samples each one carries); no MQTT client inside. The gateway is the node, each machine a
/// device. <see cref="Begin"/> starts a connection (NBIRTH with its bdSeq, seq 0); a device's DBIRTH waits
/// (bounded by <see cref="SparkplugSessionOptions.BirthWait"/>) until every tag of it has been read once, so that
/// the first birth announces the right datatypes; after that a new DBIRTH comes only for a datatype change, a tag
/// the birth did not announce, or a machine that returns after its DDEATH (all its tags Bad). Data messages use
/// the aliases of the births; seq runs 0-255. Samples of the history lane go out with <c>is_historical</c>.
/// Not thread-safe, except <see cref="HandleCommand"/>, which may run on the MQTT receive loop.
/// </summary>
public sealed partial class SparkplugSession
{
    public const string RebirthMetric = "Node Control/Rebirth";
    public const string BdSeqMetric = "bdSeq";

    /// <summary>The alias of <see cref="RebirthMetric"/>; tags get 2, 3, … in the order they are first seen, for the process's life.</summary>
    public const ulong RebirthAlias = 1;

    private readonly SparkplugSessionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // By tag index (TagSlots: keyed like the tag's key, no hashing per sample).
    private readonly TagSlots<TagState> _tags = new();
    private readonly Dictionary<string, DeviceState> _devices = new(StringComparer.Ordinal);
    private readonly List<DeviceState> _deviceList = [];
    private readonly ConcurrentDictionary<ulong, (string? Device, string Name)> _aliasNames = new();
    private readonly HashSet<string> _refusedWrites = new(StringComparer.Ordinal);
    private readonly HashSet<string> _birthsTooLarge = new(StringComparer.Ordinal);
    private readonly SparkplugPayloadWriter _writer = new(1024);
    private readonly string _nodeCommandTopic;
    private readonly string _deviceCommandPrefix;
    private SparkplugMessage? _acknowledgeOnly;
    private long _maximumPacketSize = long.MaxValue;
    private ulong _nextAlias = RebirthAlias + 1;
    private int _seq;
    private bool _begun;

    public SparkplugSession(SparkplugSessionOptions options, TimeProvider timeProvider, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxMetricsPerMessage, 1);
        _options = options;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _nodeCommandTopic = Topic("NCMD");
        _deviceCommandPrefix = Topic("DCMD") + "/";
        _aliasNames[RebirthAlias] = (null, RebirthMetric);
    }

    /// <summary>The bdSeq of the current connection (the one of <see cref="Begin"/>).</summary>
    public long BdSeq { get; private set; }

    public string Topic(string type, string? device = null) =>
        device is null ? $"spBv1.0/{_options.GroupId}/{type}/{_options.EdgeNodeId}" : $"spBv1.0/{_options.GroupId}/{type}/{_options.EdgeNodeId}/{device}";

    /// <summary>The NDEATH payload for <paramref name="bdSeq"/>: the last will registered at CONNECT, and the clean stop's message.</summary>
    public PooledPayload DeathPayload(long bdSeq)
    {
        var now = Now();
        _writer.Begin(now);
        _writer.WriteBirthMetric(BdSeqMetric, null, now, DataType.Int64, SampleValue.FromInteger(bdSeq), Quality.Good, null);
        return _writer.Finish(seq: null);
    }

    /// <summary>The NDEATH of a clean stop (QoS 1: the broker sends no will after a DISCONNECT).</summary>
    public SparkplugMessage NodeDeath() => new(SparkplugMessageType.NodeDeath, Topic("NDEATH"), null, DeathPayload(BdSeq), 1);

    /// <summary>
    /// A new connection: forgets what the previous one held but had not sent (the caller offers those samples
    /// again), registers the catalog's tags (the births list them), takes <paramref name="current"/> as the tags'
    /// present values, and emits the NBIRTH. The DBIRTHs follow from <see cref="Flush"/> as soon as each device's
    /// tags have values, or its wait is over.
    /// </summary>
    /// <param name="bdSeq">The bdSeq of this connection's NDEATH will (0-255).</param>
    /// <param name="maximumPacketSize">The broker's Maximum Packet Size (MQTT 5 CONNACK); long.MaxValue for none.</param>
    /// <param name="catalog">The tags of the running drivers.</param>
    /// <param name="current">The latest value of tags read so far (the dashboard's live values), or null.</param>
    /// <param name="output">Receives the NBIRTH.</param>
    public void Begin(long bdSeq, long maximumPacketSize, IEnumerable<TagInfo> catalog, IEnumerable<Sample>? current, List<SparkplugMessage> output)
    {
        Discard();
        BdSeq = bdSeq;
        _maximumPacketSize = maximumPacketSize;
        foreach (var tag in catalog)
        {
            // The driver's own object: its source type (which an OPC UA driver learns after connecting) is read from it.
            TagOf(tag).Source = tag;
        }

        if (current is not null)
        {
            foreach (var sample in current)
            {
                Observe(TagOf(sample.Tag), sample, historical: false);
            }
        }

        var now = _time.GetTimestamp();
        foreach (var device in _deviceList)
        {
            device.PayloadLimit = PayloadLimit(device.DataTopic);
            device.Status = DeviceStatus.Pending;
            device.PendingSince = now;
            device.Immediate = false;
        }

        _begun = true;
        NodeBirth(output);
    }

    /// <summary>
    /// One buffer sample, oldest first per lane. Messages that are complete (a full DDATA, a DDEATH) are added to
    /// <paramref name="output"/>; the rest waits for <see cref="Flush"/>.
    /// </summary>
    /// <param name="sample">The sample.</param>
    /// <param name="sequence">Its buffer sequence number.</param>
    /// <param name="historical">True for the history lane (samples buffered before this connection): sent with <c>is_historical</c>.</param>
    /// <param name="output">Receives the messages completed by this sample.</param>
    public void Add(in Sample sample, long sequence, bool historical, List<SparkplugMessage> output)
    {
        if (!_begun)
        {
            throw new InvalidOperationException("Begin the session (NBIRTH) before adding samples");
        }

        var tag = TagOf(sample.Tag);
        if (sample.Tag.SourceType != SourceType.Unknown && tag.Source.SourceType == SourceType.Unknown)
        {
            tag.Source = sample.Tag;
        }

        var device = tag.Device;
        Observe(tag, sample, historical);
        switch (device.Status)
        {
            case DeviceStatus.Pending:
                device.Held.Add(new Held(sample, sequence, historical));
                return;
            case DeviceStatus.Dead:
                if (historical)
                {
                    // Sent at the next Flush inside a DBIRTH ... DDEATH: no DDATA may follow a DDEATH.
                    device.Held.Add(new Held(sample, sequence, historical));
                }
                else if (sample.Quality == Quality.Bad)
                {
                    (_acknowledgeOnly ??= new SparkplugMessage(SparkplugMessageType.None, null, null, null, 0)).Carry(sequence);
                }
                else
                {
                    // The machine is back: a DBIRTH once its tags have been read again (or the wait is over).
                    MakePending(device, immediate: false);
                    device.Held.Add(new Held(sample, sequence, historical));
                }

                return;
        }

        if (!historical && device.BadCount == device.Tags.Count)
        {
            // Every tag of the machine is Bad (its source is lost): its data ends with a death certificate.
            FinishData(device, output);
            var death = DeviceDeath(device, _options.DataQos);
            death.Carry(sequence);
            output.Add(death);
            device.Status = DeviceStatus.Dead;
            return;
        }

        if (LayoutOf(tag) is { } layout)
        {
            if (!layout.Equals(tag.AnnouncedLayout))
            {
                // A structure the last birth did not announce leaf by leaf, or whose definition changed: a new DBIRTH.
                MakePending(device, immediate: true);
                device.Held.Add(new Held(sample, sequence, historical));
                return;
            }

            AppendStructure(device, tag, sample, sequence, historical, output);
            return;
        }

        var type = tag.TypeOf(sample.Value);
        if (tag.Announced == DataType.Unknown || tag.AnnouncedLayout is not null || (type != DataType.Unknown && type != tag.Announced))
        {
            // A tag the last birth did not announce, or a value of another datatype than it announced: a new DBIRTH
            // (at Flush, so that the other new tags of this batch go in the same one).
            MakePending(device, immediate: true);
            device.Held.Add(new Held(sample, sequence, historical));
            return;
        }

        AppendData(device, tag, sample, sequence, historical, output);
    }

    /// <summary>
    /// Completes what waits: the DBIRTHs that are due (every tag read, or the wait over) with the samples held for
    /// them, the history of dead machines, every DDATA begun, and the samples that need no message. Call it after
    /// each batch and when <see cref="NextDeadline"/> passes.
    /// </summary>
    /// <param name="output">Receives the messages.</param>
    /// <param name="force">True to send every pending birth now, waiting or not (so that no sample stays held).</param>
    public void Flush(List<SparkplugMessage> output, bool force = false)
    {
        if (!_begun)
        {
            return;
        }

        var now = _time.GetTimestamp();
        foreach (var device in _deviceList)
        {
            if (device.Status == DeviceStatus.Pending && (force || device.Immediate || AllSeen(device) || _time.GetElapsedTime(device.PendingSince, now) >= WaitOf(device)))
            {
                DeviceBirth(device, output);
            }
            else if (device.Status == DeviceStatus.Dead && device.Held.Count > 0)
            {
                DeviceBirth(device, output);
            }

            FinishData(device, output);
        }

        if (_acknowledgeOnly is { } acknowledge)
        {
            _acknowledgeOnly = null;
            output.Add(acknowledge);
        }
    }

    /// <summary>Devices whose DBIRTH has not gone out yet in this connection.</summary>
    public int PendingBirths
    {
        get
        {
            var pending = 0;
            foreach (var device in _deviceList)
            {
                pending += device.Status == DeviceStatus.Pending ? 1 : 0;
            }

            return pending;
        }
    }

    /// <summary>
    /// The present values of tags read outside the buffer's order (the dashboard's live values): a birth announces
    /// their datatypes and values, and a device waiting for its first birth counts them as read. Carries no sample.
    /// </summary>
    public void Observe(IEnumerable<Sample> current)
    {
        foreach (var sample in current)
        {
            Observe(TagOf(sample.Tag), sample, historical: false);
        }
    }

    /// <summary>How long until a pending birth's wait ends (call <see cref="Flush"/> then); null when none waits.</summary>
    public TimeSpan? NextDeadline
    {
        get
        {
            TimeSpan? next = null;
            var now = _time.GetTimestamp();
            foreach (var device in _deviceList)
            {
                if (device.Status == DeviceStatus.Pending)
                {
                    var left = WaitOf(device) - _time.GetElapsedTime(device.PendingSince, now);
                    left = left < TimeSpan.Zero ? TimeSpan.Zero : left;
                    next = next is null || left < next ? left : next;
                }
            }

            return next;
        }
    }

    /// <summary>A host's <c>Node Control/Rebirth</c>: NBIRTH (seq 0) then a DBIRTH for every device born so far, with the values known now.</summary>
    public void Rebirth(List<SparkplugMessage> output)
    {
        if (!_begun)
        {
            return;
        }

        foreach (var device in _deviceList)
        {
            FinishData(device, output);
        }

        NodeBirth(output);
        foreach (var device in _deviceList)
        {
            if (device.Status != DeviceStatus.Pending)
            {
                DeviceBirth(device, output);
            }
        }
    }

    /// <summary>
    /// The connection is lost: forgets the messages begun and the samples held (they were not acknowledged, so the
    /// buffer offers them again after the next <see cref="Begin"/>).
    /// </summary>
    public void Discard()
    {
        _begun = false;
        _acknowledgeOnly = null;
        foreach (var device in _deviceList)
        {
            device.Writer.Reset();
            device.Data = null;
            device.Held.Clear();
        }
    }

    private void NodeBirth(List<SparkplugMessage> output)
    {
        _seq = 0;
        var now = Now();
        _writer.Begin(now);
        _writer.WriteBirthMetric(BdSeqMetric, null, now, DataType.Int64, SampleValue.FromInteger(BdSeq), Quality.Good, null);
        _writer.WriteBirthMetric(RebirthMetric, RebirthAlias, now, DataType.Boolean, SampleValue.FromBoolean(false), Quality.Good, null);
        output.Add(new SparkplugMessage(SparkplugMessageType.NodeBirth, Topic("NBIRTH"), null, _writer.Finish(0), 0));
        LogBorn(_logger, _options.GroupId, _options.EdgeNodeId, _deviceList.Count, BdSeq);
    }

    /// <summary>
    /// A DBIRTH with every tag of the device: its datatype, alias, unit and present value. The last held live
    /// sample of each tag is that value (the birth carries it); the other held samples follow as historical DDATA.
    /// A device whose tags are all Bad dies again right after.
    /// </summary>
    private void DeviceBirth(DeviceState device, List<SparkplugMessage> output)
    {
        FinishData(device, output);
        var held = device.Held;
        for (var i = held.Count - 1; i >= 0; i--)
        {
            var tag = TagOf(held[i].Sample.Tag);
            if (!held[i].Historical && tag.BirthSequence < 0)
            {
                tag.BirthSequence = held[i].Sequence;
            }
        }

        var birth = new SparkplugMessage(SparkplugMessageType.DeviceBirth, device.BirthTopic, device.Name, null, 0);
        foreach (var item in held)
        {
            if (TagOf(item.Sample.Tag).BirthSequence == item.Sequence)
            {
                birth.Carry(item.Sequence);
            }
        }

        var now = Now();
        _writer.Begin(now);
        foreach (var tag in device.Tags)
        {
            if (LayoutOf(tag) is { } layout)
            {
                WriteStructureBirth(tag, layout, now);
                continue;
            }

            tag.AnnouncedLayout = null;

            // Not read yet: the type its source has (the configured type), or Double when nothing says.
            var configured = SparkplugPayloadWriter.DataTypeOf(tag.Source);
            tag.Announced = tag.Known != DataType.Unknown ? tag.Known : configured != DataType.Unknown ? configured : DataType.Double;
            if (tag.Current is { } current && tag.TypeOf(current.Value) == tag.Announced)
            {
                _writer.WriteBirthMetric(tag.Tag.Path, tag.Alias, (ulong)current.SourceTimestamp.ToUnixTimeMilliseconds(), tag.Announced, current.Value, current.Quality, tag.Tag.Unit);
            }
            else
            {
                _writer.WriteBirthMetric(tag.Tag.Path, tag.Alias, tag.Current is { } bad ? (ulong)bad.SourceTimestamp.ToUnixTimeMilliseconds() : now, tag.Announced, SampleValue.None, tag.Current?.Quality ?? Quality.Uncertain, tag.Tag.Unit);
            }
        }

        birth.Complete(_writer.Finish(NextSeq()), birth.SampleCount > 0 ? _options.DataQos : 0);
        CheckBirthSize(device, birth);
        output.Add(birth);
        device.Status = DeviceStatus.Alive;
        device.Immediate = false;

        foreach (var item in held)
        {
            var tag = TagOf(item.Sample.Tag);
            if (tag.BirthSequence == item.Sequence)
            {
                continue;
            }

            // Older than the value the birth announced: history, whichever lane it came by.
            AppendData(device, tag, item.Sample, item.Sequence, historical: true, output);
        }

        foreach (var tag in device.Tags)
        {
            tag.BirthSequence = -1;
        }

        held.Clear();
        if (device.BadCount == device.Tags.Count)
        {
            FinishData(device, output);
            output.Add(DeviceDeath(device, 0));
            device.Status = DeviceStatus.Dead;
        }
    }

    private SparkplugMessage DeviceDeath(DeviceState device, int qualityOfService)
    {
        _writer.Begin(Now());
        return new SparkplugMessage(SparkplugMessageType.DeviceDeath, device.DeathTopic, device.Name, _writer.Finish(NextSeq()), qualityOfService);
    }

    private void AppendData(DeviceState device, TagState tag, in Sample sample, long sequence, bool historical, List<SparkplugMessage> output)
    {
        if (tag.AnnouncedLayout is not null)
        {
            AppendStructure(device, tag, sample, sequence, historical, output);
            return;
        }

        var timestamp = (ulong)sample.SourceTimestamp.ToUnixTimeMilliseconds();
        WriteDataMetric(device, new SparkplugPayloadWriter.DataMetric(tag.Alias, timestamp, sample.Value, sample.Quality, historical, tag.TypeOf(sample.Value)), output);
        device.Data!.Carry(sequence);
    }

    /// <summary>One metric into the device's DDATA: a new DDATA first when it would go over the metric count or the broker's packet size.</summary>
    private void WriteDataMetric(DeviceState device, in SparkplugPayloadWriter.DataMetric metric, List<SparkplugMessage> output)
    {
        var writer = device.Writer;
        if (device.Data is not null
            && (writer.MetricCount >= _options.MaxMetricsPerMessage
                || (device.PayloadLimit != int.MaxValue && writer.Length + metric.Bytes + SparkplugPayloadWriter.SeqBytes > device.PayloadLimit)))
        {
            FinishData(device, output);
        }

        if (device.Data is null)
        {
            writer.Begin(Now());
            device.Data = new SparkplugMessage(SparkplugMessageType.DeviceData, device.DataTopic, device.Name, null, _options.DataQos);
        }

        writer.Write(metric);
    }

    private void FinishData(DeviceState device, List<SparkplugMessage> output)
    {
        if (device.Data is not { } message)
        {
            return;
        }

        device.Data = null;
        message.Complete(device.Writer.Finish(NextSeq()), _options.DataQos);
        output.Add(message);
    }

    private void MakePending(DeviceState device, bool immediate)
    {
        if (device.Status != DeviceStatus.Pending)
        {
            device.Status = DeviceStatus.Pending;
            device.PendingSince = _time.GetTimestamp();
        }

        device.Immediate |= immediate;
    }

    /// <summary>How long the first birth of <paramref name="device"/> may wait: longer while a tag unread has no type at all.</summary>
    private TimeSpan WaitOf(DeviceState device)
    {
        foreach (var tag in device.Tags)
        {
            if (!tag.Seen && tag.Known == DataType.Unknown && SparkplugPayloadWriter.DataTypeOf(tag.Source) == DataType.Unknown && LayoutOf(tag) is null)
            {
                return _options.UntypedBirthWait > _options.BirthWait ? _options.UntypedBirthWait : _options.BirthWait;
            }
        }

        return _options.BirthWait;
    }

    private static bool AllSeen(DeviceState device)
    {
        foreach (var tag in device.Tags)
        {
            if (!tag.Seen)
            {
                return false;
            }
        }

        return true;
    }

    private static void Observe(TagState tag, in Sample sample, bool historical)
    {
        var type = tag.TypeOf(sample.Value);
        if (type != DataType.Unknown && (!historical || tag.Current is null))
        {
            tag.Known = type;
        }

        if (historical)
        {
            return;
        }

        tag.Current = sample;
        tag.Seen = true;
        var bad = sample.Quality == Quality.Bad;
        if (bad != tag.Bad)
        {
            tag.Bad = bad;
            tag.Device.BadCount += bad ? 1 : -1;
        }
    }

    // Another TagInfo object of a known tag (samples read back from the buffer) finds the same state: one index per key.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TagState TagOf(TagInfo tag) => _tags.TryGetValue(tag, out var state) ? state : NewTag(tag);

    private TagState NewTag(TagInfo tag)
    {
        if (!_devices.TryGetValue(tag.Machine, out var device))
        {
            device = new DeviceState(tag.Machine, Topic("DDATA", tag.Machine), Topic("DBIRTH", tag.Machine), Topic("DDEATH", tag.Machine))
            {
                PayloadLimit = PayloadLimit(Topic("DDATA", tag.Machine)),
                PendingSince = _time.GetTimestamp(),
            };
            _devices[tag.Machine] = device;
            _deviceList.Add(device);
        }

        var state = new TagState(tag, device, _nextAlias++);
        _aliasNames[state.Alias] = (tag.Machine, tag.Path);
        _tags.GetValueRefOrAddDefault(tag, out _) = state;

        // Kept sorted by path (births list the tags in that order): inserted in place, not sorted again per tag.
        var tags = device.Tags;
        if (tags.Count == 0 || string.CompareOrdinal(tags[^1].Tag.Path, tag.Path) < 0)
        {
            tags.Add(state);
        }
        else
        {
            var index = tags.BinarySearch(state, TagState.ByPath);
            tags.Insert(index < 0 ? ~index : index, state);
        }

        return state;
    }

    /// <summary>
    /// Sparkplug allows one DBIRTH per device, which cannot be split: one over the broker's Maximum Packet Size is
    /// refused by the broker. Say so once per device, naming it, instead of failing without a word.
    /// </summary>
    private void CheckBirthSize(DeviceState device, SparkplugMessage birth)
    {
        if (_maximumPacketSize >= MqttBrokerLimits.ProtocolMaximumPacketSize)
        {
            return;
        }

        // Maximum Packet Size is an MQTT 5 property: the packet as MQTT 5 encodes it.
        var size = MqttBrokerLimits.PublishPacketSize(device.BirthTopic, birth.Payload.Length, birth.QualityOfService == 0 ? MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce : MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce, mqtt5: true);
        if (size > _maximumPacketSize && _birthsTooLarge.Add(device.Name))
        {
            LogBirthTooLarge(_logger, _options.EdgeNodeId, device.Name, device.Tags.Count, size, _maximumPacketSize);
        }
    }

    private int PayloadLimit(string dataTopic) =>
        _maximumPacketSize >= MqttBrokerLimits.ProtocolMaximumPacketSize
            ? int.MaxValue
            : (int)Math.Max(64, MqttBrokerLimits.MaxPayload(_maximumPacketSize, dataTopic));

    private ulong NextSeq()
    {
        _seq = (_seq + 1) % 256;
        return (ulong)_seq;
    }

    private ulong Now() => (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(EventId = 3210, Level = LogLevel.Information, Message = "Sparkplug node {Group}/{Node} born with {Devices} devices (bdSeq {BdSeq})")]
    private static partial void LogBorn(ILogger logger, string group, string node, int devices, long bdSeq);

    [LoggerMessage(EventId = 3214, Level = LogLevel.Error, Message = "Sparkplug node {Node}: the DBIRTH of device '{Device}' ({Metrics} metrics) is about {Size} bytes, over the broker's Maximum Packet Size of {Limit} bytes; Sparkplug allows one DBIRTH per device, so it cannot be split and the broker will refuse it: raise the broker's limit (mosquitto: max_packet_size) or spread the machine's tags over several machines; logged once per device")]
    private static partial void LogBirthTooLarge(ILogger logger, string node, string device, int metrics, long size, long limit);
}
