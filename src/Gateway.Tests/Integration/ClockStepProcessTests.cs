using System.Globalization;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Integration;

/// <summary>
/// Issue 13, end to end: the real gateway process under libfaketime (Debian package <c>faketime</c>), its wall clock
/// stepped back an hour while it runs (FAKETIME_TIMESTAMP_FILE; the monotonic clock is left alone, as NTP leaves it),
/// a real mosquitto and an independent subscriber.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class ClockStepProcessTests
{
    private const string Topic = "acme/lyon/assembly/line-1/m1/motor-current";

    private static string LibFaketime =>
        new[] { "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1", "/usr/lib/faketime/libfaketimeMT.so.1" }
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("libfaketime is not installed: ./test.sh installs the Debian package faketime");

    [Fact]
    public async Task WallClockSteppedBackAnHour_GatewayKeepsPublishingWithTheNewTime_LogsAndCountsTheStepOnce()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 500, intervalMs: 200);
        var offsetFile = Path.Combine(config.Directory, "faketime-offset");
        await File.WriteAllTextAsync(offsetFile, "+0\n");
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        gateway.ExtraEnvironment["LD_PRELOAD"] = LibFaketime;
        gateway.ExtraEnvironment["FAKETIME_TIMESTAMP_FILE"] = offsetFile;
        gateway.ExtraEnvironment["FAKETIME_NO_CACHE"] = "1";
        gateway.ExtraEnvironment["DONT_FAKE_MONOTONIC"] = "1";
        await gateway.StartAsync();

        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == Topic) >= 5, TimeSpan.FromSeconds(30), "samples before the step");
        await File.WriteAllTextAsync(offsetFile, "-1h\n");
        var stepped = TimeProvider.System.GetUtcNow().AddHours(-1);
        await collector.WaitUntilAsync(m => AfterStep(m, stepped).Count >= 10, TimeSpan.FromSeconds(30), "samples stamped after the step back");
        await gateway.WaitMetricAsync("gateway_clock_steps_total", v => v >= 1, TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Equal(1, await gateway.MetricAsync("gateway_clock_steps_total"));
        Assert.Contains("Wall clock stepped back by 3", gateway.Output, StringComparison.Ordinal);
        var after = AfterStep(collector.Messages, stepped);
        Assert.All(after, m => Assert.Equal("Good", m.Json.GetProperty("quality").GetString()));
        Assert.Equal(0, await gateway.MetricAsync("gateway_buffer_dropped_samples_total"));
    }

    /// <summary>Motor-current samples stamped within a minute after the stepped-back time (an hour behind the real one).</summary>
    private static List<Received> AfterStep(IReadOnlyList<Received> messages, DateTimeOffset stepped) =>
        [.. messages.Where(m => m.Topic == Topic && DateTimeOffset.Parse(m.Timestamp, CultureInfo.InvariantCulture) is var t && t >= stepped.AddSeconds(-5) && t < stepped.AddMinutes(1))];
}
