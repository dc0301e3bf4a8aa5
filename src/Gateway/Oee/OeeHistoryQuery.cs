namespace Gateway.Oee;

/// <summary>How <c>/api/oee/history</c> groups the history.</summary>
public enum OeeHistoryGrouping
{
    /// <summary>One row per machine and hour of the plant's clock.</summary>
    Hour,

    /// <summary>One row per machine and shift.</summary>
    Shift,

    /// <summary>One row per machine and plant day (local midnight to midnight: 23 or 25 hours on a DST change), summed from its hours.</summary>
    Day,

    /// <summary>One row per machine for the whole range, summed from its hours (the coaching report's figures).</summary>
    Total,
}

/// <summary>
/// Reads the history for a range and a grouping. Days and totals are sums of hours: times and counts add up, and the
/// ratios are computed again from the sums, as ISO 22400-2 defines them: A = Σ run / Σ planned; P = Σ (P × run) / Σ run
/// (that is ideal cycle × Σ parts / Σ run, whatever the ideal cycle was in each hour); Q = Σ good / Σ total; OEE = A × P × Q.
/// </summary>
public static class OeeHistoryQuery
{
    public static List<OeeHistoryEntry> Read(OeeHistory history, PlantTime plant, OeeHistoryGrouping by, DateTimeOffset from, DateTimeOffset to, string? machine)
    {
        if (by == OeeHistoryGrouping.Shift)
        {
            return history.Query(OeeHistoryKind.Shift, from, to, machine);
        }

        var hours = history.Query(OeeHistoryKind.Hour, from, to, machine);
        if (by == OeeHistoryGrouping.Hour)
        {
            return hours;
        }

        var groups = hours.GroupBy(h => (h.Machine, Start: by == OeeHistoryGrouping.Day ? plant.StartOfDay(h.Period.Start) : from));
        var result = new List<OeeHistoryEntry>();
        foreach (var group in groups)
        {
            var start = group.Key.Start;
            var end = by == OeeHistoryGrouping.Day ? plant.StartOfDay(start + TimeSpan.FromHours(26)) : to;
            var name = by == OeeHistoryGrouping.Day ? plant.Local(start).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "total";
            result.Add(Sum(group.Key.Machine, name, start, end, [.. group]));
        }

        return [.. result.OrderBy(e => e.Period.Start).ThenBy(e => e.Machine, StringComparer.Ordinal)];
    }

    /// <summary>The sum of <paramref name="entries"/> (one machine's) as one entry over [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public static OeeHistoryEntry Sum(string machine, string name, DateTimeOffset start, DateTimeOffset end, IReadOnlyList<OeeHistoryEntry> entries)
    {
        double run = 0, planned = 0, down = 0, plannedStop = 0, unknown = 0, idealRun = 0;
        double breakdown = 0, setup = 0, micro = 0, idle = 0, reduced = 0, startupSeconds = 0, productionSeconds = 0;
        long total = 0, good = 0, reject = 0, startup = 0, production = 0;
        bool performance = false, quality = false, oee = false;
        var reasons = new Dictionary<string, (double Seconds, int Count)>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var p = entry.Period;
            run += p.RunSeconds;
            planned += p.PlannedSeconds;
            down += p.DowntimeSeconds;
            plannedStop += p.PlannedStopSeconds;
            unknown += p.UnknownSeconds;
            total += p.TotalCount;
            good += p.GoodCount;
            reject += p.RejectCount;
            idealRun += (p.Performance ?? 0) * p.RunSeconds;
            performance |= p.Performance is not null;
            quality |= p.Quality is not null;
            oee |= p.Oee is not null;
            var l = p.Losses;
            breakdown += l.BreakdownSeconds;
            setup += l.SetupSeconds;
            micro += l.MicroStopSeconds;
            idle += l.IdleSeconds;
            reduced += l.ReducedSpeedSeconds;
            startup += l.StartupRejectCount;
            startupSeconds += l.StartupRejectSeconds;
            production += l.ProductionRejectCount;
            productionSeconds += l.ProductionRejectSeconds;
            foreach (var reason in entry.TopReasons)
            {
                reasons.TryGetValue(reason.Reason, out var sum);
                reasons[reason.Reason] = (sum.Seconds + reason.Seconds, sum.Count + reason.Count);
            }
        }

        double? a = planned > 0 ? run / planned : null;
        double? perf = performance && run > 0 ? idealRun / run : null;
        double? q = quality && total > 0 ? (double)good / total : null;
        double? o = oee && a is { } av && planned > 0 ? av * (perf ?? 0) * (q ?? (total == 0 ? 0 : 1)) : null;
        var period = new OeePeriod(name, start, end, a, perf, q, o, run, planned, down, plannedStop, unknown, total, good, reject,
            new OeeLosses(breakdown, setup, micro, idle, reduced, startup, startupSeconds, production, productionSeconds));
        var top = reasons
            .OrderByDescending(r => r.Value.Seconds)
            .ThenBy(r => r.Key, StringComparer.Ordinal)
            .Take(MachineOeeProjection.MaxTopReasons)
            .Select(r => new OeeDowntimeReason(r.Key, r.Value.Seconds, r.Value.Count))
            .ToList();
        return new OeeHistoryEntry(machine, OeeHistoryKind.Hour, period, top, entries.All(e => e.Complete));
    }
}
