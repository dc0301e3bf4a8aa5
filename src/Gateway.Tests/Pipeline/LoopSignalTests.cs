using Gateway.Pipeline;

namespace Gateway.Tests.Pipeline;

/// <summary>The send loop's wake-up: auto-reset, never lost, never doubled.</summary>
public sealed class LoopSignalTests
{
    [Fact]
    public void Set_BeforeTheWait_CompletesTheNextWaitAtOnce_Once()
    {
        var signal = new LoopSignal();
        signal.Set();
        signal.Set(); // a second Set before the wait adds nothing: one wake-up

        Assert.True(CompletesAtOnce(signal.WaitAsync()));
        Assert.False(CompletesAtOnce(signal.WaitAsync()));
    }

    [Fact]
    public async Task Set_WhileTheLoopWaits_CompletesIt_ButNeverRunsItInsideSet()
    {
        var signal = new LoopSignal();
        var setter = -1;
        var inSet = false;
        var ranInsideSet = true;
        var loop = Loop();
        Assert.False(loop.IsCompleted);

        setter = Environment.CurrentManagedThreadId;
        Volatile.Write(ref inSet, true);
        signal.Set();
        Volatile.Write(ref inSet, false);
        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        // The channel calls Set under its lock: the loop's continuation must not run there.
        Assert.False(ranInsideSet);
        Assert.False(CompletesAtOnce(signal.WaitAsync()));

        async Task Loop()
        {
            await signal.WaitAsync();
            ranInsideSet = Environment.CurrentManagedThreadId == setter && Volatile.Read(ref inSet);
        }
    }

    [Fact]
    public async Task ManySetsFromAnotherThread_EveryWaitEnds_AndNoWakeUpIsLost()
    {
        var signal = new LoopSignal();
        var produced = 0;
        var consumed = 0;
        const int Rounds = 20_000;
        var producer = Task.Run(() =>
        {
            for (var i = 0; i < Rounds; i++)
            {
                Interlocked.Increment(ref produced);
                signal.Set();
            }
        });

        // The consumer waits until it has seen every increment: a lost Set would leave it waiting forever.
        while (Volatile.Read(ref consumed) < Rounds)
        {
            if (Volatile.Read(ref produced) > consumed)
            {
                consumed = Volatile.Read(ref produced);
                continue;
            }

            await signal.WaitAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }

        await producer;
        Assert.Equal(Rounds, consumed);
    }

    private static bool CompletesAtOnce(ValueTask wait) => wait.IsCompleted;
}
