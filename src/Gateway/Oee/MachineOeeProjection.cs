namespace Gateway.Oee;

/// <summary>
/// The dashboard projection of one machine: its state, the current and previous shift and the last hour, the
/// shift's timeline and breaks, the top downtime reasons and the recent stops, as the API and the dashboard show
/// them (<see cref="OeeMachineSnapshot"/>, names in the JSON's words).
/// </summary>
internal static class MachineOeeProjection
{
    public const int MaxRecentEvents = 20;
    public const int MaxTopReasons = 10;
    private static readonly TimeSpan s_hour = TimeSpan.FromHours(1);

    /// <summary>The machine's snapshot at <paramref name="now"/>.</summary>
    public static OeeMachineSnapshot Snapshot(MachineOee machine, DateTimeOffset now)
    {
        var calendar = machine.Calendar;
        var timelineState = machine.State;
        var losses = machine.Losses;
        // The shift on now, from the calendar: between a shift change and the next tick (up to the publish
        // interval, which may be minutes), the tracked shift has ended and must show as the previous one already.
        var shift = calendar.ShiftAt(now);
        var previousShift = machine.EndedShift(shift, now) ?? timelineState.PreviousShift;

        var current = shift is null ? null : machine.Compute(shift.Name, shift.Start, shift.End, now);
        var lastHour = machine.Compute("last-hour", now - s_hour, now, now);
        var from = shift?.Start ?? now - s_hour;
        var timeline = new List<OeeTimelineEntry>();
        var reasons = new Dictionary<string, (double Seconds, int Count)>(StringComparer.Ordinal);
        var planned = calendar.PlannedIntervals(from, now);
        foreach (var segment in timelineState.Segments)
        {
            var end = segment.End ?? now;
            if (end <= from && segment.End is not null)
            {
                continue;
            }

            var start = segment.Start < from ? from : segment.Start;
            timeline.Add(new OeeTimelineEntry(start, end, StateName(segment.State), segment.Reason));
            if (OeeLossClassifier.IsStop(segment.State) && shift is not null)
            {
                var seconds = OeeCalculator.Overlap(planned, start, end);
                if (seconds > 0)
                {
                    var label = segment.Reason ?? StateName(segment.State);
                    reasons.TryGetValue(label, out var sum);
                    reasons[label] = (sum.Seconds + seconds, sum.Count + 1);
                }
            }
        }

        var events = timelineState.Segments
            .Where(s => OeeLossClassifier.IsStop(s.State))
            .Reverse()
            .Take(MaxRecentEvents)
            .Select(s => new OeeDowntimeEvent(s.Start, s.End, ((s.End ?? now) - s.Start).TotalSeconds, StateName(s.State), OeeLossClassifier.Name(losses.Category(s, now)), s.Reason ?? StateName(s.State)))
            .ToList();
        var top = reasons
            .OrderByDescending(r => r.Value.Seconds)
            .ThenBy(r => r.Key, StringComparer.Ordinal)
            .Take(MaxTopReasons)
            .Select(r => new OeeDowntimeReason(r.Key, r.Value.Seconds, r.Value.Count))
            .ToList();
        var breaks = new List<OeeBreak>();
        if (shift is not null)
        {
            var cursor = shift.Start;
            foreach (var (start, end) in calendar.PlannedIntervals(shift.Start, shift.End))
            {
                if (start > cursor)
                {
                    breaks.Add(new OeeBreak(cursor, start));
                }

                cursor = end;
            }

            if (cursor < shift.End)
            {
                breaks.Add(new OeeBreak(cursor, shift.End));
            }
        }

        var state = timelineState.Segments[^1];
        return new OeeMachineSnapshot(
            machine.Name,
            StateName(state.State),
            state.State == OeeState.Unknown ? null : state.Start,
            OeeLossClassifier.IsStop(state.State) ? state.Reason : null,
            current,
            previousShift,
            lastHour,
            timeline,
            breaks,
            top,
            events);
    }

    public static string StateName(OeeState state) => state switch
    {
        OeeState.Running => "running",
        OeeState.Idle => "idle",
        OeeState.Down => "down",
        OeeState.Setup => "setup",
        OeeState.PlannedStop => "planned-stop",
        _ => "unknown",
    };
}
