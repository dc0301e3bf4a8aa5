using System.Globalization;
using Gateway.Drivers;

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

/// <summary>
/// One machine's OEE: turns its state, reason and counter samples into a timeline of states and counted parts,
/// and computes ISO 22400 indicators over any period from them. Times come from the samples' source timestamps,
/// clamped to the gateway clock and to the current state's start (so history is never rewritten). Not thread-safe:
/// <see cref="OeeEngine"/> serialises access.
/// </summary>
internal sealed class MachineOee
{
    public const int MaxRecentEvents = 20;
    public const int MaxTopReasons = 10;
    private static readonly TimeSpan s_hour = TimeSpan.FromHours(1);
    private static readonly HashSet<string> s_trueTexts = new(["true", "1", "on", "yes"], StringComparer.OrdinalIgnoreCase);
    private static readonly HashSet<string> s_falseTexts = new(["false", "0", "off", "no"], StringComparer.OrdinalIgnoreCase);

    private readonly OeeMachineOptions _options;
    private readonly ShiftCalendar _calendar;
    private readonly Dictionary<string, OeeState> _stateMap = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _setupReasons = new(StringComparer.OrdinalIgnoreCase);
    private readonly double _idealCycleSeconds;
    private readonly TimeSpan _microStop;
    private readonly TimeSpan _startupWindow;
    private readonly bool _countsRejects;
    private readonly bool _countsGood;
    private readonly bool _counts;
    private long? _lastTotal;
    private long? _lastGood;
    private long? _lastReject;
    private DateTimeOffset _floor = DateTimeOffset.MinValue;
    private MachineOeeState _state = new();

    public MachineOee(OeeMachineOptions options, ShiftPlanOptions plan)
    {
        _options = options;
        _calendar = new ShiftCalendar(plan);
        _idealCycleSeconds = (options.IdealCycleMs ?? 0) / 1000.0;
        _counts = !string.IsNullOrWhiteSpace(options.TotalCountTag);
        _countsGood = !string.IsNullOrWhiteSpace(options.GoodCountTag);
        _microStop = TimeSpan.FromSeconds(options.MicroStopSeconds);
        _startupWindow = TimeSpan.FromMinutes(options.StartupRejectMinutes);
        _countsRejects = !string.IsNullOrWhiteSpace(options.RejectCountTag);
        foreach (var reason in options.SetupReasons.Count > 0 ? options.SetupReasons : [.. OeeMachineOptions.DefaultSetupReasons])
        {
            _setupReasons.Add(reason.Trim());
        }

        var map = options.StateMap ?? new OeeStateMapOptions();
        Map(map.Running, OeeStateMapOptions.DefaultRunning, OeeState.Running);
        Map(map.Idle, OeeStateMapOptions.DefaultIdle, OeeState.Idle);
        Map(map.Down, OeeStateMapOptions.DefaultDown, OeeState.Down);
        Map(map.Setup, OeeStateMapOptions.DefaultSetup, OeeState.Setup);
        Map(map.PlannedStop, OeeStateMapOptions.DefaultPlannedStop, OeeState.PlannedStop);
    }

    public string Name => _options.Name;

    public OeeMachineOptions Options => _options;

    public ShiftCalendar Calendar => _calendar;

    /// <summary>The last state value that the state map did not know, for one log line per value.</summary>
    public string? UnmappedValue { get; private set; }

    public MachineOeeState State => _state;

    private StateSegment? Current => _state.Segments.Count > 0 ? _state.Segments[^1] : null;

    /// <summary>Starts fresh at <paramref name="now"/>: unknown until the first state sample.</summary>
    public void Start(DateTimeOffset now)
    {
        _state = new MachineOeeState();
        _floor = now;
        Open(now, OeeState.Unknown, null);
        _state.CurrentShift = _calendar.ShiftAt(now);
    }

    /// <summary>
    /// Continues from a persisted state saved at <paramref name="savedAt"/>: the gap up to <paramref name="now"/>
    /// is unknown (the gateway's downtime is not the machine's), and the counters take a new baseline, so parts
    /// made while the gateway was off are not counted against unknown time.
    /// </summary>
    public void Resume(MachineOeeState state, DateTimeOffset savedAt, DateTimeOffset now)
    {
        _state = state;
        if (Current is { End: null } open)
        {
            open.End = savedAt > open.Start ? savedAt : open.Start;
        }

        var gapStart = Current?.End ?? savedAt;
        Open(gapStart < now ? gapStart : now, OeeState.Unknown, null);

        // Samples dated inside the gap (a state "since" before the restart) must not fill it.
        _floor = now;
        _lastTotal = _lastGood = _lastReject = null;
    }

    /// <summary>Reads a sample of one of this machine's tags (<paramref name="path"/> is the tag's path).</summary>
    /// <returns>False when a counter went down (reset or rollover), so the caller can log it.</returns>
    public CounterEvent OnSample(string path, in Sample sample, DateTimeOffset now)
    {
        var at = sample.SourceTimestamp > now ? now : sample.SourceTimestamp;
        var result = CounterEvent.None;
        if (Is(path, _options.StateTag))
        {
            OnState(sample.Quality == Quality.Bad ? OeeState.Unknown : MapState(sample.Value), at);
        }

        if (Is(path, _options.RunningTag))
        {
            OnState(sample.Quality == Quality.Bad ? OeeState.Unknown : RunningState(sample.Value), at);
        }

        if (Is(path, _options.DownReasonTag) && sample.Quality != Quality.Bad)
        {
            OnReason(sample.Value.Kind == SampleValueKind.None ? "" : sample.Value.ToString(), at);
        }

        if (sample.Quality == Quality.Bad || !TryCounterValue(sample.Value, out var value))
        {
            return result;
        }

        if (Is(path, _options.TotalCountTag))
        {
            result = Count(ref _lastTotal, value, at, (d, n) => d.Total += n);
        }

        if (Is(path, _options.GoodCountTag))
        {
            result = Count(ref _lastGood, value, at, (d, n) => d.Good += n);
        }

        if (Is(path, _options.RejectCountTag))
        {
            result = Count(ref _lastReject, value, at, (d, n) => d.Reject += n);
        }

        return result;
    }

    private static bool Is(string path, string? configured) => configured is not null && string.Equals(path, configured.Trim('/'), StringComparison.Ordinal);

    /// <summary>
    /// A state value as the map reads it: text trimmed; a number (an integer, a double from a scaled or float register
    /// such as 2.0 or 6.000000000000001, or text such as "2.0") within 1e-6 of an integer reads as that integer.
    /// </summary>
    private OeeState MapState(SampleValue value)
    {
        var text = value.ToString().Trim();
        if (_stateMap.TryGetValue(text, out var state))
        {
            return state;
        }

        var number = value.Kind switch
        {
            SampleValueKind.Double => value.AsDouble,
            SampleValueKind.String when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => double.NaN,
        };
        if (double.IsFinite(number) && Math.Abs(number - Math.Round(number)) < 1e-6 && Math.Abs(number) < 1e15
            && _stateMap.TryGetValue(((long)Math.Round(number)).ToString(CultureInfo.InvariantCulture), out state))
        {
            return state;
        }

        UnmappedValue = text;
        return OeeState.Unknown;
    }

    /// <summary>
    /// A running signal: a boolean, a number (non-zero runs) or the text true/false, 1/0, on/off, yes/no; anything
    /// else (no value, NaN, other text) is unknown rather than down.
    /// </summary>
    private static OeeState RunningState(SampleValue value)
    {
        switch (value.Kind)
        {
            case SampleValueKind.Boolean or SampleValueKind.Integer:
                return value.AsBoolean ? OeeState.Running : OeeState.Down;
            case SampleValueKind.Double when double.IsFinite(value.AsDouble):
                return value.AsDouble != 0 ? OeeState.Running : OeeState.Down;
            case SampleValueKind.String:
                var text = value.AsString!.Trim();
                if (s_trueTexts.Contains(text))
                {
                    return OeeState.Running;
                }

                return s_falseTexts.Contains(text) ? OeeState.Down : OeeState.Unknown;
            default:
                return OeeState.Unknown;
        }
    }

    /// <summary>A counter reading as a whole number: integers as they are, finite doubles rounded (a scaled register); not text or NaN.</summary>
    private static bool TryCounterValue(SampleValue value, out long count)
    {
        count = 0;
        switch (value.Kind)
        {
            case SampleValueKind.Integer or SampleValueKind.Boolean:
                count = value.AsInteger;
                return true;
            case SampleValueKind.Double when double.IsFinite(value.AsDouble) && Math.Abs(value.AsDouble) < 9e18:
                count = (long)Math.Round(value.AsDouble);
                return true;
            default:
                return false;
        }
    }

    private void OnState(OeeState state, DateTimeOffset at)
    {
        if (Current is null)
        {
            Start(at);
        }

        var current = Current!;
        if (current.State == state)
        {
            return;
        }

        if (at < current.Start)
        {
            at = current.Start;
        }

        if (at < _floor)
        {
            at = _floor;
        }

        if (current.State == OeeState.PlannedStop || IsSetup(current))
        {
            _state.LastStartupTrigger = at;
        }

        Open(at, state, IsStop(state) ? _state.Reason : null);
    }

    private void OnReason(string reason, DateTimeOffset at)
    {
        var normalised = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        _state.Reason = normalised;
        if (Current is null)
        {
            Start(at);
        }

        var current = Current!;
        if (!IsStop(current.State) || string.Equals(current.Reason, normalised, StringComparison.Ordinal))
        {
            return;
        }

        if (at < _floor)
        {
            at = _floor;
        }

        if (at <= current.Start)
        {
            // The reason of a stop that began at the same instant (state and reason tags arrive one after the other).
            current.Reason = normalised;
            return;
        }

        var wasSetup = IsSetup(current);
        Open(at, current.State, normalised);
        if (wasSetup && !IsSetup(Current!))
        {
            _state.LastStartupTrigger = at;
        }
    }

    private CounterEvent Count(ref long? last, long value, DateTimeOffset at, Action<CountDelta, long> add)
    {
        var previous = last;
        last = value;
        if (previous is not { } before)
        {
            return CounterEvent.None; // a baseline, not parts
        }

        var delta = value - before;
        var result = CounterEvent.None;
        if (delta < 0)
        {
            if (_options.RolloverAt is { } rollover && value + rollover - before < rollover / 2)
            {
                delta = value + rollover - before;
                result = CounterEvent.Rollover;
            }
            else if (value < before - value)
            {
                delta = value; // reset: nearer zero than where it was, counted again from zero
                result = CounterEvent.Reset;
            }
            else
            {
                // A small step back (a PLC restarted from a retained value a few parts old): those parts were counted
                // already, so none now; the counter continues from its new value.
                delta = 0;
                result = CounterEvent.StepBack;
            }
        }

        if (delta == 0)
        {
            return result;
        }

        var startup = IsStartup(at);
        var second = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        var counts = _state.Counts;
        if (counts.Count == 0 || counts[^1].Time != second || counts[^1].Startup != startup)
        {
            counts.Add(new CountDelta { Time = second, Startup = startup });
        }

        add(counts[^1], delta);
        return result;
    }

    private bool IsStartup(DateTimeOffset at)
    {
        if (_startupWindow <= TimeSpan.Zero)
        {
            return false;
        }

        if (_state.LastStartupTrigger is { } trigger && at - trigger < _startupWindow && at >= trigger)
        {
            return true;
        }

        var current = Current;
        if (current is not null && (current.State == OeeState.PlannedStop || IsSetup(current)))
        {
            return true; // rejects while setting up are start-up rejects too
        }

        return _calendar.PlannedStartWithin(at, _startupWindow);
    }

    private void Open(DateTimeOffset at, OeeState state, string? reason)
    {
        var current = Current;
        if (current is not null)
        {
            if (current.Start == at)
            {
                // Zero-length: replace it rather than keep an empty stretch.
                current.State = state;
                current.Reason = reason;
                current.End = null;
                MergeWithPrevious();
                return;
            }

            current.End = at;
        }

        _state.Segments.Add(new StateSegment { Start = at, State = state, Reason = reason });
    }

    private void MergeWithPrevious()
    {
        var segments = _state.Segments;
        if (segments.Count >= 2 && segments[^2].State == segments[^1].State && segments[^2].Reason == segments[^1].Reason)
        {
            segments[^2].End = null;
            segments.RemoveAt(segments.Count - 1);
        }
    }

    private static bool IsStop(OeeState state) => state is OeeState.Idle or OeeState.Down or OeeState.Setup;

    private bool IsSetup(StateSegment segment) =>
        segment.State == OeeState.Setup || (segment.State is OeeState.Down or OeeState.Idle && segment.Reason is { } reason && _setupReasons.Contains(reason));

    /// <summary>The loss category of a stop: breakdown, setup, micro-stop or idle.</summary>
    private string Category(StateSegment segment, DateTimeOffset now)
    {
        if (IsSetup(segment))
        {
            return "setup";
        }

        if ((segment.End ?? now) - segment.Start < _microStop)
        {
            return "micro-stop";
        }

        return segment.State == OeeState.Down ? "breakdown" : "idle";
    }

    /// <summary>
    /// Closes the tracked shift when another one (or none) is on, keeping its final values as the previous shift,
    /// and forgets what neither the current shift nor the last hour needs.
    /// </summary>
    /// <returns>The closed shift, or null.</returns>
    public OeePeriod? Tick(DateTimeOffset now)
    {
        OeePeriod? closed = null;
        var shift = _calendar.ShiftAt(now);
        if (_state.CurrentShift is { } tracked && (shift is null || shift.Start != tracked.Start))
        {
            closed = Compute(tracked.Name, tracked.Start, tracked.End, tracked.End < now ? tracked.End : now, includeEnd: false);
            _state.PreviousShift = closed;
        }

        _state.CurrentShift = shift;
        var horizon = now - s_hour;
        if (shift is not null && shift.Start < horizon)
        {
            horizon = shift.Start;
        }

        // Keep the current segment and everything that ends after the horizon.
        _state.Segments.RemoveAll(s => s.End is { } end && end <= horizon);
        _state.Counts.RemoveAll(c => c.Time < horizon);

        // Keep the persisted state small (it is written every publish): parts older than two minutes are summed
        // per 10 s, older than an hour per minute. Shift boundaries fall on whole minutes, so no part changes shift;
        // the last hour's start is exact to 10 s.
        Compact(now - TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10));
        Compact(now - s_hour, TimeSpan.FromMinutes(1));
        return closed;
    }

    private void Compact(DateTimeOffset olderThan, TimeSpan bucket)
    {
        var counts = _state.Counts;
        var result = new List<CountDelta>(counts.Count);
        foreach (var count in counts)
        {
            if (count.Time >= olderThan)
            {
                result.Add(count);
                continue;
            }

            var time = new DateTimeOffset(count.Time.UtcTicks - (count.Time.UtcTicks % bucket.Ticks), TimeSpan.Zero);
            if (result.Count > 0 && result[^1].Time == time && result[^1].Startup == count.Startup)
            {
                result[^1].Total += count.Total;
                result[^1].Good += count.Good;
                result[^1].Reject += count.Reject;
            }
            else
            {
                count.Time = time;
                result.Add(count);
            }
        }

        _state.Counts = result;
    }

    /// <summary>
    /// The indicators of [<paramref name="from"/>, <paramref name="to"/>), the open state counted up to <paramref name="now"/>;
    /// <paramref name="includeEnd"/> also counts parts stamped exactly at the end (a live period ending now).
    /// </summary>
    public OeePeriod Compute(string name, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, bool includeEnd = true)
    {
        var until = to < now ? to : now;
        var planned = _calendar.PlannedIntervals(from, until);
        double run = 0, plannedSeconds = 0, downtime = 0, plannedStop = 0, unknown = 0;
        double breakdown = 0, setup = 0, micro = 0, idle = 0;
        foreach (var segment in _state.Segments)
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
                    switch (Category(segment, now))
                    {
                        case "setup":
                            setup += overlap;
                            break;
                        case "micro-stop":
                            micro += overlap;
                            break;
                        case "breakdown":
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
        foreach (var count in _state.Counts)
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

    private static double Overlap(List<(DateTimeOffset Start, DateTimeOffset End)> intervals, DateTimeOffset start, DateTimeOffset end)
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

    /// <summary>The machine's snapshot at <paramref name="now"/>.</summary>
    public OeeMachineSnapshot Snapshot(DateTimeOffset now)
    {
        // The shift on now, from the calendar: between a shift change and the next tick (up to the publish
        // interval, which may be minutes), the tracked shift has ended and must show as the previous one already.
        var shift = _calendar.ShiftAt(now);
        var previousShift = _state.PreviousShift;
        if (_state.CurrentShift is { } tracked && (shift is null || shift.Start != tracked.Start))
        {
            previousShift = Compute(tracked.Name, tracked.Start, tracked.End, tracked.End < now ? tracked.End : now, includeEnd: false);
        }

        var current = shift is null ? null : Compute(shift.Name, shift.Start, shift.End, now);
        var lastHour = Compute("last-hour", now - s_hour, now, now);
        var from = shift?.Start ?? now - s_hour;
        var timeline = new List<OeeTimelineEntry>();
        var reasons = new Dictionary<string, (double Seconds, int Count)>(StringComparer.Ordinal);
        var planned = _calendar.PlannedIntervals(from, now);
        foreach (var segment in _state.Segments)
        {
            var end = segment.End ?? now;
            if (end <= from && segment.End is not null)
            {
                continue;
            }

            var start = segment.Start < from ? from : segment.Start;
            timeline.Add(new OeeTimelineEntry(start, end, StateName(segment.State), segment.Reason));
            if (IsStop(segment.State) && shift is not null)
            {
                var seconds = Overlap(planned, start, end);
                if (seconds > 0)
                {
                    var label = segment.Reason ?? StateName(segment.State);
                    reasons.TryGetValue(label, out var sum);
                    reasons[label] = (sum.Seconds + seconds, sum.Count + 1);
                }
            }
        }

        var events = _state.Segments
            .Where(s => IsStop(s.State))
            .Reverse()
            .Take(MaxRecentEvents)
            .Select(s => new OeeDowntimeEvent(s.Start, s.End, ((s.End ?? now) - s.Start).TotalSeconds, StateName(s.State), Category(s, now), s.Reason ?? StateName(s.State)))
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
            foreach (var (start, end) in _calendar.PlannedIntervals(shift.Start, shift.End))
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

        var state = Current!;
        return new OeeMachineSnapshot(
            Name,
            StateName(state.State),
            state.State == OeeState.Unknown ? null : state.Start,
            IsStop(state.State) ? state.Reason : null,
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

    private void Map(List<string> configured, string[] defaults, OeeState state)
    {
        foreach (var value in configured.Count > 0 ? configured : [.. defaults])
        {
            _stateMap[value.Trim()] = state;
        }
    }
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
