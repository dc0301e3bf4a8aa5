namespace Gateway.Oee;

/// <summary>
/// The KPI computation (ISO 22400-2): availability, performance, quality, OEE and the six big losses of one machine
/// over any period, from its timeline of states and its counted parts. Pure: the same timeline gives the same figures.
/// </summary>
internal sealed class OeeCalculator
{
    private readonly ShiftCalendar _calendar;
    private readonly OeeLossClassifier _losses;
    private readonly double _idealCycleSeconds;
    private readonly bool _counts;
    private readonly bool _countsGood;
    private readonly bool _countsRejects;

    public OeeCalculator(OeeMachineOptions options, ShiftCalendar calendar, OeeLossClassifier losses)
    {
        _calendar = calendar;
        _losses = losses;
        _idealCycleSeconds = (options.IdealCycleMs ?? 0) / 1000.0;
        _counts = !string.IsNullOrWhiteSpace(options.TotalCountTag);
        _countsGood = !string.IsNullOrWhiteSpace(options.GoodCountTag);
        _countsRejects = !string.IsNullOrWhiteSpace(options.RejectCountTag);
    }

    /// <summary>
    /// The indicators of [<paramref name="from"/>, <paramref name="to"/>), the open state counted up to <paramref name="now"/>;
    /// <paramref name="includeEnd"/> also counts parts stamped exactly at the end (a live period ending now).
    /// </summary>
    public OeePeriod Compute(MachineOeeState state, string name, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, bool includeEnd = true)
    {
        var until = to < now ? to : now;
        var planned = _calendar.PlannedIntervals(from, until);
        double run = 0, plannedSeconds = 0, downtime = 0, plannedStop = 0, unknown = 0;
        double breakdown = 0, setup = 0, micro = 0, idle = 0;
        foreach (var segment in state.Segments)
        {
            var start = segment.Start < from ? from : segment.Start;
            var segmentEnd = segment.End ?? now;
            var end = segmentEnd > until ? until : segmentEnd;
            if (end <= start)
            {
                continue;
            }

            var seconds = (end - start).TotalSeconds;
            switch (segment.State)
            {
                case OeeState.Running:
                    run += seconds;
                    plannedSeconds += seconds;
                    break;
                case OeeState.Unknown:
                    unknown += seconds;
                    break;
                case OeeState.PlannedStop:
                    plannedStop += seconds;
                    break;
                default:
                    var overlap = Overlap(planned, start, end);
                    plannedSeconds += overlap;
                    downtime += overlap;
                    switch (_losses.Category(segment, now))
                    {
                        case OeeLossCategory.Setup:
                            setup += overlap;
                            break;
                        case OeeLossCategory.MicroStop:
                            micro += overlap;
                            break;
                        case OeeLossCategory.Breakdown:
                            breakdown += overlap;
                            break;
                        default:
                            idle += overlap;
                            break;
                    }

                    break;
            }
        }

        long total = 0, good = 0, reject = 0, startupReject = 0;
        foreach (var count in state.Counts)
        {
            if (count.Time < from || count.Time > until || (count.Time == until && !(includeEnd && until == now)))
            {
                continue;
            }

            // Without a good or a reject counter every part counts as good.
            var rejects = _countsRejects ? count.Reject : _countsGood ? count.Total - count.Good : 0;
            total += count.Total;
            reject += rejects;
            if (count.Startup)
            {
                startupReject += rejects;
            }
        }

        // Two counters are read at two instants, so a period's edge can fall between the total and the good (or
        // reject) reading of the same parts: keep 0 <= rejects <= total, so good never exceeds total nor quality 1.
        reject = Math.Clamp(reject, 0, total);
        startupReject = Math.Clamp(startupReject, 0, reject);
        good = total - reject;
        var ideal = _idealCycleSeconds;
        var losses = new OeeLosses(
            breakdown,
            setup,
            micro,
            idle,
            _counts ? Math.Max(0, run - (ideal * total)) : 0,
            startupReject,
            startupReject * ideal,
            reject - startupReject,
            (reject - startupReject) * ideal);
        return new OeePeriod(
            name,
            from,
            to,
            plannedSeconds > 0 ? run / plannedSeconds : null,
            _counts && run > 0 ? ideal * total / run : null,
            _counts && total > 0 ? (double)good / total : null,
            _counts && plannedSeconds > 0 ? ideal * good / plannedSeconds : null,
            run,
            plannedSeconds,
            downtime,
            plannedStop,
            unknown,
            total,
            good,
            reject,
            losses);
    }

    /// <summary>
    /// The stops (idle, down, setup) of [<paramref name="from"/>, <paramref name="to"/>) grouped by reason (the state
    /// name when a stop had none), in seconds within planned time, most seconds first, at most <paramref name="max"/>.
    /// </summary>
    public List<OeeDowntimeReason> TopReasons(MachineOeeState state, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, int max)
    {
        var until = to < now ? to : now;
        var planned = _calendar.PlannedIntervals(from, until);
        var reasons = new Dictionary<string, (double Seconds, int Count)>(StringComparer.Ordinal);
        foreach (var segment in state.Segments)
        {
            if (!OeeLossClassifier.IsStop(segment.State))
            {
                continue;
            }

            var start = segment.Start < from ? from : segment.Start;
            var segmentEnd = segment.End ?? now;
            var end = segmentEnd > until ? until : segmentEnd;
            var seconds = end > start ? Overlap(planned, start, end) : 0;
            if (seconds > 0)
            {
                var label = segment.Reason ?? MachineOeeProjection.StateName(segment.State);
                reasons.TryGetValue(label, out var sum);
                reasons[label] = (sum.Seconds + seconds, sum.Count + 1);
            }
        }

        return [.. reasons
            .OrderByDescending(r => r.Value.Seconds)
            .ThenBy(r => r.Key, StringComparer.Ordinal)
            .Take(max)
            .Select(r => new OeeDowntimeReason(r.Key, r.Value.Seconds, r.Value.Count))];
    }

    public static double Overlap(List<(DateTimeOffset Start, DateTimeOffset End)> intervals, DateTimeOffset start, DateTimeOffset end)
    {
        double seconds = 0;
        foreach (var (s, e) in intervals)
        {
            var a = s > start ? s : start;
            var b = e < end ? e : end;
            if (b > a)
            {
                seconds += (b - a).TotalSeconds;
            }
        }

        return seconds;
    }
}
