namespace Gateway.Northbound;

/// <summary>
/// The trainer's switch on the gateway's own north link (<c>gateway drill outage</c>): while it is cut, every output
/// (MQTT UNS, Sparkplug B, InfluxDB) drops its connection and does not reconnect, so samples stay in the buffer, as in
/// a real outage; when it is restored (after the drill's duration, or at once by <see cref="Restore"/>) they reconnect
/// and drain. The broker itself is never touched (it may be shared with other gateways or another class room).
/// Thread-safe.
/// </summary>
public sealed class NorthLinkSwitch : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly List<Action> _onCut = [];
    private TaskCompletionSource _restored = Completed();
    private ITimer? _timer;

    public NorthLinkSwitch(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
    }

    /// <summary>True while a drill holds the north link cut.</summary>
    public bool IsCut
    {
        get
        {
            lock (_lock)
            {
                return !_restored.Task.IsCompleted;
            }
        }
    }

    /// <summary>When the running drill restores the link (wall clock, for display); null when not cut.</summary>
    public DateTimeOffset? RestoresAt { get; private set; }

    /// <summary>Cuts the link for <paramref name="duration"/>; false (and nothing changes) when a drill already runs.</summary>
    public bool TryCut(TimeSpan duration)
    {
        Action[] callbacks;
        lock (_lock)
        {
            if (!_restored.Task.IsCompleted)
            {
                return false;
            }

            _restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            RestoresAt = _timeProvider.GetUtcNow() + duration;
            _timer = _timeProvider.CreateTimer(_ => Restore(), null, duration, Timeout.InfiniteTimeSpan);
            callbacks = [.. _onCut];
        }

        foreach (var callback in callbacks)
        {
            callback();
        }

        return true;
    }

    /// <summary>Restores the link now (the drill's end); the outputs reconnect.</summary>
    public void Restore()
    {
        TaskCompletionSource restored;
        lock (_lock)
        {
            restored = _restored;
            RestoresAt = null;
            _timer?.Dispose();
            _timer = null;
        }

        restored.TrySetResult();
    }

    /// <summary>Completes at once when the link is up, else when it is restored.</summary>
    public Task WaitUntilRestoredAsync(CancellationToken cancellationToken)
    {
        Task task;
        lock (_lock)
        {
            task = _restored.Task;
        }

        return task.IsCompleted ? Task.CompletedTask : task.WaitAsync(cancellationToken);
    }

    /// <summary>Calls <paramref name="callback"/> whenever the link is cut (an output wakes its sender to drop the connection).</summary>
    public IDisposable OnCut(Action callback)
    {
        lock (_lock)
        {
            _onCut.Add(callback);
        }

        return new Subscription(this, callback);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
        }

        _restored.TrySetResult();
    }

    private static TaskCompletionSource Completed()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
    }

    private sealed class Subscription(NorthLinkSwitch owner, Action callback) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._onCut.Remove(callback);
            }
        }
    }
}

/// <summary>Thrown by an output's sender when a drill cut the north link: the connection is dropped as in an outage.</summary>
public sealed class NorthLinkCutException() : Exception("the north link was cut by a trainer's drill (gateway drill outage); it reconnects when the drill ends");
