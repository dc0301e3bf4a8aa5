namespace Gateway.Oee;

/// <summary>
/// The engine's part of the OEE history: at every tick, before a machine forgets what it no longer needs, the hours
/// that closed since the previous tick and a shift that just ended are recorded with their final values, and the
/// current hour and shift with their values so far. <see cref="TakeHistory"/> hands them to the store.
/// </summary>
public sealed partial class OeeEngine
{
    /// <summary>How far back a restart records the hours it missed (they are unknown time, apart from their start).</summary>
    private static readonly TimeSpan s_maxCatchUp = TimeSpan.FromDays(1);

    private readonly List<OeeHistoryEntry> _pendingHistory = [];
    private DateTimeOffset? _historyFrom;

    /// <summary>Whether ticks record history entries for <see cref="TakeHistory"/> (set when a store takes them; off, nothing accumulates).</summary>
    public bool RecordsHistory { get; set; }

    /// <summary>The history entries recorded since the last call (closed periods and the current ones so far), oldest first.</summary>
    public List<OeeHistoryEntry> TakeHistory()
    {
        lock (_lock)
        {
            var entries = new List<OeeHistoryEntry>(_pendingHistory);
            _pendingHistory.Clear();
            return entries;
        }
    }

    /// <summary>The start of the plant-clock hour that contains <paramref name="at"/> (an hour of the plant's zone, so that a zone offset by 30 min is served too).</summary>
    public DateTimeOffset HourStart(DateTimeOffset at) => PlantHour(_plantTime, at);

    internal static DateTimeOffset PlantHour(PlantTime plant, DateTimeOffset at)
    {
        var offset = plant.Local(at).Offset.Ticks;
        var ticks = at.UtcTicks - ((at.UtcTicks + offset) % TimeSpan.TicksPerHour);
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    private void ResumeHistoryFrom(DateTimeOffset savedAt, DateTimeOffset now)
    {
        var from = savedAt < now - s_maxCatchUp ? now - s_maxCatchUp : savedAt;
        if (from > now)
        {
            from = now;
        }

        if (_historyFrom is not { } current || from < current)
        {
            _historyFrom = from;
        }
    }

    /// <summary>Under the lock, before <see cref="MachineOee.Tick"/>: the hours closed since the last tick, the current hour, a shift that just ended.</summary>
    private void RecordClosedPeriods(MachineOee machine, DateTimeOffset now)
    {
        if (!RecordsHistory)
        {
            return;
        }

        var from = _historyFrom ?? now;
        if (from > now)
        {
            from = now; // the clock went back: the hours from now on are recorded again
        }

        var hour = HourStart(from);
        var current = HourStart(now);
        for (; hour < current; hour = HourStart(hour + TimeSpan.FromHours(1.5)))
        {
            var end = HourStart(hour + TimeSpan.FromHours(1.5));
            var period = machine.Compute("hour", hour, end, now, includeEnd: false);
            if (period.UnknownSeconds >= (end - hour).TotalSeconds && period.TotalCount == 0)
            {
                continue; // the gateway was off the whole hour: nothing to keep
            }

            _pendingHistory.Add(new OeeHistoryEntry(machine.Name, OeeHistoryKind.Hour, period, machine.TopReasons(hour, end, now), Complete: true));
        }

        var currentEnd = HourStart(current + TimeSpan.FromHours(1.5));
        _pendingHistory.Add(new OeeHistoryEntry(machine.Name, OeeHistoryKind.Hour, machine.Compute("hour", current, currentEnd, now), machine.TopReasons(current, currentEnd, now), Complete: false));

        if (machine.EndedShift(machine.Calendar.ShiftAt(now), now) is { } ended)
        {
            _pendingHistory.Add(new OeeHistoryEntry(machine.Name, OeeHistoryKind.Shift, ended, machine.TopReasons(ended.Start, ended.End, now), Complete: true));
        }
    }
}

/// <summary>What a history entry covers.</summary>
public enum OeeHistoryKind
{
    /// <summary>One hour of the plant's clock.</summary>
    Hour = 0,

    /// <summary>One occurrence of a shift of the plan.</summary>
    Shift = 1,
}

/// <summary>
/// One period of one machine's OEE history: its indicators, the six big losses and counts (<see cref="OeePeriod"/>),
/// and its stops by reason.
/// </summary>
/// <param name="Machine">The machine.</param>
/// <param name="Kind">An hour or a shift.</param>
/// <param name="Period">The figures; <see cref="OeePeriod.Start"/> identifies the entry.</param>
/// <param name="TopReasons">Stops within planned time by reason, most seconds first (at most 10).</param>
/// <param name="Complete">False while the period is still going on (its figures so far).</param>
public sealed record OeeHistoryEntry(string Machine, OeeHistoryKind Kind, OeePeriod Period, IReadOnlyList<OeeDowntimeReason> TopReasons, bool Complete);
