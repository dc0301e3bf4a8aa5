using Gateway.Tests.Infrastructure;
using Gateway.Tests.Northbound;

namespace Gateway.Tests.Integration;

/// <summary>
/// The buffer's promises, end to end: the real gateway process, a real mosquitto, an independent subscriber.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class StoreAndForwardTests
{
    private const string CounterTopic = "acme/lyon/assembly/line-1/m1/total-count";
    private const string PublishedMetric = "gateway_samples_published_total{sink=\"mqtt-uns\"}";

    [Fact]
    public async Task BrokerDown20Seconds_EverySampleArrives_WithPerTagOrderKept()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200, rejectPermille: 100, stopAfterSeconds: 30);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 20, TimeSpan.FromSeconds(20), "counter samples before the outage");
        await broker.StopAsync();
        var outageStart = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(20));
        var outageEnd = DateTimeOffset.UtcNow;
        await broker.StartAsync();

        // The line stops producing after 30 s: then every buffered sample must have been acknowledged.
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(12));
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(30));
        var buffered = await gateway.MetricAsync("gateway_samples_buffered_total");
        var published = await gateway.MetricAsync(PublishedMetric);
        var dropped = await gateway.MetricAsync("gateway_buffer_dropped_samples_total");
        await collector.WaitUntilAsync(m => Unique(m).Count >= buffered, TimeSpan.FromSeconds(30), $"{buffered} distinct samples");

        Assert.Equal(0, dropped);
        Assert.Equal(buffered, published);
        var unique = Unique(collector.Messages);
        Assert.Equal((int)buffered, unique.Count);

        var counters = unique.Where(m => m.Topic == CounterTopic).ToList();
        // Complete (the backlog arrives on the history topic after live samples: order is checked per channel below).
        AssertIncrementsByOne(counters.Select(m => m.LongValue).Order().ToList());
        var duringOutage = counters.Count(m => DateTimeOffset.Parse(m.Timestamp, System.Globalization.CultureInfo.InvariantCulture) is var t && t > outageStart && t < outageEnd);
        Assert.True(duringOutage > 300, $"only {duringOutage} counter samples were produced during the outage");

        // Per topic, order is kept on each channel: the live topics, and the backlog on the history topic.
        foreach (var topic in UnsHistory.Unique(collector.Messages).GroupBy(m => (m.Sample.Topic, m.History)))
        {
            var timestamps = topic.Select(m => m.Sample.Timestamp).ToList();
            Assert.True(timestamps.SequenceEqual(timestamps.Order(StringComparer.Ordinal)), $"{topic.Key} arrived out of order");
        }
    }

    [Fact]
    public async Task KillMinus9_MidStream_LosesNothingBeyondTheLastFlushInterval()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        // The broker is stopped before the kill, so the samples of the last seconds are only in the buffer.
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 20, intervalMs: 20);
        await using (var first = new GatewayProcess(config.Write(), config.HttpPort))
        {
            await first.StartAsync();
            await collector.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 20, TimeSpan.FromSeconds(20), "counter samples before the crash");
            await broker.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var killTime = DateTimeOffset.UtcNow;
            await first.KillAsync();
            await broker.StartAsync();

            await using var second = new GatewayProcess(config.FilePath, config.HttpPort);
            await second.StartAsync();
            await collector.WaitUntilAsync(m => Unique(m).Any(x => x.Topic == CounterTopic && Time(x) > killTime.AddSeconds(3)), TimeSpan.FromSeconds(30), "samples from the restarted gateway");
            await second.StopAsync();

            var unique = Unique(collector.Messages).Where(m => m.Topic == CounterTopic).ToList();
            var beforeKill = unique.Where(m => Time(m) < killTime).ToList();
            AssertIncrementsByOne(beforeKill.Select(m => m.LongValue).Order().ToList());
            // What may be lost: the last flush interval (100 ms), one sampling interval (20 ms), and the
            // time the kill takes to land (signal delivery and scheduling on a loaded CI machine).
            var lastBeforeKill = beforeKill.Max(Time);
            Assert.True(killTime - lastBeforeKill < TimeSpan.FromMilliseconds(100 + 20 + 400), $"last sample before the kill at {lastBeforeKill:O}, kill at {killTime:O}");
            var afterRestart = unique.Where(m => Time(m) > killTime).ToList();
            AssertIncrementsByOne(afterRestart.Select(m => m.LongValue).Order().ToList());
        }
    }

    [Fact]
    public async Task TinyQuota_WithBrokerDown_DropsOldest_AndMetricsCountExactlyWhatIsMissing()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        await broker.StopAsync();

        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 5, intervalMs: 1000, stopAfterSeconds: 4);
        // The smallest quota allowed: the batch codec stores a counter sample in about 7 bytes (about 1,600 samples here).
        config.Root["buffer"]!["maxBytes"] = 4096;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(6));

        Assert.False(gateway.HasExited);
        var droppedWhileDown = await gateway.MetricAsync("gateway_buffer_dropped_samples_total");
        Assert.True(droppedWhileDown > 0, "nothing was dropped: the quota did not apply");
        Assert.True(await gateway.MetricAsync("gateway_buffer_bytes") <= 4096);

        await broker.StartAsync();
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(60));
        var buffered = await gateway.MetricAsync("gateway_samples_buffered_total");
        var dropped = await gateway.MetricAsync("gateway_buffer_dropped_samples_total");
        var published = await gateway.MetricAsync(PublishedMetric);
        await collector.WaitUntilAsync(m => Unique(m).Count >= published, TimeSpan.FromSeconds(30), $"{published} samples");

        var received = Unique(collector.Messages);
        Assert.Equal(droppedWhileDown, dropped);
        Assert.Equal(buffered - received.Count, dropped);
        // Drop-oldest: what arrives of the counter is an unbroken run up to the last value.
        var counters = received.Where(m => m.Topic == CounterTopic).Select(m => m.LongValue).ToList();
        Assert.NotEmpty(counters);
        AssertIncrementsByOne(counters);
    }

    private static DateTimeOffset Time(Received message) =>
        DateTimeOffset.Parse(message.Timestamp, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>First occurrence of each distinct sample, live or in a history array, in arrival order (QoS 1 may deliver twice).</summary>
    private static List<Received> Unique(IEnumerable<Received> messages) => [.. UnsHistory.Unique(messages).Select(m => m.Sample)];

    private static void AssertIncrementsByOne(List<long> values)
    {
        Assert.NotEmpty(values);
        for (var i = 1; i < values.Count; i++)
        {
            Assert.True(values[i] == values[i - 1] + 1, $"counter went from {values[i - 1]} to {values[i]} at position {i} of {values.Count}");
        }
    }
}

/// <summary>Tests that start gateway processes run one at a time: two cores are shared.</summary>
[CollectionDefinition(nameof(ProcessTests), DisableParallelization = true)]
public sealed class ProcessTests;
