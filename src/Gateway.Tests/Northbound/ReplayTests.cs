using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;
using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Tests.Northbound;

/// <summary>
/// Live data stays live during a replay, end to end: the gateway process, a real mosquitto stopped for an outage, and a
/// subscriber that notes when each message arrived.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class ReplayTests
{
    private const string CounterTopic = "acme/lyon/assembly/line-1/m1/total-count";
    private const string HistoryTopic = "acme/lyon/assembly/line-1/_gateway/gw-test/history";

    [Fact]
    public async Task AfterAnOutage_LiveSamplesArriveWithinASecond_WhileTheBacklogArrivesComplete_InOrder_OnTheHistoryTopic()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var subscriber = new TimedSubscriber(broker.Port);
        await subscriber.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 20, intervalMs: 20, stopAfterSeconds: 30);
        config.Root["gateway"]!["id"] = "gw-test";
        // 100 extra tags every 20 ms: a backlog of some 75,000 samples after the outage, so that it takes a while to drain.
        config.Root["drivers"]![0]!["extraTags"] = 100;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await subscriber.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 20, TimeSpan.FromSeconds(20), "counter samples before the outage");

        var outageStart = DateTimeOffset.UtcNow;
        await broker.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(15));
        var restart = DateTimeOffset.UtcNow;
        await broker.StartAsync();
        await subscriber.WaitUntilAsync(m => m.Any(x => x.Topic == CounterTopic && Time(x.Message) > restart), TimeSpan.FromSeconds(10), "a live sample after the outage");

        // The line stops after 30 s: then everything it produced must arrive.
        double buffered;
        var previous = -1.0;
        while ((buffered = await gateway.MetricAsync("gateway_samples_buffered_total")) != previous)
        {
            previous = buffered;
            await Task.Delay(TimeSpan.FromSeconds(3));
        }

        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(90));
        await subscriber.WaitUntilAsync(m => UnsHistory.Unique(m.Select(x => x.Message)).Count >= buffered, TimeSpan.FromSeconds(30), $"{buffered} distinct samples");

        // A sample the line made after the count settled (its last state change) is buffered and delivered too: count
        // once more, now that the buffer is empty, and wait for that many.
        buffered = await gateway.MetricAsync("gateway_samples_buffered_total");
        await subscriber.WaitUntilAsync(m => UnsHistory.Unique(m.Select(x => x.Message)).Count >= buffered, TimeSpan.FromSeconds(30), $"{buffered} distinct samples");
        var messages = subscriber.Snapshot;

        // The backlog came on the history topic, and only there: no live topic got a sample of the outage.
        var historyMessages = messages.Where(m => m.Topic == HistoryTopic).ToList();
        Assert.NotEmpty(historyMessages);
        var lastHistoryArrival = historyMessages.Max(m => m.Arrived);
        var unique = UnsHistory.Unique(messages.Select(m => m.Message));
        Assert.Equal((int)buffered, unique.Count);
        var counter = unique.Where(m => m.Sample.Topic == CounterTopic).ToList();
        // The outage's backlog, taken alone from the history (what the gateway read before its first connection is
        // history too, and a sample in flight when the broker went down may also have reached it live first): it
        // starts right after the last live sample before the outage and has no hole.
        var lastLiveBefore = counter.Where(m => !m.History && Time(m.Sample) < outageStart).Max(m => m.Sample.LongValue);
        var counterHistory = UnsHistory.Flatten(messages.Select(m => m.Message)).Where(m => m.History && m.Sample.Topic == CounterTopic && m.Sample.LongValue > lastLiveBefore).Select(m => m.Sample.LongValue).Distinct().ToList();
        Assert.Equal(lastLiveBefore + 1, counterHistory[0]);
        Assert.True(counterHistory.Count > 300, $"only {counterHistory.Count} counter samples in the history");
        AssertIncrementsByOne(counterHistory);
        AssertIncrementsByOne(counter.Select(m => m.Sample.LongValue).Order().ToList());

        // Live samples read after the broker came back: each arrived within a second of its read, and some of them
        // while the backlog was still arriving (the two lanes ran side by side, live first).
        var live = messages.Where(m => m.Topic == CounterTopic && Time(m.Message) > restart).ToList();
        Assert.NotEmpty(live);
        var worst = live.Max(m => m.Arrived - Time(m.Message));
        Assert.True(worst < TimeSpan.FromSeconds(1), $"a live sample arrived {worst.TotalMilliseconds:F0} ms after its read");
        // When the backlog took longer than the first live reads (on a busy machine it may drain in a few hundred
        // milliseconds, before the first flush after the reconnect), live samples were interleaved with it.
        var firstHistoryArrival = historyMessages.Min(m => m.Arrived);
        var firstLiveArrival = live.Min(m => m.Arrived);
        if (lastHistoryArrival - firstHistoryArrival > TimeSpan.FromSeconds(1))
        {
            Assert.True(firstLiveArrival < lastHistoryArrival, $"the backlog took {(lastHistoryArrival - firstHistoryArrival).TotalMilliseconds:F0} ms and no live sample arrived before its end");
        }
    }

    private static DateTimeOffset Time(Received message) => DateTimeOffset.Parse(message.Timestamp, CultureInfo.InvariantCulture);

    private static void AssertIncrementsByOne(List<long> values)
    {
        Assert.NotEmpty(values);
        for (var i = 1; i < values.Count; i++)
        {
            Assert.True(values[i] == values[i - 1] + 1, $"counter went from {values[i - 1]} to {values[i]} at position {i} of {values.Count}");
        }
    }

    /// <summary>A persistent-session subscriber to <c>acme/#</c> that notes each message's arrival time.</summary>
    private sealed class TimedSubscriber : IAsyncDisposable
    {
        private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
        private readonly MqttClientOptions _options;
        private readonly ConcurrentQueue<(Received Message, DateTimeOffset Arrived)> _messages = new();
        private readonly CancellationTokenSource _stop = new();
        private Task? _reconnect;

        public TimedSubscriber(int port)
        {
            _options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("replay-" + Guid.NewGuid().ToString("N")[..8])
                .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311).WithCleanSession(false).WithTimeout(TimeSpan.FromSeconds(5)).Build();
            _client.ApplicationMessageReceivedAsync += e =>
            {
                var payload = Encoding.UTF8.GetString(e.ApplicationMessage.Payload);
                _messages.Enqueue((new Received(e.ApplicationMessage.Topic, payload, e.ApplicationMessage.Retain), DateTimeOffset.UtcNow));
                return Task.CompletedTask;
            };
        }

        public List<(string Topic, Received Message, DateTimeOffset Arrived)> Snapshot => [.. _messages.Select(m => (m.Message.Topic, m.Message, m.Arrived))];

        public async Task StartAsync()
        {
            await _client.ConnectAsync(_options);
            await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("acme/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
            _reconnect = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        await Task.Delay(100, _stop.Token);
                        if (!_client.IsConnected)
                        {
                            await _client.ConnectAsync(_options, _stop.Token);
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    catch (Exception)
                    {
                        // The broker is down: try again.
                    }
                }
            });
        }

        public async Task WaitUntilAsync(Func<List<(string Topic, Received Message, DateTimeOffset Arrived)>, bool> condition, TimeSpan timeout, string what)
        {
            var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (!condition(Snapshot))
            {
                if (Environment.TickCount64 > deadline)
                {
                    throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting for {what}; {_messages.Count} messages received");
                }

                await Task.Delay(250);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            if (_reconnect is not null)
            {
                await _reconnect;
            }

            if (_client.IsConnected)
            {
                await _client.DisconnectAsync();
            }

            _client.Dispose();
            _stop.Dispose();
        }
    }
}
