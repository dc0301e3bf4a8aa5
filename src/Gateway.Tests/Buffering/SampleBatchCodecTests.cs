using Gateway.Buffering;
using Gateway.Drivers;

namespace Gateway.Tests.Buffering;

public sealed class SampleBatchCodecTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 5, 1, 6, 0, 0, TimeSpan.Zero);
    private readonly Tags _tags = new();

    [Fact]
    public void RoundTrip_KeepsEveryKindQualityStatusAndTimestamp_Exactly()
    {
        var a = new TagInfo("press", "a", "degC");
        var b = new TagInfo("press", "b");
        var samples = new List<Sample>
        {
            Sample.Good(a, s_t0, s_t0.AddTicks(1), SampleValue.FromFloat(22.1f)),
            Sample.Good(a, s_t0, s_t0, SampleValue.FromFloat(float.NaN)),
            Sample.Good(b, s_t0.AddDays(-3), s_t0.AddSeconds(1), SampleValue.FromUnsignedInteger(ulong.MaxValue)),
            Sample.Good(b, s_t0, s_t0, SampleValue.FromInteger(long.MinValue)),
            Sample.Good(b, s_t0, s_t0, SampleValue.FromInteger(long.MaxValue)),
            Sample.Good(b, s_t0, s_t0, SampleValue.FromInteger(-1)),
            // A gateway clock stepped back: the delta is negative.
            Sample.Good(a, s_t0.AddHours(1), s_t0.AddHours(-1), SampleValue.FromDouble(-12.375)),
            Sample.Good(a, s_t0, s_t0, SampleValue.FromDouble(double.Epsilon)),
            Sample.Good(a, s_t0, s_t0, SampleValue.FromBoolean(true)),
            Sample.Good(a, s_t0, s_t0, SampleValue.FromBoolean(false)),
            Sample.Good(a, s_t0, s_t0, SampleValue.FromString("down: jam ✓ 🏭")),
            Sample.Good(a, s_t0, s_t0, SampleValue.FromString("")),
            new(b, s_t0, s_t0, SampleValue.FromDouble(1e300), Quality.Uncertain, 0x40920000),
            Sample.Bad(b, s_t0.AddMinutes(5), 0x808C0000),
            new(b, DateTimeOffset.MinValue, DateTimeOffset.MaxValue, SampleValue.None, Quality.Bad, uint.MaxValue),
        };
        var writer = new BatchWriter(16);

        SampleBatchCodec.Encode(samples, 0, samples.Count, _tags, writer);
        var decoded = new List<BufferedSample>();
        var added = SampleBatchCodec.Decode(writer.Written, 100, _tags, default(AllSequences), decoded);

        Assert.Equal(samples.Count, added);
        Assert.Equal(samples, decoded.Select(d => d.Sample));
        Assert.Equal(Enumerable.Range(100, samples.Count).Select(i => (long)i), decoded.Select(d => d.Id));
        Assert.Equal(SampleValueKind.Float, decoded[0].Sample.Value.Kind);
        Assert.Equal("22.1", decoded[0].Sample.Value.ToString());
        Assert.Equal(ulong.MaxValue, decoded[2].Sample.Value.AsUnsignedInteger);
        Assert.Equal(samples.Count, SampleBatchCodec.CountOf(writer.Written));
    }

    [Fact]
    public void Encode_ACounterSample_TakesAFewBytes()
    {
        var tag = new TagInfo("press", "count");
        var samples = Enumerable.Range(0, 1000).Select(i => Sample.Good(tag, s_t0.AddMilliseconds(i * 10), s_t0.AddMilliseconds(i * 10), SampleValue.FromInteger(5000 + i))).ToList();
        var writer = new BatchWriter();

        SampleBatchCodec.Encode(samples, 0, samples.Count, _tags, writer);

        // tag 1 + gateway delta 3 + source offset 1 + flags 1 + value 2
        Assert.True(writer.Length <= 8 * samples.Count + 16, $"{writer.Length} bytes for {samples.Count} samples");
    }

    [Fact]
    public void Decode_FiltersBySequence_AndStopsAtMax()
    {
        var tag = new TagInfo("press", "s");
        var samples = Enumerable.Range(0, 10).Select(i => Sample.Good(tag, s_t0, s_t0, SampleValue.FromString($"v{i}"))).ToList();
        var writer = new BatchWriter();
        SampleBatchCodec.Encode(samples, 0, samples.Count, _tags, writer);

        var decoded = new List<BufferedSample>();
        SampleBatchCodec.Decode(writer.Written, 1, _tags, new Odd(), decoded, max: 3);

        Assert.Equal([1L, 3, 5], decoded.Select(d => d.Id));
        Assert.Equal(["v0", "v2", "v4"], decoded.Select(d => d.Sample.Value.AsString));
    }

    [Fact]
    public void Decode_RefusesAnUnknownVersion()
    {
        var writer = new BatchWriter();
        SampleBatchCodec.Encode([Sample.Good(new TagInfo("m", "t"), s_t0, s_t0, SampleValue.FromInteger(1))], 0, 1, _tags, writer);
        var data = writer.Written.ToArray();
        data[0] = 2;

        var error = Assert.Throws<InvalidDataException>(() => SampleBatchCodec.Decode(data, 1, _tags, default(AllSequences), []));
        Assert.Contains("version 2", error.Message, StringComparison.Ordinal);
    }

    private readonly struct Odd : ISequenceFilter
    {
        public bool Includes(long sequence) => sequence % 2 == 1;
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
