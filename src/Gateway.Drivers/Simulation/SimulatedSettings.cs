using System.ComponentModel.DataAnnotations;

namespace Gateway.Drivers.Simulation;

/// <summary>Driver-level keys of the <c>simulated</c> driver.</summary>
public sealed class SimulatedSettings
{
    /// <summary>Seed of the line: the same seed and the same clock give the same samples.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Sampling interval of the analog tags (temperatures, motor current), in milliseconds.</summary>
    [Range(1, 3_600_000)]
    public int IntervalMs { get; set; } = 1000;

    /// <summary>The machines of the line; three when empty.</summary>
    public List<SimulatedMachineSettings> Machines { get; set; } = [];

    /// <summary>
    /// Stops producing after this many seconds (the driver stays up, silent): a finite run for a lab
    /// exercise or a test that needs to count every sample. Absent means forever.
    /// </summary>
    [Range(0.001, 31_536_000)]
    public double? StopAfterSeconds { get; set; }

    /// <summary>Extra analog tags (noise) for load tests, on a machine named <c>load</c>.</summary>
    [Range(0, 1_000_000)]
    public int ExtraTags { get; set; }

    internal static IReadOnlyList<SimulatedMachineSettings> DefaultMachines { get; } =
    [
        new() { Name = "press", IdealCycleMs = 2000, RejectPermille = 20 },
        new() { Name = "welder", IdealCycleMs = 3000, RejectPermille = 10 },
        new() { Name = "assembly", IdealCycleMs = 4000, RejectPermille = 30 },
    ];
}

/// <summary>One simulated machine.</summary>
public sealed class SimulatedMachineSettings
{
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]+$", ErrorMessage = "may contain only letters, digits, '_', '.' and '-'")]
    public string Name { get; set; } = "";

    /// <summary>Ideal cycle time in milliseconds: one part per cycle at full speed.</summary>
    [Range(1, 86_400_000)]
    public int IdealCycleMs { get; set; } = 2000;

    /// <summary>Rejects per thousand parts.</summary>
    [Range(0, 1000)]
    public int RejectPermille { get; set; } = 20;

    /// <summary>Scales the durations of running, idle and down periods (1 = minutes, 0.01 = fast lab demo).</summary>
    [Range(0.0001, 1000)]
    public double StateTimeScale { get; set; } = 1.0;

    /// <summary>Keeps the machine running without stops: steady counters for throughput demos and tests.</summary>
    public bool AlwaysRunning { get; set; }
}
