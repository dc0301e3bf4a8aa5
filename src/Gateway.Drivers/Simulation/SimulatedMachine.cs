namespace Gateway.Drivers.Simulation;

/// <summary>
/// A machine as a pure function of (seed, time): its state timeline is drawn from a seeded generator,
/// starting at an epoch (the start of the UTC day), so a restarted gateway sees the same counters the
/// machine would have shown. Counters advance one part per completed cycle, at the cycle's exact time.
/// </summary>
internal sealed class SimulatedMachine
{
    // Each fits the 16 characters of the Modbus string registers of `gateway simulate` (docs/simulate-register-map.md).
    private static readonly string[] s_downReasons = ["jam", "out of material", "tool change", "electrical fault", "quality check"];

    /// <summary>The reasons a simulated stop may give.</summary>
    internal static IReadOnlyList<string> DownReasons => s_downReasons;

    private readonly SimulatedMachineSettings _settings;
    private readonly ulong _seed;
    private ulong _segmentRandom;

    // The current segment.
    private long _segmentStartTicks;
    private long _segmentEndTicks;
    private long _cycleTicks;
    private long _cyclesAtSegmentStart;
    private long _rejectsAtSegmentStart;
    private long _cyclesDoneInSegment;
    private long _rejectsDoneInSegment;
    private double _temperatureAtSegmentStart;

    public SimulatedMachine(SimulatedMachineSettings settings, int seed, int index, DateTimeOffset epoch)
    {
        _settings = settings;
        _seed = Mix((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)index + 1);
        _segmentRandom = _seed;
        Name = settings.Name;
        State = MachineState.Idle;
        DownReason = "";
        _segmentStartTicks = epoch.UtcTicks;
        _segmentEndTicks = epoch.UtcTicks;
        _temperatureAtSegmentStart = AmbientTemperature;
        NextSegment();
    }

    public const double AmbientTemperature = 22.0;

    /// <summary>
    /// The fastest cycle of a machine with stops, as a multiple of its ideal cycle time: 1.02, so at full speed it
    /// makes 98 % of its ideal rate (a performance of 0.98), as a real machine below its nameplate rate. A machine
    /// that is <c>alwaysRunning</c> runs at the ideal cycle exactly (throughput tests count its parts).
    /// </summary>
    public const double FullSpeedCycleFactor = 1.02;

    public string Name { get; }

    public MachineState State { get; private set; }

    public string DownReason { get; private set; }

    public long TotalCount => _cyclesAtSegmentStart + _cyclesDoneInSegment;

    public long RejectCount => _rejectsAtSegmentStart + _rejectsDoneInSegment;

    /// <summary>Start of the current state, for the state tags' source timestamps.</summary>
    public DateTimeOffset StateSince => new(_segmentStartTicks, TimeSpan.Zero);

    /// <summary>
    /// Advances the model to <paramref name="now"/>, reporting every state change and every completed cycle
    /// in time order through <paramref name="onEvent"/> (null while catching up silently).
    /// </summary>
    public void AdvanceTo(DateTimeOffset now, Action<SimulatedMachine, MachineEvent, DateTimeOffset>? onEvent)
    {
        var nowTicks = now.UtcTicks;
        while (true)
        {
            if (State == MachineState.Running)
            {
                var limit = Math.Min(nowTicks, _segmentEndTicks);
                var cyclesDue = (limit - _segmentStartTicks) / _cycleTicks;
                while (_cyclesDoneInSegment < cyclesDue)
                {
                    _cyclesDoneInSegment++;
                    var at = new DateTimeOffset(_segmentStartTicks + (_cyclesDoneInSegment * _cycleTicks), TimeSpan.Zero);
                    var rejected = IsReject(TotalCount);
                    if (rejected)
                    {
                        _rejectsDoneInSegment++;
                    }

                    onEvent?.Invoke(this, rejected ? MachineEvent.PartRejected : MachineEvent.PartProduced, at);
                }
            }

            if (_segmentEndTicks > nowTicks)
            {
                return;
            }

            _temperatureAtSegmentStart = TemperatureAt(_segmentEndTicks);
            _cyclesAtSegmentStart += _cyclesDoneInSegment;
            _rejectsAtSegmentStart += _rejectsDoneInSegment;
            _cyclesDoneInSegment = 0;
            _rejectsDoneInSegment = 0;
            _segmentStartTicks = _segmentEndTicks;
            NextSegment();
            onEvent?.Invoke(this, MachineEvent.StateChanged, StateSince);
        }
    }

    /// <summary>Temperature in °C: it rises towards a working temperature while running and cools otherwise.</summary>
    public double Temperature(DateTimeOffset at, long sampleIndex) =>
        TemperatureAt(at.UtcTicks) + (Noise(sampleIndex, 1) * 0.3);

    /// <summary>Motor current in A, with noise: high while running, low at idle, near zero when stopped.</summary>
    public double MotorCurrent(long sampleIndex)
    {
        var baseline = State switch
        {
            MachineState.Running => 12.0 * (2000.0 / Math.Max(500, _settings.IdealCycleMs) * 0.25 + 0.75),
            MachineState.Idle => 2.5,
            _ => 0.1,
        };
        return Math.Max(0, baseline + (Noise(sampleIndex, 2) * (State == MachineState.Running ? 0.6 : 0.05)));
    }

    private double TemperatureAt(long ticks)
    {
        var target = State switch
        {
            MachineState.Running => 65.0,
            MachineState.Idle => 45.0,
            _ => AmbientTemperature,
        };
        var elapsedSeconds = (ticks - _segmentStartTicks) / (double)TimeSpan.TicksPerSecond;
        return target + ((_temperatureAtSegmentStart - target) * Math.Exp(-elapsedSeconds / 600.0));
    }

    private void NextSegment()
    {
        var scale = _settings.StateTimeScale;
        var previous = State;
        var draw = NextDouble();
        if (_settings.AlwaysRunning)
        {
            // One endless running segment, at the ideal cycle time.
            State = MachineState.Running;
            DownReason = "";
            _segmentEndTicks = DateTimeOffset.MaxValue.UtcTicks;
            _cycleTicks = Math.Max(1, _settings.IdealCycleMs * TimeSpan.TicksPerMillisecond);
        }
        else if (previous != MachineState.Running)
        {
            State = MachineState.Running;
            DownReason = "";
            SetDuration(RandomSeconds(120, 1200) * scale);
            // A running period runs at FullSpeedCycleFactor x the ideal cycle time (7 periods in 10), or slower
            // (reduced speed, up to 25 % more): never faster than the ideal cycle, with a margin of 2 % so that a
            // period that starts mid-cycle (a shift start, the last hour, a gateway restart) does not count one part
            // more than its run time allows and show a performance above 100 %.
            var speedFactor = FullSpeedCycleFactor * (NextDouble() < 0.7 ? 1.0 : 1.0 + (NextDouble() * 0.25));
            _cycleTicks = Math.Max(1, (long)(_settings.IdealCycleMs * TimeSpan.TicksPerMillisecond * speedFactor));
        }
        else if (draw < 0.55)
        {
            // Micro-stops and starvation: short idle periods.
            State = MachineState.Idle;
            DownReason = "";
            SetDuration(RandomSeconds(5, 90) * scale);
        }
        else if (draw < 0.9)
        {
            State = MachineState.Down;
            DownReason = s_downReasons[(int)(NextDouble() * s_downReasons.Length) % s_downReasons.Length];
            SetDuration(RandomSeconds(60, 900) * scale);
        }
        else
        {
            State = MachineState.PlannedStop;
            DownReason = "";
            SetDuration(RandomSeconds(300, 1200) * scale);
        }
    }

    private void SetDuration(double seconds) =>
        _segmentEndTicks = _segmentStartTicks + Math.Max(TimeSpan.TicksPerMillisecond, (long)(seconds * TimeSpan.TicksPerSecond));

    private double RandomSeconds(double min, double max) => min + (NextDouble() * (max - min));

    private double NextDouble()
    {
        _segmentRandom += 0x9E3779B97F4A7C15UL;
        return (Mix(_segmentRandom) >> 11) * (1.0 / (1UL << 53));
    }

    private bool IsReject(long partNumber) =>
        _settings.RejectPermille > 0 && (long)(Mix(_seed ^ ((ulong)partNumber * 0xBF58476D1CE4E5B9UL)) % 1000UL) < _settings.RejectPermille;

    /// <summary>Deterministic noise in [-1, 1] for a sample index and a channel.</summary>
    public double Noise(long sampleIndex, int channel) =>
        ((Mix(_seed ^ ((ulong)sampleIndex * 0x94D049BB133111EBUL) ^ ((ulong)channel << 56)) >> 11) * (2.0 / (1UL << 53))) - 1.0;

    /// <summary>SplitMix64's finaliser: a cheap, well-mixed hash.</summary>
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

internal enum MachineEvent
{
    StateChanged,
    PartProduced,
    PartRejected,
}
