using Gateway.Buffering;
using Gateway.Drivers;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Sparkplug.Protobuf;
using Gateway.Tests.OpcUa;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Northbound.Sparkplug;

/// <summary>The pure Sparkplug session: samples in, messages out, time driven by a FakeTimeProvider.</summary>
public sealed class SparkplugSessionTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 6, 0, 0, TimeSpan.Zero));
    private readonly ListLoggerProvider _log = new();
    private readonly List<SparkplugMessage> _out = [];
    private long _sequence;

    public void Dispose()
    {
        _log.Dispose();
        foreach (var message in _out)
        {
            message.Dispose();
        }
    }

    private static readonly TagInfo s_speed = new("press", "speed", "rpm");
    private static readonly TagInfo s_temperature = new("press", "temperature", "degC");
    private static readonly TagInfo s_state = new("press", "state");
    private static readonly TagInfo s_counter = new("oven", "counter");

    private SparkplugSession Create(int maxMetrics = 500, long maximumPacketSize = long.MaxValue, params TagInfo[] catalog)
    {
        var session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw", MaxMetricsPerMessage = maxMetrics }, _time, _log.CreateLogger("test"));
        session.Begin(7, maximumPacketSize, catalog, null, _out);
        return session;
    }

    private long Add(SparkplugSession session, TagInfo tag, SampleValue value, Quality quality = Quality.Good, bool historical = false)
    {
        var sequence = ++_sequence;
        session.Add(new Sample(tag, _time.GetUtcNow(), _time.GetUtcNow(), value, quality, quality == Quality.Bad ? 0x80000000 : 0), sequence, historical, _out);
        return sequence;
    }

    private List<(SparkplugMessage Message, Payload Payload)> Take()
    {
        var taken = _out.Select(m => (m, m.Type == SparkplugMessageType.None ? new Payload() : Payload.Parser.ParseFrom(m.Payload.Span))).ToList();
        _out.Clear();
        return taken;
    }

    private static Payload.Types.Metric Metric(Payload payload, string name) => payload.Metrics.Single(m => m.Name == name);

    [Fact]
    public void Begin_EmitsNodeBirthWithSeqZeroBdSeqAndRebirthFalse()
    {
        Create();
        var (message, payload) = Assert.Single(Take());
        Assert.Equal(SparkplugMessageType.NodeBirth, message.Type);
        Assert.Equal("spBv1.0/lyon/NBIRTH/gw", message.Topic);
        Assert.Equal(0, message.QualityOfService);
        Assert.Equal(0ul, payload.Seq);
        Assert.Equal(7ul, Metric(payload, "bdSeq").LongValue);
        Assert.Equal((uint)DataType.Int64, Metric(payload, "bdSeq").Datatype);
        Assert.False(Metric(payload, "Node Control/Rebirth").BooleanValue);
    }

    [Fact]
    public void FirstDeviceBirth_WaitsForEveryCatalogTag_AndAnnouncesEachRealDatatypeOnce()
    {
        var session = Create(catalog: [s_speed, s_temperature, s_state]);
        Take();
        var speed = Add(session, s_speed, SampleValue.FromUnsignedInteger(ulong.MaxValue));
        session.Flush(_out);
        Assert.Empty(_out); // temperature and state not read yet: no birth announcing them as Double
        var temperature = Add(session, s_temperature, SampleValue.FromFloat(22.1f));
        var state = Add(session, s_state, SampleValue.FromString("running"));
        session.Flush(_out);

        var (birth, payload) = Assert.Single(Take());
        Assert.Equal(SparkplugMessageType.DeviceBirth, birth.Type);
        Assert.Equal("spBv1.0/lyon/DBIRTH/gw/press", birth.Topic);
        Assert.Equal((uint)DataType.UInt64, Metric(payload, "speed").Datatype);
        Assert.Equal(ulong.MaxValue, Metric(payload, "speed").LongValue);
        Assert.Equal((uint)DataType.Float, Metric(payload, "temperature").Datatype);
        Assert.Equal(22.1f, Metric(payload, "temperature").FloatValue);
        Assert.Equal((uint)DataType.String, Metric(payload, "state").Datatype);
        Assert.Equal("rpm", Metric(payload, "speed").Properties.Values[Metric(payload, "speed").Properties.Keys.IndexOf("engUnit")].StringValue);
        Assert.Equal(new[] { new SequenceRange(speed, state) }, birth.Samples);
        Assert.True(temperature > speed);

        // The same types again: data, never a second DBIRTH.
        for (var i = 0; i < 10; i++)
        {
            Add(session, s_speed, SampleValue.FromUnsignedInteger((ulong)i));
            Add(session, s_temperature, SampleValue.FromFloat(i));
            Add(session, s_state, SampleValue.FromString("idle"));
            session.Flush(_out);
        }

        Assert.All(Take(), m => Assert.Equal(SparkplugMessageType.DeviceData, m.Message.Type));
    }

    [Fact]
    public void FirstDeviceBirth_WhenATagWithoutAnyTypeIsNeverRead_GoesOutAfterTheLongerWaitWithTheOthersTyped()
    {
        // temperature has no configured type and no value: announcing it after a second would be Double, then a
        // second DBIRTH with its real type, so the birth waits the longer bound (a server still connecting).
        var session = Create(catalog: [s_speed, s_temperature]);
        Take();
        Add(session, s_speed, SampleValue.FromInteger(5));
        session.Flush(_out);
        Assert.Empty(_out);
        Assert.Equal(TimeSpan.FromSeconds(10), session.NextDeadline);

        _time.Advance(TimeSpan.FromSeconds(1));
        session.Flush(_out);
        Assert.Empty(_out);
        Assert.Equal(TimeSpan.FromSeconds(9), session.NextDeadline);

        _time.Advance(TimeSpan.FromSeconds(9));
        session.Flush(_out);
        var (_, payload) = Assert.Single(Take());
        Assert.Equal((uint)DataType.Int64, Metric(payload, "speed").Datatype);
        Assert.True(Metric(payload, "temperature").IsNull);
        Assert.Null(session.NextDeadline);
    }

    [Fact]
    public void DataMessages_UseTheBirthAliases_StableAcrossRebirth()
    {
        var session = Create();
        Add(session, s_speed, SampleValue.FromInteger(1));
        Add(session, s_counter, SampleValue.FromInteger(1));
        session.Flush(_out);
        var births = Take().Where(m => m.Message.Type == SparkplugMessageType.DeviceBirth).SelectMany(m => m.Payload.Metrics).ToDictionary(m => m.Name, m => m.Alias);

        Add(session, s_speed, SampleValue.FromInteger(2));
        Add(session, s_counter, SampleValue.FromInteger(2));
        session.Flush(_out);
        var data = Take();
        Assert.All(data, m => Assert.Equal(SparkplugMessageType.DeviceData, m.Message.Type));
        Assert.Equal(births["speed"], data.Single(m => m.Message.Device == "press").Payload.Metrics.Single().Alias);
        Assert.Equal(births["counter"], data.Single(m => m.Message.Device == "oven").Payload.Metrics.Single().Alias);
        Assert.All(data.SelectMany(m => m.Payload.Metrics), m => Assert.False(m.HasName));

        session.Rebirth(_out);
        var rebirth = Take();
        Assert.Equal(SparkplugMessageType.NodeBirth, rebirth[0].Message.Type);
        Assert.Equal(0ul, rebirth[0].Payload.Seq);
        var again = rebirth.Where(m => m.Message.Type == SparkplugMessageType.DeviceBirth).SelectMany(m => m.Payload.Metrics).ToDictionary(m => m.Name, m => m.Alias);
        Assert.Equal(births, again);
    }

    [Fact]
    public void Seq_RisesByOnePerMessageAndWrapsFrom255ToZero()
    {
        var session = Create(maxMetrics: 1);
        Add(session, s_speed, SampleValue.FromInteger(0));
        session.Flush(_out);
        for (var i = 1; i <= 600; i++)
        {
            Add(session, s_speed, SampleValue.FromInteger(i));
        }

        session.Flush(_out);
        var seqs = Take().Select(m => (int)m.Payload.Seq).ToList();
        Assert.Equal(0, seqs[0]);
        for (var i = 1; i < seqs.Count; i++)
        {
            Assert.Equal((seqs[i - 1] + 1) % 256, seqs[i]);
        }

        Assert.Contains(255, seqs);
        Assert.True(seqs.Count > 512);
    }

    [Fact]
    public void AllTagsBad_GiveOneDeviceDeath_AndAGoodValueBringsADeviceBirth()
    {
        var session = Create();
        Add(session, s_speed, SampleValue.FromInteger(1));
        Add(session, s_temperature, SampleValue.FromDouble(20));
        session.Flush(_out);
        Take();

        Add(session, s_speed, SampleValue.None, Quality.Bad);
        Add(session, s_temperature, SampleValue.None, Quality.Bad);
        var later = Add(session, s_speed, SampleValue.None, Quality.Bad);
        session.Flush(_out);
        var dying = Take();
        Assert.Equal(SparkplugMessageType.DeviceData, dying[0].Message.Type); // speed Bad, temperature still Good
        Assert.Equal(SparkplugMessageType.DeviceDeath, dying[1].Message.Type);
        Assert.Equal("spBv1.0/lyon/DDEATH/gw/press", dying[1].Message.Topic);
        Assert.Equal(SparkplugMessageType.None, dying[2].Message.Type); // a further Bad value: acknowledged, not sent
        Assert.Equal(new[] { new SequenceRange(later, later) }, dying[2].Message.Samples);
        Assert.Equal(3, dying.Count);

        Add(session, s_speed, SampleValue.FromInteger(3));
        Add(session, s_temperature, SampleValue.FromDouble(21));
        session.Flush(_out);
        var (birth, payload) = Assert.Single(Take());
        Assert.Equal(SparkplugMessageType.DeviceBirth, birth.Type);
        Assert.Equal(3UL, Metric(payload, "speed").LongValue);
    }

    [Fact]
    public void HistoryLane_IsSentWithIsHistorical_LiveLaneWithout()
    {
        var session = Create();
        Add(session, s_speed, SampleValue.FromInteger(1));
        session.Flush(_out);
        Take();

        Add(session, s_speed, SampleValue.FromInteger(2), historical: true);
        Add(session, s_speed, SampleValue.FromInteger(3));
        session.Flush(_out);
        var metrics = Assert.Single(Take()).Payload.Metrics;
        Assert.True(metrics[0].IsHistorical);
        Assert.False(metrics[1].HasIsHistorical);
    }

    [Fact]
    public void DatatypeChange_IsTheOnlyCauseOfANewDeviceBirth()
    {
        var session = Create();
        Add(session, s_speed, SampleValue.FromInteger(1));
        session.Flush(_out);
        Take();

        Add(session, s_speed, SampleValue.None, Quality.Uncertain); // a null fits any datatype
        Add(session, s_speed, SampleValue.FromInteger(2));
        Add(session, s_speed, SampleValue.FromDouble(2.5));
        session.Flush(_out);
        var messages = Take();
        Assert.Equal([SparkplugMessageType.DeviceData, SparkplugMessageType.DeviceBirth], messages.Select(m => m.Message.Type));
        Assert.Equal((uint)DataType.Double, Metric(messages[1].Payload, "speed").Datatype);
        Assert.Equal(2.5, Metric(messages[1].Payload, "speed").DoubleValue);
    }

    [Fact]
    public void DeviceData_IsSplitAtMaxMetricsAndAtTheBrokersMaximumPacketSize_CarryingEverySampleOnce()
    {
        var session = Create(maxMetrics: 3, maximumPacketSize: 200);
        var sequences = new List<long> { Add(session, s_state, SampleValue.FromString("x")) };
        session.Flush(_out);
        for (var i = 0; i < 20; i++)
        {
            sequences.Add(Add(session, s_state, SampleValue.FromString(new string('a', 40 + i))));
        }

        session.Flush(_out);
        var messages = Take();
        Assert.All(messages.Skip(1), m => Assert.True(m.Payload.Metrics.Count <= 3));
        Assert.All(messages, m => Assert.True(m.Message.Payload.Length + m.Message.Topic!.Length + 16 <= 200, $"{m.Message.Payload.Length} bytes"));
        Assert.Contains(messages, m => m.Payload.Metrics.Count < 3 && m.Message.Type == SparkplugMessageType.DeviceData);
        var carried = messages.SelectMany(m => m.Message.Samples).SelectMany(r => Enumerable.Range((int)r.First, (int)r.Count)).Select(i => (long)i).ToList();
        Assert.Equal(sequences, carried.Order());
    }

    [Fact]
    public void NewTagOfABornDevice_GivesOneDeviceBirthPerBatch()
    {
        var session = Create();
        Add(session, s_speed, SampleValue.FromInteger(1));
        session.Flush(_out);
        Take();

        Add(session, new TagInfo("press", "oee/availability"), SampleValue.FromDouble(0.9));
        Add(session, new TagInfo("press", "oee/quality"), SampleValue.FromDouble(0.99));
        Add(session, s_speed, SampleValue.FromInteger(2));
        session.Flush(_out);
        var messages = Take();
        var birth = Assert.Single(messages, m => m.Message.Type == SparkplugMessageType.DeviceBirth);
        Assert.Equal(["oee/availability", "oee/quality", "speed"], birth.Payload.Metrics.Select(m => m.Name));
        Assert.Equal(3, messages.Sum(m => m.Message.SampleCount));
    }

    [Fact]
    public void SamplesHeldForABirth_AreNotLost_EarlierValuesFollowAsHistory()
    {
        var session = Create(catalog: [s_speed, s_temperature]);
        Take();
        var first = Add(session, s_speed, SampleValue.FromInteger(1));
        var second = Add(session, s_speed, SampleValue.FromInteger(2));
        var backlog = Add(session, s_temperature, SampleValue.FromDouble(19), historical: true);
        Add(session, s_temperature, SampleValue.FromDouble(20));
        session.Flush(_out);

        var messages = Take();
        Assert.Equal([SparkplugMessageType.DeviceBirth, SparkplugMessageType.DeviceData], messages.Select(m => m.Message.Type));
        Assert.Equal(2UL, Metric(messages[0].Payload, "speed").LongValue);
        Assert.Equal(20, Metric(messages[0].Payload, "temperature").DoubleValue);
        var history = messages[1].Payload.Metrics;
        Assert.All(history, m => Assert.True(m.IsHistorical));
        Assert.Equal([1UL], history.Where(m => m.ValueCase == Payload.Types.Metric.ValueOneofCase.LongValue).Select(m => m.LongValue));
        Assert.Equal(4, messages.Sum(m => m.Message.SampleCount));
        Assert.Contains(messages[1].Message.Samples, r => r.Contains(first) && !r.Contains(second));
        Assert.Contains(messages[1].Message.Samples, r => r.Contains(backlog));
    }

    [Fact]
    public void HistoryOfADeadDevice_IsSentBetweenABirthAndADeath()
    {
        var session = Create();
        Take();
        Add(session, s_speed, SampleValue.None, Quality.Bad);
        session.Flush(_out);
        Assert.Equal([SparkplugMessageType.DeviceBirth, SparkplugMessageType.DeviceDeath], Take().Select(m => m.Message.Type));

        Add(session, s_speed, SampleValue.FromInteger(9), historical: true);
        session.Flush(_out);
        var messages = Take();
        Assert.Equal([SparkplugMessageType.DeviceBirth, SparkplugMessageType.DeviceData, SparkplugMessageType.DeviceDeath], messages.Select(m => m.Message.Type));
        Assert.True(messages[1].Payload.Metrics.Single().IsHistorical);
    }

    [Fact]
    public void NodeCommand_Rebirth_IsRecognisedByNameOrAlias()
    {
        var session = Create();
        var byName = new Payload { Metrics = { new Payload.Types.Metric { Name = "Node Control/Rebirth", BooleanValue = true } } };
        var byAlias = new Payload { Metrics = { new Payload.Types.Metric { Alias = SparkplugSession.RebirthAlias, BooleanValue = true } } };
        var no = new Payload { Metrics = { new Payload.Types.Metric { Name = "Node Control/Rebirth", BooleanValue = false } } };
        Assert.True(session.HandleCommand("spBv1.0/lyon/NCMD/gw", byName.ToByteArray()));
        Assert.True(session.HandleCommand("spBv1.0/lyon/NCMD/gw", byAlias.ToByteArray()));
        Assert.False(session.HandleCommand("spBv1.0/lyon/NCMD/gw", no.ToByteArray()));
        Assert.False(session.HandleCommand("spBv1.0/lyon/NCMD/other", byName.ToByteArray()));
    }

    [Fact]
    public void DeviceBirth_OverTheBrokerPacketLimit_IsLoggedOnceNamingTheDeviceSizeAndLimit()
    {
        var tags = Enumerable.Range(0, 40).Select(i => new TagInfo("press", $"a-rather-long-tag-name-{i:D3}", "degC")).ToArray();
        var session = Create(maximumPacketSize: 512, catalog: tags);
        foreach (var tag in tags)
        {
            Add(session, tag, SampleValue.FromDouble(1.5));
        }

        session.Flush(_out, force: true);
        session.Rebirth(_out);
        session.Flush(_out, force: true);

        Assert.Equal(2, Take().Count(m => m.Message.Type == SparkplugMessageType.DeviceBirth));
        var line = Assert.Single(_log.Lines, l => l.Message.Contains("Maximum Packet Size", StringComparison.Ordinal)).Message;
        Assert.Contains("DBIRTH of device 'press' (40 metrics)", line, StringComparison.Ordinal);
        Assert.Contains("of 512 bytes", line, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceBirth_ListsTheTagsByPath_WhateverOrderTheyCameIn()
    {
        var paths = new[] { "m", "b", "z", "a", "k", "c", "y", "b2" };
        var tags = paths.Select(p => new TagInfo("press", p)).ToArray();
        var session = Create(catalog: tags[..4]);
        foreach (var tag in tags)
        {
            Add(session, tag, SampleValue.FromDouble(1));
        }

        session.Flush(_out, force: true);
        var births = Take().Where(m => m.Message.Type == SparkplugMessageType.DeviceBirth).ToList();
        Assert.NotEmpty(births);
        Assert.All(births, b => Assert.Equal(b.Payload.Metrics.Select(m => m.Name).Order(StringComparer.Ordinal), b.Payload.Metrics.Select(m => m.Name)));
        Assert.Equal(paths.Order(StringComparer.Ordinal), births[^1].Payload.Metrics.Select(m => m.Name));
    }

    [Fact]
    public void DeviceBirth_WithinTheBrokerPacketLimit_LogsNothing()
    {
        var session = Create(maximumPacketSize: 4096, catalog: [s_speed]);
        Add(session, s_speed, SampleValue.FromDouble(1.5));
        session.Flush(_out, force: true);

        Assert.Contains(Take(), m => m.Message.Type == SparkplugMessageType.DeviceBirth);
        Assert.DoesNotContain(_log.Lines, l => l.Message.Contains("Maximum Packet Size", StringComparison.Ordinal));
    }

    [Fact]
    public void DeviceCommand_ForAMetric_IsLoggedOnceAsNotWritable()
    {
        var session = Create();
        Add(session, s_speed, SampleValue.FromInteger(1));
        session.Flush(_out);
        var byName = new Payload { Metrics = { new Payload.Types.Metric { Name = "speed", LongValue = 5 } } };
        var byAlias = new Payload { Metrics = { new Payload.Types.Metric { Alias = Take().Single(m => m.Message.Type == SparkplugMessageType.DeviceBirth).Payload.Metrics[0].Alias, LongValue = 5 } } };

        Assert.False(session.HandleCommand("spBv1.0/lyon/DCMD/gw/press", byName.ToByteArray()));
        Assert.False(session.HandleCommand("spBv1.0/lyon/DCMD/gw/press", byAlias.ToByteArray()));
        Assert.False(session.HandleCommand("spBv1.0/lyon/NCMD/gw", new Payload { Metrics = { new Payload.Types.Metric { Name = "Node Control/Reboot", BooleanValue = true } } }.ToByteArray()));
        Assert.False(session.HandleCommand("spBv1.0/lyon/DCMD/gw/press", [0xFF, 0xFF]));

        var refused = _log.Lines.Where(l => l.Message.Contains("not writable (writes are not enabled)", StringComparison.Ordinal)).Select(l => l.Message).ToList();
        Assert.Contains(refused, l => l.Contains("'press/speed'", StringComparison.Ordinal));
        Assert.Single(refused);
        Assert.Single(_log.Lines, l => l.Message.Contains("NCMD for metric 'Node Control/Reboot' refused", StringComparison.Ordinal));
        Assert.Contains(_log.Lines, l => l.Message.Contains("malformed command", StringComparison.Ordinal));
    }

    [Fact]
    public void Discard_ForgetsHeldSamples_TheNextBeginBirthsAgainWithKnownValues()
    {
        var session = Create();
        Add(session, s_speed, SampleValue.FromInteger(1));
        session.Flush(_out);
        Add(session, s_speed, SampleValue.FromInteger(2));
        Take();

        session.Discard();
        session.Begin(8, long.MaxValue, [s_speed], null, _out);
        session.Flush(_out);
        var messages = Take();
        Assert.Equal([SparkplugMessageType.NodeBirth, SparkplugMessageType.DeviceBirth], messages.Select(m => m.Message.Type));
        Assert.Equal(8ul, Metric(messages[0].Payload, "bdSeq").LongValue);
        Assert.Equal(2UL, Metric(messages[1].Payload, "speed").LongValue);
        Assert.Equal(0, messages[1].Message.SampleCount);
    }

    [Fact]
    public void DeathPayload_CarriesTheBdSeqAndNoSeq()
    {
        var session = Create();
        using var death = session.DeathPayload(200);
        var payload = Payload.Parser.ParseFrom(death.Span);
        Assert.False(payload.HasSeq);
        Assert.Equal(200ul, Metric(payload, "bdSeq").LongValue);
    }
}
