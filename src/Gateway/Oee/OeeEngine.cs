using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Drivers;
using Microsoft.Extensions.Logging;

namespace Gateway.Oee;

/// <summary>
/// The OEE of every configured machine: fed with the pipeline's samples (<see cref="Observe"/>), ticked every
/// publish interval (<see cref="Tick"/>) to produce the result samples, persisted to a JSON file so that a
/// restart mid-shift continues the shift. Thread-safe: drivers observe, the service ticks, HTTP reads.
/// </summary>
public sealed partial class OeeEngine
{
    /// <summary>
    /// The file name of the persisted state before it was named after the buffer; a file of this name is taken over
    /// (renamed) by the first engine that finds no state of its own beside it.
    /// </summary>
    public const string StateFileName = "oee-state.json";


    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string? _stateFile;
    private readonly List<MachineOee> _machines = [];
    private readonly Dictionary<string, (MachineOee Machine, OeeTagRoles Roles)> _byTag = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TagInfo> _resultTags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _loggedUnmapped = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];
    private readonly long _startTimestamp;
    private readonly WallClockAnchor _anchor;
    private DateTimeOffset _lastNow;
    private readonly PlantTime _plantTime;

    /// <param name="options">The validated <c>oee</c> section.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">Logs counter resets, unmapped states, configuration problems.</param>
    /// <param name="stateDirectory">Where <see cref="StateFileName"/> is kept; null persists nothing.</param>
    /// <param name="knownTagKeys">The tags the drivers produce (<c>machine/path</c>); a machine referring to another is left out. Null skips the check.</param>
    /// <param name="stateFileName">The state file's name in <paramref name="stateDirectory"/>: <see cref="StateFileNameFor"/> the buffer, so that two gateways with two buffers in one folder keep two states.</param>
    /// <param name="clockSteps">Wall-clock steps found by the host; the engine also finds them itself on its next use.</param>
    public OeeEngine(
        OeeOptions options,
        TimeProvider timeProvider,
        ILogger logger,
        string? stateDirectory,
        IReadOnlySet<string>? knownTagKeys = null,
        string stateFileName = StateFileName,
        IClockSteps? clockSteps = null)
    {
        Options = options;
        _plantTime = PlantTime.For(options);
        _timeProvider = timeProvider;
        _logger = logger;
        _stateFile = stateDirectory is null ? null : Path.Combine(stateDirectory, stateFileName);
        _startTimestamp = timeProvider.GetTimestamp();
        _anchor = new WallClockAnchor(timeProvider);
        _lastNow = timeProvider.GetUtcNow();
        var problems = knownTagKeys is null ? [] : OeeConfigRules.CheckTags(options, knownTagKeys);
        foreach (var problem in problems)
        {
            _problems.Add(problem.ToString());
            OeeLog.TagMissing(logger, problem.Path, problem.Reason);
        }

        for (var i = 0; i < options.Machines.Count; i++)
        {
            var machineOptions = options.Machines[i];
            var prefix = $"oee.machines[{i}].";
            if (problems.Any(p => p.Path.StartsWith(prefix, StringComparison.Ordinal)))
            {
                continue;
            }

            var machine = new MachineOee(machineOptions, (machineOptions.ShiftPlan ?? options.ShiftPlan)!);
            _machines.Add(machine);
            foreach (var (_, tag) in OeeConfigRules.TagReferences(machineOptions))
            {
                var path = tag.Trim('/');
                _byTag[machineOptions.Name + "/" + path] = (machine, machine.RolesOf(path));
            }
        }

        if (clockSteps is not null)
        {
            clockSteps.Stepped += _ =>
            {
                lock (_lock)
                {
                    Now();
                }
            };
        }
    }

    /// <summary>
    /// The state file's name for the buffer at <paramref name="bufferPath"/>: <c>buffer.db</c> keeps its OEE state in
    /// <c>buffer.oee-state.json</c> beside it.
    /// </summary>
    public static string StateFileNameFor(string bufferPath) => Path.GetFileNameWithoutExtension(bufferPath) + ".oee-state.json";

    public OeeOptions Options { get; }

    /// <summary>
    /// Loads the persisted state, if any: each machine continues where it was, the time since the save marked
    /// unknown. Machines without a saved state start fresh (unknown until their first state sample).
    /// </summary>
    public void Load()
    {
        DateTimeOffset now;
        lock (_lock)
        {
            now = Now();
        }

        TakeOverLegacyStateFile();
        PersistedState? saved = null;
        if (_stateFile is not null && File.Exists(_stateFile))
        {
            try
            {
                saved = JsonSerializer.Deserialize(File.ReadAllText(_stateFile), OeeStateJsonContext.Default.PersistedState);
            }
            catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
            {
                OeeLog.StateUnreadable(_logger, ex, _stateFile);
            }
        }

        lock (_lock)
        {
            foreach (var machine in _machines)
            {
                if (saved?.Machines.TryGetValue(machine.Name, out var state) == true && state.Segments.Count > 0)
                {
                    machine.Resume(state, saved.SavedAt, now);
                    ResumeHistoryFrom(saved.SavedAt, now);
                    OeeLog.Resumed(_logger, machine.Name, saved.SavedAt, (now - saved.SavedAt).TotalSeconds);
                }
                else
                {
                    machine.Start(now);
                }
            }
        }
    }

    /// <summary>Reads one sample; the samples of other tags are ignored. Quick: called on the drivers' path.</summary>
    public void Observe(Sample sample)
    {
        if (!_byTag.TryGetValue(sample.Tag.Key, out var entry))
        {
            return;
        }

        var machine = entry.Machine;
        CounterReading reading;
        string? unmapped;
        lock (_lock)
        {
            var now = Now();
            reading = machine.OnSample(entry.Roles, sample, now, _timeProvider.GetElapsedTime(_startTimestamp));
            unmapped = machine.TakeUnmappedValue();
        }

        var counter = reading.Event;
        if (reading.BurstDropped > 0)
        {
            OeeLog.CounterBurstAcrossStep(_logger, sample.Tag.Key, reading.BurstDropped, machine.Options.IdealCycleMs ?? 0);
        }

        if (counter == CounterEvent.Reset)
        {
            OeeLog.CounterReset(_logger, sample.Tag.Key, sample.Value.AsInteger);
        }
        else if (counter == CounterEvent.Rollover)
        {
            OeeLog.CounterRollover(_logger, sample.Tag.Key, sample.Value.AsInteger);
        }
        else if (counter == CounterEvent.StepBack)
        {
            OeeLog.CounterSteppedBack(_logger, sample.Tag.Key, sample.Value.AsInteger);
        }

        if (unmapped is not null)
        {
            lock (_lock)
            {
                if (!_loggedUnmapped.Add(machine.Name + "\n" + unmapped))
                {
                    return;
                }
            }

            OeeLog.UnmappedState(_logger, machine.Name, unmapped);
        }
    }

    /// <summary>
    /// Closes finished shifts and returns the result samples to publish: current shift, last hour, losses and
    /// state of every machine, plus the final values of a shift that just closed (<c>oee/previous-shift/...</c>).
    /// </summary>
    /// <param name="includePreviousShift">Also publish the previous shift when none just closed (at start).</param>
    public List<Sample> Tick(bool includePreviousShift = false)
    {
        var samples = new List<Sample>();
        lock (_lock)
        {
            var now = Now();
            foreach (var machine in _machines)
            {
                RecordClosedPeriods(machine, now);
                var closed = machine.Tick(now);
                if (closed is not null)
                {
                    OeeLog.ShiftClosed(_logger, machine.Name, closed.Name, closed.Oee ?? 0, closed.TotalCount);
                }

                var snapshot = machine.Snapshot(now);
                AddSample(samples, machine.Name, "oee/state", now, SampleValue.FromString(snapshot.State), null);
                if (snapshot.CurrentShift is { } shift)
                {
                    if (RecordsHistory)
                    {
                        _pendingHistory.Add(new OeeHistoryEntry(machine.Name, OeeHistoryKind.Shift, shift, snapshot.TopDowntimeReasons, Complete: false));
                    }

                    AddPeriod(samples, machine.Name, "oee/current-shift", now, shift);
                    AddLosses(samples, machine.Name, "oee/losses", now, shift.Losses);
                }

                AddPeriod(samples, machine.Name, "oee/last-hour", now, snapshot.LastHour);
                if ((closed is not null || includePreviousShift) && snapshot.PreviousShift is { } previous)
                {
                    AddPeriod(samples, machine.Name, "oee/previous-shift", previous.End, previous);
                    AddLosses(samples, machine.Name, "oee/previous-shift/losses", previous.End, previous.Losses);
                }
            }

            _historyFrom = now;
        }

        return samples;
    }

    /// <summary>Every machine's OEE now: the body of <c>/api/oee</c>.</summary>
    public OeeReport Snapshot()
    {
        lock (_lock)
        {
            var now = Now();
            return new OeeReport(now, [.. _machines.Select(m => m.Snapshot(now))], [.. _problems]).InPlantTime(_plantTime);
        }
    }

    /// <summary>Writes the state atomically: a temporary file, flushed, then renamed over the previous one.</summary>
    /// <returns>The size of the state written, in bytes (0 without a state directory).</returns>
    public long Save()
    {
        if (_stateFile is null)
        {
            return 0;
        }

        string json;
        lock (_lock)
        {
            var state = new PersistedState
            {
                Version = 1,
                SavedAt = Now(),
                Machines = _machines.ToDictionary(m => m.Name, m => m.State, StringComparer.Ordinal),
            };
            json = JsonSerializer.Serialize(state, OeeStateJsonContext.Default.PersistedState);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(_stateFile)!);
        var temporary = _stateFile + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using var writer = new StreamWriter(stream);
            writer.Write(json);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, _stateFile, overwrite: true);
        return json.Length;
    }

    /// <summary>
    /// The engine's clock (call under the lock): the wall clock, checked against the monotonic clock at every use.
    /// A difference above <see cref="WallClockAnchor.StepThreshold"/> (the clock watch's) since the previous use is a
    /// step, applied to every machine (<see cref="MachineOee.OnClockStep"/>); a smaller one is NTP slewing or timer latency and is taken as it is,
    /// except that the engine's time never goes back by it.
    /// </summary>
    private DateTimeOffset Now()
    {
        if (_anchor.Check(WallClockAnchor.StepThreshold, out var wall) is { } step)
        {
            // The engine's own time had run on to at least _lastNow; measure the step from there.
            var expected = step.Expected < _lastNow ? _lastNow : step.Expected;
            foreach (var machine in _machines)
            {
                machine.OnClockStep(expected, wall, _timeProvider.GetElapsedTime(_startTimestamp));
            }

            OeeLog.ClockStepped(_logger, wall > expected ? "forward" : "back", (wall - expected).Duration().TotalSeconds, wall > expected ? "unknown time in the timeline" : "re-dated by the step, durations kept");
            _lastNow = wall;
            return wall;
        }

        if (wall > _lastNow)
        {
            _lastNow = wall;
        }

        return _lastNow;
    }

    /// <summary>Renames a state file of the old shared name to this engine's name, when this engine has none yet.</summary>
    private void TakeOverLegacyStateFile()
    {
        if (_stateFile is null || File.Exists(_stateFile))
        {
            return;
        }

        var legacy = Path.Combine(Path.GetDirectoryName(_stateFile)!, StateFileName);
        if (string.Equals(legacy, _stateFile, StringComparison.Ordinal) || !File.Exists(legacy))
        {
            return;
        }

        try
        {
            File.Move(legacy, _stateFile);
            OeeLog.StateFileRenamed(_logger, legacy, _stateFile);
        }
        catch (IOException)
        {
            // Another gateway took it first: this one starts fresh.
        }
    }

    private void AddPeriod(List<Sample> samples, string machine, string prefix, DateTimeOffset at, OeePeriod period)
    {
        AddRatio(samples, machine, prefix + "/availability", at, period.Availability);
        AddRatio(samples, machine, prefix + "/performance", at, period.Performance);
        AddRatio(samples, machine, prefix + "/quality", at, period.Quality);
        AddRatio(samples, machine, prefix + "/oee", at, period.Oee);
        AddSample(samples, machine, prefix + "/total-count", at, SampleValue.FromInteger(period.TotalCount), "parts");
        AddSample(samples, machine, prefix + "/good-count", at, SampleValue.FromInteger(period.GoodCount), "parts");
        AddSample(samples, machine, prefix + "/reject-count", at, SampleValue.FromInteger(period.RejectCount), "parts");
        AddSample(samples, machine, prefix + "/run-time-seconds", at, Seconds(period.RunSeconds), "s");
        AddSample(samples, machine, prefix + "/planned-time-seconds", at, Seconds(period.PlannedSeconds), "s");
        AddSample(samples, machine, prefix + "/downtime-seconds", at, Seconds(period.DowntimeSeconds), "s");
    }

    private void AddLosses(List<Sample> samples, string machine, string prefix, DateTimeOffset at, OeeLosses losses)
    {
        AddSample(samples, machine, prefix + "/breakdown-seconds", at, Seconds(losses.BreakdownSeconds), "s");
        AddSample(samples, machine, prefix + "/setup-seconds", at, Seconds(losses.SetupSeconds), "s");
        AddSample(samples, machine, prefix + "/micro-stop-seconds", at, Seconds(losses.MicroStopSeconds), "s");
        AddSample(samples, machine, prefix + "/idle-seconds", at, Seconds(losses.IdleSeconds), "s");
        AddSample(samples, machine, prefix + "/reduced-speed-seconds", at, Seconds(losses.ReducedSpeedSeconds), "s");
        AddSample(samples, machine, prefix + "/startup-reject-count", at, SampleValue.FromInteger(losses.StartupRejectCount), "parts");
        AddSample(samples, machine, prefix + "/production-reject-count", at, SampleValue.FromInteger(losses.ProductionRejectCount), "parts");
    }

    private static SampleValue Seconds(double seconds) => SampleValue.FromDouble(Math.Round(seconds, 3));

    /// <summary>A ratio 0..1 (unit "1"); an undefined one (zero denominator) is published without a value, quality Uncertain.</summary>
    private void AddRatio(List<Sample> samples, string machine, string path, DateTimeOffset at, double? ratio)
    {
        var tag = ResultTag(machine, path, "1");
        samples.Add(ratio is { } value
            ? Sample.Good(tag, at, _timeProvider.GetUtcNow(), SampleValue.FromDouble(Math.Round(value, 6)))
            : new Sample(tag, at, _timeProvider.GetUtcNow(), SampleValue.None, Quality.Uncertain));
    }

    private void AddSample(List<Sample> samples, string machine, string path, DateTimeOffset at, SampleValue value, string? unit) =>
        samples.Add(Sample.Good(ResultTag(machine, path, unit), at, _timeProvider.GetUtcNow(), value));

    private TagInfo ResultTag(string machine, string path, string? unit)
    {
        var key = machine + "/" + path;
        if (!_resultTags.TryGetValue(key, out var tag))
        {
            tag = new TagInfo(machine, path, unit);
            _resultTags[key] = tag;
        }

        return tag;
    }

    internal sealed class PersistedState
    {
        public int Version { get; set; }

        public DateTimeOffset SavedAt { get; set; }

        public Dictionary<string, MachineOeeState> Machines { get; set; } = new(StringComparer.Ordinal);
    }
}

/// <summary>
/// The OEE engine's state file: enums by name, defaults left out (source-generated, as every JSON of the gateway:
/// <see cref="Gateway.Dashboard.GatewayJsonContext"/>).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault, UseStringEnumConverter = true)]
[JsonSerializable(typeof(OeeEngine.PersistedState))]
internal sealed partial class OeeStateJsonContext : JsonSerializerContext;

internal static partial class OeeLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Error, Message = "OEE configuration: {Path}: {Reason}; this machine's OEE is not computed")]
    public static partial void TagMissing(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "OEE state file {File} cannot be read; starting fresh")]
    public static partial void StateUnreadable(ILogger logger, Exception exception, string file);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "OEE of {Machine} resumed from the state saved at {SavedAt:o}; the {GapSeconds:F0} s since are unknown")]
    public static partial void Resumed(ILogger logger, string machine, DateTimeOffset savedAt, double gapSeconds);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Counter {Tag} went down to {Value}, nearer zero than its last value, without rollover: counted as a reset")]
    public static partial void CounterReset(ILogger logger, string tag, long value);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Counter {Tag} rolled over to {Value}")]
    public static partial void CounterRollover(ILogger logger, string tag, long value);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "OEE of {Machine}: state value '{Value}' is not in the state map; the state is unknown")]
    public static partial void UnmappedState(ILogger logger, string machine, string value);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "OEE of {Machine}: shift {Shift} closed with OEE {Oee:P1}, {Total} parts")]
    public static partial void ShiftClosed(ILogger logger, string machine, string shift, double oee, long total);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "Counter {Tag} went back a little, to {Value} (a PLC restart?): no parts counted, it continues from there")]
    public static partial void CounterSteppedBack(ILogger logger, string tag, long value);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Warning, Message = "Counter {Tag} rose across a wall-clock step by {Dropped} parts more than its ideal cycle ({IdealCycleMs} ms) allows in the time measured on the monotonic clock: those parts are not counted")]
    public static partial void CounterBurstAcrossStep(ILogger logger, string tag, long dropped, double idealCycleMs);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "OEE: wall clock stepped {Direction} by {Seconds:F1} s; the step is {Treatment}")]
    public static partial void ClockStepped(ILogger logger, string direction, double seconds, string treatment);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Information, Message = "OEE state file {Legacy} renamed to {File} (the state is now named after the buffer)")]
    public static partial void StateFileRenamed(ILogger logger, string legacy, string file);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "OEE publish or save failed; retrying at the next interval")]
    public static partial void TickFailed(ILogger logger, Exception exception);
}
