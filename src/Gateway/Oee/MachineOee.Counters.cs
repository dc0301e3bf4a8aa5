using Gateway.Drivers;

namespace Gateway.Oee;

// The counters: each reading turned into counted parts (deltas, resets, bursts held to the ideal cycle), and
// whether a reject falls in the start-up window.
internal sealed partial class MachineOee
{
    private CounterReading Count(ref long? last, ref CounterClock clock, long value, DateTimeOffset at, TimeSpan monotonic, Action<CountDelta, long> add)
    {
        var previous = last;
        last = value;
        clock.LastRead = monotonic;
        if (clock.Stepped && monotonic - clock.StepAt > CounterClock.Window)
        {
            clock.Stepped = false;
        }

        if (previous is not { } before)
        {
            return default; // a baseline, not parts
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

        long burst = 0;
        if (clock.Stepped && _idealCycle > TimeSpan.Zero && delta > 0)
        {
            // Read across a clock step: a counter driven by the wall clock (a simulator, a PLC synchronised by the
            // same NTP) jumps by the step, in one sample or in a burst of them. Parts beyond what the ideal cycle
            // allows in the measured (monotonic) time since the last reading before the step cannot have been made:
            // not counted.
            var allowed = Math.Max(0, (long)Math.Ceiling((monotonic - clock.BudgetFrom) / _idealCycle) - clock.Counted);
            if (delta > allowed)
            {
                burst = delta - allowed;
                delta = allowed;
            }

            clock.Counted += delta;
        }

        if (delta == 0)
        {
            return new CounterReading(result, 0);
        }

        var startup = IsStartup(at);
        var second = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        var counts = _state.Counts;
        if (counts.Count == 0 || counts[^1].Time != second || counts[^1].Startup != startup)
        {
            counts.Add(new CountDelta { Time = second, Startup = startup });
        }

        add(counts[^1], delta);
        return new CounterReading(result, burst);
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
        if (current is not null && (current.State == OeeState.PlannedStop || _losses.IsSetup(current)))
        {
            return true; // rejects while setting up are start-up rejects too
        }

        return _calendar.PlannedStartWithin(at, _startupWindow);
    }
}
