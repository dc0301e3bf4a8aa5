using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Gateway.Tests.Integration;

/// <summary>
/// A UNS writer as an MES or a SCADA would be one: an MQTT 5 client that publishes to a tag's <c>/set</c> topic and
/// waits for the gateway's answer (on its own response topic with correlation data, or on <c>/set/result</c>).
/// </summary>
internal sealed class WriteClient : IAsyncDisposable
{
    public const string ResponseTopic = "test/write-answers";

    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentQueue<MqttApplicationMessage> _received = new();

    private WriteClient()
    {
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Enqueue(e.ApplicationMessage);
            return Task.CompletedTask;
        };
    }

    public static async Task<WriteClient> ConnectAsync(int port)
    {
        var client = new WriteClient();
        await client._client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId("writer-" + Guid.NewGuid().ToString("N")[..8])
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanSession(true)
            .Build());
        await client._client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(ResponseTopic, MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter("+/+/+/+/+/+/set/result", MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        return client;
    }

    /// <summary>Publishes <paramref name="payload"/> to <c>&lt;tagTopic&gt;/set</c> with a response topic and a fresh correlation id; returns the answer.</summary>
    public async Task<JsonElement> SetAsync(string tagTopic, string payload, string? clientName = null)
    {
        var correlation = Guid.NewGuid().ToByteArray();
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(tagTopic + "/set")
            .WithPayload(Encoding.UTF8.GetBytes(payload))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithResponseTopic(ResponseTopic)
            .WithCorrelationData(correlation);
        if (clientName is not null)
        {
            message.WithUserProperty("client", Encoding.UTF8.GetBytes(clientName));
        }

        await _client.PublishAsync(message.Build());
        var answer = await WaitAsync(m => m.Topic == ResponseTopic && m.CorrelationData is { } c && c.AsSpan().SequenceEqual(correlation), $"the answer to {payload} on {tagTopic}/set");
        return JsonDocument.Parse(answer.Payload.ToArray()).RootElement.Clone();
    }

    /// <summary>Publishes without a response topic (MQTT 3.1.1 style): the answer comes on <c>&lt;tagTopic&gt;/set/result</c>.</summary>
    public async Task<JsonElement> SetPlainAsync(string tagTopic, string payload)
    {
        var before = _received.Count(m => m.Topic == tagTopic + "/set/result");
        await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(tagTopic + "/set").WithPayload(Encoding.UTF8.GetBytes(payload)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await Eventually.TrueAsync(() => _received.Count(m => m.Topic == tagTopic + "/set/result") > before, $"an answer on {tagTopic}/set/result", TimeSpan.FromSeconds(20));
        var answer = _received.Where(m => m.Topic == tagTopic + "/set/result").Skip(before).First();
        return JsonDocument.Parse(answer.Payload.ToArray()).RootElement.Clone();
    }

    /// <summary>Every answer received so far on <c>/set/result</c> topics and the response topic.</summary>
    public int AnswerCount => _received.Count;

    private async Task<MqttApplicationMessage> WaitAsync(Func<MqttApplicationMessage, bool> match, string what)
    {
        MqttApplicationMessage? found = null;
        await Eventually.TrueAsync(() => (found = _received.FirstOrDefault(match)) is not null, what, TimeSpan.FromSeconds(20));
        return found!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
    }
}

/// <summary>Reads a Modbus peer with mbpoll (Debian): an independent client, not the gateway's.</summary>
internal static partial class Mbpoll
{
    /// <summary>Holding registers (<c>-t 4:hex</c>) or coils (<c>-t 0</c>) from wire address <paramref name="start"/>.</summary>
    public static async Task<int[]> ReadAsync(int port, string table, int start, int count)
    {
        var type = table == "coil" ? "0" : "4:hex";
        var info = new ProcessStartInfo("mbpoll", ["-m", "tcp", "-0", "-a", "1", "-r", start.ToString(CultureInfo.InvariantCulture), "-c", count.ToString(CultureInfo.InvariantCulture), "-t", type, "-1", "-p", port.ToString(CultureInfo.InvariantCulture), "127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var values = Value().Matches(output).Select(m => m.Groups[2].Value.StartsWith("0x", StringComparison.Ordinal) ? Convert.ToInt32(m.Groups[2].Value[2..], 16) : int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(values.Length == count, "mbpoll: " + output);
        return values;
    }

    [GeneratedRegex(@"^\[(\d+)\]:\s+(0x[0-9A-Fa-f]+|-?\d+)", RegexOptions.Multiline)]
    private static partial Regex Value();
}
