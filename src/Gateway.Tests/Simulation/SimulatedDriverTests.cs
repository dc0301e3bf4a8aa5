using Gateway.Drivers;
using Gateway.Drivers.Simulation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Simulation;

public sealed class SimulatedDriverTests
{
    private static readonly DateTimeOffset s_start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Run_SameSeedAndClock_ProducesIdenticalSamples()
    {
        var first = await RunAsync(seed: 11, TimeSpan.FromMinutes(30));
        var second = await RunAsync(seed: 11, TimeSpan.FromMinutes(30));

        Assert.True(first.Count > 1000);
        Assert.Equal(first.Select(Describe), second.Select(Describe));
    }

    [Fact]
    public async Task Run_OtherSeed_ProducesAnotherLine()
    {
        var first = await RunAsync(seed: 11, TimeSpan.FromMinutes(30));
        var other = await RunAsync(seed: 12, TimeSpan.FromMinutes(30));

        Assert.NotEqual(first.Select(Describe), other.Select(Describe));
    }

    [Fact]
    public async Task Run_OverAShift_CountersIncrementByOneAndRejectsStayBelowTotal()
    {
        var samples = await RunAsync(seed: 5, TimeSpan.FromHours(8));

        foreach (var machine in samples.Select(s => s.Tag.Machine).Distinct())
        {
            var totals = Values(samples, machine, "total-count");
            var rejects = Values(samples, machine, "reject-count");
            Assert.True(totals.Count > 100, $"{machine} produced only {totals.Count} parts in 8 h");
            for (var i = 1; i < totals.Count; i++)
            {
                Assert.Equal(totals[i - 1] + 1, totals[i]);
            }

            for (var i = 1; i < rejects.Count; i++)
            {
                Assert.Equal(rejects[i - 1] + 1, rejects[i]);
            }

            Assert.True(rejects[^1] - rejects[0] < totals[^1] - totals[0]);
            Assert.True(rejects[^1] > rejects[0], $"{machine} had no reject in 8 h");
        }
    }

    [Fact]
    public async Task Run_OverAShift_VisitsEveryStateWithADownReason()
    {
        var samples = await RunAsync(seed: 5, TimeSpan.FromHours(8));

        var states = samples.Where(s => s.Tag.Path == "state").Select(s => s.Value.AsString).ToHashSet();
        Assert.Superset(new HashSet<string?> { "running", "idle", "down", "planned-stop" }, states);
        var reasons = samples.Where(s => s.Tag.Path == "down-reason" && s.Value.AsString!.Length > 0).Select(s => s.Value.AsString).Distinct().ToList();
        Assert.True(reasons.Count >= 2, "down periods carry their reasons");
        // Every down state is accompanied by a non-empty reason with the same timestamp.
        foreach (var down in samples.Where(s => s.Tag.Path == "state" && s.Value.AsString == "down"))
        {
            Assert.Contains(samples, r => r.Tag.Machine == down.Tag.Machine && r.Tag.Path == "down-reason" && r.SourceTimestamp == down.SourceTimestamp && r.Value.AsString!.Length > 0);
        }
    }

    [Fact]
    public async Task Run_Counters_AdvanceOnlyWhileRunning_AtTheCycleTime()
    {
        var samples = await RunAsync(seed: 3, TimeSpan.FromHours(2));
        var states = samples.Where(s => s.Tag.Machine == "press" && s.Tag.Path == "state").ToList();
        var parts = samples.Where(s => s.Tag.Machine == "press" && s.Tag.Path == "total-count").Skip(1).ToList();

        foreach (var part in parts)
        {
            var stateAtPart = states.Last(s => s.SourceTimestamp < part.SourceTimestamp);
            Assert.Equal("running", stateAtPart.Value.AsString);
        }

        // Consecutive parts within one running period are at least the ideal cycle time (2 s) apart.
        for (var i = 1; i < parts.Count; i++)
        {
            var gap = parts[i].SourceTimestamp - parts[i - 1].SourceTimestamp;
            Assert.True(gap >= TimeSpan.FromSeconds(2), $"parts {gap.TotalMilliseconds} ms apart");
        }
    }

    [Fact]
    public async Task Run_AnalogTags_StayInPhysicalRanges_WithNoise()
    {
        var samples = await RunAsync(seed: 9, TimeSpan.FromHours(1));
        var temperatures = samples.Where(s => s.Tag.Path == "temperature").Select(s => s.Value.AsDouble).ToList();
        var currents = samples.Where(s => s.Tag.Path == "motor-current").Select(s => s.Value.AsDouble).ToList();

        Assert.All(temperatures, t => Assert.InRange(t, 15, 80));
        Assert.All(currents, c => Assert.InRange(c, 0, 25));
        var press = samples.Where(s => s.Tag.Machine == "press" && s.Tag.Path == "motor-current").Select(s => s.Value.AsDouble).ToList();
        var changes = press.Zip(press.Skip(1)).Count(p => p.First != p.Second);
        Assert.True(changes > press.Count * 0.9, $"motor current carries noise: {changes} changes in {press.Count} samples");
        Assert.Equal("degC", samples.First(s => s.Tag.Path == "temperature").Tag.Unit);
        Assert.Equal("A", samples.First(s => s.Tag.Path == "motor-current").Tag.Unit);
    }

    [Fact]
    public async Task Run_Restarted_ContinuesTheSameCountersAsAMachineWould()
    {
        var uninterrupted = await RunAsync(seed: 21, TimeSpan.FromHours(1));
        var lastTotal = Values(uninterrupted, "welder", "total-count")[^1];

        var restarted = await RunAsync(seed: 21, TimeSpan.FromMinutes(1), start: s_start.AddHours(1));
        var firstTotalAfterRestart = Values(restarted, "welder", "total-count")[0];

        Assert.Equal(lastTotal, firstTotalAfterRestart);
    }

    [Fact]
    public async Task Run_StopAfterSeconds_ProducesNothingMore()
    {
        var settings = new SimulatedSettings { Seed = 1, IntervalMs = 100, StopAfterSeconds = 10, Machines = [new() { Name = "m", IdealCycleMs = 100, AlwaysRunning = true }] };

        var samples = await RunAsync(settings, TimeSpan.FromMinutes(2), s_start);

        Assert.All(samples, s => Assert.True(s.SourceTimestamp <= s_start.AddSeconds(10)));
        Assert.InRange(Values(samples, "m", "total-count").Count, 99, 101);
    }

    private static List<long> Values(List<Sample> samples, string machine, string path) =>
        samples.Where(s => s.Tag.Machine == machine && s.Tag.Path == path).Select(s => s.Value.AsInteger).ToList();

    private static string Describe(Sample s) => $"{s.Tag.Key}|{s.SourceTimestamp:O}|{s.Value}|{s.Quality}";

    private static Task<List<Sample>> RunAsync(int seed, TimeSpan duration, DateTimeOffset? start = null) =>
        RunAsync(new SimulatedSettings { Seed = seed, IntervalMs = 1000 }, duration, start ?? s_start);

    private static async Task<List<Sample>> RunAsync(SimulatedSettings settings, TimeSpan duration, DateTimeOffset start)
    {
        var time = new FakeTimeProvider(start);
        var driver = new SimulatedDriver("sim", settings, [], new DriverContext(time, NullLoggerFactory.Instance));
        var writer = new CollectingWriter();
        using var cancellation = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cancellation.Token);
        var step = TimeSpan.FromMilliseconds(settings.IntervalMs);
        for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += step)
        {
            time.Advance(step);
            await Task.Yield();
        }

        await cancellation.CancelAsync();
        await run;
        return writer.Samples;
    }

    private sealed class CollectingWriter : ISampleWriter
    {
        public List<Sample> Samples { get; } = [];

        public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
        {
            Samples.Add(sample);
            return ValueTask.CompletedTask;
        }
    }
}
