using Gateway.Drivers;
using Gateway.Drivers.Simulation;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Simulation;

/// <summary>Issue 13: the simulated line keeps sampling when the wall clock steps.</summary>
public sealed class SimulatedClockStepTests
{
    [Theory]
    [InlineData(-3600)]
    [InlineData(3600)]
    public async Task Run_WallClockStepped_KeepsSamplingOncePerIntervalStampedWithTheWallClock(int stepSeconds)
    {
        var time = new SteppingTimeProvider();
        var settings = new SimulatedSettings { Seed = 3, IntervalMs = 1000, Machines = [new() { Name = "m", IdealCycleMs = 1000, AlwaysRunning = true }] };
        var driver = new SimulatedDriver("sim", settings, [], new DriverContext(time, NullLoggerFactory.Instance));
        var writer = new ListWriter();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(writer, stop.Token);

        await AdvanceAsync(time, TimeSpan.FromSeconds(10));
        var before = writer.Of("m/temperature").Count;
        time.StepWallClock(TimeSpan.FromSeconds(stepSeconds));
        var stepped = time.GetUtcNow();
        await AdvanceAsync(time, TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await run;

        var after = writer.Of("m/temperature").Skip(before).ToList();
        Assert.InRange(after.Count, 9, 11);
        Assert.All(after, s => Assert.InRange(s.GatewayTimestamp, stepped, stepped.AddSeconds(11)));
    }

    [Fact]
    public async Task Run_WithARunTime_WallClockSteppedForwardPastItsEnd_KeepsSamplingUntilTheRunTimeHasElapsed()
    {
        var time = new SteppingTimeProvider();
        var settings = new SimulatedSettings { Seed = 3, IntervalMs = 1000, StopAfterSeconds = 60, Machines = [new() { Name = "m", IdealCycleMs = 1000, AlwaysRunning = true }] };
        var driver = new SimulatedDriver("sim", settings, [], new DriverContext(time, NullLoggerFactory.Instance));
        var writer = new ListWriter();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(writer, stop.Token);

        await AdvanceAsync(time, TimeSpan.FromSeconds(10));
        var before = writer.Of("m/temperature").Count;
        time.StepWallClock(TimeSpan.FromHours(1)); // far past the wall-clock end of the 60 s run
        var stepped = time.GetUtcNow();
        await AdvanceAsync(time, TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await run;

        var after = writer.Of("m/temperature").Skip(before).ToList();
        Assert.InRange(after.Count, 9, 11);
        Assert.All(after, s => Assert.InRange(s.GatewayTimestamp, stepped, stepped.AddSeconds(11)));
        Assert.Equal(after.Count, after.Select(s => s.GatewayTimestamp).Distinct().Count());
    }

    [Fact]
    public async Task Run_WithARunTime_StopsOnceItHasElapsedOnTheMonotonicClock()
    {
        var time = new SteppingTimeProvider();
        var settings = new SimulatedSettings { Seed = 3, IntervalMs = 1000, StopAfterSeconds = 5, Machines = [new() { Name = "m", IdealCycleMs = 1000, AlwaysRunning = true }] };
        var driver = new SimulatedDriver("sim", settings, [], new DriverContext(time, NullLoggerFactory.Instance));
        var writer = new ListWriter();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(writer, stop.Token);
        var start = time.GetUtcNow();

        time.StepWallClock(TimeSpan.FromHours(-1));
        await AdvanceAsync(time, TimeSpan.FromSeconds(10));
        var count = writer.Of("m/temperature").Count;
        await AdvanceAsync(time, TimeSpan.FromSeconds(5));
        await stop.CancelAsync();
        await run;

        Assert.InRange(count, 5, 7);
        Assert.Equal(count, writer.Of("m/temperature").Count);
    }

    private static async Task AdvanceAsync(SteppingTimeProvider time, TimeSpan total)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < total; elapsed += TimeSpan.FromMilliseconds(250))
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Delay(2);
        }
    }

    private sealed class ListWriter : ISampleWriter
    {
        private readonly List<Sample> _samples = [];

        public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
        {
            lock (_samples)
            {
                _samples.Add(sample);
            }

            return ValueTask.CompletedTask;
        }

        public List<Sample> Of(string key)
        {
            lock (_samples)
            {
                return [.. _samples.Where(s => s.Tag.Key == key)];
            }
        }
    }
}
