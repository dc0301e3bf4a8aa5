using Gateway.Northbound;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Northbound;

/// <summary>The outage drill's switch: cut for N seconds, outputs wait, restored by the clock.</summary>
public sealed class NorthLinkSwitchTests
{
    [Fact]
    public async Task Cut_HoldsReconnectsForItsDuration_WakesOutputs_ThenRestores()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
        using var link = new NorthLinkSwitch(time);
        var woken = 0;
        using var subscription = link.OnCut(() => woken++);

        Assert.True(link.TryCut(TimeSpan.FromSeconds(30)));
        Assert.False(link.TryCut(TimeSpan.FromSeconds(5)));   // one drill at a time
        Assert.True(link.IsCut);
        Assert.Equal(1, woken);
        var waiting = link.WaitUntilRestoredAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(waiting.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1));
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(link.IsCut);
        Assert.Null(link.RestoresAt);
        Assert.True(link.WaitUntilRestoredAsync(CancellationToken.None).IsCompleted);
    }
}
