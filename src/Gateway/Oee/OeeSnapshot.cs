namespace Gateway.Oee;

// The JSON of /api/oee is these records serialised with the web defaults (camelCase, ISO 8601 UTC times,
// null for an undefined ratio, never NaN). Ratios are 0..1 (not percent); performance (and so OEE) may exceed 1
// when the machine beats its configured ideal cycle time: shown as measured, not clamped, since it means the
// ideal cycle time is wrong. Without a total counter performance, quality and OEE are null. Durations are
// seconds (double), counts are parts (integer; 0 <= rejectCount <= totalCount).
//
// {
//   "generatedAt": "2026-11-26T10:00:00+00:00",
//   "timeZone": "Europe/Paris",          // the plant's zone (IANA): every time on the dashboard is shown in it
//   "utcOffset": "+01:00",               // the plant's offset from UTC now
//   "plantTime": "2026-11-26T11:00:00+01:00", // generatedAt on the plant's clock
//   "machines": [ {
//     "name": "press",
//     "state": "running",                 // running | idle | down | setup | planned-stop | unknown
//     "stateSince": "2026-11-26T09:58:12+00:00",
//     "reason": null,                     // the stop reason while idle/down/setup, else null
//     "currentShift": {                   // null between shifts and on non-working days
//       "name": "morning", "start": "...", "end": "...",
//       "availability": 0.9, "performance": 0.95, "quality": 0.98, "oee": 0.8379,
//       "runSeconds": 3000, "plannedSeconds": 3333.3, "downtimeSeconds": 333.3,
//       "plannedStopSeconds": 0, "unknownSeconds": 0,
//       "totalCount": 1425, "goodCount": 1396, "rejectCount": 29,
//       "losses": { "breakdownSeconds": 300, "setupSeconds": 0, "microStopSeconds": 33.3, "idleSeconds": 0,
//                   "reducedSpeedSeconds": 150, "startupRejectCount": 4, "startupRejectSeconds": 8,
//                   "productionRejectCount": 25, "productionRejectSeconds": 50 } },
//     "previousShift": { ...same shape... } | null,
//     "lastHour": { ...same shape, "name": "last-hour"... },
//     "timeline": [ { "start": "...", "end": "...", "state": "down", "reason": "jam" } ],
//     "breaks": [ { "start": "...", "end": "..." } ],   // scheduled breaks of the current shift, whole shift
//     "topDowntimeReasons": [ { "reason": "jam", "seconds": 300, "count": 1 } ],
//     "recentDowntimeEvents": [ { "start": "...", "end": "..." | null, "durationSeconds": 300,
//                                 "state": "down", "category": "breakdown", "reason": "jam" } ] } ],
//   "problems": [ "oee.machines[0].stateTag: no tag 'press/stat' (...)" ]
// }

/// <summary>The answer of <c>/api/oee</c>: every machine's OEE, and the configuration problems that left machines out.</summary>
/// <param name="GeneratedAt">When the snapshot was taken (UTC).</param>
/// <param name="Machines">One entry per configured machine, in configuration order.</param>
/// <param name="Problems">Tag references that do not exist, as <c>json path: reason</c>; their machines are not computed.</param>
public sealed record OeeReport(DateTimeOffset GeneratedAt, IReadOnlyList<OeeMachineSnapshot> Machines, IReadOnlyList<string> Problems)
{
    /// <summary>The plant's time zone (IANA id, <c>Europe/Paris</c>): shifts are planned, and times shown, in it.</summary>
    public string? TimeZone { get; init; }

    /// <summary>The plant's offset from UTC at <see cref="GeneratedAt"/>, as <c>+01:00</c>.</summary>
    public string? UtcOffset { get; init; }

    /// <summary><see cref="GeneratedAt"/> on the plant's clock (same instant, plant offset).</summary>
    public DateTimeOffset? PlantTime { get; init; }

    /// <summary>This report with the plant's zone filled in from <paramref name="plant"/>.</summary>
    public OeeReport InPlantTime(Oee.PlantTime plant) =>
        this with { TimeZone = plant.TimeZone, UtcOffset = plant.UtcOffset(GeneratedAt), PlantTime = plant.Local(GeneratedAt) };
}

/// <summary>One machine's OEE at an instant.</summary>
/// <param name="Name">The machine.</param>
/// <param name="State">running, idle, down, setup, planned-stop or unknown (no data, a Bad state tag, the gateway was off).</param>
/// <param name="StateSince">Start of the current state (UTC); null before any data.</param>
/// <param name="Reason">The stop reason of the current state, null while running or unknown.</param>
/// <param name="CurrentShift">The shift on now, up to now; null between shifts.</param>
/// <param name="PreviousShift">The last closed shift, final values; null until a shift has closed.</param>
/// <param name="LastHour">The rolling hour ending now.</param>
/// <param name="Timeline">The states of the current shift (or of the last hour between shifts), oldest first.</param>
/// <param name="Breaks">The scheduled breaks (planned stops of the plan) of the current shift, including those still to come.</param>
/// <param name="TopDowntimeReasons">Stops of the current shift grouped by reason, most seconds first (at most 10).</param>
/// <param name="RecentDowntimeEvents">The latest stops (at most 20), newest first.</param>
public sealed record OeeMachineSnapshot(
    string Name,
    string State,
    DateTimeOffset? StateSince,
    string? Reason,
    OeePeriod? CurrentShift,
    OeePeriod? PreviousShift,
    OeePeriod LastHour,
    IReadOnlyList<OeeTimelineEntry> Timeline,
    IReadOnlyList<OeeBreak> Breaks,
    IReadOnlyList<OeeDowntimeReason> TopDowntimeReasons,
    IReadOnlyList<OeeDowntimeEvent> RecentDowntimeEvents);

/// <summary>
/// The OEE of a period (ISO 22400-2): availability = run time / planned production time; performance = ideal
/// cycle × total count / run time; quality = good / total; OEE = A × P × Q (= ideal cycle × good / planned time).
/// A ratio whose denominator is zero is null. Planned production time excludes breaks, non-working time,
/// planned-stop states and unknown time (no data, the gateway off); running during a break still counts.
/// </summary>
/// <param name="Name">The shift's name, or <c>last-hour</c>.</param>
/// <param name="Start">Start of the period (UTC).</param>
/// <param name="End">End of the period (UTC): the shift's end, or now for the last hour.</param>
/// <param name="Availability">0..1, null without planned production time.</param>
/// <param name="Performance">
/// Usually 0..1, null without run time or without a total counter. Above 1 when the machine beats the configured ideal
/// cycle time: shown as measured, never clamped, because it says the ideal cycle time is wrong (too long).
/// </param>
/// <param name="Quality">0..1, null without parts or without a total counter; 1 when there is neither a good nor a reject counter.</param>
/// <param name="Oee">Usually 0..1 (above 1 with performance above 1), null without planned production time or without a total counter.</param>
/// <param name="RunSeconds">Time running, in seconds.</param>
/// <param name="PlannedSeconds">Planned production time so far, in seconds.</param>
/// <param name="DowntimeSeconds">Unplanned stop time (down, idle, setup) within planned time, in seconds.</param>
/// <param name="PlannedStopSeconds">Time in the planned-stop state, in seconds (excluded from planned time).</param>
/// <param name="UnknownSeconds">Time without a known state (gateway off, no data, Bad quality), in seconds (excluded).</param>
/// <param name="TotalCount">Parts made.</param>
/// <param name="GoodCount">Good parts.</param>
/// <param name="RejectCount">Rejected parts (start-up and production).</param>
/// <param name="Losses">The six big losses.</param>
public sealed record OeePeriod(
    string Name,
    DateTimeOffset Start,
    DateTimeOffset End,
    double? Availability,
    double? Performance,
    double? Quality,
    double? Oee,
    double RunSeconds,
    double PlannedSeconds,
    double DowntimeSeconds,
    double PlannedStopSeconds,
    double UnknownSeconds,
    long TotalCount,
    long GoodCount,
    long RejectCount,
    OeeLosses Losses);

/// <summary>
/// The six big losses of a period. Stops within planned time: breakdowns (down, at least the micro-stop threshold),
/// setup (a setup state or a setup reason), micro-stops (down or idle shorter than the threshold), and idle
/// (starved or blocked for longer, outside the six); reduced speed = run time − ideal cycle × total count
/// (at least 0); rejects split into start-up and production rejects, also expressed as ideal-cycle seconds.
/// </summary>
public sealed record OeeLosses(
    double BreakdownSeconds,
    double SetupSeconds,
    double MicroStopSeconds,
    double IdleSeconds,
    double ReducedSpeedSeconds,
    long StartupRejectCount,
    double StartupRejectSeconds,
    long ProductionRejectCount,
    double ProductionRejectSeconds);

/// <summary>A stretch of one state; <paramref name="End"/> is now for the current state.</summary>
public sealed record OeeTimelineEntry(DateTimeOffset Start, DateTimeOffset End, string State, string? Reason);

/// <summary>A scheduled break: [start, end) in UTC.</summary>
public sealed record OeeBreak(DateTimeOffset Start, DateTimeOffset End);

/// <summary>Stops grouped by reason (the state name when the stop had no reason), in seconds within planned time.</summary>
public sealed record OeeDowntimeReason(string Reason, double Seconds, int Count);

/// <summary>One stop (an unplanned stop: idle, down or setup).</summary>
/// <param name="Start">When it began (UTC).</param>
/// <param name="End">When it ended (UTC); null while it lasts.</param>
/// <param name="DurationSeconds">Its duration so far, in seconds.</param>
/// <param name="State">idle, down or setup.</param>
/// <param name="Category">breakdown, setup, micro-stop or idle.</param>
/// <param name="Reason">The stop reason, or the state name when there was none.</param>
public sealed record OeeDowntimeEvent(DateTimeOffset Start, DateTimeOffset? End, double DurationSeconds, string State, string Category, string Reason);
