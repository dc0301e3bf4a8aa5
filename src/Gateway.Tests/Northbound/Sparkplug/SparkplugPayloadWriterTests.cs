using Gateway.Drivers;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Sparkplug.Protobuf;
using Google.Protobuf;
using Metric = Gateway.Northbound.Sparkplug.Protobuf.Payload.Types.Metric;

namespace Gateway.Tests.Northbound.Sparkplug;

/// <summary>
/// The hand-written protobuf writer against Google.Protobuf's generated classes: the same content must give the
/// same bytes (field order included), and the generated parser must read back every value exactly.
/// </summary>
public sealed class SparkplugPayloadWriterTests
{
    private const ulong Now = 1_764_000_000_123;

    public static TheoryData<string> Values => ["bool", "int", "negative", "uint-max", "float", "double", "string", "none"];

    private static SampleValue ValueOf(string name) => name switch
    {
        "bool" => SampleValue.FromBoolean(true),
        "int" => SampleValue.FromInteger(123_456),
        "negative" => SampleValue.FromInteger(-42),
        "uint-max" => SampleValue.FromUnsignedInteger(ulong.MaxValue - 1),
        "float" => SampleValue.FromFloat(22.1f),
        "double" => SampleValue.FromDouble(-0.1),
        "string" => SampleValue.FromString("Ready – étape 3"),
        _ => SampleValue.None,
    };

    private static void SetValue(Metric metric, in SampleValue value)
    {
        switch (value.Kind)
        {
            case SampleValueKind.Boolean: metric.BooleanValue = value.AsBoolean; break;
            case SampleValueKind.Integer: metric.LongValue = unchecked((ulong)value.AsInteger); break;
            case SampleValueKind.UnsignedInteger: metric.LongValue = value.AsUnsignedInteger; break;
            case SampleValueKind.Float: metric.FloatValue = value.AsFloat; break;
            case SampleValueKind.Double: metric.DoubleValue = value.AsDouble; break;
            case SampleValueKind.String: metric.StringValue = value.AsString; break;
            default: metric.IsNull = true; break;
        }
    }

    private static Payload.Types.PropertySet? Properties(Quality quality, string? unit)
    {
        if (quality == Quality.Good && unit is null)
        {
            return null;
        }

        var set = new Payload.Types.PropertySet();
        if (quality != Quality.Good)
        {
            set.Keys.Add("Quality");
        }

        if (unit is not null)
        {
            set.Keys.Add("engUnit");
        }

        if (quality != Quality.Good)
        {
            set.Values.Add(new Payload.Types.PropertyValue { Type = (uint)DataType.Int32, IntValue = quality == Quality.Uncertain ? 64u : 0u });
        }

        if (unit is not null)
        {
            set.Values.Add(new Payload.Types.PropertyValue { Type = (uint)DataType.String, StringValue = unit });
        }

        return set;
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void DataMetric_OfEveryKind_IsByteIdenticalToGoogleProtobuf(string kind)
    {
        var value = ValueOf(kind);
        foreach (var (quality, historical) in new[] { (Quality.Good, false), (Quality.Uncertain, true), (Quality.Bad, false) })
        {
            var writer = new SparkplugPayloadWriter(16);
            writer.Begin(Now);
            writer.WriteDataMetric(300, Now - 5, value, quality, historical);
            writer.WriteDataMetric(2, Now - 4, value, Quality.Good, historical: false);
            using var payload = writer.Finish(255);

            var expected = new Payload { Timestamp = Now, Seq = 255 };
            var first = new Metric { Alias = 300, Timestamp = Now - 5 };
            if (historical)
            {
                first.IsHistorical = true;
            }

            SetValue(first, value);
            first.Properties = Properties(quality, null);
            var second = new Metric { Alias = 2, Timestamp = Now - 4 };
            SetValue(second, value);
            expected.Metrics.Add(first);
            expected.Metrics.Add(second);

            Assert.Equal(Convert.ToHexString(expected.ToByteArray()), Convert.ToHexString(payload.Span));
            Assert.Equal(0, writer.Length);
        }
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void BirthMetric_WithUnitAndQuality_IsByteIdenticalToGoogleProtobuf(string kind)
    {
        var value = ValueOf(kind);
        var type = SparkplugPayloadWriter.DataTypeOf(value.Kind) is var t && t == DataType.Unknown ? DataType.Double : t;
        var writer = new SparkplugPayloadWriter();
        writer.Begin(Now);
        writer.WriteBirthMetric("spindle/temperature", 7, Now, type, value, Quality.Uncertain, "degC");
        writer.WriteBirthMetric("count", 8, Now, type, value, Quality.Good, null);
        using var payload = writer.Finish(1);

        var expected = new Payload { Timestamp = Now, Seq = 1 };
        var first = new Metric { Name = "spindle/temperature", Alias = 7, Timestamp = Now, Datatype = (uint)type, Properties = Properties(Quality.Uncertain, "degC") };
        SetValue(first, value);
        var second = new Metric { Name = "count", Alias = 8, Timestamp = Now, Datatype = (uint)type };
        SetValue(second, value);
        expected.Metrics.Add(first);
        expected.Metrics.Add(second);

        Assert.Equal(Convert.ToHexString(expected.ToByteArray()), Convert.ToHexString(payload.Span));
    }

    [Fact]
    public void Payload_ParsedByGoogleProtobuf_KeepsUInt64AboveInt64MaxAndFloat32Exactly()
    {
        var writer = new SparkplugPayloadWriter();
        writer.Begin(Now);
        writer.WriteDataMetric(2, Now, SampleValue.FromUnsignedInteger(18_446_744_073_709_551_000UL), Quality.Good, false);
        writer.WriteDataMetric(3, Now, SampleValue.FromFloat(123.456f), Quality.Good, false);
        using var payload = writer.Finish(9);

        var parsed = Payload.Parser.ParseFrom(payload.Span);
        Assert.Equal(9ul, parsed.Seq);
        Assert.Equal(18_446_744_073_709_551_000UL, parsed.Metrics[0].LongValue);
        Assert.Equal(Metric.ValueOneofCase.FloatValue, parsed.Metrics[1].ValueCase);
        Assert.Equal(123.456f, parsed.Metrics[1].FloatValue);
    }

    [Fact]
    public void DataMetricBytes_EqualsWhatTheMetricAddsToThePayload()
    {
        var writer = new SparkplugPayloadWriter();
        writer.Begin(Now);
        var before = writer.Length;
        var value = SampleValue.FromString(new string('x', 300));
        writer.WriteDataMetric(70_000, Now, value, Quality.Uncertain, historical: true);
        Assert.Equal(SparkplugPayloadWriter.DataMetricBytes(70_000, Now, value, Quality.Uncertain, historical: true), writer.Length - before);
    }

    [Fact]
    public void LargePayload_GrowsItsPooledBufferWithoutLosingBytes()
    {
        var writer = new SparkplugPayloadWriter(64);
        var expected = new Payload { Timestamp = Now, Seq = 3 };
        writer.Begin(Now);
        for (var i = 0; i < 2000; i++)
        {
            writer.WriteDataMetric((ulong)i + 2, Now + (ulong)i, SampleValue.FromDouble(i * 0.5), Quality.Good, false);
            expected.Metrics.Add(new Metric { Alias = (ulong)i + 2, Timestamp = Now + (ulong)i, DoubleValue = i * 0.5 });
        }

        using var payload = writer.Finish(3);
        Assert.Equal(2000, Payload.Parser.ParseFrom(payload.Span).Metrics.Count);
        Assert.True(expected.ToByteArray().AsSpan().SequenceEqual(payload.Span));
    }
}

/// <summary>The session's messages as an independent decoder reads them: Eclipse Tahu's sparkplug-payload (npm).</summary>
public sealed class SparkplugTahuDecodeTests
{
    [Fact]
    public async Task SessionMessages_DecodedByTahu_CarryTheSourceDatatypesAndHistoricalFlag()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 6, 0, 0, TimeSpan.Zero));
        var session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw" }, time);
        var output = new List<SparkplugMessage>();
        var tags = new[] { new TagInfo("press", "flag"), new TagInfo("press", "count", "parts"), new TagInfo("press", "big"), new TagInfo("press", "temp", "degC"), new TagInfo("press", "ratio"), new TagInfo("press", "state") };
        var values = new[] { SampleValue.FromBoolean(true), SampleValue.FromInteger(-5), SampleValue.FromUnsignedInteger(18_446_744_073_709_551_615UL), SampleValue.FromFloat(22.1f), SampleValue.FromDouble(0.125), SampleValue.FromString("running") };
        session.Begin(3, long.MaxValue, tags, null, output);
        long sequence = 0;
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < tags.Length; i++)
            {
                session.Add(Sample.Good(tags[i], time.GetUtcNow(), time.GetUtcNow(), values[i]), ++sequence, historical: round == 1 && i == 3, output);
            }

            session.Flush(output);
        }

        var decoded = await Gateway.Tests.Integration.SparkplugTests.DecodeWithTahuAsync(
            output.Select(m => new Gateway.Tests.Infrastructure.Received(m.Topic!, "", false) { Bytes = m.Payload.ToArray() }).ToList());
        var birth = decoded.Single(m => m.Type == "DBIRTH");
        var types = birth.Metrics.ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("type").GetString());
        Assert.Equal("Boolean", types["flag"]);
        Assert.Equal("Int64", types["count"]);
        Assert.Equal("UInt64", types["big"]);
        Assert.Equal("Float", types["temp"]);
        Assert.Equal("Double", types["ratio"]);
        Assert.Equal("String", types["state"]);
        var big = birth.Metrics.Single(m => m.GetProperty("name").GetString() == "big").GetProperty("value").ToString();
        Assert.Equal("18446744073709551615", big);
        Assert.Equal("parts", birth.Metrics.Single(m => m.GetProperty("name").GetString() == "count").GetProperty("properties").GetProperty("engUnit").GetProperty("value").GetString());
        var temp = birth.Metrics.Single(m => m.GetProperty("name").GetString() == "temp").GetProperty("value").GetDouble();
        Assert.Equal(22.1f, (float)temp);

        var data = decoded.Single(m => m.Type == "DDATA");
        Assert.Equal(6, data.Metrics.Count());
        var historical = data.Metrics.Where(m => m.TryGetProperty("isHistorical", out var h) && h.ValueKind == System.Text.Json.JsonValueKind.True).ToList();
        Assert.Single(historical);
        // DDATA carries no datatype (Sparkplug 3.0: the birth gave it; hosts find it by alias), so Tahu's JavaScript
        // decoder leaves the values out: they are checked with the generated parser in the tests above.
        Assert.All(data.Metrics, m => Assert.True(m.TryGetProperty("alias", out _)));
        Assert.Equal(3, birth.Seq + 2); // NBIRTH 0, DBIRTH 1, DDATA 2
        Assert.Equal(2, data.Seq);
    }
}
