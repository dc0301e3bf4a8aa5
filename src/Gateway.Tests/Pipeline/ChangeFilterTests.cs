using Gateway.Drivers;
using Gateway.Pipeline;

namespace Gateway.Tests.Pipeline;

public sealed class ChangeFilterTests
{
    private static readonly DateTimeOffset s_t = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ShouldPass_WithDeadband_SuppressesChangesWithinTheBand()
    {
        var tag = new TagInfo("m", "temperature", "degC", deadband: 0.5);
        var filter = new ChangeFilter();

        var passed = new[] { 20.0, 20.3, 20.5, 20.51, 20.2, 19.9, 21.1 }
            .Where(v => filter.ShouldPass(Sample.Good(tag, s_t, s_t, SampleValue.FromDouble(v))))
            .ToList();

        // 20.0 first; 20.3 and 20.5 are within 0.5; 20.51 is out; 20.2 is within 0.5 of 20.51; 19.9 is 0.61 away; 21.1 is away.
        Assert.Equal([20.0, 20.51, 19.9, 21.1], passed);
    }

    [Fact]
    public void ShouldPass_WithoutDeadband_PassesOnlyChanges()
    {
        var tag = new TagInfo("m", "count");
        var filter = new ChangeFilter();

        var passed = new long[] { 1, 1, 2, 2, 2, 3, 1 }
            .Where(v => filter.ShouldPass(Sample.Good(tag, s_t, s_t, SampleValue.FromInteger(v))))
            .ToList();

        Assert.Equal([1L, 2, 3, 1], passed);
    }

    [Fact]
    public void ShouldPass_FloatWithDeadband_SuppressesChangesWithinTheBand()
    {
        var tag = new TagInfo("m", "temperature", "degC", deadband: 0.5);
        var filter = new ChangeFilter();

        var passed = new[] { 22.1f, 22.3f, 22.7f, 22.7f }
            .Where(v => filter.ShouldPass(Sample.Good(tag, s_t, s_t, SampleValue.FromFloat(v))))
            .ToList();

        Assert.Equal([22.1f, 22.7f], passed);
    }

    [Fact]
    public void ShouldPass_UnsignedIntegerAboveInt64Max_PassesAChangeOfOne()
    {
        // 2^64-1 and 2^64-2 are the same double: the filter compares the exact integers.
        var tag = new TagInfo("m", "counter");
        var filter = new ChangeFilter();

        var passed = new[] { ulong.MaxValue - 1, ulong.MaxValue - 1, ulong.MaxValue }
            .Where(v => filter.ShouldPass(Sample.Good(tag, s_t, s_t, SampleValue.FromUnsignedInteger(v))))
            .ToList();

        Assert.Equal([ulong.MaxValue - 1, ulong.MaxValue], passed);
    }

    [Fact]
    public void ShouldPass_QualityChange_PassesEvenWithTheSameValue()
    {
        var tag = new TagInfo("m", "speed", deadband: 10);
        var filter = new ChangeFilter();
        var good = Sample.Good(tag, s_t, s_t, SampleValue.FromDouble(5));

        Assert.True(filter.ShouldPass(good));
        Assert.True(filter.ShouldPass(good with { Quality = Quality.Uncertain }));
        Assert.True(filter.ShouldPass(good));
        Assert.True(filter.ShouldPass(Sample.Bad(tag, s_t, 0x80310000)));
        Assert.False(filter.ShouldPass(Sample.Bad(tag, s_t, 0x80310000)));
    }

    [Fact]
    public void ShouldPass_Strings_AndBooleans_UseChangeOfValue()
    {
        var state = new TagInfo("m", "state");
        var running = new TagInfo("m", "running");
        var filter = new ChangeFilter();

        Assert.True(filter.ShouldPass(Sample.Good(state, s_t, s_t, SampleValue.FromString("running"))));
        Assert.False(filter.ShouldPass(Sample.Good(state, s_t, s_t, SampleValue.FromString("running"))));
        Assert.True(filter.ShouldPass(Sample.Good(state, s_t, s_t, SampleValue.FromString("down"))));
        Assert.True(filter.ShouldPass(Sample.Good(running, s_t, s_t, SampleValue.FromBoolean(true))));
        Assert.False(filter.ShouldPass(Sample.Good(running, s_t, s_t, SampleValue.FromBoolean(true))));
        Assert.True(filter.ShouldPass(Sample.Good(running, s_t, s_t, SampleValue.FromBoolean(false))));
    }

    [Fact]
    public void ShouldPass_TagsAreIndependent()
    {
        var a = new TagInfo("m", "a");
        var b = new TagInfo("m", "b");
        var filter = new ChangeFilter();

        Assert.True(filter.ShouldPass(Sample.Good(a, s_t, s_t, SampleValue.FromInteger(1))));
        Assert.True(filter.ShouldPass(Sample.Good(b, s_t, s_t, SampleValue.FromInteger(1))));
        Assert.False(filter.ShouldPass(Sample.Good(a, s_t, s_t, SampleValue.FromInteger(1))));
    }
}
