using Gateway.Drivers;

namespace Gateway.Oee;

// A step of the wall clock: the unknown gap of a forward step, the recorded timeline moved back by a backward one,
// and the counters held to what the ideal cycle allows meanwhile.
internal sealed partial class MachineOee
{
    /// <summary>
    /// A step of the wall clock, found by the engine at <paramref name="actual"/> (wall) where the monotonic clock
    /// said <paramref name="expected"/>. Forward: the time between was never lived as far as durations go, so it is
    /// unknown time in the timeline (neither run nor down time) and the state goes on after it. Back: what was
    /// recorded since the last step (or the start) moves back by the step, so its durations, measured on the
    /// monotonic clock, stay as they were and are placed at the corrected wall time; whatever that overlaps from
    /// before is the time that came twice and gives way (it is usually the unknown gap of an earlier forward step).
    /// Either way the next increment of each counter is held to what the ideal cycle allows in the monotonic time
    /// since its previous reading.
    /// </summary>
    public void OnClockStep(DateTimeOffset expected, DateTimeOffset actual, TimeSpan monotonic)
    {
        _totalClock.OnStep(monotonic);
        _goodClock.OnStep(monotonic);
        _rejectClock.OnStep(monotonic);
        if (Current is null)
        {
            Start(actual);
            return;
        }

        if (actual > expected)
        {
            var current = Current;
            if (current.State != OeeState.Unknown)
            {
                var (state, reason) = (current.State, current.Reason);
                Open(expected < current.Start ? current.Start : expected, OeeState.Unknown, null);
                Open(actual, state, reason);
            }

            _floor = actual;
            _epoch = actual;
            return;
        }

        var back = expected - actual;
        var cut = _epoch - back;
        var segments = _state.Segments;
        for (var i = segments.Count - 1; i >= 0; i--)
        {
            var segment = segments[i];
            if (segment.Start >= _epoch)
            {
                segment.Start -= back;
                segment.End -= back;
            }
            else if (segment.End is not { } end || end > _epoch)
            {
                // Straddles the epoch: its part before stays, its part after moves back.
                segment.Start = segment.Start < cut ? segment.Start : cut;
                segment.End -= back;
            }
            else if (segment.Start >= cut)
            {
                segments.RemoveAt(i);
            }
            else if (end > cut)
            {
                segment.End = cut;
            }
        }

        for (var i = segments.Count - 1; i > 0; i--)
        {
            if (segments[i - 1].State == segments[i].State && segments[i - 1].Reason == segments[i].Reason)
            {
                segments[i - 1].End = segments[i].End;
                segments.RemoveAt(i);
            }
        }

        foreach (var count in _state.Counts)
        {
            if (count.Time >= _epoch)
            {
                count.Time -= back;
            }
        }

        _state.Counts.Sort((a, b) => a.Time.CompareTo(b.Time));
        if (_state.LastStartupTrigger is { } trigger && trigger >= _epoch)
        {
            _state.LastStartupTrigger = trigger - back;
        }

        _floor = actual;
        _epoch = cut;
    }
}
