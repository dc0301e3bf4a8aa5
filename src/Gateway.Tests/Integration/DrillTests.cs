using System.Globalization;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Northbound;

namespace Gateway.Tests.Integration;

/// <summary>
/// The trainer's drills end to end: the real gateway process (a simulated line) publishing to a real mosquitto, an
/// independent subscriber, and <c>gateway drill ...</c> run as the CLI a trainer types.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class DrillTests
{
    private const string CounterTopic = "acme/lyon/assembly/line-1/m1/total-count";

    [Fact]
    public async Task DrillOutage_ViaCli_LinkDropsBufferFillsThenDrains_SubscriberSeesNoCounterGap()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        // A finite line (it stops producing after 25 s), so that at the end every sample it made can be accounted for.
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200, stopAfterSeconds: 25);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 20, TimeSpan.FromSeconds(20), "counter samples before the drill");

        var cli = GatewayProcess.RunVerbAsync("drill", "outage", "--seconds", "5", "--url", $"http://127.0.0.1:{config.HttpPort}");
        var cliStarted = TimeProvider.System.GetUtcNow();
        DateTimeOffset? cutSeenAt = null;

        // While cut: the status says disconnected, names the drill, and the buffer holds what the line produces.
        long peak = 0;
        var sawDisconnected = false;
        await Eventually.TrueAsync(
            async () =>
            {
                using var status = JsonDocument.Parse(await gateway.GetAsync("/api/status"));
                var root = status.RootElement;
                var cut = root.GetProperty("drill").GetProperty("outage").ValueKind == JsonValueKind.Object;
                cutSeenAt ??= cut ? TimeProvider.System.GetUtcNow() : null;
                sawDisconnected |= cut && !root.GetProperty("mqtt").GetProperty("connected").GetBoolean();
                if (cut)
                {
                    peak = Math.Max(peak, root.GetProperty("buffer").GetProperty("samples").GetInt64());
                }

                return sawDisconnected && peak >= 40;
            },
            () => $"status disconnected during the drill (seen: {sawDisconnected}) with samples piling up (peak {peak})\n{gateway.Output}",
            TimeSpan.FromSeconds(15),
            poll: TimeSpan.FromMilliseconds(250));

        var (exitCode, stdout, stderr) = await cli;
        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("north link cut for 5 s", stdout, StringComparison.Ordinal);
        Assert.Contains("MQTT disconnected", stdout, StringComparison.Ordinal);
        Assert.Contains("drained:", stdout, StringComparison.Ordinal);
        using (var after = JsonDocument.Parse(await gateway.GetAsync("/api/status")))
        {
            Assert.True(after.RootElement.GetProperty("mqtt").GetProperty("connected").GetBoolean());
            Assert.Equal(JsonValueKind.Null, after.RootElement.GetProperty("drill").GetProperty("outage").ValueKind);
        }

        await Eventually.LogAsync(gateway, "Drill by 127.0.0.1 (loopback): outage start 5 s: north link cut for 5 s");

        // The line stops: everything it produced reaches the subscriber, the drill's share as flagged history.
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, 27 - (TimeProvider.System.GetUtcNow() - cliStarted).TotalSeconds)));
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(60));
        var buffered = await gateway.MetricAsync("gateway_samples_buffered_total");
        await collector.WaitUntilAsync(m => UnsHistory.Unique(m).Count >= buffered, TimeSpan.FromSeconds(30), $"{buffered} distinct samples");
        Assert.Equal(0, await gateway.MetricAsync("gateway_buffer_dropped_samples_total"));

        var counters = UnsHistory.Unique(collector.Messages).Where(m => m.Sample.Topic == CounterTopic).ToList();
        var values = counters.Select(m => m.Sample.LongValue).Order().ToList();
        for (var i = 1; i < values.Count; i++)
        {
            Assert.True(values[i] == values[i - 1] + 1, $"counter gap: {values[i - 1]} then {values[i]}");
        }

        // The cut lasts 5 s from before it was first seen: what was stamped in the 3 s after that was made while cut.
        var duringDrill = counters.Where(m => Time(m.Sample) > cutSeenAt!.Value && Time(m.Sample) < cutSeenAt.Value.AddSeconds(3)).ToList();
        Assert.True(duringDrill.Count >= 40, $"only {duringDrill.Count} counter samples were stamped during the cut");
        Assert.All(duringDrill, m => Assert.True(m.History, $"{m.Sample.Timestamp} was produced while the link was cut but arrived live"));
    }

    [Fact]
    public async Task DrillPlc_ViaCli_MachineTagsGoBadThenGood_AndOtherDrillsAreRefused()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 100, intervalMs: 200);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 5, TimeSpan.FromSeconds(20), "counter samples before the drill");
        var url = $"http://127.0.0.1:{config.HttpPort}";

        var unknown = await GatewayProcess.RunVerbAsync("drill", "plc", "--machine", "no-such-press", "--url", url);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("'no-such-press' is not a simulated machine; drillable: m1", unknown.Stderr, StringComparison.Ordinal);
        var usage = await GatewayProcess.RunVerbAsync("drill", "plc", "--seconds", "4", "--url", url);
        Assert.Equal(2, usage.ExitCode);

        var (exitCode, stdout, stderr) = await GatewayProcess.RunVerbAsync("drill", "plc", "--machine", "m1", "--seconds", "4", "--url", url);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("m1: PLC silent", stdout, StringComparison.Ordinal);
        Assert.Contains("m1: its PLC answers again", stdout, StringComparison.Ordinal);
        // At the subscriber: the counter goes Bad once, then Good again.
        await collector.WaitUntilAsync(
            m =>
            {
                var qualities = m.Where(x => x.Topic == CounterTopic && !x.Retained).Select(x => x.Json.GetProperty("quality").GetString()).ToList();
                var bad = qualities.IndexOf("Bad");
                return bad > 0 && qualities.Skip(bad + 1).Contains("Good");
            },
            TimeSpan.FromSeconds(20),
            "m1/total-count Bad, then Good");
        var counterQualities = collector.Messages.Where(x => x.Topic == CounterTopic && !x.Retained).Select(x => x.Json.GetProperty("quality").GetString()).ToList();
        Assert.Equal(1, counterQualities.Count(q => q == "Bad"));
        await Eventually.TrueAsync(
            async () => (await gateway.GetAsync("/api/tags")).Contains("\"tag\":\"m1/total-count\"", StringComparison.Ordinal)
                && JsonDocument.Parse(await gateway.GetAsync("/api/tags")).RootElement.EnumerateArray().Where(t => t.GetProperty("machine").GetString() == "m1").All(t => t.GetProperty("quality").GetString() == "Good"),
            () => "m1's tags Good again in /api/tags");
        await Eventually.LogAsync(gateway, "Drill by 127.0.0.1 (loopback): plc start m1 4 s: machine 'm1' (driver sim) stops answering for 4 s");
        await Eventually.LogAsync(gateway, "Drill refused for 127.0.0.1 (loopback): plc start no-such-press 60 s: 404");
    }

    private static DateTimeOffset Time(Received message) => DateTimeOffset.Parse(message.Timestamp, CultureInfo.InvariantCulture);
}
