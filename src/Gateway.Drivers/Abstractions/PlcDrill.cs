namespace Gateway.Drivers;

/// <summary>
/// A driver whose machines can play a PLC that stops answering, for a trainer's drill (<c>gateway drill plc</c>):
/// the machine's tags turn Bad (published once), nothing more is read from it for the drill's duration, then it
/// answers again. Only simulated machines implement it: a drill never touches a real PLC.
/// </summary>
public interface IPlcDrill
{
    /// <summary>The machines that can play the drill.</summary>
    IReadOnlyList<string> DrillMachines { get; }

    /// <summary>Makes <paramref name="machine"/>'s PLC stop answering for <paramref name="duration"/>; false when it is not one of <see cref="DrillMachines"/>.</summary>
    bool StopAnswering(string machine, TimeSpan duration);

    /// <summary>The machines whose PLC does not answer now.</summary>
    IReadOnlyList<string> Silent { get; }
}
