using System.Threading.Tasks.Sources;

namespace Gateway.Pipeline;

/// <summary>
/// An auto-reset wake-up for one waiting loop, reused without allocation: <see cref="Set"/> completes the pending
/// <see cref="WaitAsync"/>, or, when the loop is not waiting, the next one at once. It replaces a
/// <c>SemaphoreSlim.WaitAsync(token)</c>, which took a lock and allocated a node, a cancellation promise and a
/// registration per wait (the MQTT send loop waits a few thousand times a second at full rate). The continuation runs
/// on the thread pool, never inside <see cref="Set"/> (a setter may hold its own lock). Used by the pipeline (the end
/// of a poll burst, <see cref="SamplePipeline"/>) and by the northbound (<c>CoalescingChannel</c>'s send loop); it
/// lives here, the lower of the two layers.
/// </summary>
internal sealed class LoopSignal : IValueTaskSource
{
    private const int Idle = 0;
    private const int Signalled = 1;
    private const int Waiting = 2;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;

    /// <summary>Completes when <see cref="Set"/> is called (at once if it was since the last wait). One waiter at a time.</summary>
    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signalled) == Signalled)
        {
            return default;
        }

        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) != Idle)
        {
            Volatile.Write(ref _state, Idle); // set meanwhile: consumed here
            return default;
        }

        return new ValueTask(this, _core.Version);
    }

    /// <summary>Wakes the waiting loop, or lets its next wait complete at once.</summary>
    public void Set()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Signalled:
                    return;
                case Idle when Interlocked.CompareExchange(ref _state, Signalled, Idle) == Idle:
                    return;
                case Waiting when Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting:
                    _core.SetResult(true);
                    return;
            }
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
