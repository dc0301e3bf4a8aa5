using Gateway.Buffering;
using Gateway.Drivers;

namespace Gateway.Tests.Buffering;

public sealed class SampleBatchCodecCompositeTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 5, 1, 6, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> ArrayNames => [.. Arrays().Keys];

    private static Dictionary<string, SampleValue> Arrays() => new()
    {
        ["bool"] = SampleValue.FromArray(SampleArray.Of([true, false, true, true, false, false, false, true, true])),
        ["int8"] = SampleValue.FromArray(SampleArray.Of(new sbyte[] { sbyte.MinValue, -1, 0, sbyte.MaxValue })),
        ["uint8"] = SampleValue.FromArray(SampleArray.Of(new byte[] { 0, 1, byte.MaxValue })),
        ["int16"] = SampleValue.FromArray(SampleArray.Of(new short[] { short.MinValue, -30000, short.MaxValue })),
        ["uint16"] = SampleValue.FromArray(SampleArray.Of(new ushort[] { 30, 52360, ushort.MaxValue })),
        ["int32"] = SampleValue.FromArray(SampleArray.Of([int.MinValue, -1, 315338746, int.MaxValue])),
        ["uint32"] = SampleValue.FromArray(SampleArray.Of(new uint[] { 52, 3293969225, uint.MaxValue })),
        ["int64"] = SampleValue.FromArray(SampleArray.Of([long.MinValue, -4270929666821191986, long.MaxValue])),
        ["uint64"] = SampleValue.FromArray(SampleArray.Of(new ulong[] { 52, 16444743074749521625, ulong.MaxValue })),
        ["float"] = SampleValue.FromArray(SampleArray.Of([22.1f, -0.1f, float.NaN, float.NegativeInfinity, -0f, float.Epsilon])),
        ["double"] = SampleValue.FromArray(SampleArray.Of([12.354213, double.NaN, -0.0, double.MaxValue])),
        ["string"] = SampleValue.FromArray(SampleArray.Of(["ABC", "", "down: jam ✓ 🏭"])),
        ["datetime"] = SampleValue.FromArray(SampleArray.Of([new DateTime(2009, 10, 21, 5, 27, 55, 335, DateTimeKind.Utc).AddTicks(7), DateTime.MinValue])),
        ["empty"] = SampleValue.FromArray(SampleArray.Of(Array.Empty<float>())),
        ["structures"] = SampleValue.FromArray(SampleArray.OfStructures([Motor(1.5f, "A"), Motor(-2f, "B")])),
    };

    private static SampleValue Motor(float speed, string name) => SampleValue.FromStructure(new SampleStructure(
        "MotorData",
        ["Speed", "Name", "Running", "Limits", "Inner"],
        [
            SampleValue.FromFloat(speed),
            SampleValue.FromString(name),
            SampleValue.FromBoolean(true),
            SampleValue.FromArray(SampleArray.Of([1, 2, 3])),
            SampleValue.FromStructure(new SampleStructure("Inner", ["Count", "Big", "Ratio", "Nothing"], [SampleValue.FromInteger(-7), SampleValue.FromUnsignedInteger(ulong.MaxValue), SampleValue.FromDouble(0.25), SampleValue.None])),
        ]));

    [Theory]
    [MemberData(nameof(ArrayNames))]
    public void RoundTrip_AnArray_ComesBackExactly(string name)
    {
        var value = Arrays()[name];

        var decoded = RoundTrip(value);

        Assert.Equal(value, decoded);
        Assert.Equal(value.AsArray!.ElementType, decoded.AsArray!.ElementType);
        Assert.Equal(value.AsArray.Items.GetType(), decoded.AsArray.Items.GetType());
    }

    [Fact]
    public void RoundTrip_FloatArray_KeepsTheBitsOfEveryElement()
    {
        float[] items = [22.1f, -0f, float.NaN, BitConverter.Int32BitsToSingle(0x7FC00001)];

        var decoded = (float[])RoundTrip(SampleValue.FromArray(SampleArray.Of(items))).AsArray!.Items;

        Assert.Equal(items.Select(BitConverter.SingleToInt32Bits), decoded.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void RoundTrip_ANestedStructure_ComesBackFieldByField()
    {
        var value = Motor(1234.5f, "Motor 1");

        var decoded = RoundTrip(value).AsStructure!;

        Assert.Equal(value.AsStructure, decoded);
        Assert.Equal("MotorData", decoded.TypeName);
        Assert.Equal(SampleValueKind.Float, decoded["Speed"].Kind);
        Assert.Equal(1234.5f, decoded["Speed"].AsFloat);
        Assert.Equal(ulong.MaxValue, decoded["Inner"].AsStructure!["Big"].AsUnsignedInteger);
        Assert.Equal(SampleValueKind.None, decoded["Inner"].AsStructure!["Nothing"].Kind);
    }

    [Fact]
    public void Decode_SkippingAnArraySample_ReadsTheNextSampleRight()
    {
        var tags = new Tags();
        var tag = new TagInfo("press", "profile");
        var samples = new List<Sample>
        {
            Sample.Good(tag, s_t0, s_t0, Arrays()["string"]),
            Sample.Good(tag, s_t0, s_t0, Motor(3f, "C")),
            Sample.Good(tag, s_t0, s_t0, SampleValue.FromFloat(22.1f)),
        };
        var writer = new BatchWriter(8);
        SampleBatchCodec.Encode(samples, 0, samples.Count, tags, writer);

        var decoded = new List<BufferedSample>();
        SampleBatchCodec.Decode(writer.Written, 0, tags, new Last(), decoded);

        Assert.Equal(samples[2], Assert.Single(decoded).Sample);
    }

    private static SampleValue RoundTrip(SampleValue value)
    {
        var tags = new Tags();
        var tag = new TagInfo("press", "value");
        var samples = new List<Sample> { Sample.Good(tag, s_t0, s_t0, value), Sample.Good(tag, s_t0, s_t0, SampleValue.FromInteger(42)) };
        var writer = new BatchWriter(8);

        SampleBatchCodec.Encode(samples, 0, samples.Count, tags, writer);
        var decoded = new List<BufferedSample>();
        SampleBatchCodec.Decode(writer.Written, 0, tags, default(AllSequences), decoded);

        Assert.Equal(2, decoded.Count);
        Assert.Equal(42, decoded[1].Sample.Value.AsInteger);
        return decoded[0].Sample.Value;
    }

    private readonly struct Last : ISequenceFilter
    {
        public bool Includes(long sequence) => sequence == 2;
    }

    private sealed class Tags : ITagIds, ITagLookup
    {
        private readonly Dictionary<TagInfo, long> _ids = [];
        private readonly Dictionary<long, TagInfo> _tags = [];

        public long IdOf(TagInfo tag)
        {
            if (!_ids.TryGetValue(tag, out var id))
            {
                id = _ids.Count + 1;
                _ids[tag] = id;
                _tags[id] = tag;
            }

            return id;
        }

        public TagInfo TagOf(long id) => _tags[id];
    }
}
