using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Drivers;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Gateway.Writes;

/// <summary>
/// The UNS side of writes: <c>&lt;tag topic&gt;/set</c> for every configured tag (a write to a read-only tag gets its
/// refusal as an answer), a payload that is a bare JSON value or <c>{"value": ...}</c>, and the answer on
/// <c>&lt;tag topic&gt;/set/result</c> or the MQTT 5 response topic (correlation data echoed):
/// <c>{"status":"Good"|"Bad...","value":...,"timestamp":"...Z","reason":"..."}</c>. The write itself is the
/// <see cref="WriteGate"/>'s; it runs off MQTTnet's receive loop (its answer's PUBACK is read by that loop).
/// A retained <c>/set</c> message is never executed: it would write again at every reconnection.
/// </summary>
public sealed partial class MqttWrites
{
    public const string SetSuffix = "/set";
    public const string ResultSuffix = "/set/result";

    /// <summary>Most topic filters in one SUBSCRIBE packet.</summary>
    private const int FiltersPerSubscribe = 100;

    private readonly WriteGate _gate;
    private readonly ILogger _logger;
    private readonly Dictionary<string, string> _tagBySetTopic = new(StringComparer.Ordinal);
    private int _subscribeRefusalLogged;

    /// <param name="gate">The one gate every write passes.</param>
    /// <param name="topicOf">The live UNS topic of a tag; called here only, once per configured tag.</param>
    /// <param name="logger">For subscription failures (the audit lines are the gate's).</param>
    public MqttWrites(WriteGate gate, Func<TagInfo, string> topicOf, ILogger logger)
    {
        _gate = gate;
        _logger = logger;
        foreach (var tag in gate.Tags)
        {
            _tagBySetTopic.TryAdd(topicOf(tag) + SetSuffix, tag.Key);
        }
    }

    /// <summary>The topics subscribed: none when <c>writes.enabled</c> is false.</summary>
    public IReadOnlyCollection<string> SetTopics => _gate.Enabled ? _tagBySetTopic.Keys : [];

    /// <summary>Subscribes the set topics (QoS 1, retained messages not sent); a refusal by the broker is logged once.</summary>
    public async Task SubscribeAsync(IMqttClient client, bool mqtt5, CancellationToken cancellationToken)
    {
        var topics = SetTopics.ToList();
        for (var start = 0; start < topics.Count; start += FiltersPerSubscribe)
        {
            var builder = new MqttClientSubscribeOptionsBuilder();
            foreach (var topic in topics.Skip(start).Take(FiltersPerSubscribe))
            {
                builder.WithTopicFilter(f =>
                {
                    f.WithTopic(topic).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
                    if (mqtt5)
                    {
                        f.WithRetainHandling(MqttRetainHandling.DoNotSendOnSubscribe);
                    }
                });
            }

            var result = await client.SubscribeAsync(builder.Build(), cancellationToken);
            var refused = result.Items.FirstOrDefault(i => i.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2);
            if (refused is not null && Interlocked.Exchange(ref _subscribeRefusalLogged, 1) == 0)
            {
                LogSubscribeRefused(_logger, refused.TopicFilter.Topic, refused.ResultCode.ToString());
            }
        }
    }

    /// <summary>
    /// A received message: true when it is a set topic of ours (the write then runs in the background and is answered),
    /// false otherwise. Called on MQTTnet's receive loop: never waits.
    /// </summary>
    public bool TryHandle(IMqttClient client, MqttApplicationMessage message)
    {
        if (!_gate.Enabled || !_tagBySetTopic.TryGetValue(message.Topic, out var tagKey))
        {
            return false;
        }

        _ = Task.Run(() => HandleAsync(client, message, tagKey));
        return true;
    }

    private async Task HandleAsync(IMqttClient client, MqttApplicationMessage message, string tagKey)
    {
        try
        {
            var result = await WriteAsync(message, tagKey, CancellationToken.None);
            var answer = new MqttApplicationMessageBuilder()
                .WithTopic(message.ResponseTopic is { Length: > 0 } response ? response : message.Topic[..^SetSuffix.Length] + ResultSuffix)
                .WithPayload(ResultPayload(result))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithContentType("application/json");
            if (message.CorrelationData is { Length: > 0 } correlation)
            {
                answer.WithCorrelationData(correlation);
            }

            if (client.IsConnected)
            {
                await client.PublishAsync(answer.Build(), CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            // The write's own outcome is audited by the gate; this is the answer that could not be sent.
            LogAnswerFailed(_logger, tagKey, ex.Message);
        }
    }

    /// <summary>Parses, checks and writes one set message (the answer is the caller's).</summary>
    internal Task<WriteResult> WriteAsync(MqttApplicationMessage message, string tagKey, CancellationToken cancellationToken)
    {
        var origin = new WriteOrigin("uns", message.Topic, Client(message.UserProperties));
        if (message.Retain)
        {
            return Task.FromResult(_gate.Refuse(tagKey, SampleValue.None, origin, SampleStatus.BadNotSupported, "a retained write is never executed (it would write again at every reconnection): publish without the retain flag", "retained"));
        }

        if (!TryParse(message.Payload, out var value, out var problem))
        {
            return Task.FromResult(_gate.Refuse(tagKey, SampleValue.None, origin, SampleStatus.BadDecodingError, problem, "malformed"));
        }

        return _gate.WriteAsync(tagKey, value, origin, cancellationToken);
    }

    /// <summary>
    /// A Sparkplug DCMD metric as a write (Sparkplug has no answer topic: the audit line and the DDATA that follows
    /// from the read-back and the poll are the result). <paramref name="problem"/>: the metric had no usable value.
    /// </summary>
    public static async Task<WriteResult> WriteCommandAsync(WriteGate gate, string tagKey, string topic, SampleValue value, string? problem)
    {
        var origin = new WriteOrigin("sparkplug", topic, null);
        return problem is not null
            ? gate.Refuse(tagKey, SampleValue.None, origin, SampleStatus.BadDecodingError, problem, "malformed")
            : await gate.WriteAsync(tagKey, value, origin, CancellationToken.None);
    }

    /// <summary>The sender's declared identity: MQTT 5 user property <c>client</c>, else <c>user</c>; null when neither.</summary>
    internal static string? Client(List<MqttUserProperty>? properties)
    {
        if (properties is null)
        {
            return null;
        }

        string? user = null;
        foreach (var property in properties)
        {
            if (property.Name == "client")
            {
                return property.ReadValueAsString();
            }

            if (property.Name == "user")
            {
                user ??= property.ReadValueAsString();
            }
        }

        return user;
    }

    /// <summary>A bare JSON value (<c>42</c>, <c>true</c>, <c>"text"</c>) or <c>{"value": ...}</c>.</summary>
    public static bool TryParse(ReadOnlySequence<byte> payload, out SampleValue value, out string problem)
    {
        value = SampleValue.None;
        problem = "";
        if (payload.Length == 0)
        {
            problem = "empty payload: send a JSON value (42, true, \"text\") or {\"value\": ...}";
            return false;
        }

        if (payload.Length > 64 * 1024)
        {
            problem = $"payload of {payload.Length} bytes: a write is one value";
            return false;
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(payload);
            document = JsonDocument.ParseValue(ref reader);
            try
            {
                reader.Read(); // throws on anything after the value ("42 43")
            }
            catch (JsonException)
            {
                document.Dispose();
                throw;
            }
        }
        catch (JsonException ex)
        {
            problem = $"the payload is not JSON ({ex.Message}): send a JSON value (42, true, \"text\") or {{\"value\": ...}}";
            return false;
        }

        using (document)
        {
            var element = document.RootElement;
            var path = "$";
            if (element.ValueKind == JsonValueKind.Object)
            {
                if (!element.TryGetProperty("value", out var inner))
                {
                    problem = "$.value: missing: an object payload must be {\"value\": ...}";
                    return false;
                }

                element = inner;
                path = "$.value";
            }

            if (!TagWriteTypes.TryFromJson(element, out value))
            {
                problem = $"{path}: a {element.ValueKind.ToString().ToLowerInvariant()} is no write value: send a number, true/false or a string";
                return false;
            }

            return true;
        }
    }

    /// <summary>The answer's JSON: status, value (read back), timestamp (ISO 8601 UTC, ms), reason when not Good.</summary>
    public static byte[] ResultPayload(WriteResult result)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", result.Status);
            json.WritePropertyName("value");
            SampleJson.WriteValue(json, result.Value);
            json.WriteString("timestamp", result.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            if (result.Reason is { } reason)
            {
                json.WriteString("reason", reason);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    [LoggerMessage(EventId = 6710, Level = LogLevel.Warning, Message = "writes: the broker refused the subscription to {Topic} ({Reason}): UNS writes to it are not received; check the broker's ACL for the /set topics (logged once)")]
    private static partial void LogSubscribeRefused(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 6711, Level = LogLevel.Warning, Message = "writes: the answer to the write of {Tag} could not be published: {Reason}")]
    private static partial void LogAnswerFailed(ILogger logger, string tag, string reason);
}
