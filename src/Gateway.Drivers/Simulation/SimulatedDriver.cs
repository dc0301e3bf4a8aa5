using Microsoft.Extensions.Logging;

namespace Gateway.Drivers.Simulation;

/// <summary>
/// A small production line: machines with a state machine (running, idle, down with a reason, planned stop),
/// total and reject counters that advance with the cycle time, a temperature and a noisy motor current.
/// Deterministic for a given seed and clock.
/// </summary>
public sealed class SimulatedDriver : IDriver, IPlcDrill
{
    // Per machine: the monotonic timestamp until which its PLC does not answer (a trainer's drill), 0 when it does.
    private long[] _silentUntil = [];
    private bool[] _markedBad = [];
    private readonly SimulatedSettings _settings;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<SimulatedMachineSettings> _machineSettings;
    private readonly Dictionary<string, TagInfo> _overrides;
    private readonly List<MachineTags> _machineTags = [];
    private readonly TagInfo[] _extraTags;
    private readonly List<TagInfo> _allTags = [];
    private readonly List<Sample> _pending = new(256);
    private readonly Action<SimulatedMachine, MachineEvent, DateTimeOffset> _onEvent;
    private DateTimeOffset _now;

    public SimulatedDriver(string name, SimulatedSettings settings, IEnumerable<TagConfig> tagOverrides, DriverContext context)
    {
        Name = name;
        _settings = settings;
        _timeProvider = context.TimeProvider;
        _logger = context.LoggerFactory.CreateLogger<SimulatedDriver>();
        _machineSettings = settings.Machines.Count > 0 ? settings.Machines : SimulatedSettings.DefaultMachines;
        _overrides = tagOverrides.ToDictionary(t => t.Name, t => new TagInfo(t.Name.Split('/')[0], t.Name[(t.Name.IndexOf('/', StringComparison.Ordinal) + 1)..], t.Unit, t.Deadband), StringComparer.Ordinal);
        foreach (var machine in _machineSettings)
        {
            var tags = new MachineTags(
                Tag(machine.Name, "state", null),
                Tag(machine.Name, "state-code", null),
                Tag(machine.Name, "running", null),
                Tag(machine.Name, "down-reason", null),
                Tag(machine.Name, "total-count", "parts"),
                Tag(machine.Name, "reject-count", "parts"),
                Tag(machine.Name, "temperature", "degC"),
                Tag(machine.Name, "motor-current", "A"));
            _machineTags.Add(tags);
            _allTags.AddRange([tags.State, tags.StateCode, tags.Running, tags.DownReason, tags.Total, tags.Rejects, tags.Temperature, tags.MotorCurrent]);
        }

        _extraTags = new TagInfo[settings.ExtraTags];
        for (var i = 0; i < _extraTags.Length; i++)
        {
            _extraTags[i] = Tag("load", $"tag-{i:D5}", "1");
        }

        _allTags.AddRange(_extraTags);
        _onEvent = OnMachineEvent;
        _silentUntil = new long[_machineSettings.Count];
        _markedBad = new bool[_machineSettings.Count];
    }

    /// <summary>The names of the tags a simulated driver defines, for validating overrides.</summary>
    public static IEnumerable<string> TagNames(SimulatedSettings settings)
    {
        var machines = settings.Machines.Count > 0 ? settings.Machines : SimulatedSettings.DefaultMachines;
        string[] paths = ["state", "state-code", "running", "down-reason", "total-count", "reject-count", "temperature", "motor-current"];
        return machines.SelectMany(m => paths.Select(p => m.Name + "/" + p))
            .Concat(Enumerable.Range(0, settings.ExtraTags).Select(i => $"load/tag-{i:D5}"));
    }

    public string Name { get; }

    public IReadOnlyList<TagInfo> Tags => _allTags;

    public DriverState State { get; private set; } = DriverState.Starting;

    public string? LastError => null;

    public async Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        var epoch = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var machines = new SimulatedMachine[_machineSettings.Count];
        for (var i = 0; i < machines.Length; i++)
        {
            machines[i] = new SimulatedMachine(_machineSettings[i], _settings.Seed, i, epoch);
            machines[i].AdvanceTo(now, null);
        }

        var intervalTicks = TimeSpan.FromMilliseconds(_settings.IntervalMs).Ticks;
        var sampleIndex = now.UtcTicks / intervalTicks;
        State = DriverState.Connected;
        SimulatedLog.Started(_logger, Name, machines.Length, _allTags.Count, _settings.Seed);

        _now = now;
        for (var i = 0; i < machines.Length; i++)
        {
            AddStateSamples(machines[i], _machineTags[i], machines[i].StateSince);
            AddCounterSamples(machines[i], _machineTags[i], now);
            AddAnalogSamples(machines[i], _machineTags[i], now, sampleIndex);
        }

        AddExtraSamples(now, sampleIndex);
        await FlushAsync(writer, cancellationToken);

        // Run time and pace on the monotonic clock: a step of the wall clock neither stops the line nor makes it burst.
        // The due times are the multiples of the interval of the monotonic clock, as for every polling driver
        // (PollSchedule.Aligned: loops of one interval tick together, one burst for the buffer and the outputs); the
        // values are computed, and the samples stamped, from the wall clock.
        var started = _timeProvider.GetTimestamp();
        TimeSpan? stopAfter = _settings.StopAfterSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
        var interval = TimeSpan.FromTicks(intervalTicks);
        var schedule = PollSchedule.Aligned(_timeProvider, interval, writer.ReportPollOverrun);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (stopAfter is { } limit && _timeProvider.GetElapsedTime(started) >= limit)
                {
                    SimulatedLog.Stopped(_logger, Name);
                    await Task.Delay(Timeout.InfiniteTimeSpan, _timeProvider, cancellationToken);
                }

                sampleIndex++;
                await schedule.WaitAsync(cancellationToken);
                now = _timeProvider.GetUtcNow();
                var elapsed = _timeProvider.GetElapsedTime(started);
                if (stopAfter is { } runTime && elapsed > runTime)
                {
                    // The last cycle ends at the run time, measured on the monotonic clock: a step of the wall clock
                    // before it neither ends nor freezes the line.
                    now -= elapsed - runTime;
                }

                // After a long pause (suspended laptop), skip the missed analog samples rather than replaying them.
                var currentIndex = now.UtcTicks / intervalTicks;
                if (currentIndex > sampleIndex)
                {
                    sampleIndex = currentIndex;
                }

                _now = now;
                var silentAny = false;
                for (var i = 0; i < machines.Length; i++)
                {
                    if (IsSilent(i))
                    {
                        // The PLC does not answer: its tags turn Bad once; the machine itself goes on (its counters
                        // advance), as a machine whose network cable was pulled.
                        silentAny = true;
                        if (!_markedBad[i])
                        {
                            _markedBad[i] = true;
                            AddBadSamples(_machineTags[i], now);
                        }

                        machines[i].AdvanceTo(now, null);
                        continue;
                    }

                    if (_markedBad[i])
                    {
                        // Answering again: what it shows now, stamped now (the time it was silent stays unknown).
                        _markedBad[i] = false;
                        AddStateSamples(machines[i], _machineTags[i], now);
                        AddCounterSamples(machines[i], _machineTags[i], now);
                    }

                    _currentTags = _machineTags[i];
                    machines[i].AdvanceTo(now, _onEvent);
                    AddAnalogSamples(machines[i], _machineTags[i], now, sampleIndex);
                }

                State = silentAny ? DriverState.Degraded : DriverState.Connected;

                AddExtraSamples(now, sampleIndex);
                await FlushAsync(writer, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            State = DriverState.Stopped;
        }
    }

    private MachineTags? _currentTags;

    /// <inheritdoc />
    public IReadOnlyList<string> DrillMachines => [.. _machineSettings.Select(m => m.Name)];

    /// <inheritdoc />
    public IReadOnlyList<string> Silent => [.. _machineSettings.Where((_, i) => IsSilent(i)).Select(m => m.Name)];

    /// <inheritdoc />
    public bool StopAnswering(string machine, TimeSpan duration)
    {
        var index = -1;
        for (var i = 0; i < _machineSettings.Count; i++)
        {
            if (string.Equals(_machineSettings[i].Name, machine, StringComparison.Ordinal))
            {
                index = i;
            }
        }

        if (index < 0)
        {
            return false;
        }

        var until = _timeProvider.GetTimestamp() + (long)(duration.TotalSeconds * _timeProvider.TimestampFrequency);
        Volatile.Write(ref _silentUntil[index], until);
        SimulatedLog.PlcDrill(_logger, Name, machine, duration.TotalSeconds);
        return true;
    }

    private bool IsSilent(int index)
    {
        var until = Volatile.Read(ref _silentUntil[index]);
        return until != 0 && _timeProvider.GetTimestamp() < until;
    }

    private void AddBadSamples(MachineTags tags, DateTimeOffset at)
    {
        foreach (var tag in new[] { tags.State, tags.StateCode, tags.Running, tags.DownReason, tags.Total, tags.Rejects, tags.Temperature, tags.MotorCurrent })
        {
            _pending.Add(Sample.Bad(tag, at, SampleStatus.BadNoCommunication));
        }
    }

    private void OnMachineEvent(SimulatedMachine machine, MachineEvent machineEvent, DateTimeOffset at)
    {
        var tags = _currentTags!;
        switch (machineEvent)
        {
            case MachineEvent.StateChanged:
                AddStateSamples(machine, tags, at);
                break;
            case MachineEvent.PartProduced:
                _pending.Add(Sample.Good(tags.Total, at, _now, SampleValue.FromInteger(machine.TotalCount)));
                break;
            case MachineEvent.PartRejected:
                _pending.Add(Sample.Good(tags.Total, at, _now, SampleValue.FromInteger(machine.TotalCount)));
                _pending.Add(Sample.Good(tags.Rejects, at, _now, SampleValue.FromInteger(machine.RejectCount)));
                break;
        }
    }

    private void AddStateSamples(SimulatedMachine machine, MachineTags tags, DateTimeOffset at)
    {
        _pending.Add(Sample.Good(tags.State, at, _now, SampleValue.FromString(machine.State.ToTagValue())));
        _pending.Add(Sample.Good(tags.StateCode, at, _now, SampleValue.FromInteger((int)machine.State)));
        _pending.Add(Sample.Good(tags.Running, at, _now, SampleValue.FromBoolean(machine.State == MachineState.Running)));
        _pending.Add(Sample.Good(tags.DownReason, at, _now, SampleValue.FromString(machine.DownReason)));
    }

    private void AddCounterSamples(SimulatedMachine machine, MachineTags tags, DateTimeOffset at)
    {
        _pending.Add(Sample.Good(tags.Total, at, _now, SampleValue.FromInteger(machine.TotalCount)));
        _pending.Add(Sample.Good(tags.Rejects, at, _now, SampleValue.FromInteger(machine.RejectCount)));
    }

    private void AddAnalogSamples(SimulatedMachine machine, MachineTags tags, DateTimeOffset at, long sampleIndex)
    {
        _pending.Add(Sample.Good(tags.Temperature, at, _now, SampleValue.FromDouble(Math.Round(machine.Temperature(at, sampleIndex), 2))));
        _pending.Add(Sample.Good(tags.MotorCurrent, at, _now, SampleValue.FromDouble(Math.Round(machine.MotorCurrent(sampleIndex), 3))));
    }

    private void AddExtraSamples(DateTimeOffset at, long sampleIndex)
    {
        for (var i = 0; i < _extraTags.Length; i++)
        {
            var noise = SimulatedMachine.Mix((ulong)sampleIndex * 0x9E3779B97F4A7C15UL ^ (ulong)(i + 1) ^ (ulong)_settings.Seed << 40);
            _pending.Add(Sample.Good(_extraTags[i], at, _now, SampleValue.FromDouble((noise % 100_000) / 100.0)));
        }
    }

    private async ValueTask FlushAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        foreach (var sample in _pending)
        {
            await writer.WriteAsync(sample, cancellationToken);
        }

        _pending.Clear();
    }

    private TagInfo Tag(string machine, string path, string? unit) =>
        _overrides.TryGetValue(machine + "/" + path, out var o) ? new TagInfo(machine, path, o.Unit ?? unit, o.Deadband) : new TagInfo(machine, path, unit);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed record MachineTags(
        TagInfo State,
        TagInfo StateCode,
        TagInfo Running,
        TagInfo DownReason,
        TagInfo Total,
        TagInfo Rejects,
        TagInfo Temperature,
        TagInfo MotorCurrent);
}

internal static partial class SimulatedLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Simulated driver {Driver} started: {Machines} machines, {Tags} tags, seed {Seed}")]
    public static partial void Started(ILogger logger, string driver, int machines, int tags, int seed);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Simulated driver {Driver} reached stopAfterSeconds: no more samples")]
    public static partial void Stopped(ILogger logger, string driver);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Simulated driver {Driver}: PLC drill, machine {Machine} stops answering for {Seconds} s (its tags go Bad)")]
    public static partial void PlcDrill(ILogger logger, string driver, string machine, double seconds);
}
