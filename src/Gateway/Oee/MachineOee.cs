using Gateway.Drivers;

namespace Gateway.Oee;

/// <summary>
/// One machine's OEE, the timeline and counters: turns its state, reason and counter samples (decoded by
/// <see cref="OeeSignals"/>) into a timeline of states and counted parts; <see cref="OeeCalculator"/> computes the
/// ISO 22400 indicators over any period from them, and <see cref="MachineOeeProjection"/> the dashboard's view.
/// Times come from the samples' source timestamps, clamped to the gateway clock and to the current state's start
/// (so history is never rewritten). Not thread-safe: <see cref="OeeEngine"/> serialises access.
/// </summary>
internal sealed partial class MachineOee
{
    private static readonly TimeSpan s_hour = TimeSpan.FromHours(1);

    private readonly OeeMachineOptions _options;
    private readonly ShiftCalendar _calendar;
    private readonly OeeSignals _signals;
    private readonly OeeLossClassifier _losses;
    private readonly OeeCalculator _calculator;
    private readonly TimeSpan _startupWindow;
    private readonly TimeSpan _idealCycle;
    private long? _lastTotal;
    private long? _lastGood;
    private long? _lastReject;
    private CounterClock _totalClock;
    private CounterClock _goodClock;
    private CounterClock _rejectClock;
    private DateTimeOffset _floor = DateTimeOffset.MinValue;

    // Where the dating by the present wall clock began: the start, the resume, or the last clock step. A step back
    // re-dates what was recorded since then.
    private DateTimeOffset _epoch = DateTimeOffset.MinValue;
    private MachineOeeState _state = new();

    public MachineOee(OeeMachineOptions options, ShiftPlanOptions plan)
    {
        _options = options;
        _calendar = new ShiftCalendar(plan);
        _signals = new OeeSignals(options.StateMap);
        _losses = new OeeLossClassifier(options);
        _calculator = new OeeCalculator(options, _calendar, _losses);
        _startupWindow = TimeSpan.FromMinutes(options.StartupRejectMinutes);
        _idealCycle = TimeSpan.FromMilliseconds(options.IdealCycleMs ?? 0);
    }

    public string Name => _options.Name;

    public OeeMachineOptions Options => _options;

    public ShiftCalendar Calendar => _calendar;

    /// <summary>The state value that the state map did not know in the sample just read (null otherwise), for one log line per value.</summary>
    public string? TakeUnmappedValue() => _signals.TakeUnmappedValue();

    /// <summary>How this machine's stops are sorted into loss categories.</summary>
    public OeeLossClassifier Losses => _losses;

    public MachineOeeState State => _state;

    private StateSegment? Current => _state.Segments.Count > 0 ? _state.Segments[^1] : null;

    /// <summary>Starts fresh at <paramref name="now"/>: unknown until the first state sample.</summary>
    public void Start(DateTimeOffset now)
    {
        _state = new MachineOeeState();
        _floor = now;
        _epoch = now;
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

        if (savedAt > now && _state.Segments.Count > 0)
        {
            // Saved by a clock ahead of this one (the wall clock went back while the gateway was off): what was
            // recorded moves back as for a step back, so it does not overlap what comes now.
            _epoch = _state.Segments[0].Start;
            OnClockStep(savedAt, now, TimeSpan.Zero);
        }

        var gapStart = Current?.End ?? savedAt;
        Open(gapStart < now ? gapStart : now, OeeState.Unknown, null);

        // Samples dated inside the gap (a state "since" before the restart) must not fill it.
        _floor = now;
        _epoch = now;
        _lastTotal = _lastGood = _lastReject = null;
    }

    /// <summary>
    /// What the tag at <paramref name="path"/> (a tag path, without leading or trailing '/') is to this machine: the
    /// roles whose configured tag it is, resolved once by the engine rather than per sample.
    /// </summary>
    public OeeTagRoles RolesOf(string path) =>
        (Is(path, _options.StateTag) ? OeeTagRoles.State : 0)
        | (Is(path, _options.RunningTag) ? OeeTagRoles.Running : 0)
        | (Is(path, _options.DownReasonTag) ? OeeTagRoles.DownReason : 0)
        | (Is(path, _options.TotalCountTag) ? OeeTagRoles.TotalCount : 0)
        | (Is(path, _options.GoodCountTag) ? OeeTagRoles.GoodCount : 0)
        | (Is(path, _options.RejectCountTag) ? OeeTagRoles.RejectCount : 0);

    /// <summary>
    /// Reads a sample of one of this machine's tags (<paramref name="roles"/>: what the tag is to it, see
    /// <see cref="RolesOf"/>) at <paramref name="now"/>; <paramref name="monotonic"/> is the engine's monotonic clock
    /// (time since it started), for counters read across a clock step.
    /// </summary>
    /// <returns>What a counter sample turned out to be (reset, rollover, a burst across a step), so the caller can log it.</returns>
    public CounterReading OnSample(OeeTagRoles roles, in Sample sample, DateTimeOffset now, TimeSpan monotonic)
    {
        var at = sample.SourceTimestamp > now ? now : sample.SourceTimestamp;
        var result = default(CounterReading);
        if ((roles & OeeTagRoles.State) != 0)
        {
            OnState(sample.Quality == Quality.Bad ? OeeState.Unknown : _signals.MapState(sample.Value), at);
        }

        if ((roles & OeeTagRoles.Running) != 0)
        {
            OnState(sample.Quality == Quality.Bad ? OeeState.Unknown : OeeSignals.RunningState(sample.Value), at);
        }

        if ((roles & OeeTagRoles.DownReason) != 0 && sample.Quality != Quality.Bad)
        {
            OnReason(sample.Value.Kind == SampleValueKind.None ? "" : sample.Value.ToString(), at);
        }

        if ((roles & OeeTagRoles.Counts) != 0 && sample.Quality == Quality.Bad)
        {
            // The PLC stopped answering: the time until it answers again is unknown (its state tag is Bad too), so
            // the parts made meanwhile are not counted against it; the next good reading is a new baseline, as
            // after a restart of the gateway.
            if ((roles & OeeTagRoles.TotalCount) != 0)
            {
                _lastTotal = null;
            }

            if ((roles & OeeTagRoles.GoodCount) != 0)
            {
                _lastGood = null;
            }

            if ((roles & OeeTagRoles.RejectCount) != 0)
            {
                _lastReject = null;
            }

            return result;
        }

        if ((roles & OeeTagRoles.Counts) == 0 || sample.Quality == Quality.Bad || !OeeSignals.TryCounterValue(sample.Value, out var value))
        {
            return result;
        }

        if ((roles & OeeTagRoles.TotalCount) != 0)
        {
            result = Count(ref _lastTotal, ref _totalClock, value, at, monotonic, (d, n) => d.Total += n);
        }

        if ((roles & OeeTagRoles.GoodCount) != 0)
        {
            result = Count(ref _lastGood, ref _goodClock, value, at, monotonic, (d, n) => d.Good += n);
        }

        if ((roles & OeeTagRoles.RejectCount) != 0)
        {
            result = Count(ref _lastReject, ref _rejectClock, value, at, monotonic, (d, n) => d.Reject += n);
        }

        return result;
    }

    private static bool Is(string path, string? configured) => configured is not null && string.Equals(path, configured.Trim('/'), StringComparison.Ordinal);

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

        if (current.State == OeeState.PlannedStop || _losses.IsSetup(current))
        {
            _state.LastStartupTrigger = at;
        }

        Open(at, state, OeeLossClassifier.IsStop(state) ? _state.Reason : null);
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
        if (!OeeLossClassifier.IsStop(current.State) || string.Equals(current.Reason, normalised, StringComparison.Ordinal))
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

        var wasSetup = _losses.IsSetup(current);
        Open(at, current.State, normalised);
        if (wasSetup && !_losses.IsSetup(Current!))
        {
            _state.LastStartupTrigger = at;
        }
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

    /// <summary>
    /// The indicators of [<paramref name="from"/>, <paramref name="to"/>), the open state counted up to <paramref name="now"/>;
    /// <paramref name="includeEnd"/> also counts parts stamped exactly at the end (a live period ending now).
    /// </summary>
    public OeePeriod Compute(string name, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, bool includeEnd = true) =>
        _calculator.Compute(_state, name, from, to, now, includeEnd);

    /// <summary>The stops of [<paramref name="from"/>, <paramref name="to"/>) by reason, most seconds first (see <see cref="OeeCalculator.TopReasons"/>).</summary>
    public List<OeeDowntimeReason> TopReasons(DateTimeOffset from, DateTimeOffset to, DateTimeOffset now) =>
        _calculator.TopReasons(_state, from, to, now, MachineOeeProjection.MaxTopReasons);

    /// <summary>The machine's snapshot at <paramref name="now"/> (see <see cref="MachineOeeProjection"/>).</summary>
    public OeeMachineSnapshot Snapshot(DateTimeOffset now) => MachineOeeProjection.Snapshot(this, now);

    /// <summary>
    /// The final values of the tracked shift when the calendar's shift on <paramref name="now"/> (<paramref name="shift"/>)
    /// is another one or none; null while it goes on. A step back of the wall clock to before the tracked shift's start
    /// does not end it (it would close as an empty shift): the calendar's shift on the corrected time is tracked instead.
    /// </summary>
    public OeePeriod? EndedShift(ShiftInstance? shift, DateTimeOffset now) =>
        _state.CurrentShift is { } tracked && (shift is null || shift.Start != tracked.Start) && now >= tracked.Start
            ? Compute(tracked.Name, tracked.Start, tracked.End, tracked.End < now ? tracked.End : now, includeEnd: false)
            : null;

    /// <summary>
    /// Closes the tracked shift when another one (or none) is on, keeping its final values as the previous shift,
    /// and forgets what neither the current shift nor the last hour needs.
    /// </summary>
    /// <returns>The closed shift, or null.</returns>
    public OeePeriod? Tick(DateTimeOffset now)
    {
        var shift = _calendar.ShiftAt(now);
        var closed = EndedShift(shift, now);
        if (closed is not null)
        {
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
}

/// <summary>What one tag is to a machine's OEE: one flag per configured tag that names it (a tag may fill several).</summary>
[Flags]
internal enum OeeTagRoles
{
    State = 1,
    Running = 2,
    DownReason = 4,
    TotalCount = 8,
    GoodCount = 16,
    RejectCount = 32,
    Counts = TotalCount | GoodCount | RejectCount,
}
