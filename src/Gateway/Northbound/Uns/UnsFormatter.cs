using System.Buffers;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Drivers;

namespace Gateway.Northbound.Uns;

/// <summary>
/// Unified Namespace topics and JSON payloads (DESIGN.md):
/// <c>&lt;prefix&gt;/&lt;enterprise&gt;/&lt;site&gt;/&lt;area&gt;/&lt;line&gt;/&lt;machine&gt;/&lt;tag path&gt;</c>, payload
/// <c>{"value":23.4,"timestamp":"2026-11-26T10:00:00.123Z","quality":"Good","unit":"degC"}</c>. A thread-safe face, for
/// tools and tests, of the pieces <see cref="UnsEncoder"/> publishes with (<see cref="UnsTopics"/>, its payload writer).
/// </summary>
public sealed class UnsFormatter
{
    private readonly UnsTopics _topics;
    private readonly Lock _lock = new();

    public UnsFormatter(GatewayIdentity identity, string topicPrefix)
    {
        _topics = new UnsTopics(identity, topicPrefix);
    }

    /// <summary>The retained status topic; its last will says <c>offline</c>.</summary>
    public string StatusTopic => _topics.StatusTopic;

    public string Topic(TagInfo tag)
    {
        lock (_lock)
        {
            return _topics.Topic(tag);
        }
    }

    /// <summary>Payload writer options (<see cref="UnsEncoder.JsonOptions"/>).</summary>
    public static JsonWriterOptions JsonOptions => UnsEncoder.JsonOptions;

    /// <summary>Writes the JSON payload of a sample (static form, for tools and tests).</summary>
    public static void WritePayload(in Sample sample, IBufferWriter<byte> output)
    {
        using var json = new Utf8JsonWriter(output, JsonOptions);
        WritePayload(sample, json);
    }

    /// <summary>Writes the JSON payload of a sample with a reusable writer (reset onto the output by the caller).</summary>
    public static void WritePayload(in Sample sample, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        UnsEncoder.WritePayload(json, sample, topic: null);
        json.Flush();
    }

    /// <summary>ISO 8601 UTC with milliseconds (<c>2026-11-26T10:00:00.123Z</c>), without allocating.</summary>
    public static ReadOnlySpan<byte> FormatTimestamp(DateTimeOffset timestamp, Span<byte> destination) =>
        UnsEncoder.FormatTimestamp(timestamp, destination);

    public static string QualityName(Quality quality) => SampleStatus.Name(quality);

    /// <summary>Writes a sample value as JSON: booleans, numbers at their width (Float as its shortest float32 text), strings; null when there is none or it is not finite.</summary>
    public static void WriteValue(Utf8JsonWriter json, SampleValue value) => Uns.UnsEncoder.WriteValue(json, value);
}
