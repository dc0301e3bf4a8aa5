using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Tests.Integration;

/// <summary>
/// Sparkplug 3.0 primary host end to end: the real gateway and mosquitto, a host played by the test through retained
/// STATE messages, every payload decoded by Eclipse Tahu's sparkplug-payload.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class SparkplugPrimaryHostTests
{
    private const string StateTopic = "spBv1.0/STATE/scada";
    private const string OnlineMetric = "gateway_sparkplug_primary_host_online{host=\"scada\"}";

    [Fact]
    public async Task PrimaryHost_OfflineHoldsEverything_StaleStateIgnored_OnlineReleasesBirthsThenTheHeldDataAsHistorical()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        using var host = new MqttClientFactory().CreateMqttClient();
        await host.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("scada-test").Build());
        var t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await PublishStateAsync(host, online: false, t0);
        await using var collector = new MqttCollector(broker.Port, "spBv1.0/#");
        await collector.StartAsync();

        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 20, intervalMs: 100);
        config.Root["mqtt"]!["format"] = "sparkplugb";
        config.Root["mqtt"]!["sparkplug"] = new JsonObject { ["primaryHostId"] = "scada" };
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        // Offline (retained): connected, but no birth and no data; the buffer grows, nothing is acknowledged.
        var heldFrom = DateTimeOffset.UtcNow;
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 20, TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(0, await gateway.MetricAsync(OnlineMetric));
        Assert.Equal(0, await gateway.MetricAsync("gateway_samples_published_total{sink=\"mqtt-sparkplug\"}"));
        Assert.DoesNotContain(collector.Messages, m => m.Topic.StartsWith(Group, StringComparison.Ordinal));

        // A STATE older than the one seen (a stale retained message from an earlier host session) is ignored.
        await PublishStateAsync(host, online: true, t0 - 60_000);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(0, await gateway.MetricAsync(OnlineMetric));
        Assert.DoesNotContain(collector.Messages, m => m.Topic.StartsWith(Group, StringComparison.Ordinal));
        var heldUntil = DateTimeOffset.UtcNow;

        // Online: NBIRTH, DBIRTH, then the held data flagged historical, then live data.
        await PublishStateAsync(host, online: true, t0 + 1);
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == Topic("DDATA") + "/m1") > 10, TimeSpan.FromSeconds(20), "data after the host came online");
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v < 20, TimeSpan.FromSeconds(20));
        Assert.Equal(1, await gateway.MetricAsync(OnlineMetric));

        // Live data read well after the host came online (the backlog drains in well under a second): let a second and
        // a half pass, then wait for a few more DDATA, so that live metrics stamped after heldUntil + 1 s exist.
        var liveFrom = heldUntil.AddSeconds(1.5) - DateTimeOffset.UtcNow;
        if (liveFrom > TimeSpan.Zero)
        {
            await Task.Delay(liveFrom);
        }

        var dataSoFar = collector.Messages.Count(x => x.Topic == Topic("DDATA") + "/m1");
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == Topic("DDATA") + "/m1") > dataSoFar + 3, TimeSpan.FromSeconds(20), "live data after the backlog");

        // The host goes offline (its will: the timestamp of its online STATE): the node ends its session with an NDEATH.
        await PublishStateAsync(host, online: false, t0 + 1);
        await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Topic("NDEATH")), TimeSpan.FromSeconds(10), "NDEATH when the host went offline");
        await gateway.StopAsync();

        var decoded = await SparkplugTests.DecodeWithTahuAsync([.. collector.Messages.Where(m => m.Topic.StartsWith(Group, StringComparison.Ordinal))]);
        Assert.Equal("NBIRTH", decoded[0].Type);
        var firstData = decoded.FindIndex(m => m.Type == "DDATA");
        var birth = decoded.FindIndex(m => m.Type == "DBIRTH" && m.Device == "m1");
        Assert.InRange(birth, 1, firstData - 1);
        Assert.Equal(1, decoded.Take(decoded.FindIndex(m => m.Type == "NDEATH")).Count(m => m.Type == "NBIRTH"));

        var metrics = decoded.Where(m => m.Type == "DDATA").SelectMany(m => m.Metrics)
            .Select(m => (Historical: m.TryGetProperty("isHistorical", out var h) && h.GetBoolean(), At: DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(m.GetProperty("timestamp").ToString(), CultureInfo.InvariantCulture))))
            .ToList();
        var heldWindow = metrics.Where(m => m.At > heldFrom.AddSeconds(1) && m.At < heldUntil.AddMilliseconds(-500)).ToList();
        Assert.True(heldWindow.Count > 20, $"{heldWindow.Count} metrics read while the host was offline");
        Assert.All(heldWindow, m => Assert.True(m.Historical, $"a metric of {m.At:O}, held while the host was offline, is not flagged historical"));
        Assert.Contains(metrics, m => !m.Historical && m.At > heldUntil.AddSeconds(1));
    }

    private const string Group = "spBv1.0/lyon/";

    private static string Topic(string type) => $"{Group}{type}/gw-test";

    private static Task<MqttClientPublishResult> PublishStateAsync(IMqttClient host, bool online, long timestamp) =>
        host.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(StateTopic)
            .WithPayload(Encoding.UTF8.GetBytes($"{{\"online\":{(online ? "true" : "false")},\"timestamp\":{timestamp.ToString(CultureInfo.InvariantCulture)}}}"))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag()
            .Build());
}
