using Gateway.Drivers;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Sparkplug.Protobuf;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using Metric = Gateway.Northbound.Sparkplug.Protobuf.Payload.Types.Metric;

namespace Gateway.Tests.Northbound.Sparkplug;

/// <summary>
/// Sparkplug datatypes from the tag's source type (Int8 … UInt64, Float, Double, Boolean, String): the datatype
/// chosen for a value, its wire field (int_value for the 32-bit and narrower integers, long_value for 64-bit ones),
/// and births that announce a configured type before the first read.
/// </summary>
public sealed class SparkplugSourceTypeTests : IDisposable
{
    private const ulong Now = 1_764_000_000_123;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 6, 0, 0, TimeSpan.Zero));
    private readonly List<SparkplugMessage> _out = [];

    public void Dispose()
    {
        foreach (var message in _out)
        {
            message.Dispose();
        }
    }

    public static TheoryData<SourceType, long, DataType> NarrowIntegers => new()
    {
        { SourceType.Int8, -5, DataType.Int8 },
        { SourceType.Int8, 127, DataType.Int8 },
        { SourceType.Int16, -1234, DataType.Int16 },
        { SourceType.Int32, int.MinValue, DataType.Int32 },
        { SourceType.UInt8, 200, DataType.UInt8 },
        { SourceType.UInt16, 54321, DataType.UInt16 },
    };

    [Fact]
    public void UInt32_GoesInLongValue_WhichEveryDecoderReads()
    {
        var value = SampleValue.FromInteger(4_000_000_000);
        var type = SparkplugPayloadWriter.DataTypeOf(SourceType.UInt32, value);
        Assert.Equal(DataType.UInt32, type);
        var writer = new SparkplugPayloadWriter(16);
        writer.Begin(Now);
        writer.WriteBirthMetric("x", 4, Now, type, value, Quality.Good, null);
        using var payload = writer.Finish(1);
        var expected = new Payload { Timestamp = Now, Seq = 1 };
        expected.Metrics.Add(new Metric { Name = "x", Alias = 4, Timestamp = Now, Datatype = (uint)type, LongValue = 4_000_000_000 });
        Assert.Equal(Convert.ToHexString(expected.ToByteArray()), Convert.ToHexString(payload.Span));
    }

    [Theory]
    [MemberData(nameof(NarrowIntegers))]
    public void NarrowInteger_GoesAsItsSourceTypeInIntValue_ByteIdenticalToGoogleProtobuf(SourceType source, long raw, DataType expectedType)
    {
        var value = SampleValue.FromInteger(raw);
        var type = SparkplugPayloadWriter.DataTypeOf(source, value);
        Assert.Equal(expectedType, type);

        var writer = new SparkplugPayloadWriter(16);
        writer.Begin(Now);
        writer.WriteDataMetric(3, Now, value, Quality.Good, historical: false, type);
        writer.WriteBirthMetric("x", 4, Now, type, value, Quality.Good, null);
        using var payload = writer.Finish(1);

        // sparkplug_b.proto: int_value is a uint32; a negative Int8/16/32 is its 32-bit two's complement (as Tahu writes it).
        var intValue = unchecked((uint)raw);
        var expected = new Payload { Timestamp = Now, Seq = 1 };
        expected.Metrics.Add(new Metric { Alias = 3, Timestamp = Now, IntValue = intValue });
        expected.Metrics.Add(new Metric { Name = "x", Alias = 4, Timestamp = Now, Datatype = (uint)type, IntValue = intValue });
        Assert.Equal(Convert.ToHexString(expected.ToByteArray()), Convert.ToHexString(payload.Span));

        var parsed = Payload.Parser.ParseFrom(payload.Span);
        Assert.Equal(Metric.ValueOneofCase.IntValue, parsed.Metrics[0].ValueCase);
        var decoded = type is DataType.Int8 or DataType.Int16 or DataType.Int32 ? (long)(int)parsed.Metrics[0].IntValue : parsed.Metrics[0].IntValue;
        Assert.Equal(raw, decoded);
    }

    [Fact]
    public void UnsignedKindOfANarrowSource_GoesAsThatSource()
    {
        // S7 publishes Byte/Word/DWord as unsigned-integer samples.
        Assert.Equal(DataType.UInt8, SparkplugPayloadWriter.DataTypeOf(SourceType.UInt8, SampleValue.FromUnsignedInteger(255)));
        Assert.Equal(DataType.UInt32, SparkplugPayloadWriter.DataTypeOf(SourceType.UInt32, SampleValue.FromUnsignedInteger(uint.MaxValue)));
        Assert.Equal(DataType.UInt64, SparkplugPayloadWriter.DataTypeOf(SourceType.UInt64, SampleValue.FromUnsignedInteger(ulong.MaxValue)));
    }

    [Fact]
    public void ValueThatDoesNotFitItsSourceType_OrIsOfAnotherKind_GoesByItsKind()
    {
        Assert.Equal(DataType.Int64, SparkplugPayloadWriter.DataTypeOf(SourceType.Int16, SampleValue.FromInteger(70_000)));
        Assert.Equal(DataType.Int64, SparkplugPayloadWriter.DataTypeOf(SourceType.UInt16, SampleValue.FromInteger(-1)));
        Assert.Equal(DataType.UInt64, SparkplugPayloadWriter.DataTypeOf(SourceType.Int64, SampleValue.FromUnsignedInteger(ulong.MaxValue)));
        // A scaled int16 is a double.
        Assert.Equal(DataType.Double, SparkplugPayloadWriter.DataTypeOf(SourceType.Int16, SampleValue.FromDouble(12.3)));
        Assert.Equal(DataType.Int64, SparkplugPayloadWriter.DataTypeOf(SourceType.Unknown, SampleValue.FromInteger(1)));
        Assert.Equal(DataType.Unknown, SparkplugPayloadWriter.DataTypeOf(SourceType.Int16, SampleValue.None));
    }

    [Fact]
    public void PublishedSourceType_OfAScaledNumber_IsDouble_AndOfBooleansAndText_Unchanged()
    {
        Assert.Equal(SourceType.Int16, SourceTypes.Published(SourceType.Int16, 1.0, 0));
        Assert.Equal(SourceType.Double, SourceTypes.Published(SourceType.Int16, 0.1, 0));
        Assert.Equal(SourceType.Double, SourceTypes.Published(SourceType.Float, 1.0, 5));
        Assert.Equal(SourceType.Boolean, SourceTypes.Published(SourceType.Boolean, 2, 0));
        Assert.Equal(SourceType.String, SourceTypes.Published(SourceType.String, 2, 0));
    }

    private SparkplugSession Begin(params TagInfo[] catalog)
    {
        var session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw" }, _time);
        session.Begin(1, long.MaxValue, catalog, null, _out);
        return session;
    }

    private List<(SparkplugMessage Message, Payload Payload)> Take()
    {
        var taken = _out.Select(m => (m, m.Type == SparkplugMessageType.None ? new Payload() : Payload.Parser.ParseFrom(m.Payload.Span))).ToList();
        _out.Clear();
        return taken;
    }

    [Fact]
    public void DeviceBirth_AnnouncesEachTagAtItsSourceType_AndDataGoesInTheMatchingField()
    {
        var int16 = new TagInfo("press", "pressure", sourceType: SourceType.Int16);
        var uint32 = new TagInfo("press", "count", sourceType: SourceType.UInt32);
        var int8 = new TagInfo("press", "offset", sourceType: SourceType.Int8);
        var session = Begin(int16, uint32, int8);
        Take();
        var sequence = 0L;
        session.Add(Sample.Good(int16, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(-1234)), ++sequence, false, _out);
        session.Add(Sample.Good(uint32, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(4_000_000_000)), ++sequence, false, _out);
        session.Add(Sample.Good(int8, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(-5)), ++sequence, false, _out);
        session.Flush(_out);
        var (birth, payload) = Assert.Single(Take());
        Assert.Equal(SparkplugMessageType.DeviceBirth, birth.Type);
        var metrics = payload.Metrics.ToDictionary(m => m.Name);
        Assert.Equal((uint)DataType.Int16, metrics["pressure"].Datatype);
        Assert.Equal(unchecked((uint)-1234), metrics["pressure"].IntValue);
        Assert.Equal((uint)DataType.UInt32, metrics["count"].Datatype);
        Assert.Equal(4_000_000_000ul, metrics["count"].LongValue);
        Assert.Equal((uint)DataType.Int8, metrics["offset"].Datatype);
        Assert.Equal(-5, (int)metrics["offset"].IntValue);

        // The same types again: DDATA in int_value, no new DBIRTH.
        session.Add(Sample.Good(int16, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(-1)), ++sequence, false, _out);
        session.Add(Sample.Good(int8, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(7)), ++sequence, false, _out);
        session.Flush(_out);
        var (data, dataPayload) = Assert.Single(Take());
        Assert.Equal(SparkplugMessageType.DeviceData, data.Type);
        Assert.All(dataPayload.Metrics, m => Assert.Equal(Metric.ValueOneofCase.IntValue, m.ValueCase));
        Assert.Equal(uint.MaxValue, dataPayload.Metrics[0].IntValue);
    }

    [Fact]
    public void DeviceBirth_OfATagNotReadYet_AnnouncesItsConfiguredType_AndItsFirstValueBringsNoSecondBirth()
    {
        var read = new TagInfo("press", "a", sourceType: SourceType.Float);
        var unread = new TagInfo("press", "b", sourceType: SourceType.UInt16);
        var session = Begin(read, unread);
        Take();
        session.Add(Sample.Good(read, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromFloat(1.5f)), 1, false, _out);
        _time.Advance(TimeSpan.FromSeconds(1));
        session.Flush(_out);
        var (_, birth) = Assert.Single(Take());
        var b = birth.Metrics.Single(m => m.Name == "b");
        Assert.Equal((uint)DataType.UInt16, b.Datatype);
        Assert.True(b.IsNull);

        session.Add(Sample.Good(unread, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(54321)), 2, false, _out);
        session.Flush(_out);
        var (message, data) = Assert.Single(Take());
        Assert.Equal(SparkplugMessageType.DeviceData, message.Type);
        Assert.Equal(54321u, data.Metrics.Single().IntValue);
    }

    [Fact]
    public void TagReadBackFromTheBuffer_WithoutItsSourceType_StillGoesAsTheCatalogsType()
    {
        var driverTag = new TagInfo("press", "level", sourceType: SourceType.Int16);
        var fromBuffer = new TagInfo("press", "level"); // the buffer's tags table knows machine, path and unit only
        var session = Begin(driverTag);
        Take();
        session.Add(Sample.Good(fromBuffer, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(12)), 1, false, _out);
        session.Flush(_out);
        var (_, birth) = Assert.Single(Take());
        Assert.Equal((uint)DataType.Int16, birth.Metrics.Single(m => m.Name == "level").Datatype);
    }

    [Fact]
    public void SourceTypeChangeInThePlc_BringsOneNewBirthWithTheNewType()
    {
        var tag = new TagInfo("press", "v", sourceType: SourceType.Int16);
        var session = Begin(tag);
        Take();
        session.Add(Sample.Good(tag, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(1)), 1, false, _out);
        session.Flush(_out);
        Take();
        tag.SourceType = SourceType.Int32; // as the OPC UA driver sets it when the server's value changes type
        session.Add(Sample.Good(tag, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(100_000)), 2, false, _out);
        session.Flush(_out);
        var (message, birth) = Assert.Single(Take());
        Assert.Equal(SparkplugMessageType.DeviceBirth, message.Type);
        Assert.Equal((uint)DataType.Int32, birth.Metrics.Single().Datatype);
    }
}
