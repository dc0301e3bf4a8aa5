using Gateway.Drivers;
using Gateway.Oee;
using Xunit;

namespace Gateway.Tests.Oee;

/// <summary>Signal decoding of every sample value kind, including the float32 and uint64 that Modbus and S7 produce.</summary>
public sealed class OeeSignalsTests
{
    [Fact]
    public void MapState_FloatWithinToleranceOfAStateCode_ReadsAsThatCode()
    {
        var signals = new OeeSignals(null);

        Assert.Equal(OeeState.Running, signals.MapState(SampleValue.FromFloat(6.0000005f)));
        Assert.Equal(OeeState.Down, signals.MapState(SampleValue.FromFloat(11f)));
        Assert.Equal(OeeState.Idle, signals.MapState(SampleValue.FromUnsignedInteger(4)));
        Assert.Null(signals.TakeUnmappedValue());
    }

    [Fact]
    public void TakeUnmappedValue_ReportsOnlyTheSampleThatFoundIt()
    {
        var signals = new OeeSignals(null);

        Assert.Equal(OeeState.Unknown, signals.MapState(SampleValue.FromInteger(99)));
        var first = signals.TakeUnmappedValue();
        var second = signals.TakeUnmappedValue();
        signals.MapState(SampleValue.FromInteger(6));
        var afterMapped = signals.TakeUnmappedValue();

        Assert.Equal("99", first);
        Assert.Null(second);
        Assert.Null(afterMapped);
    }

    [Fact]
    public void RunningState_FloatAndUnsignedInteger_RunWhenNonZero()
    {
        Assert.Equal(OeeState.Running, OeeSignals.RunningState(SampleValue.FromFloat(1f)));
        Assert.Equal(OeeState.Down, OeeSignals.RunningState(SampleValue.FromFloat(0f)));
        Assert.Equal(OeeState.Unknown, OeeSignals.RunningState(SampleValue.FromFloat(float.NaN)));
        Assert.Equal(OeeState.Running, OeeSignals.RunningState(SampleValue.FromUnsignedInteger(1)));
        Assert.Equal(OeeState.Down, OeeSignals.RunningState(SampleValue.FromUnsignedInteger(0)));
    }

    [Fact]
    public void TryCounterValue_FloatAndUnsignedInteger_CountAsWholeNumbers()
    {
        Assert.True(OeeSignals.TryCounterValue(SampleValue.FromUnsignedInteger(42), out var unsigned));
        Assert.True(OeeSignals.TryCounterValue(SampleValue.FromFloat(41.9f), out var single));
        Assert.False(OeeSignals.TryCounterValue(SampleValue.FromFloat(float.NaN), out _));
        Assert.False(OeeSignals.TryCounterValue(SampleValue.FromUnsignedInteger(ulong.MaxValue), out _));

        Assert.Equal(42, unsigned);
        Assert.Equal(42, single);
    }
}
