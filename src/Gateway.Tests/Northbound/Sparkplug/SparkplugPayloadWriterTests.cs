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
