using Gateway.Dashboard;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Dashboard;

/// <summary>The buffer card's numbers: fill and drain rates in samples/s, minutes to empty.</summary>
public sealed class BufferFlowTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
    private long _appended;
    private long _dropped;
    private long _waiting;

    private BufferFlow NewFlow() => new(_time, () => (_appended, _dropped, _waiting));

    private void Seconds(BufferFlow flow, int seconds, long appendedPerSecond, long leftPerSecond, long droppedPerSecond = 0)
    {
        for (var i = 0; i < seconds; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            _appended += appendedPerSecond;
            _dropped += droppedPerSecond;
            _waiting = Math.Max(0, _waiting + appendedPerSecond - leftPerSecond - droppedPerSecond);
            flow.Measure();
        }
    }

    [Fact]
    public void DuringAnOutage_FillsAtTheInflow_DrainsNothing_AndHasNoTimeToEmpty()
    {
        var flow = NewFlow();
        flow.Measure();

        Seconds(flow, 30, appendedPerSecond: 120, leftPerSecond: 0);
        var reading = flow.Current();

        Assert.Equal(120, reading.FillPerSecond);
        Assert.Equal(0, reading.DrainPerSecond);
        Assert.Null(reading.MinutesToEmpty);
        Assert.Equal(3600, _waiting);
    }

    [Fact]
    public void AfterReconnect_DrainsFasterThanItFills_AndSaysWhenItWillBeEmpty()
    {
        var flow = NewFlow();
        flow.Measure();
        Seconds(flow, 60, appendedPerSecond: 100, leftPerSecond: 0);   // 6000 waiting

        Seconds(flow, 10, appendedPerSecond: 100, leftPerSecond: 400);  // 3000 left in 10 s
        var reading = flow.Current();

        // Over the last 10 s: 100/s in, 400/s out; 3000 waiting at a net 300/s: 10 s = 0.17 min.
        Assert.Equal(100, reading.FillPerSecond);
        Assert.Equal(400, reading.DrainPerSecond);
        Assert.Equal(3000, _waiting);
        Assert.Equal(Math.Round(3000.0 / 300 / 60, 2), reading.MinutesToEmpty);
    }

    [Fact]
    public void Empty_ReadsZeroMinutes_AndDropsAreNotCountedAsDrained()
    {
        var flow = NewFlow();
        flow.Measure();
        Seconds(flow, 10, appendedPerSecond: 50, leftPerSecond: 50);
        Assert.Equal(0, flow.Current().MinutesToEmpty);

        // A full buffer dropping its oldest: the drop is not delivery.
        _waiting = 10_000;
        flow = NewFlow();
        flow.Measure();
        Seconds(flow, 10, appendedPerSecond: 50, leftPerSecond: 0, droppedPerSecond: 50);
        var reading = flow.Current();
        Assert.Equal(0, reading.DrainPerSecond);
        Assert.Null(reading.MinutesToEmpty);
    }
}
