using System.Globalization;

namespace Gateway.Oee;

/// <summary>
/// The plant's clock: instants projected into the plant's time zone (the <c>oee.shiftPlan.timeZone</c>, else the
/// host's zone), so that every screen shows plant time whatever zone its browser runs in (a kiosk left on UTC, a
/// consultant abroad). The dashboard formats with <see cref="TimeZone"/>; <see cref="UtcOffset"/> is the offset now,
/// for a browser that does not know the zone.
/// </summary>
public sealed class PlantTime
{
    private readonly TimeZoneInfo _zone;

    public PlantTime(string? timeZoneId)
    {
        if (!string.IsNullOrWhiteSpace(timeZoneId) && TimeZoneInfo.TryFindSystemTimeZoneById(timeZoneId, out var zone))
        {
            _zone = zone;
            TimeZone = IanaId(timeZoneId);
        }
        else
        {
            _zone = TimeZoneInfo.Local;
            TimeZone = IanaId(_zone.Id);
        }
    }

    /// <summary>The plant's zone of a configuration: the OEE shift plan's, else the first machine plan's, else null (the host's).</summary>
    public static PlantTime For(OeeOptions? oee) =>
        new(oee?.ShiftPlan?.TimeZone is { Length: > 0 } zone ? zone : oee?.Machines.Select(m => m.ShiftPlan?.TimeZone).FirstOrDefault(z => !string.IsNullOrEmpty(z)));

    /// <summary>The IANA id of the zone (<c>Europe/Paris</c>), as browsers' <c>Intl.DateTimeFormat</c> takes it.</summary>
    public string TimeZone { get; }

    /// <summary><paramref name="utc"/> in plant time (the same instant, with the plant's offset).</summary>
    public DateTimeOffset Local(DateTimeOffset utc) => TimeZoneInfo.ConvertTime(utc, _zone);

    /// <summary>The plant's offset from UTC at <paramref name="utc"/>, as <c>+01:00</c>.</summary>
    public string UtcOffset(DateTimeOffset utc)
    {
        var offset = _zone.GetUtcOffset(utc);
        return (offset < TimeSpan.Zero ? "-" : "+") + offset.Duration().ToString(@"hh\:mm", CultureInfo.InvariantCulture);
    }

    /// <summary>The instant the plant's day containing <paramref name="utc"/> began (local midnight; 01:00 where midnight is skipped by a DST change).</summary>
    public DateTimeOffset StartOfDay(DateTimeOffset utc) => AtLocal(DateOnly.FromDateTime(Local(utc).DateTime), TimeOnly.MinValue);

    /// <summary>The instant of <paramref name="time"/> on <paramref name="day"/> on the plant's clock; a time skipped by a DST change moves one hour later, an ambiguous one is the first.</summary>
    public DateTimeOffset AtLocal(DateOnly day, TimeOnly time)
    {
        var local = day.ToDateTime(time, DateTimeKind.Unspecified);
        if (_zone.IsInvalidTime(local))
        {
            local = local.AddHours(1);
        }

        var offset = _zone.IsAmbiguousTime(local) ? _zone.GetAmbiguousTimeOffsets(local).Max() : _zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    /// <summary><paramref name="utc"/> as the plant's wall clock shows it, <c>HH:mm</c>.</summary>
    public string Clock(DateTimeOffset utc) => Local(utc).ToString("HH:mm", CultureInfo.InvariantCulture);

    /// <summary>The label shown beside plant times: <c>Europe/Paris (UTC+01:00)</c>.</summary>
    public string Label(DateTimeOffset utc) => TimeZone + " (UTC" + UtcOffset(utc) + ")";

    private static string IanaId(string id) =>
        !id.Contains('/', StringComparison.Ordinal) && id != "UTC" && TimeZoneInfo.TryConvertWindowsIdToIanaId(id, out var iana) ? iana : id;
}
