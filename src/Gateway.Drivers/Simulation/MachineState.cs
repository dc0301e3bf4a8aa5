namespace Gateway.Drivers.Simulation;

/// <summary>The states of a simulated machine, with their PackML-like codes.</summary>
public enum MachineState
{
    /// <summary>Producing (PackML Execute, 6).</summary>
    Running = 6,

    /// <summary>Ready but not producing: starved or blocked (PackML Idle, 4).</summary>
    Idle = 4,

    /// <summary>Unplanned stop with a reason (PackML Held, 11).</summary>
    Down = 11,

    /// <summary>Planned stop: break, changeover plan, maintenance (PackML Stopped, 2).</summary>
    PlannedStop = 2,
}

internal static class MachineStateNames
{
    public static string ToTagValue(this MachineState state) => state switch
    {
        MachineState.Running => "running",
        MachineState.Idle => "idle",
        MachineState.Down => "down",
        _ => "planned-stop",
    };
}
