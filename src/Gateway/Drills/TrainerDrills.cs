using Gateway.Drivers;
using Gateway.Northbound;

namespace Gateway.Drills;

/// <summary>Who asked for a drill, for the audit line: the client address and how it proved itself.</summary>
/// <param name="Remote">The client's address (<c>127.0.0.1</c>, <c>10.0.0.7</c>).</param>
/// <param name="Credential"><c>session</c> (dashboard login), <c>bearer</c> (the CLI with the password), <c>loopback</c> (no password configured).</param>
public sealed record DrillOrigin(string Remote, string Credential);

/// <summary>What a drill request did: <see cref="Ok"/>, or refused with a status code and a reason.</summary>
public sealed record DrillResult(bool Ok, int StatusCode, string Message);

/// <summary>The drills running now (<c>/api/drill</c>, the <c>drill</c> member of <c>/api/status</c>).</summary>
/// <param name="Outage">The north-link cut, or null when the link is up.</param>
/// <param name="Plc">The simulated machines whose PLC does not answer now.</param>
/// <param name="Machines">The machines a PLC drill may silence (simulated ones only).</param>
public sealed record DrillState(OutageDrillState? Outage, IReadOnlyList<PlcDrillState> Plc, IReadOnlyList<string> Machines);

/// <summary>A running outage drill: when it ends (UTC) and how many seconds are left.</summary>
public sealed record OutageDrillState(DateTimeOffset EndsAt, double SecondsLeft);

/// <summary>A machine whose PLC a drill silenced: when it answers again (UTC) and how many seconds are left.</summary>
public sealed record PlcDrillState(string Machine, string Driver, DateTimeOffset EndsAt, double SecondsLeft);

/// <summary>
/// A trainer's fault drills on the running gateway (<c>gateway drill outage|plc</c>, the dashboard's drill button):
/// cutting the north link (<see cref="NorthLinkSwitch"/>: the outputs drop their connection, the broker is never
/// touched) or making a simulated machine's PLC stop answering (<see cref="IPlcDrill"/>). Each request, accepted or
/// refused, is one audit line naming who asked, what and the result. Durations are 1 to <see cref="MaxSeconds"/> s.
/// </summary>
public sealed partial class TrainerDrills(NorthLinkSwitch northLink, IDriverCatalog drivers, TimeProvider timeProvider, ILogger<TrainerDrills> logger)
{
    /// <summary>The longest drill: one hour (a drill is a classroom exercise, not a maintenance switch).</summary>
    public const int MaxSeconds = 3600;

    /// <summary>The default duration of both drills, in seconds.</summary>
    public const int DefaultSeconds = 60;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _plcEndsAt = new(StringComparer.Ordinal);

    /// <summary>Cuts the north link for <paramref name="seconds"/>; refused (409) while an outage drill runs.</summary>
    public DrillResult StartOutage(int seconds, DrillOrigin origin)
    {
        if (!ValidSeconds(seconds, out var refused))
        {
            return Audit(origin, "outage start", refused);
        }

        var result = northLink.TryCut(TimeSpan.FromSeconds(seconds))
            ? new DrillResult(true, 200, $"north link cut for {seconds} s: the outputs disconnect and the buffer keeps every sample; they reconnect and drain at {northLink.RestoresAt:HH:mm:ss} UTC")
            : new DrillResult(false, 409, $"an outage drill already runs (until {northLink.RestoresAt:HH:mm:ss} UTC); end it first (gateway drill outage --end)");
        return Audit(origin, $"outage start {seconds} s", result);
    }

    /// <summary>Restores the north link now; refused (409) when no outage drill runs.</summary>
    public DrillResult EndOutage(DrillOrigin origin)
    {
        if (!northLink.IsCut)
        {
            return Audit(origin, "outage end", new DrillResult(false, 409, "no outage drill runs"));
        }

        northLink.Restore();
        return Audit(origin, "outage end", new DrillResult(true, 200, "north link restored: the outputs reconnect and drain the buffer"));
    }

    /// <summary>Makes <paramref name="machine"/>'s simulated PLC stop answering for <paramref name="seconds"/>.</summary>
    public DrillResult StartPlc(string? machine, int seconds, DrillOrigin origin)
    {
        var what = $"plc start {machine} {seconds} s";
        if (!ValidSeconds(seconds, out var refused))
        {
            return Audit(origin, what, refused);
        }

        if (Find(machine, out var problem) is not { } target)
        {
            return Audit(origin, what, problem!);
        }

        if (target.Drill.Silent.Contains(machine!, StringComparer.Ordinal))
        {
            return Audit(origin, what, new DrillResult(false, 409, $"machine '{machine}' already does not answer; end that drill first (gateway drill plc --machine {machine} --end)"));
        }

        target.Drill.StopAnswering(machine!, TimeSpan.FromSeconds(seconds));
        var endsAt = timeProvider.GetUtcNow().AddSeconds(seconds);
        lock (_lock)
        {
            _plcEndsAt[machine!] = endsAt;
        }

        return Audit(origin, what, new DrillResult(true, 200, $"machine '{machine}' (driver {target.Driver}) stops answering for {seconds} s: its tags go Bad, its OEE counts that time as unknown; it answers again at {endsAt:HH:mm:ss} UTC"));
    }

    /// <summary>Makes <paramref name="machine"/>'s simulated PLC answer again now.</summary>
    public DrillResult EndPlc(string? machine, DrillOrigin origin)
    {
        var what = $"plc end {machine}";
        if (Find(machine, out var problem) is not { } target)
        {
            return Audit(origin, what, problem!);
        }

        if (!target.Drill.Silent.Contains(machine!, StringComparer.Ordinal))
        {
            return Audit(origin, what, new DrillResult(false, 409, $"machine '{machine}' answers: no PLC drill runs on it"));
        }

        target.Drill.StopAnswering(machine!, TimeSpan.Zero);
        lock (_lock)
        {
            _plcEndsAt.Remove(machine!);
        }

        return Audit(origin, what, new DrillResult(true, 200, $"machine '{machine}' answers again: its tags return with what it shows now"));
    }

    /// <summary>The drills running now.</summary>
    public DrillState Current()
    {
        var now = timeProvider.GetUtcNow();
        OutageDrillState? outage = northLink.RestoresAt is { } restores ? new OutageDrillState(restores, Math.Max(0, (restores - now).TotalSeconds)) : null;
        var plc = new List<PlcDrillState>();
        var machines = new List<string>();
        lock (_lock)
        {
            foreach (var (driver, drill) in Drills())
            {
                machines.AddRange(drill.DrillMachines);
                foreach (var machine in drill.Silent)
                {
                    var endsAt = _plcEndsAt.TryGetValue(machine, out var at) ? at : now;
                    plc.Add(new PlcDrillState(machine, driver, endsAt, Math.Max(0, (endsAt - now).TotalSeconds)));
                }
            }
        }

        return new DrillState(outage, plc, machines);
    }

    /// <summary>Audits a request refused before it reached a drill (the origin rules) and returns it.</summary>
    public DrillResult Refuse(DrillOrigin origin, string what, DrillResult refused) => Audit(origin, what, refused);

    private IEnumerable<(string Driver, IPlcDrill Drill)> Drills() =>
        drivers.Drivers.OfType<IPlcDrill>().Select(d => (((IDriver)d).Name, d));

    private (string Driver, IPlcDrill Drill)? Find(string? machine, out DrillResult? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(machine))
        {
            problem = new DrillResult(false, 400, "machine: required (the name of a simulated machine, as in /api/oee)");
            return null;
        }

        var all = Drills().ToList();
        foreach (var (driver, drill) in all)
        {
            if (drill.DrillMachines.Contains(machine, StringComparer.Ordinal))
            {
                return (driver, drill);
            }
        }

        var known = all.SelectMany(d => d.Drill.DrillMachines).ToList();
        problem = new DrillResult(false, 404, known.Count == 0
            ? $"machine '{machine}': no simulated machine runs here (a PLC drill never touches a real PLC)"
            : $"machine '{machine}' is not a simulated machine; drillable: {string.Join(", ", known)}");
        return null;
    }

    private static bool ValidSeconds(int seconds, out DrillResult refused)
    {
        refused = new DrillResult(false, 400, $"seconds: must be 1-{MaxSeconds}, got {seconds}");
        return seconds is >= 1 and <= MaxSeconds;
    }

    private DrillResult Audit(DrillOrigin origin, string what, DrillResult result)
    {
        if (result.Ok)
        {
            LogDrill(logger, origin.Remote, origin.Credential, what, result.Message);
        }
        else
        {
            LogRefused(logger, origin.Remote, origin.Credential, what, result.StatusCode, result.Message);
        }

        return result;
    }

    // The audit trail: one line per request, naming who asked, what and the result.
    [LoggerMessage(EventId = 1720, Level = LogLevel.Warning, Message = "Drill by {Remote} ({Credential}): {What}: {Result}")]
    private static partial void LogDrill(ILogger logger, string remote, string credential, string what, string result);

    [LoggerMessage(EventId = 1721, Level = LogLevel.Warning, Message = "Drill refused for {Remote} ({Credential}): {What}: {Status} {Reason}")]
    private static partial void LogRefused(ILogger logger, string remote, string credential, string what, int status, string reason);
}
