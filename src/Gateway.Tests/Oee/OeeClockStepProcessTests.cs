using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Oee;

/// <summary>
/// Issue 13, end to end: the real gateway with the simulated line and an OEE section under libfaketime, its wall
/// clock stepped forward an hour (the monotonic clock left alone, as NTP leaves it). Before, the shift's run time
/// jumped by the hour and the wall-clock-driven simulated counter added 3,600 parts in one burst.
/// </summary>
[Collection(nameof(Integration.ProcessTests))]
public sealed class OeeClockStepProcessTests
{
    private static string LibFaketime =>
        new[] { "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1", "/usr/lib/faketime/libfaketimeMT.so.1" }
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("libfaketime is not installed: ./test.sh installs the Debian package faketime");

    [Fact]
    public async Task WallClockSteppedForwardAnHour_ApiOeeShowsTheHourAsUnknown_RunTimeAndPerformanceStayRight()
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 500, intervalMs: 200);
        config.Root.Remove("mqtt");
        config.Root["mqtt"] = new JsonObject { ["maxReconnectDelayMs"] = 1000, ["host"] = "127.0.0.1", ["port"] = PortAllocator.FreeTcpPort() };
        var start = TimeProvider.System.GetUtcNow().AddMinutes(-1);
        config.Root["oee"] = new JsonObject
        {
            ["publishIntervalSeconds"] = 1,
            ["shiftPlan"] = new JsonObject
            {
                ["timeZone"] = "UTC",
                ["shifts"] = new JsonArray(new JsonObject
                {
                    ["name"] = "A",
                    ["start"] = start.ToString("HH:mm", CultureInfo.InvariantCulture),
                    ["end"] = start.AddHours(4).ToString("HH:mm", CultureInfo.InvariantCulture),
                }),
            },
            ["machines"] = new JsonArray(new JsonObject
            {
                ["name"] = "m1",
                ["stateTag"] = "state",
                ["totalCountTag"] = "total-count",
                ["rejectCountTag"] = "reject-count",
                ["idealCycleMs"] = 500,
            }),
        };
        var offsetFile = Path.Combine(config.Directory, "faketime-offset");
        await File.WriteAllTextAsync(offsetFile, "+0\n");
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        gateway.ExtraEnvironment["LD_PRELOAD"] = LibFaketime;
        gateway.ExtraEnvironment["FAKETIME_TIMESTAMP_FILE"] = offsetFile;
        gateway.ExtraEnvironment["FAKETIME_NO_CACHE"] = "1";
        gateway.ExtraEnvironment["DONT_FAKE_MONOTONIC"] = "1";
        await gateway.StartAsync();

        await Task.Delay(TimeSpan.FromSeconds(3));
        await File.WriteAllTextAsync(offsetFile, "+1h\n");
        await gateway.WaitMetricAsync("gateway_clock_steps_total", v => v >= 1, TimeSpan.FromSeconds(15));
        await Task.Delay(TimeSpan.FromSeconds(3));

        using var oee = JsonDocument.Parse(await gateway.GetAsync("/api/oee"));
        var machine = oee.RootElement.GetProperty("machines")[0];
        var shift = machine.GetProperty("currentShift");
        Assert.InRange(shift.GetProperty("unknownSeconds").GetDouble(), 3590, 3700);
        Assert.InRange(shift.GetProperty("runSeconds").GetDouble(), 1, 120);
        // A few seconds of run time: one part more or less moves performance by several percent; the step's burst of
        // 3,600 parts would put it far above this bound.
        Assert.InRange(shift.GetProperty("performance").GetDouble(), 0, 1.2);
        Assert.Contains(machine.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("state").GetString() == "unknown" && (e.GetProperty("end").GetDateTimeOffset() - e.GetProperty("start").GetDateTimeOffset()).TotalSeconds > 3500);
    }
}
