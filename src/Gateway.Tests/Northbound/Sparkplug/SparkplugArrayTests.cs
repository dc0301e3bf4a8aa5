using System.Globalization;
using Gateway.Drivers;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Sparkplug.Protobuf;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using Metric = Gateway.Northbound.Sparkplug.Protobuf.Payload.Types.Metric;

namespace Gateway.Tests.Northbound.Sparkplug;

/// <summary>Arrays as the Sparkplug 3.0 array datatypes: bytes_value checked on the specification's examples, against Google.Protobuf, and decoded by Tahu.</summary>
public sealed class SparkplugArrayTests
{
    private const ulong Now = 1_764_000_000_123;

    private static string Packed(SampleArray array)
    {
        var bytes = new byte[SparkplugArrays.ByteCount(array)];
        Assert.Equal(bytes.Length, SparkplugArrays.Write(array, bytes));
        return Convert.ToHexString(bytes);
    }

    [Fact]
    public void Write_TheSpecificationsExamples_GiveItsBytes()
    {
        Assert.Equal("EF7B", Packed(SampleArray.Of(new sbyte[] { -17, 123 })));
        Assert.Equal("D08A3075", Packed(SampleArray.Of(new short[] { -30000, 30000 })));
        Assert.Equal("FFFFFFFFFAAFCB12", Packed(SampleArray.Of([-1, 315338746])));
        Assert.Equal("17FA", Packed(SampleArray.Of(new byte[] { 23, 250 })));
        Assert.Equal("1E0088CC", Packed(SampleArray.Of(new ushort[] { 30, 52360 })));
        Assert.Equal("3400000049FB55C4", Packed(SampleArray.Of(new uint[] { 52, 3293969225 })));
        Assert.Equal("3400000000000000D99E02D1B27637E4", Packed(SampleArray.Of(new ulong[] { 52, 16444743074749521625 })));
        // 12 booleans: the count (4 bytes LE), then the bits, first element in the most significant bit.
        Assert.Equal("0C00000034D0", Packed(SampleArray.Of([false, false, true, true, false, true, false, false, true, true, false, true])));
        Assert.Equal("4142430068656C6C6F00", Packed(SampleArray.Of(["ABC", "hello"])));
        var times = SampleArray.Of([DateTime.UnixEpoch.AddMilliseconds(1256102875335), DateTime.UnixEpoch.AddMilliseconds(1656107875000)]);
        Assert.Equal("C7D09075240100" + "00" + "B8BAB89781010000", Packed(times));
    }

    [Fact]
    public void Write_FloatAndDoubleArrays_AreLittleEndianIeee()
    {
        Assert.Equal("CDCCB041" + "CDCCCCBD", Packed(SampleArray.Of([22.1f, -0.1f])));
        Assert.Equal("9A9999999999B93F", Packed(SampleArray.Of([0.1])));
        Assert.Equal("00000000", Packed(SampleArray.Of(Array.Empty<bool>())));
    }

    [Fact]
    public void ArrayMetrics_AreByteIdenticalToGoogleProtobuf_AndParseBack()
    {
        var floats = SampleValue.FromArray(SampleArray.Of(Enumerable.Range(0, 1000).Select(i => i / 10f).ToArray()));
        var flags = SampleValue.FromArray(SampleArray.Of([true, false, true, true, false, false, false, false, true]));
        var writer = new SparkplugPayloadWriter(16);
        writer.Begin(Now);
        writer.WriteBirthMetric("profile", 5, Now, DataType.FloatArray, floats, Quality.Good, "mm");
        writer.WriteDataMetric(6, Now, flags, Quality.Uncertain, historical: true, DataType.BooleanArray);
        Assert.Equal(SparkplugPayloadWriter.DataMetricBytes(6, Now, flags, Quality.Uncertain, true, DataType.BooleanArray), new SparkplugPayloadWriter.DataMetric(6, Now, flags, Quality.Uncertain, true, DataType.BooleanArray).Bytes);
        using var payload = writer.Finish(4);

        var parsed = Payload.Parser.ParseFrom(payload.Span);
        var expected = new Payload { Timestamp = Now, Seq = 4 };
        var birth = new Metric { Name = "profile", Alias = 5, Timestamp = Now, Datatype = (uint)DataType.FloatArray, BytesValue = ByteString.CopyFrom(Convert.FromHexString(Packed(floats.AsArray!))) };
        birth.Properties = new Payload.Types.PropertySet();
        birth.Properties.Keys.Add("engUnit");
        birth.Properties.Values.Add(new Payload.Types.PropertyValue { Type = (uint)DataType.String, StringValue = "mm" });
        expected.Metrics.Add(birth);
        var data = new Metric { Alias = 6, Timestamp = Now, IsHistorical = true, BytesValue = ByteString.CopyFrom(Convert.FromHexString("090000" + "00B080")) };
        data.Properties = new Payload.Types.PropertySet();
        data.Properties.Keys.Add("Quality");
        data.Properties.Values.Add(new Payload.Types.PropertyValue { Type = (uint)DataType.Int32, IntValue = 64 });
        expected.Metrics.Add(data);

        Assert.Equal(Convert.ToHexString(expected.ToByteArray()), Convert.ToHexString(payload.Span));
        Assert.Equal(4000, parsed.Metrics[0].BytesValue.Length);
        Assert.Equal(99.9f, BitConverter.ToSingle(parsed.Metrics[0].BytesValue.Span[3996..]));
    }

    [Fact]
    public void DataTypeOf_ArrayTagsAndValues_IsTheArrayDatatype()
    {
        var tag = new TagInfo("press", "profile", sourceType: SourceType.Float) { IsArray = true };

        Assert.Equal(DataType.FloatArray, SparkplugPayloadWriter.DataTypeOf(tag));
        Assert.Equal(DataType.Float, SparkplugPayloadWriter.DataTypeOf(new TagInfo("press", "t", sourceType: SourceType.Float)));
        Assert.Equal(DataType.Int32Array, SparkplugPayloadWriter.DataTypeOf(SourceType.Int32, SampleValue.FromArray(SampleArray.Of([1]))));
        Assert.Equal(DataType.StringArray, SparkplugPayloadWriter.DataTypeOf(SourceType.Unknown, SampleValue.FromArray(SampleArray.Of(["a"]))));
        Assert.Equal(DataType.UInt64Array, SparkplugPayloadWriter.ArrayDataTypeOf(SourceType.UInt64));
        Assert.Equal(DataType.DateTimeArray, SparkplugPayloadWriter.ArrayDataTypeOf(SourceType.DateTime));
    }

    [Fact]
    public async Task SessionMessages_WithArrays_DecodedByTahu_AnnounceTheArrayTypesAndCarryEveryElement()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 6, 0, 0, TimeSpan.Zero));
        var session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw" }, time);
        var output = new List<SparkplugMessage>();
        var profile = new TagInfo("press", "profile", sourceType: SourceType.Float) { IsArray = true };
        var counts = new TagInfo("press", "counts", sourceType: SourceType.Int32) { IsArray = true };
        var flags = new TagInfo("press", "flags", sourceType: SourceType.Boolean) { IsArray = true };
        var names = new TagInfo("press", "names", sourceType: SourceType.String) { IsArray = true };
        var big = new TagInfo("press", "big", sourceType: SourceType.UInt64) { IsArray = true };
        var floats = Enumerable.Range(0, 1000).Select(i => i / 10f).ToArray();
        session.Begin(3, long.MaxValue, [profile, counts, flags, names, big], null, output);
        var now = time.GetUtcNow();
        session.Add(Sample.Good(profile, now, now, SampleValue.FromArray(SampleArray.Of(floats))), 1, false, output);
        session.Add(Sample.Good(counts, now, now, SampleValue.FromArray(SampleArray.Of([-5, 0, int.MaxValue, 3, 4, 5, 6, 7, 8, 9]))), 2, false, output);
        session.Add(Sample.Good(flags, now, now, SampleValue.FromArray(SampleArray.Of([true, false, true, true, false, false, false, true]))), 3, false, output);
        session.Add(Sample.Good(names, now, now, SampleValue.FromArray(SampleArray.Of(["ABC", "", "étape 3"]))), 4, false, output);
        session.Add(Sample.Good(big, now, now, SampleValue.FromArray(SampleArray.Of(new ulong[] { ulong.MaxValue, 1 }))), 5, false, output);
        session.Flush(output);
        session.Add(Sample.Good(profile, now, now, SampleValue.FromArray(SampleArray.Of([1.5f, -0.1f]))), 6, false, output);
        session.Flush(output);

        var decoded = await Gateway.Tests.Integration.SparkplugTests.DecodeWithTahuAsync(
            output.Select(m => new Gateway.Tests.Infrastructure.Received(m.Topic!, "", false) { Bytes = m.Payload.ToArray() }).ToList());

        var birth = Assert.Single(decoded, m => m.Type == "DBIRTH");
        var metrics = birth.Metrics.ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal("FloatArray", metrics["profile"].GetProperty("type").GetString());
        Assert.Equal("Int32Array", metrics["counts"].GetProperty("type").GetString());
        Assert.Equal("BooleanArray", metrics["flags"].GetProperty("type").GetString());
        Assert.Equal("StringArray", metrics["names"].GetProperty("type").GetString());
        Assert.Equal("UInt64Array", metrics["big"].GetProperty("type").GetString());
        Assert.Equal(floats, metrics["profile"].GetProperty("value").EnumerateArray().Select(e => (float)e.GetDouble()));
        Assert.Equal([-5, 0, int.MaxValue, 3, 4, 5, 6, 7, 8, 9], metrics["counts"].GetProperty("value").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([true, false, true, true, false, false, false, true], metrics["flags"].GetProperty("value").EnumerateArray().Select(e => e.GetBoolean()));
        Assert.Equal(["ABC", "", "étape 3"], metrics["names"].GetProperty("value").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(["18446744073709551615", "1"], metrics["big"].GetProperty("value").EnumerateArray().Select(e => e.GetString()!));
        var data = Assert.Single(decoded, m => m.Type == "DDATA");
        var element = Assert.Single(data.Metrics).GetProperty("value").EnumerateArray().Select(e => ((float)e.GetDouble()).ToString(CultureInfo.InvariantCulture));
        Assert.Equal(["1.5", "-0.1"], element);
    }
}
