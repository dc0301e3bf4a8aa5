using System.Text.Json;
using Gateway.Oee;
using static Gateway.Tests.Oee.OeeScenario;

namespace Gateway.Tests.Oee;

/// <summary>The plant's clock: what /api/oee carries so that a browser in another zone shows plant time.</summary>
public sealed class PlantTimeTests
{
    private static readonly JsonSerializerOptions s_web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void ParisAfternoonShift_ProjectsTo1400And2200_WithTheZoneLabel()
    {
        var plant = new PlantTime("Europe/Paris");

        // 3 December 2026 is winter time: 13:00Z is 14:00 in Paris, 21:00Z is 22:00.
        Assert.Equal("14:00", plant.Clock(At(2026, 12, 3, 13, 0)));
        Assert.Equal("22:00", plant.Clock(At(2026, 12, 3, 21, 0)));
        Assert.Equal("+01:00", plant.UtcOffset(At(2026, 12, 3, 19, 53)));
        Assert.Equal("Europe/Paris (UTC+01:00)", plant.Label(At(2026, 12, 3, 19, 53)));
        // Summer time: +02:00.
        Assert.Equal("+02:00", plant.UtcOffset(At(2026, 7, 1, 12, 0)));
        Assert.Equal("14:00", plant.Clock(At(2026, 7, 1, 12, 0)));
    }

    [Fact]
    public void NoZoneConfigured_FallsBackToTheHostsZone()
    {
        var plant = PlantTime.For(null);

        Assert.False(string.IsNullOrEmpty(plant.TimeZone));
        Assert.True(TimeZoneInfo.TryFindSystemTimeZoneById(plant.TimeZone, out _));
    }

    [Fact]
    public void ApiOeeDocument_CarriesThePlantZone_OffsetAndPlantClock_AndShiftTimesThatAreThePlantsLocalTimes()
    {
        // A Paris plant with a 14:00-22:00 shift; the gateway's clock says 19:53Z (20:53 in Paris).
        using var s = new OeeScenario(At(2026, 12, 3, 19, 53), o =>
        {
            o.ShiftPlan!.TimeZone = "Europe/Paris";
            o.ShiftPlan.Shifts = [new ShiftOptions { Name = "afternoon", Start = "14:00", End = "22:00" }];
        });
        s.State("running").Total(0).Reject(0);

        var report = s.Engine.Snapshot();
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report, s_web));
        var root = json.RootElement;

        Assert.Equal("Europe/Paris", root.GetProperty("timeZone").GetString());
        Assert.Equal("+01:00", root.GetProperty("utcOffset").GetString());
        Assert.Equal("2026-12-03T20:53:00+01:00", root.GetProperty("plantTime").GetString());
        // The existing fields are unchanged: generatedAt stays UTC.
        Assert.Equal(At(2026, 12, 3, 19, 53), root.GetProperty("generatedAt").GetDateTimeOffset());

        var shift = root.GetProperty("machines")[0].GetProperty("currentShift");
        var plant = new PlantTime(root.GetProperty("timeZone").GetString());
        Assert.Equal("14:00", plant.Clock(shift.GetProperty("start").GetDateTimeOffset()));
        Assert.Equal("22:00", plant.Clock(shift.GetProperty("end").GetDateTimeOffset()));
    }
}
