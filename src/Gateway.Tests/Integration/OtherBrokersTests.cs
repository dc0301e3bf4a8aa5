using System.Globalization;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Northbound;
using MQTTnet;
using MQTTnet.Protocol;
using Xunit.Abstractions;

namespace Gateway.Tests.Integration;

/// <summary>
/// The UNS and Sparkplug outputs against brokers that are not mosquitto: aedes (npm) and RabbitMQ 3.10 with its MQTT
/// plugin (Debian). Both speak MQTT 3.1.1 only, so the default MQTT 5 falls back to 3.1.1 (one warning); QoS 1
/// delivery, the retained status, the last will and Sparkplug's births and death work on both; where they differ
/// (RabbitMQ: QoS 2 answered with PUBACK, retained messages only for exact-topic subscriptions) the gateway says so.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class OtherBrokersTests(ITestOutputHelper output)
{
    private const string FallbackLine = "does not speak MQTT 5";
    private const string StatusTopic = "acme/lyon/assembly/line-1/_gateway/gw-test/status";
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("aedes")]
    [InlineData("rabbitmq")]
    public async Task Uns_DefaultMqtt5_FallsBackTo311Once_AndLosesNothingOverABrokerRestart(string name)
    {
        await using var broker = await TestBroker.StartNewAsync(name);
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        using var trace = new Trace(output, gateway);
        await gateway.StartAsync();

        await BrokerVariantsTests.WaitForLogAsync(gateway, FallbackLine);
        await collector.WaitUntilAsync(m => Counter(m).Count() >= 10, s_long, $"the counter through {name}");

        await broker.StopAsync();
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 20, s_long);
        await broker.StartAsync();
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, s_long);
        var lastBuffered = await gateway.MetricAsync("gateway_samples_buffered_total");
        await collector.WaitUntilAsync(m => Counter(m).Count() >= 40, s_long, "the counter after the restart");
        await gateway.StopAsync();

        // Every counter value from the first received to the last reached the subscriber: nothing lost in the outage.
        var values = Counter(collector.Messages).Distinct().Order().ToList();
        Assert.Equal(Enumerable.Range((int)values[0], values.Count).Select(v => (long)v), values);
        Assert.True(lastBuffered > 0);
        Assert.True(Occurrences(gateway.Output, "connected to MQTT broker") >= 2, gateway.Output);
        // One warning for the fallback, not one per connection: the reconnect after the restart spoke 3.1.1 at once.
        Assert.Equal(1, Occurrences(gateway.Output, FallbackLine));
        Assert.Equal(1, Occurrences(gateway.Output, "over MQTT 3.1.1 the broker announces no limits"));
    }

    [Theory]
    [InlineData("aedes")]
    [InlineData("rabbitmq")]
    public async Task Uns_StatusIsRetained_AndTheLastWillSaysOfflineWhenTheGatewayDies(string name)
    {
        await using var broker = await TestBroker.StartNewAsync(name);
        await using var status = new MqttCollector(broker.Port, StatusTopic);
        await status.StartAsync();
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        using var trace = new Trace(output, gateway);
        await gateway.StartAsync();
        await status.WaitUntilAsync(m => m.Any(x => x.Payload == "online"), s_long, "the status online");

        // A subscriber that comes later gets the status as a retained message, on the exact topic.
        var exact = await RetainedAsync(broker.Port, StatusTopic);
        Assert.Equal("online", Assert.Single(exact).Payload);
        // On a wildcard: aedes gives it too; RabbitMQ 3.10 gives retained messages to exact-topic subscriptions only.
        var wildcard = await RetainedAsync(broker.Port, "acme/lyon/assembly/line-1/_gateway/+/status");
        if (name == "rabbitmq")
        {
            Assert.Empty(wildcard);
        }
        else
        {
            Assert.Equal("online", Assert.Single(wildcard).Payload);
        }

        await gateway.KillAsync();

        // The broker publishes the last will, and keeps it retained.
        await status.WaitUntilAsync(m => m.Any(x => x.Payload == "offline"), s_long, "the last will after kill -9");
        var after = await RetainedAsync(broker.Port, StatusTopic);
        Assert.Equal("offline", Assert.Single(after).Payload);
    }

    [Theory]
    [InlineData("aedes")]
    [InlineData("rabbitmq")]
    public async Task Sparkplug_OverMqtt311_BirthsDataAndTheDeathWill_MatchTheirBdSeq_RabbitMqRewritesTheNamespace(string name)
    {
        await using var broker = await TestBroker.StartNewAsync(name);
        await using var collector = new MqttCollector(broker.Port, "spBv1.0/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
        config.Root["mqtt"]!["format"] = "sparkplugb";
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        using var trace = new Trace(output, gateway);
        await gateway.StartAsync();
        await BrokerVariantsTests.WaitForLogAsync(gateway, "mqtt-sparkplug: the broker 127.0.0.1:" + broker.Port.ToString(CultureInfo.InvariantCulture) + " does not speak MQTT 5");
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic.Contains("/DDATA/", StringComparison.Ordinal)) >= 5, s_long, "DDATA");

        await gateway.KillAsync();
        await collector.WaitUntilAsync(m => m.Any(x => x.Topic.Contains("/NDEATH/", StringComparison.Ordinal)), s_long, "the NDEATH will after kill -9");

        var messages = collector.Messages;
        if (name == "rabbitmq")
        {
            // RabbitMQ 3.10 maps '.' in a topic to '/' on delivery: what was published to spBv1.0/... reaches
            // subscribers as spBv1/0/... (measured), so Sparkplug host applications do not recognise it.
            Assert.All(messages, m => Assert.StartsWith("spBv1/0/lyon/", m.Topic, StringComparison.Ordinal));
            Assert.Contains("mqtt-sparkplug: if the broker 127.0.0.1:" + broker.Port.ToString(CultureInfo.InvariantCulture) + " is RabbitMQ 3.x", gateway.Output, StringComparison.Ordinal);
            messages = [.. messages.Select(m => m with { Topic = "spBv1.0/" + m.Topic["spBv1/0/".Length..] })];
        }

        else
        {
            Assert.DoesNotContain("is RabbitMQ 3.x", gateway.Output, StringComparison.Ordinal);
        }

        var decoded = await SparkplugTests.DecodeWithTahuAsync(messages);
        var birth = Assert.Single(decoded, m => m.Type == "NBIRTH");
        Assert.Contains(decoded, m => m.Type == "DBIRTH" && m.Device == "m1");
        var death = Assert.Single(decoded, m => m.Type == "NDEATH");
        Assert.Equal(BdSeq(birth), BdSeq(death));
        // seq runs on from the births through the data, one by one.
        var sequence = decoded.Where(m => m.Type is "NBIRTH" or "DBIRTH" or "DDATA").Select(m => m.Seq).ToList();
        Assert.Equal(Enumerable.Range(0, sequence.Count).Select(i => i % 256), sequence);
    }

    [Fact]
    public async Task Qos2_Aedes_CompletesTheExchange_AndDeliversEverything()
    {
        await using var broker = await TestBroker.StartNewAsync("aedes");
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200, stopAfterSeconds: 5).WithBroker(broker.Port);
        config.Root["mqtt"]!["qos"] = 2;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        using var trace = new Trace(output, gateway);
        await gateway.StartAsync();

        await gateway.WaitMetricAsync("gateway_samples_published_total{sink=\"mqtt-uns\"}", v => v > 20, s_long);
        await Task.Delay(TimeSpan.FromSeconds(6));
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, s_long);
        Assert.Equal(await gateway.MetricAsync("gateway_samples_buffered_total"), await gateway.MetricAsync("gateway_samples_published_total{sink=\"mqtt-uns\"}"));
        Assert.DoesNotContain("the output is stalled", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Qos2_RabbitMq_AnswersWithPubAck_TheStallIsLoggedWithTheFix_AndNothingLeavesTheBuffer()
    {
        await using var broker = await TestBroker.StartNewAsync("rabbitmq");
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
        config.Root["mqtt"]!["qos"] = 2;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        using var trace = new Trace(output, gateway);
        await gateway.StartAsync();

        // The warning at the fallback says it ahead; the stall detection then sees that no QoS 2 exchange completes.
        await BrokerVariantsTests.WaitForLogAsync(gateway, "mqtt.qos 2 needs the broker to implement QoS 2");
        await BrokerVariantsTests.WaitForLogAsync(gateway, "the output is stalled and the samples stay in the buffer - mqtt.qos is 2: a broker that does not implement QoS 2 (RabbitMQ answers PUBLISH with PUBACK)");
        Assert.Equal(0, await gateway.MetricAsync("gateway_samples_published_total{sink=\"mqtt-uns\"}"));
        Assert.Equal(1, await gateway.MetricAsync("gateway_mqtt_connected"));
        Assert.Equal(0, await gateway.MetricAsync("gateway_buffer_dropped_samples_total"));
        Assert.True(await gateway.MetricAsync("gateway_buffer_samples") > 0);
    }

    [Theory]
    [InlineData("aedes", "unacceptable protocol version (a 3.1.1 CONNACK, return code 1)")]
    [InlineData("rabbitmq", "closed the connection before answering CONNECT")]
    public async Task PinnedMqtt5_BrokerSpeaking311Only_IsRefused_WithTheHintToSet311(string name, string how)
    {
        await using var broker = await TestBroker.StartNewAsync(name);
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
        config.Root["mqtt"]!["protocolFallback"] = false;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        using var trace = new Trace(output, gateway);
        await gateway.StartAsync();

        await BrokerVariantsTests.WaitForLogAsync(gateway, "mqtt.protocolVersion to \"3.1.1\"");
        Assert.Contains(how, gateway.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(FallbackLine, gateway.Output, StringComparison.Ordinal);
        Assert.Equal(0, await gateway.MetricAsync("gateway_mqtt_connected"));
        Assert.Equal(0, await gateway.MetricAsync("gateway_samples_published_total{sink=\"mqtt-uns\"}"));
    }

    [Fact]
    public async Task PeerClosingEveryConnect_WhateverTheVersion_IsNoFallback_AndTheV5FailureIsReported()
    {
        // Reads the CONNECT, then closes: as a TLS-only port or a broker going down would. 3.1.1 gets no answer either.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var versions = new System.Collections.Concurrent.ConcurrentBag<byte>();
        var closer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var socket = await listener.AcceptSocketAsync(stop.Token);
                var buffer = new byte[256];
                var read = await socket.ReceiveAsync(buffer, stop.Token);
                // CONNECT: the packet type byte, the remaining length (1 to 4 bytes, high bit = more), "\0\x04MQTT",
                // then the protocol level (5 or 4).
                var length = 1;
                while (length < read && (buffer[length] & 0x80) != 0)
                {
                    length++;
                }

                if (read > length + 7)
                {
                    versions.Add(buffer[length + 7]);
                }
            }
        });
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(port);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        using var trace = new Trace(output, gateway);
        await gateway.StartAsync();

        await BrokerVariantsTests.WaitForLogAsync(gateway, "the broker closed the connection before answering CONNECT");
        await BrokerVariantsTests.WaitForLogAsync(gateway, "(attempt 3,");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => closer);

        Assert.DoesNotContain(FallbackLine, gateway.Output, StringComparison.Ordinal);
        // Each attempt tried 5, then 3.1.1, and went back to 5: the next attempt starts with 5 again.
        Assert.Contains((byte)5, versions);
        Assert.Contains((byte)4, versions);
        Assert.Equal(0, await gateway.MetricAsync("gateway_mqtt_connected"));
    }

    [Fact]
    public async Task Pinned311_ConnectsAtOnce_WithoutTheFallbackWarning()
    {
        await using var broker = await TestBroker.StartNewAsync("aedes");
        await using var collector = new MqttCollector(broker.Port, "acme/+/+/+/m1/total-count");
        await collector.StartAsync();
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
        config.Root["mqtt"]!["protocolVersion"] = "3.1.1";
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        using var trace = new Trace(output, gateway);
        await gateway.StartAsync();

        await collector.WaitUntilAsync(m => m.Count >= 5, s_long, "samples over a pinned 3.1.1");
        Assert.DoesNotContain(FallbackLine, gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot connect", gateway.Output, StringComparison.Ordinal);
    }

    /// <summary>Writes the gateway's log to the test output at the end, passed or failed (what each broker made it say).</summary>
    private sealed class Trace(ITestOutputHelper output, GatewayProcess gateway) : IDisposable
    {
        public void Dispose() => output.WriteLine(gateway.Output);
    }

    private static IEnumerable<long> Counter(IEnumerable<Received> messages) =>
        UnsHistory.Flatten(messages).Where(m => m.Sample.Topic.EndsWith("/m1/total-count", StringComparison.Ordinal)).Select(m => m.Sample.LongValue);

    private static int Occurrences(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static long BdSeq(SparkplugTests.Decoded message) =>
        long.Parse(message.Metrics.Single(m => m.GetProperty("name").GetString() == "bdSeq").GetProperty("value").ToString(), CultureInfo.InvariantCulture);

    /// <summary>The retained messages a new subscriber to <paramref name="filter"/> gets within two seconds.</summary>
    private static async Task<List<Received>> RetainedAsync(int port, string filter)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var received = new List<Received>();
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Retain)
            {
                lock (received)
                {
                    received.Add(new Received(e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString(), true));
                }
            }

            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311)
            .WithClientId("retained-" + Guid.NewGuid().ToString("N")[..8]).WithCleanSession(true).Build());
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await Task.Delay(TimeSpan.FromSeconds(2));
        await client.DisconnectAsync();
        lock (received)
        {
            return [.. received];
        }
    }
}
