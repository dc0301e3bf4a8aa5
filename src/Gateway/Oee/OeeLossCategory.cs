namespace Gateway.Oee;

/// <summary>Where the time of a stop goes among the six big losses (ISO 22400, the availability part).</summary>
public enum OeeLossCategory
{
    /// <summary>A down stop longer than the micro-stop threshold.</summary>
    Breakdown,

    /// <summary>A setup state, or a down or idle stop with a setup reason (changeover, adjustment).</summary>
    Setup,

    /// <summary>Any stop shorter than the micro-stop threshold.</summary>
    MicroStop,

    /// <summary>An idle stop longer than the micro-stop threshold (starved, blocked, waiting).</summary>
    Idle,
}

/// <summary>Sorts a machine's stops into <see cref="OeeLossCategory"/>s: its setup reasons and micro-stop threshold.</summary>
internal sealed class OeeLossClassifier
{
    private readonly HashSet<string> _setupReasons = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeSpan _microStop;

    public OeeLossClassifier(OeeMachineOptions options)
    {
        _microStop = TimeSpan.FromSeconds(options.MicroStopSeconds);
        foreach (var reason in options.SetupReasons.Count > 0 ? options.SetupReasons : [.. OeeMachineOptions.DefaultSetupReasons])
        {
            _setupReasons.Add(reason.Trim());
        }
    }

    /// <summary>Idle, down and setup are stops: planned production time the machine did not run.</summary>
    public static bool IsStop(OeeState state) => state is OeeState.Idle or OeeState.Down or OeeState.Setup;

    public bool IsSetup(StateSegment segment) =>
        segment.State == OeeState.Setup || (segment.State is OeeState.Down or OeeState.Idle && segment.Reason is { } reason && _setupReasons.Contains(reason));

    /// <summary>The loss category of a stop (an open one measured up to <paramref name="now"/>).</summary>
    public OeeLossCategory Category(StateSegment segment, DateTimeOffset now)
    {
        if (IsSetup(segment))
        {
            return OeeLossCategory.Setup;
        }

        if ((segment.End ?? now) - segment.Start < _microStop)
        {
            return OeeLossCategory.MicroStop;
        }

        return segment.State == OeeState.Down ? OeeLossCategory.Breakdown : OeeLossCategory.Idle;
    }

    /// <summary>The category as the API and the dashboard write it: breakdown, setup, micro-stop or idle.</summary>
    public static string Name(OeeLossCategory category) => category switch
    {
        OeeLossCategory.Breakdown => "breakdown",
        OeeLossCategory.Setup => "setup",
        OeeLossCategory.MicroStop => "micro-stop",
        _ => "idle",
    };
}
