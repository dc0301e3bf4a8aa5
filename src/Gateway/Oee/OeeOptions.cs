using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Gateway.Oee;

/// <summary>
/// The <c>oee</c> section: which machines get an OEE (ISO 22400-2) and how their tags and shifts read.
/// Validated in two steps: shapes, ranges, time zones and times by the annotations (so <c>check-config</c>
/// reports them), and whether the referenced tags exist by the OEE service at start, against the tags the
/// drivers really produce (each missing tag is logged with its JSON path and that machine is left out).
/// </summary>
public sealed class OeeOptions
{
    /// <summary>How often the results are published as samples and the state persisted, in seconds. Default 10.</summary>
    [Range(1, 3600)]
    public int PublishIntervalSeconds { get; set; } = 10;

    /// <summary>The shift plan of every machine that has none of its own.</summary>
    [ValidShiftPlan]
    public ShiftPlanOptions? ShiftPlan { get; set; }

    /// <summary>The machines; each one's tags are <c>&lt;machine&gt;/&lt;path&gt;</c>.</summary>
    public List<OeeMachineOptions> Machines { get; set; } = [];
}

/// <summary>One machine's OEE inputs.</summary>
public sealed class OeeMachineOptions
{
    /// <summary>
    /// The machine (the ISA-95 work unit) whose tags feed the OEE; the results are published under it. Any name a
    /// driver's machine may have (Configuration/NameRules: "Presse à chaud" is fine, '/', '+', '#' are not).
    /// </summary>
    [Required]
    public string Name { get; set; } = "";

    /// <summary>
    /// Path under the machine of a boolean tag, true while producing. Either this or <see cref="StateTag"/>; false
    /// counts as down. A number reads as non-zero = running, text as true/false, 1/0, on/off, yes/no; Bad quality
    /// or any other value makes the state unknown (excluded from the planned time), not down.
    /// </summary>
    public string? RunningTag { get; set; }

    /// <summary>Path under the machine of a state tag (a code or a string), read through <see cref="StateMap"/>.</summary>
    public string? StateTag { get; set; }

    /// <summary>How the values of <see cref="StateTag"/> read; absent uses the PackML-like default (see <see cref="OeeStateMapOptions"/>).</summary>
    public OeeStateMapOptions? StateMap { get; set; }

    /// <summary>Path under the machine of a string tag giving the reason of the current stop (optional).</summary>
    public string? DownReasonTag { get; set; }

    /// <summary>
    /// Path under the machine of the counter of every part made, good or not. Absent (a machine with only a running
    /// signal): availability only; performance, quality and OEE are null.
    /// </summary>
    public string? TotalCountTag { get; set; }

    /// <summary>Path of the good-part counter; at most one of this and <see cref="RejectCountTag"/>, and only with <see cref="TotalCountTag"/>.</summary>
    public string? GoodCountTag { get; set; }

    /// <summary>
    /// Path of the reject counter; at most one of this and <see cref="GoodCountTag"/>. With neither, every part counts
    /// as good (quality 1): say so when showing the OEE, rejects then have to be counted elsewhere.
    /// </summary>
    public string? RejectCountTag { get; set; }

    /// <summary>
    /// Where the counters wrap to zero (65536 for a 16-bit register, 4294967296 for 32 bits). A decrease is a
    /// rollover when the counter went past this value by less than half of it. Any other decrease is a reset
    /// (the new value counted as parts made since zero) when the new value is nearer zero than the old one, and
    /// otherwise a step back (a PLC restarted from a retained value a few parts old: no parts, counting continues
    /// from the new value). Absent: no decrease is a rollover.
    /// </summary>
    [Range(2, long.MaxValue)]
    public long? RolloverAt { get; set; }

    /// <summary>
    /// Ideal cycle time in milliseconds: the planned run time per part (ISO 22400 "planned run time per item");
    /// required with <see cref="TotalCountTag"/>. Performance above 1 is shown as measured, never clamped: it means
    /// this value is too long.
    /// </summary>
    [Range(0.001, 86_400_000)]
    public double? IdealCycleMs { get; set; }

    /// <summary>Unplanned stops (down or idle) shorter than this are micro-stops (small stops), in seconds. Default 120.</summary>
    [Range(0, 86_400)]
    public double MicroStopSeconds { get; set; } = 120;

    /// <summary>
    /// Rejects within this many minutes after a setup or changeover, a planned stop, a break or a shift start
    /// are start-up rejects; later ones are production rejects. Default 10; 0 turns start-up rejects off.
    /// </summary>
    [Range(0, 1440)]
    public double StartupRejectMinutes { get; set; } = 10;

    /// <summary>
    /// Stop reasons (case-insensitive) that mean setup or changeover rather than breakdown. Empty means the default:
    /// <c>tool change</c>, <c>changeover</c>, <c>setup</c>, <c>set-up</c>, <c>adjustment</c>.
    /// </summary>
    public List<string> SetupReasons { get; set; } = [];

    /// <summary>This machine's shift plan; absent uses <c>oee.shiftPlan</c>.</summary>
    [ValidShiftPlan]
    public ShiftPlanOptions? ShiftPlan { get; set; }

    internal static readonly string[] DefaultSetupReasons = ["tool change", "changeover", "setup", "set-up", "adjustment"];
}

/// <summary>
/// Which values of the state tag mean which state; values are compared as text, case-insensitive, trimmed
/// (an integer 6 matches "6"; a number within 1e-6 of an integer, such as 6.0 or 6.000000000000001 from a scaled
/// or float register or the text "6.0", matches "6" too). Bad quality makes the state unknown. A list left empty keeps its default: running = 6, "running", "execute";
/// idle = 4, "idle"; down = 11, "down", "held", "aborted", "stopped-unplanned"; setup = "setup", "changeover";
/// planned stop = 2, "planned-stop", "stopped". An unmapped value makes the state unknown (logged once).
/// </summary>
public sealed class OeeStateMapOptions
{
    public List<string> Running { get; set; } = [];

    public List<string> Idle { get; set; } = [];

    public List<string> Down { get; set; } = [];

    /// <summary>Setup and changeover states: availability losses of their own.</summary>
    public List<string> Setup { get; set; } = [];

    /// <summary>Planned stops: excluded from the planned production time.</summary>
    public List<string> PlannedStop { get; set; } = [];

    internal static readonly string[] DefaultRunning = ["6", "running", "execute"];
    internal static readonly string[] DefaultIdle = ["4", "idle"];
    internal static readonly string[] DefaultDown = ["11", "down", "held", "aborted", "stopped-unplanned"];
    internal static readonly string[] DefaultSetup = ["setup", "changeover"];
    internal static readonly string[] DefaultPlannedStop = ["2", "planned-stop", "stopped"];
}

/// <summary>When a machine is planned to produce: shifts, breaks and non-working days, in a local time zone.</summary>
public sealed class ShiftPlanOptions
{
    /// <summary>IANA time zone of the plant, for example <c>Europe/Paris</c>; shift times are local (daylight saving applied).</summary>
    [Required]
    [TimeZoneId]
    public string TimeZone { get; set; } = "";

    /// <summary>The shifts of a working day; a shift belongs to the day it starts on and may cross midnight.</summary>
    public List<ShiftOptions> Shifts { get; set; } = [];

    /// <summary>
    /// Breaks: planned stops within the shifts, every day; a break cuts whichever shift it falls in, and may span the
    /// handover between two shifts that follow each other (13:45-14:15), but not reach outside the shifts.
    /// </summary>
    public List<BreakOptions> Breaks { get; set; } = [];

    /// <summary>
    /// Days without shifts: day names (<c>Sunday</c>, except for shifts that list their own <c>days</c>) and dates
    /// (<c>2026-12-25</c>, for every shift). A night shift belongs to the day it starts on: Friday 22:00-06:00 is worked
    /// even when Saturday is a non-working day.
    /// </summary>
    [DaysOrDates]
    public List<string> NonWorkingDays { get; set; } = [];
}

/// <summary>
/// One shift: <c>start</c> and <c>end</c> as local <c>HH:mm</c>; an end at or before the start is on the next day.
/// A shift belongs to the day it starts on.
/// </summary>
public sealed class ShiftOptions
{
    [Required]
    public string Name { get; set; } = "";

    [Required]
    [TimeOfDay]
    public string Start { get; set; } = "";

    [Required]
    [TimeOfDay]
    public string End { get; set; } = "";

    /// <summary>
    /// The days of the week this shift starts on (English names, <c>Sunday</c>); empty (the default) means every day
    /// except the plan's non-working days of the week. With its own days a shift ignores those (a night shift
    /// starting Sunday 22:00 in a Monday-to-Friday week: <c>["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday"]</c>);
    /// non-working dates apply to every shift.
    /// </summary>
    [DaysOfWeek]
    public List<string> Days { get; set; } = [];
}

/// <summary>Every item is a day of the week (English name).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DaysOfWeekAttribute : ValidationAttribute
{
    private string _bad = "";

    public override bool IsValid(object? value)
    {
        foreach (var item in value as IEnumerable<string> ?? [])
        {
            if (!DaysOrDatesAttribute.TryParse(item, out var day, out _) || day is null)
            {
                _bad = item;
                return false;
            }
        }

        return true;
    }

    public override string FormatErrorMessage(string name) => $"'{_bad}' is not a day of the week (Sunday)";
}

/// <summary>A break within the shifts, local <c>HH:mm</c>; may cross midnight.</summary>
public sealed class BreakOptions
{
    public string? Name { get; set; }

    [Required]
    [TimeOfDay]
    public string Start { get; set; } = "";

    [Required]
    [TimeOfDay]
    public string End { get; set; } = "";
}

/// <summary>A local time of day, <c>HH:mm</c> or <c>HH:mm:ss</c>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class TimeOfDayAttribute : ValidationAttribute
{
    private static readonly string[] s_formats = ["HH:mm", "H:mm", "HH:mm:ss"];

    public TimeOfDayAttribute() : base("must be a time of day HH:mm") { }

    public override bool IsValid(object? value) => value is not string text || TryParse(text, out _);

    public static bool TryParse(string text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text, s_formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
}

/// <summary>An IANA time zone id known to this machine.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class TimeZoneIdAttribute : ValidationAttribute
{
    public TimeZoneIdAttribute() : base("must be an IANA time zone id such as Europe/Paris, known to this machine (tzdata)") { }

    public override bool IsValid(object? value) => value is not string text || text.Length == 0 || TimeZoneInfo.TryFindSystemTimeZoneById(text, out _);
}

/// <summary>Every item is a day of the week (English name) or an ISO date <c>yyyy-MM-dd</c>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DaysOrDatesAttribute : ValidationAttribute
{
    private string _bad = "";

    public override bool IsValid(object? value)
    {
        foreach (var item in value as IEnumerable<string> ?? [])
        {
            if (!TryParse(item, out _, out _))
            {
                _bad = item;
                return false;
            }
        }

        return true;
    }

    public override string FormatErrorMessage(string name) => $"'{_bad}' is neither a day of the week (Sunday) nor a date (2026-12-25)";

    internal static bool TryParse(string text, out DayOfWeek? day, out DateOnly? date)
    {
        day = null;
        date = null;
        if (Enum.TryParse<DayOfWeek>(text, ignoreCase: true, out var d) && !int.TryParse(text, out _))
        {
            day = d;
            return true;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            date = parsed;
            return true;
        }

        return false;
    }
}

/// <summary>A shift plan whose shifts do not overlap and whose breaks lie within the shifts.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ValidShiftPlanAttribute : ValidationAttribute
{
    private string _reason = "";

    public override bool IsValid(object? value)
    {
        if (value is not ShiftPlanOptions plan)
        {
            return true;
        }

        _reason = ShiftCalendar.Check(plan) ?? "";
        return _reason.Length == 0;
    }

    public override string FormatErrorMessage(string name) => _reason;
}
