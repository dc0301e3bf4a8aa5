namespace Gateway.Oee;

/// <summary>A machine's state as the OEE sees it.</summary>
public enum OeeState
{
    /// <summary>No usable data: before the first state sample, a Bad state tag, the gateway was off.</summary>
    Unknown,
    Running,
    Idle,
    Down,
    Setup,
    PlannedStop,
}

/// <summary>A stretch of one state (persisted).</summary>
internal sealed class StateSegment
{
    public DateTimeOffset Start { get; set; }

    /// <summary>Null while it lasts.</summary>
    public DateTimeOffset? End { get; set; }

    public OeeState State { get; set; }

    public string? Reason { get; set; }
}

/// <summary>Parts counted at an instant (deltas, persisted). Consecutive deltas within one second are merged.</summary>
internal sealed class CountDelta
{
    public DateTimeOffset Time { get; set; }

    public long Total { get; set; }

    public long Good { get; set; }

    public long Reject { get; set; }

    /// <summary>Counted within the start-up window (after a setup, a planned stop, a break or a shift start).</summary>
    public bool Startup { get; set; }
}

/// <summary>What survives a restart of one machine's OEE.</summary>
internal sealed class MachineOeeState
{
    public List<StateSegment> Segments { get; set; } = [];

    public List<CountDelta> Counts { get; set; } = [];

    public ShiftInstance? CurrentShift { get; set; }

    public OeePeriod? PreviousShift { get; set; }

    public DateTimeOffset? LastStartupTrigger { get; set; }

    public string? Reason { get; set; }
}

/// <summary>What a counter sample turned out to be, for logging.</summary>
internal enum CounterEvent
{
    None,
    Reset,
    Rollover,

    /// <summary>A small decrease, taken as a PLC restart from a retained value: no parts, a new baseline.</summary>
    StepBack,
}

/// <summary>What a counter sample turned out to be: its event, and the parts left uncounted as a burst across a clock step.</summary>
internal readonly record struct CounterReading(CounterEvent Event, long BurstDropped);

/// <summary>
/// When a counter was last read on the engine's monotonic clock and, for <see cref="Window"/> after a wall-clock step,
/// the parts it may still count: what the ideal cycle allows since its last reading before the step.
/// </summary>
internal struct CounterClock
{
    /// <summary>How long after a step the counter's increments are held to the ideal cycle.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    public TimeSpan LastRead;

    public bool Stepped;

    public TimeSpan StepAt;

    public TimeSpan BudgetFrom;

    public long Counted;

    public void OnStep(TimeSpan monotonic)
    {
        if (!Stepped)
        {
            BudgetFrom = LastRead;
            Counted = 0;
        }

        Stepped = true;
        StepAt = monotonic;
    }
}
