using Gateway.Configuration;
using Gateway.Drivers;

namespace Gateway.Tests.Oee;

public sealed class OeeConfigTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "oee-config-" + Guid.NewGuid().ToString("N"));

    public OeeConfigTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private LoadedConfig LoadDefault(Func<string, string> edit)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "gateway.json"))
            .Replace("data/buffer.db", Path.Combine(_directory, "buffer.db"), StringComparison.Ordinal);
        var file = Path.Combine(_directory, "gateway.json");
        File.WriteAllText(file, edit(text));
        return ConfigLoader.Load(file, BuiltInDrivers.Factories, includeEnvironment: false);
    }

    [Fact]
    public void DefaultConfig_HasAValidOeeSection_ForTheThreeSimulatedMachines()
    {
        var loaded = LoadDefault(text => text);

        Assert.True(loaded.IsValid, string.Join("\n", loaded.Problems));
        var oee = loaded.Config!.Oee!;
        Assert.Equal(["press", "welder", "assembly"], oee.Machines.Select(m => m.Name));
        Assert.Equal([2000.0, 3000.0, 4000.0], oee.Machines.Select(m => m.IdealCycleMs!.Value));
        Assert.Equal("Europe/Paris", oee.ShiftPlan!.TimeZone);
        Assert.Equal(2, oee.ShiftPlan.Shifts.Count);

        // Every tag the OEE refers to exists on the simulated line.
        var settings = new Gateway.Drivers.Simulation.SimulatedSettings();
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(loaded.Root!.GetSection("drivers:0"), settings);
        var known = Gateway.Drivers.Simulation.SimulatedDriver.TagNames(settings).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(Gateway.Oee.OeeConfigRules.CheckTags(oee, known));
    }

    [Theory]
    [InlineData("\"Europe/Paris\"", "\"Europe/Lyon\"", "oee.shiftPlan.timeZone")]
    [InlineData("\"start\": \"12:00\"", "\"start\": \"12h00\"", "oee.shiftPlan.breaks[1].start")]
    [InlineData("\"start\": \"14:00\"", "\"start\": \"13:00\"", "oee.shiftPlan")]
    [InlineData("\"Saturday\"", "\"Caturday\"", "oee.shiftPlan.nonWorkingDays")]
    [InlineData("\"idealCycleMs\": 3000\n", "\"idealCycleMs\": 0\n", "oee.machines[1].idealCycleMs")]
    [InlineData("\"totalCountTag\": \"total-count\",", "", "oee")]
    [InlineData("\"idealCycleMs\": 2000,", "", "oee")]
    [InlineData("\"rejectCountTag\": \"reject-count\",", "\"rejectCountTag\": \"reject-count\", \"goodCountTag\": \"total-count\",", "oee")]
    [InlineData("\"microStopSeconds\": 120", "\"microStopSecs\": 120", "oee.machines[0].microStopSecs")]
    [InlineData("\"start\": \"06:00\", \"end\": \"14:00\"", "\"start\": \"06:00\", \"end\": \"14:00\", \"days\": [ \"Mon\" ]", "oee.shiftPlan.shifts[0].days")]
    public void BrokenOeeSection_IsRefusedWithItsJsonPath(string find, string replace, string expectedPath)
    {
        var loaded = LoadDefault(text => text.Replace(find, replace, StringComparison.Ordinal));

        Assert.False(loaded.IsValid);
        Assert.Contains(loaded.Problems, p => p.Path == expectedPath);
    }

    [Fact]
    public void ShiftDaysAndABreakAcrossTheHandover_AreAccepted()
    {
        var loaded = LoadDefault(text => text
            .Replace("\"start\": \"06:00\", \"end\": \"14:00\"", "\"start\": \"06:00\", \"end\": \"14:00\", \"days\": [ \"Monday\", \"friday\" ]", StringComparison.Ordinal)
            .Replace("\"breaks\": [", "\"breaks\": [ { \"name\": \"handover\", \"start\": \"13:50\", \"end\": \"14:10\" },", StringComparison.Ordinal));

        Assert.True(loaded.IsValid, string.Join("\n", loaded.Problems));
        Assert.Equal(["Monday", "friday"], loaded.Config!.Oee!.ShiftPlan!.Shifts[0].Days);
        Assert.Equal("handover", loaded.Config.Oee.ShiftPlan.Breaks[0].Name);
    }
}
