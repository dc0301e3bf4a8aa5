using System.Diagnostics;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;

namespace Gateway.Tests.Northbound;

/// <summary>A broker back after an outage long enough for the backoff to have grown is reconnected to at once.</summary>
[Collection(nameof(ProcessTests))]
public sealed class ReconnectTests
{
    private const string CounterTopic = "acme/lyon/assembly/line-1/m1/total-count";

    [Fact]
    public async Task BrokerBackAfterTheBackoffGrew_IsReconnectedToWithinSeconds_NotAtTheNextBackoffAttempt()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, CounterTopic);
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 100);
        config.Root["mqtt"]!["maxReconnectDelayMs"] = 60_000;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await collector.WaitUntilAsync(m => m.Count >= 5, TimeSpan.FromSeconds(20), "counter samples before the outage");

        // 0.25 + 0.5 + 1 + 2 + 4 + 8 s of attempts: after 20 s the next one is some 16 s away (jittered).
        await broker.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(20));
        await broker.StartAsync();
        var restart = DateTimeOffset.UtcNow;
        var back = Stopwatch.StartNew();
        await collector.WaitUntilAsync(m => m.Any(x => DateTimeOffset.Parse(x.Timestamp, System.Globalization.CultureInfo.InvariantCulture) > restart), TimeSpan.FromSeconds(60), "a sample read after the broker came back");

        Assert.True(back.Elapsed < TimeSpan.FromSeconds(4), $"the first sample after the broker's return came {back.Elapsed.TotalSeconds:F1} s later");
        Assert.True(gateway.Output.Contains("accepts connections again", StringComparison.Ordinal), string.Join("\n", gateway.Output.Split('\n').Where(l => l.Contains("mqtt-uns", StringComparison.Ordinal))));
    }
}
