using System.Device.Gpio;
using Gateway.Drivers;
using Gateway.Drivers.Gpio;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Gpio;

/// <summary>The gpio driver against an emulated GPIO chip (a System.Device.Gpio.GpioDriver) fed with bouncing edges.</summary>
public sealed class GpioDriverTests
{
    private static readonly TimeSpan s_halfPeriod = TimeSpan.FromMilliseconds(5); // 100 Hz, 50 % duty

    /// <summary>Bounce after each transition: the contact re-opens and re-closes within 0.6 ms.</summary>
    private static readonly TimeSpan[] s_bounces = [TimeSpan.FromMicroseconds(80), TimeSpan.FromMicroseconds(150), TimeSpan.FromMicroseconds(120), TimeSpan.FromMicroseconds(200)];

    /// <summary>Feeds <paramref name="pulses"/> pulses at 100 Hz, every transition followed by bounce, advancing the fake clock.</summary>
    private static void Pulses(Action<bool> setLevel, FakeTimeProvider time, int pulses, bool idleLevel = false)
    {
        for (var i = 0; i < pulses; i++)
        {
            foreach (var level in new[] { !idleLevel, idleLevel })
            {
                var elapsed = TimeSpan.Zero;
                setLevel(level);
                var bouncing = level;
                foreach (var bounce in s_bounces)
                {
                    time.Advance(bounce);
                    elapsed += bounce;
                    bouncing = !bouncing;
                    setLevel(bouncing);
                }

                // Four bounces: the contact ends where the transition went.
                Assert.Equal(level, bouncing);
                time.Advance(s_halfPeriod - elapsed);
            }
        }
    }

    [Fact]
    public void EdgeDebouncer_100HzWithBounce_CountsEveryPulseExactlyOnce()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var debouncer = new EdgeDebouncer(TimeSpan.FromMilliseconds(1), CountedEdges.Rising, initialLevel: false);
        var raw = 0;
        var level = false;

        Pulses(
            high =>
            {
                if (high == level)
                {
                    return;
                }

                level = high;
                raw++;
                debouncer.OnEdge(high, time.GetUtcNow().UtcTicks);
            },
            time,
            pulses: 1000);

        Assert.Equal(1000 * 2 * (1 + s_bounces.Length), raw); // the bounce really is there
        Assert.Equal(1000, debouncer.Count);
        Assert.False(debouncer.Level);
    }

    [Fact]
    public void EdgeDebouncer_WithoutDebounce_CountsTheBounceToo()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var debouncer = new EdgeDebouncer(TimeSpan.Zero, CountedEdges.Rising, initialLevel: false);

        Pulses(high => debouncer.OnEdge(high, time.GetUtcNow().UtcTicks), time, pulses: 100);

        Assert.Equal(100 * 5, debouncer.Count);
    }

    [Theory]
    [InlineData("rising", 300)]
    [InlineData("falling", 300)]
    [InlineData("both", 600)]
    public void EdgeDebouncer_EdgeChoice_CountsTheChosenEdges(string edge, int expected)
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var counted = edge switch { "rising" => CountedEdges.Rising, "falling" => CountedEdges.Falling, _ => CountedEdges.Both };
        var debouncer = new EdgeDebouncer(TimeSpan.FromMilliseconds(1), counted, initialLevel: false);

        Pulses(high => debouncer.OnEdge(high, time.GetUtcNow().UtcTicks), time, pulses: 300);

        Assert.Equal(expected, debouncer.Count);
    }

    private const string Config = """
        { "name": "line-io", "type": "gpio", "chip": 0, "pollIntervalMs": 1000, "machine": "packer",
          "tags": [
            { "name": "parts", "address": "pin:17", "mode": "counter", "edge": "rising", "pull": "down", "debounceMs": 1, "unit": "parts" },
            { "name": "door", "address": "pin:27", "mode": "input", "pull": "up", "activeLow": true, "debounceMs": 10 },
            { "name": "horn", "address": "pin:22", "mode": "output", "writable": true },
            { "name": "running", "address": "pin:23" } ] }
        """;

    [Fact]
    public async Task GpioDriver_100HzBouncingLightBarrier_PublishesAMonotonicCountWithoutLoss()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = new EmulatedGpioDriver();
        await using var driver = PiTestKit.Create(new GpioDriverFactory(_ => chip), Config, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);
        await PiTestKit.UntilAsync(() => driver.State == DriverState.Connected && chip.HasCallback(17), what: "pins opened");

        Pulses(high => chip.SetInput(17, high), time, pulses: 1000); // 10 s of parts at 100 Hz
        await PiTestKit.UntilAsync(() => samples.Of("parts").Any(s => s.Value.AsInteger == 1000), time, TimeSpan.FromMilliseconds(500), "count published");
        await stop.CancelAsync();
        await run;

        var counts = samples.Of("parts").Select(s => s.Value.AsInteger).ToList();
        Assert.Equal(0, counts[0]);
        Assert.Equal(1000, counts[^1]);
        Assert.True(counts.Zip(counts.Skip(1)).All(p => p.Second >= p.First), "the count never goes back");
        Assert.All(samples.Of("parts"), s => Assert.Equal((SampleValueKind.Integer, Quality.Good, "parts"), (s.Value.Kind, s.Quality, s.Tag.Unit)));
        Assert.Equal(PinMode.InputPullDown, chip.Modes[17]);
        Assert.Equal(PinMode.InputPullUp, chip.Modes[27]);
        Assert.Equal(PinMode.Output, chip.Modes[22]);
        Assert.True(chip.Disposed);
    }

    [Fact]
    public async Task GpioDriver_BouncingDoorSwitch_PublishesOneChangePerOperation()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = new EmulatedGpioDriver();
        await using var driver = PiTestKit.Create(new GpioDriverFactory(_ => chip), Config, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);
        await PiTestKit.UntilAsync(() => driver.State == DriverState.Connected && chip.HasCallback(27), what: "pins opened");

        // Pulled up and active-low: idle high is "open" (false); the switch closes to ground.
        Assert.False(samples.Of("door")[0].Value.AsBoolean);
        BounceTo(chip, time, 27, high: false); // closed
        time.Advance(TimeSpan.FromMilliseconds(200));
        BounceTo(chip, time, 27, high: true);  // open again
        await PiTestKit.UntilAsync(() => samples.Of("door").Count >= 3, what: "door changes");
        time.Advance(TimeSpan.FromSeconds(3));
        await Task.Delay(50);
        await stop.CancelAsync();
        await run;

        Assert.Equal([false, true, false], samples.Of("door").Select(s => s.Value.AsBoolean));
        Assert.All(samples.Of("door"), s => Assert.Equal(SampleValueKind.Boolean, s.Value.Kind));
    }

    private static void BounceTo(EmulatedGpioDriver chip, FakeTimeProvider time, int pin, bool high)
    {
        chip.SetInput(pin, high);
        for (var i = 0; i < 6; i++)
        {
            time.Advance(TimeSpan.FromMicroseconds(700));
            chip.SetInput(pin, i % 2 == 0 ? !high : high);
        }
    }

    [Fact]
    public async Task GpioDriver_WritableOutput_IsDrivenAndOthersRefuseWrites()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = new EmulatedGpioDriver();
        await using var driver = PiTestKit.Create(new GpioDriverFactory(_ => chip), Config, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);
        await PiTestKit.UntilAsync(() => driver.State == DriverState.Connected, what: "connected");

        var horn = driver.Tags.Single(t => t.Path == "horn");
        await driver.WriteAsync(horn, SampleValue.FromBoolean(true), CancellationToken.None);
        Assert.Equal(PinValue.High, chip.Level(22));
        await PiTestKit.UntilAsync(() => samples.Of("horn").Any(s => s.Value.AsBoolean), time, TimeSpan.FromSeconds(1), "output state published");
        await driver.WriteAsync(horn, SampleValue.FromBoolean(false), CancellationToken.None);
        Assert.Equal(PinValue.Low, chip.Level(22));

        var door = driver.Tags.Single(t => t.Path == "door");
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await driver.WriteAsync(door, SampleValue.FromBoolean(true), CancellationToken.None));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task GpioDriver_ActiveLowOutput_StartsOffAndWritesInverted()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var chip = new EmulatedGpioDriver();
        await using var driver = PiTestKit.Create(new GpioDriverFactory(_ => chip), """
            { "name": "relays", "type": "gpio", "machine": "cell",
              "tags": [ { "name": "lamp", "address": "pin:5", "mode": "output", "activeLow": true, "writable": true } ] }
            """, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);
        await PiTestKit.UntilAsync(() => driver.State == DriverState.Connected, what: "connected");

        Assert.Equal(PinValue.High, chip.Level(5)); // relay released
        Assert.False(samples.Of("lamp")[0].Value.AsBoolean);
        await driver.WriteAsync(driver.Tags[0], SampleValue.FromBoolean(true), CancellationToken.None);
        Assert.Equal(PinValue.Low, chip.Level(5));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task GpioDriver_ChipMissing_TagsBadOnceThenRetriedUntilItAppears()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var attempts = 0;
        var chip = new EmulatedGpioDriver();
        var factory = new GpioDriverFactory(_ => ++attempts < 4 ? throw new IOException("/dev/gpiochip0: No such file or directory") : chip);
        await using var driver = PiTestKit.Create(factory, Config, time);
        var samples = new SampleCollector();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);

        await PiTestKit.UntilAsync(() => driver.State == DriverState.Connected, time, TimeSpan.FromSeconds(1), "chip found");
        await stop.CancelAsync();
        await run;

        var all = samples.Snapshot();
        Assert.Equal(4, attempts);
        Assert.Equal(4, all.Count(s => s.Quality == Quality.Bad)); // one per tag, not one per attempt
        Assert.All(all.Take(4), s => Assert.Equal((Quality.Bad, GpioPinsDriver.BadCommunicationError), (s.Quality, s.StatusCode)));
        Assert.All(all.Skip(4), s => Assert.Equal(Quality.Good, s.Quality));
    }
}
