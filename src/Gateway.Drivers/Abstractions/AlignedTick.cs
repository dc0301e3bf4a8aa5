using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Gateway.Drivers;

/// <summary>
/// One timer for every aligned poll loop of one interval (<see cref="PollSchedule.Aligned"/>), instead of a
/// <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/> per loop and per poll. Ten Modbus devices at
/// 100 Hz armed a thousand timers a second, each new one sooner than the timer queue's next due time waking the
/// timer thread (about 560 wake-ups a second), and each firing queued as a work item of its own; here the loops due
/// at a multiple of the interval are released together by one firing, on its thread, one after the other (each runs
/// to its first wait for the device, a request sent), and the first of them back from its poll re-arms the timer for
/// the next multiple: once per tick, not once per loop.
/// A loop registers at most one wait at a time (its own <see cref="Waiter"/>).
/// </summary>
internal sealed class AlignedTick
{
    private static readonly ConditionalWeakTable<TimeProvider, Dictionary<long, AlignedTick>> s_ticks = new();

    private readonly TimeProvider _timeProvider;
    private readonly long _interval;
    private readonly long _tolerance;
    private readonly Lock _lock = new();
    private readonly List<Waiter> _waiters = [];
    private readonly ITimer _timer;

    // The timestamp the timer is armed for; long.MaxValue when it is not armed.
    private long _armedFor = long.MaxValue;

    private AlignedTick(TimeProvider timeProvider, long interval)
    {
        _timeProvider = timeProvider;
        _interval = interval;

        // The system's timers count whole milliseconds (a shorter wait is no wait: Task.Delay's rule) and may fire up to
        // one early: a wait due that close is due. A loop of 1 ms therefore polls back to back, as fast as its device
        // answers, rather than every second or third millisecond of a timer that cannot do better. Another clock (a
        // test's fake one) fires its timers exactly: a wait is a wait however short.
        _tolerance = ReferenceEquals(timeProvider, TimeProvider.System) ? timeProvider.TimestampFrequency / 1000 : 0;
        var restore = !ExecutionContext.IsFlowSuppressed();
        var flow = restore ? ExecutionContext.SuppressFlow() : default;
        try
        {
            // Shared by the loops of every driver: it must not carry the context of the first one.
            _timer = timeProvider.CreateTimer(static state => ((AlignedTick)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            if (restore)
            {
                flow.Undo();
            }
        }
    }

    /// <summary>The tick of <paramref name="interval"/> (in timestamp ticks of <paramref name="timeProvider"/>), shared by the whole process.</summary>
    public static AlignedTick For(TimeProvider timeProvider, long interval)
    {
        var ticks = s_ticks.GetValue(timeProvider, static _ => []);
        lock (ticks)
        {
            if (!ticks.TryGetValue(interval, out var tick))
            {
                tick = new AlignedTick(timeProvider, interval);
                ticks.Add(interval, tick);
            }

            return tick;
        }
    }

    /// <summary>The loops waiting now (for tests).</summary>
    internal int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>
    /// Completes once the monotonic clock reaches <paramref name="due"/> (a timestamp), by the tick; at once when it
    /// is (nearly) there already. <paramref name="waiter"/> is the loop's own, reused from one wait to the next.
    /// </summary>
    public ValueTask WaitUntilAsync(long due, Waiter waiter, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        lock (_lock)
        {
            var now = _timeProvider.GetTimestamp();
            if (due - now <= _tolerance)
            {
                return ValueTask.CompletedTask;
            }

            waiter.Arm(this, due);
            _waiters.Add(waiter);
            if (due < _armedFor)
            {
                // Only when nothing sooner is armed: the first loop after an idle spell, or one due off the common
                // phase. The loops that come back from a poll find the next tick armed already.
                Arm(due, now);
            }
        }

        waiter.Register(cancellationToken);
        return new ValueTask(waiter, waiter.Version);
    }

    private void Arm(long due, long now)
    {
        _armedFor = due;
        _timer.Change(_timeProvider.GetElapsedTime(now, due), Timeout.InfiniteTimeSpan);
    }

    private void Fire()
    {
        Waiter[]? due = null;
        var count = 0;
        lock (_lock)
        {
            var now = _timeProvider.GetTimestamp();
            _armedFor = long.MaxValue;
            var earliest = long.MaxValue;
            var kept = 0;
            for (var i = 0; i < _waiters.Count; i++)
            {
                var waiter = _waiters[i];
                if (waiter.Due - now <= _tolerance)
                {
                    due ??= ArrayPool<Waiter>.Shared.Rent(_waiters.Count);
                    due[count++] = waiter;
                    continue;
                }

                earliest = Math.Min(earliest, waiter.Due);
                _waiters[kept++] = waiter;
            }

            _waiters.RemoveRange(kept, _waiters.Count - kept);
            if (earliest != long.MaxValue)
            {
                Arm(earliest, now);
            }

            // Else the first loop back from its poll arms the next multiple; the others find it armed.
        }

        if (due is null)
        {
            return;
        }

        // Outside the lock, on this thread: each loop runs on to its first wait for its device.
        for (var i = 0; i < count; i++)
        {
            due[i].Complete();
            due[i] = null!;
        }

        ArrayPool<Waiter>.Shared.Return(due);
    }

    private void Remove(Waiter waiter)
    {
        lock (_lock)
        {
            _waiters.Remove(waiter);
        }
    }

    /// <summary>One loop's wait for the tick, reused from one wait to the next (one wait at a time).</summary>
    internal sealed class Waiter : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core; // continuations inline: the tick runs the loops
        private CancellationTokenRegistration _registration;
        private AlignedTick? _tick;
        private int _armed;

        public long Due { get; private set; }

        public short Version => _core.Version;

        internal void Arm(AlignedTick tick, long due)
        {
            _core.Reset();
            _tick = tick;
            Due = due;
            Volatile.Write(ref _armed, 1);
        }

        internal void Register(CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Cancel(token), this);
            }
        }

        internal void Complete()
        {
            if (Interlocked.Exchange(ref _armed, 0) == 1)
            {
                _core.SetResult(true);
            }
        }

        private void Cancel(CancellationToken token)
        {
            if (Interlocked.Exchange(ref _armed, 0) == 1)
            {
                _tick?.Remove(this);
                _core.SetException(new OperationCanceledException(token));
            }
        }

        public void GetResult(short token)
        {
            _registration.Unregister();
            _registration = default;
            _core.GetResult(token);
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
