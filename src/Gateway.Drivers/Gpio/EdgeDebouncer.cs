namespace Gateway.Drivers.Gpio;

/// <summary>
/// Debounces one pin from its edge events and counts the accepted edges of one kind.
/// An edge is accepted when at least <c>debounce</c> has passed since the last accepted one (lock-out,
/// leading edge): the first edge of a bounce burst is taken at once and its echoes are ignored. The level
/// follows each accepted edge's direction, so a pulse hidden inside the lock-out costs no later count.
/// Thread-safe: edge callbacks arrive on the GPIO event thread, the driver reads from its own loop.
/// </summary>
internal sealed class EdgeDebouncer
{
    private readonly object _gate = new();
    private readonly long _debounceTicks;
    private readonly CountedEdges _counted;
    private long _lastAcceptedTicks = long.MinValue / 2;
    private long _count;
    private bool _level;
    private long _acceptedChanges;

    public EdgeDebouncer(TimeSpan debounce, CountedEdges counted, bool initialLevel)
    {
        _debounceTicks = debounce.Ticks;
        _counted = counted;
        _level = initialLevel;
    }

    /// <summary>The debounced level (before any active-low inversion).</summary>
    public bool Level
    {
        get
        {
            lock (_gate)
            {
                return _level;
            }
        }
    }

    /// <summary>The monotonic count of accepted edges of the counted kind since the driver started.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>How many accepted level changes there were, to tell whether the input changed.</summary>
    public long AcceptedChanges => Interlocked.Read(ref _acceptedChanges);

    /// <summary>Feeds one edge seen at <paramref name="timestampTicks"/>; returns true when it was accepted.</summary>
    public bool OnEdge(bool rising, long timestampTicks)
    {
        lock (_gate)
        {
            if (timestampTicks - _lastAcceptedTicks < _debounceTicks)
            {
                return false;
            }

            _lastAcceptedTicks = timestampTicks;
            _level = rising;
            Interlocked.Increment(ref _acceptedChanges);
            if (_counted == CountedEdges.Both || (_counted == CountedEdges.Rising) == rising)
            {
                Interlocked.Increment(ref _count);
            }

            return true;
        }
    }

    /// <summary>Resynchronises the level with a direct read, outside of a bounce window.</summary>
    public void Resync(bool level, long timestampTicks)
    {
        lock (_gate)
        {
            if (timestampTicks - _lastAcceptedTicks >= _debounceTicks)
            {
                _level = level;
            }
        }
    }
}

/// <summary>The edges a counter counts, as seen on the pin (before active-low inversion).</summary>
internal enum CountedEdges
{
    Rising,
    Falling,
    Both,
}
