namespace Gateway.Oee;

/// <summary>One occurrence of a shift, in UTC.</summary>
/// <param name="Name">The shift's name from the plan.</param>
/// <param name="Start">Start (inclusive), UTC.</param>
/// <param name="End">End (exclusive), UTC.</param>
public sealed record ShiftInstance(string Name, DateTimeOffset Start, DateTimeOffset End);

/// <summary>
/// A shift plan turned into UTC intervals: which shift is on at an instant, and which stretches of time are
/// planned for production (shifts minus breaks, on working days). Local times are converted with the plan's
/// time zone; a local time skipped by a daylight-saving change moves one hour later.
/// </summary>
public sealed class ShiftCalendar
{
    private readonly TimeZoneInfo _zone;
    private readonly List<(string Name, TimeOnly Start, TimeOnly End, HashSet<DayOfWeek>? Days)> _shifts = [];
    private readonly List<(TimeOnly Start, TimeOnly End)> _breaks = [];
    private readonly HashSet<DayOfWeek> _offDays = [];
    private readonly HashSet<DateOnly> _offDates = [];

    public ShiftCalendar(ShiftPlanOptions plan)
    {
        _zone = TimeZoneInfo.FindSystemTimeZoneById(plan.TimeZone);
        foreach (var shift in plan.Shifts)
        {
            HashSet<DayOfWeek>? days = null;
            if (shift.Days.Count > 0)
            {
                days = [.. Enum.GetValues<DayOfWeek>().Where(d => RunsOn(shift, d))];
            }

            _shifts.Add((shift.Name, Parse(shift.Start), Parse(shift.End), days));
        }

        foreach (var item in plan.Breaks)
        {
            _breaks.Add((Parse(item.Start), Parse(item.End)));
        }

        foreach (var day in plan.NonWorkingDays)
        {
            if (DaysOrDatesAttribute.TryParse(day, out var dayOfWeek, out var date))
            {
                if (dayOfWeek is { } d)
                {
                    _offDays.Add(d);
                }
                else if (date is { } dt)
                {
                    _offDates.Add(dt);
                }
            }
        }
    }

    /// <summary>The shift on at <paramref name="at"/>, or null between shifts and on non-working days.</summary>
    public ShiftInstance? ShiftAt(DateTimeOffset at)
    {
        var today = LocalDate(at);
        foreach (var shift in ShiftsOn(today.AddDays(-1)).Concat(ShiftsOn(today)))
        {
            if (shift.Start <= at && at < shift.End)
            {
                return shift;
            }
        }

        return null;
    }

    /// <summary>
    /// The planned production intervals within [<paramref name="from"/>, <paramref name="to"/>): shifts minus
    /// breaks, on working days, sorted, adjacent ones merged (a shift handing over to the next is one interval).
    /// </summary>
    public List<(DateTimeOffset Start, DateTimeOffset End)> PlannedIntervals(DateTimeOffset from, DateTimeOffset to)
    {
        var result = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        if (to <= from)
        {
            return result;
        }

        var first = LocalDate(from).AddDays(-1);
        var last = LocalDate(to);
        var shifts = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        var breaks = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            shifts.AddRange(ShiftsOn(day).Select(s => (s.Start, s.End)));
            foreach (var (start, end) in _breaks)
            {
                breaks.Add((ToUtc(day, start), ToUtc(end <= start ? day.AddDays(1) : day, end)));
            }
        }

        shifts.Sort((a, b) => a.Start.CompareTo(b.Start));
        foreach (var (shiftStart, shiftEnd) in shifts)
        {
            // Cut the shift by every break, then clip to the window.
            var pieces = new List<(DateTimeOffset Start, DateTimeOffset End)> { (shiftStart, shiftEnd) };
            foreach (var (breakStart, breakEnd) in breaks)
            {
                var next = new List<(DateTimeOffset Start, DateTimeOffset End)>();
                foreach (var (s, e) in pieces)
                {
                    if (breakEnd <= s || breakStart >= e)
                    {
                        next.Add((s, e));
                        continue;
                    }

                    if (breakStart > s)
                    {
                        next.Add((s, breakStart));
                    }

                    if (breakEnd < e)
                    {
                        next.Add((breakEnd, e));
                    }
                }

                pieces = next;
            }

            foreach (var (s, e) in pieces)
            {
                var start = s < from ? from : s;
                var end = e > to ? to : e;
                if (end <= start)
                {
                    continue;
                }

                if (result.Count > 0 && result[^1].End >= start)
                {
                    result[^1] = (result[^1].Start, end > result[^1].End ? end : result[^1].End);
                }
                else
                {
                    result.Add((start, end));
                }
            }
        }

        return result;
    }

    /// <summary>True when a planned interval (a shift start or a break end) began less than <paramref name="window"/> before <paramref name="at"/>.</summary>
    public bool PlannedStartWithin(DateTimeOffset at, TimeSpan window)
    {
        if (window <= TimeSpan.Zero)
        {
            return false;
        }

        // Look one window further back so that an interval already running at at - window is seen merged, not as a start.
        var intervals = PlannedIntervals(at - window - window, at + TimeSpan.FromTicks(1));
        return intervals.Any(i => i.Start > at - window && i.Start <= at && i.Start > at - window - window);
    }

    private IEnumerable<ShiftInstance> ShiftsOn(DateOnly day)
    {
        if (_offDates.Contains(day))
        {
            yield break;
        }

        foreach (var (name, start, end, days) in _shifts)
        {
            // A shift with its own days runs on those (a night shift starting Sunday evening of a Monday-Friday
            // week); the others on every day that is not a non-working day of the week.
            if (days is null ? _offDays.Contains(day.DayOfWeek) : !days.Contains(day.DayOfWeek))
            {
                continue;
            }

            yield return new ShiftInstance(name, ToUtc(day, start), ToUtc(end <= start ? day.AddDays(1) : day, end));
        }
    }

    private DateOnly LocalDate(DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, _zone).DateTime);

    private DateTimeOffset ToUtc(DateOnly day, TimeOnly time)
    {
        var local = day.ToDateTime(time, DateTimeKind.Unspecified);
        if (_zone.IsInvalidTime(local))
        {
            local = local.AddHours(1);
        }

        return new DateTimeOffset(local, _zone.GetUtcOffset(local)).ToUniversalTime();
    }

    private static TimeOnly Parse(string text) => TimeOfDayAttribute.TryParse(text, out var time) ? time : TimeOnly.MinValue;

    /// <summary>
    /// Null when the plan is consistent; otherwise why not (overlapping shifts, a break reaching outside the shifts;
    /// a break may span the handover between two shifts that follow each other). Shifts limited to some days are
    /// checked on the days they run.
    /// </summary>
    public static string? Check(ShiftPlanOptions plan)
    {
        if (plan.Shifts.Count == 0)
        {
            return "shifts: at least one shift is needed";
        }

        // In minutes over nine days, time zone aside, day 0 a Sunday: every shift on the days it runs; the breaks of
        // days 1..7 (a whole week) are then looked for within those.
        const int DayCount = 9;
        var shifts = new List<(int Start, int End, string Name)>();
        for (var day = 0; day < DayCount; day++)
        {
            foreach (var shift in plan.Shifts)
            {
                if (!TimeOfDayAttribute.TryParse(shift.Start, out var start) || !TimeOfDayAttribute.TryParse(shift.End, out var end))
                {
                    return null; // reported on the shift's own keys
                }

                if (!RunsOn(shift, (DayOfWeek)(day % 7)))
                {
                    continue;
                }

                var s = (day * 1440) + (int)start.ToTimeSpan().TotalMinutes;
                var e = (day * 1440) + (int)end.ToTimeSpan().TotalMinutes + (end <= start ? 1440 : 0);
                shifts.Add((s, e, shift.Name));
            }
        }

        if (shifts.Count == 0)
        {
            return null; // every shift's days are invalid: reported on their own keys
        }

        shifts.Sort((a, b) => a.Start.CompareTo(b.Start));
        for (var i = 1; i < shifts.Count; i++)
        {
            if (shifts[i].Start < shifts[i - 1].End)
            {
                return $"shifts: '{shifts[i - 1].Name}' and '{shifts[i].Name}' overlap";
            }
        }

        // Shifts that hand over to each other are one stretch: a break may span the handover (13:45-14:15).
        var stretches = new List<(int Start, int End)>();
        foreach (var (start, end, _) in shifts)
        {
            if (stretches.Count > 0 && stretches[^1].End == start)
            {
                stretches[^1] = (stretches[^1].Start, end);
            }
            else
            {
                stretches.Add((start, end));
            }
        }

        for (var i = 0; i < plan.Breaks.Count; i++)
        {
            if (!TimeOfDayAttribute.TryParse(plan.Breaks[i].Start, out var start) || !TimeOfDayAttribute.TryParse(plan.Breaks[i].End, out var end))
            {
                return null;
            }

            var within = false;
            for (var day = 1; day <= 7 && !within; day++)
            {
                var s = (day * 1440) + (int)start.ToTimeSpan().TotalMinutes;
                var e = (day * 1440) + (int)end.ToTimeSpan().TotalMinutes + (end <= start ? 1440 : 0);
                within = stretches.Any(x => x.Start <= s && e <= x.End);
            }

            if (!within)
            {
                return $"breaks[{i}]: {plan.Breaks[i].Start}-{plan.Breaks[i].End} is not within the shifts";
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="shift"/> starts on <paramref name="day"/> by its own <c>days</c> (all days when it has none).</summary>
    private static bool RunsOn(ShiftOptions shift, DayOfWeek day) =>
        shift.Days.Count == 0 || shift.Days.Any(d => Enum.TryParse<DayOfWeek>(d, ignoreCase: true, out var parsed) && !int.TryParse(d, out _) && parsed == day);
}
