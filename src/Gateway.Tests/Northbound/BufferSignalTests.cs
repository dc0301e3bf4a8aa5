using Gateway.Buffering;

namespace Gateway.Tests.Northbound;

public sealed class BufferSignalTests
{
    [Fact]
    public void Wake_WhenAlreadySignalled_DoesNotThrow_AndLeavesOneWakeUp()
    {
        using var wake = new SemaphoreSlim(0, 1);

        BufferSignal.Wake(wake);
        BufferSignal.Wake(wake); // a plain Release throws SemaphoreFullException here (inside MQTTnet's event handlers)

        Assert.Equal(1, wake.CurrentCount);
        Assert.True(wake.Wait(0));
        Assert.False(wake.Wait(0));
    }

    [Fact]
    public void Notify_WakesEverySubscriber_AnyNumberOfTimes()
    {
        var signal = new BufferSignal();
        var first = signal.Subscribe();
        var second = signal.Subscribe();

        signal.Notify();
        BufferSignal.Wake(first);
        signal.Notify();

        Assert.Equal(1, first.CurrentCount);
        Assert.Equal(1, second.CurrentCount);
    }
}
