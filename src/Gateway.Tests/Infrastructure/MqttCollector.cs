using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using System.Buffers;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// An independent subscriber with a persistent session (clean session off, QoS 1): it receives what was
/// published while it was reconnecting after a broker restart. Collects every message in arrival order.
/// </summary>
public sealed class MqttCollector : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly string _filter;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Received> _messages = new();
    private Task? _reconnectLoop;

    public MqttCollector(int port, string filter = "#")
    {
        _filter = filter;
        _client = new MqttClientFactory().CreateMqttClient();
        _options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId("collector-" + Guid.NewGuid().ToString("N")[..8])
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311)
            .WithCleanSession(false)
            .WithTimeout(TimeSpan.FromSeconds(5))
            .Build();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var bytes = e.ApplicationMessage.Payload.ToArray();
            _messages.Enqueue(new Received(e.ApplicationMessage.Topic, Encoding.UTF8.GetString(bytes), e.ApplicationMessage.Retain) { Bytes = bytes });
            return Task.CompletedTask;
        };
    }

    public IReadOnlyList<Received> Messages => [.. _messages];

    public async Task StartAsync()
    {
        await _client.ConnectAsync(_options);
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(_filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        _reconnectLoop = Task.Run(ReconnectLoopAsync);
    }

    private async Task ReconnectLoopAsync()
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
    }

    /// <summary>Waits until <paramref name="condition"/> holds over the messages, or fails after the timeout.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<Received>, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition(Messages))
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting for {what}; {Messages.Count} messages received");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Publishes a message through the collector's own connection (commands to the gateway).</summary>
    public Task PublishAsync(string topic, byte[] payload) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_reconnectLoop is not null)
        {
            await _reconnectLoop;
        }

        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
        _stop.Dispose();
    }
}

/// <summary>One received message.</summary>
public sealed record Received(string Topic, string Payload, bool Retained)
{
    public byte[] Bytes { get; init; } = [];

    public JsonElement Json => JsonDocument.Parse(Payload).RootElement;

    public long LongValue => Json.GetProperty("value").GetInt64();

    public string Timestamp => Json.GetProperty("timestamp").GetString()!;
}
