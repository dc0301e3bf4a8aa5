using Gateway.Drivers;
using Gateway.Drivers.Gpio;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Gpio;

/// <summary>Issue 13: a Pi without RTC gets its clock stepped by NTP after boot; counting and reading go on.</summary>
public sealed class PiClockStepTests
{
    private const string Counter = """
        { "name": "line-io", "type": "gpio", "chip": 0, "pollIntervalMs": 1000, "machine": "packer",
          "tags": [ { "name": "parts", "address": "pin:17", "mode": "counter", "edge": "rising", "pull": "down", "debounceMs": 1, "unit": "parts" } ] }
        """;

    [Fact]
    public async Task GpioDriver_WallClockSteppedBackAnHour_KeepsCountingEveryPulse()
    {
        var time = new SteppingTimeProvider(PiTestKit.Start);
        var chip = new EmulatedGpioDriver();
        await using var driver = PiTestKit.Create(new GpioDriverFactory(_ => chip), Counter, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);
        await PiTestKit.UntilAsync(() => driver.State == DriverState.Connected && chip.HasCallback(17), what: "pins opened");

        Pulses(chip, time, 100);
        time.StepWallClock(TimeSpan.FromHours(-1));
        Pulses(chip, time, 100);
        await UntilAsync(() => samples.Of("parts").Any(s => s.Value.AsInteger == 200), time);
        await stop.CancelAsync();
        await run;

        Assert.Equal(200, samples.Of("parts")[^1].Value.AsInteger);
    }

    [Fact]
    public async Task I2cDriver_WallClockSteppedBackAnHour_KeepsReadingOncePerInterval()
    {
        var time = new SteppingTimeProvider(PiTestKit.Start);
        var chip = new Sht3xChip();
        await using var driver = PiTestKit.Create(new I2cDriverFactory(chip.Bus), """
            { "name": "env", "type": "i2c", "sensor": "sht3x", "address": "0x44", "machine": "cabinet", "pollIntervalMs": 1000,
              "tags": [ { "name": "t", "address": "temperature" } ] }
            """, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);
        await PiTestKit.UntilAsync(() => samples.Of("t").Count >= 1, what: "first reading");

        time.StepWallClock(TimeSpan.FromHours(-1));
        await UntilAsync(() => samples.Of("t").Count >= 6, time);
        await stop.CancelAsync();
        await run;

        Assert.True(samples.Of("t").Skip(1).All(s => s.SourceTimestamp < PiTestKit.Start), "readings after the step carry the stepped wall time");
    }

    /// <summary>Clean 100 Hz pulses (no bounce), advancing both clocks.</summary>
    private static void Pulses(EmulatedGpioDriver chip, SteppingTimeProvider time, int count)
    {
        for (var i = 0; i < count; i++)
        {
            chip.SetInput(17, true);
            time.Advance(TimeSpan.FromMilliseconds(5));
            chip.SetInput(17, false);
            time.Advance(TimeSpan.FromMilliseconds(5));
        }
    }

    /// <summary>Advances the clocks by 100 ms between looks until <paramref name="condition"/> holds (bounded in real time).</summary>
    private static Task UntilAsync(Func<bool> condition, SteppingTimeProvider time) =>
        Eventually.TrueAsync(condition, "condition not reached", between: () => time.Advance(TimeSpan.FromMilliseconds(100)), poll: TimeSpan.FromMilliseconds(5));
}
