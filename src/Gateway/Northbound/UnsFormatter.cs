using System.Buffers;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Drivers;

namespace Gateway.Northbound;

/// <summary>
/// Unified Namespace topics and JSON payloads (DESIGN.md):
/// <c>&lt;prefix&gt;/&lt;enterprise&gt;/&lt;site&gt;/&lt;area&gt;/&lt;line&gt;/&lt;machine&gt;/&lt;tag path&gt;</c>, payload
/// <c>{"value":23.4,"timestamp":"2026-11-26T10:00:00.123Z","quality":"Good","unit":"degC"}</c>.
/// </summary>
public sealed class UnsFormatter
{
    private readonly string _linePrefix;
    private readonly Dictionary<TagInfo, string> _topics = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();

    public UnsFormatter(GatewayIdentity identity, string topicPrefix)
    {
        var prefix = topicPrefix.Trim('/');
        _linePrefix = (prefix.Length > 0 ? prefix + "/" : "") + $"{identity.Enterprise}/{identity.Site}/{identity.Area}/{identity.Line}";
        StatusTopic = $"{_linePrefix}/_gateway/{identity.Id}/status";
    }

    /// <summary>The retained status topic; its last will says <c>offline</c>.</summary>
    public string StatusTopic { get; }

    public string Topic(TagInfo tag)
    {
        lock (_lock)
        {
            if (!_topics.TryGetValue(tag, out var topic))
            {
                topic = $"{_linePrefix}/{tag.Machine}/{tag.Path}";
                _topics[tag] = topic;
            }

            return topic;
        }
    }

    /// <summary>
    /// Payload writer options. Names and text in the plant's language ("°C", "Presse à chaud") go out as UTF-8,
    /// not as <c>\u00B0</c> escapes: the payload is JSON for MQTT clients, never embedded in HTML, so the relaxed
    /// encoder is safe; it still escapes quotes, backslashes and control characters.
    /// </summary>
    public static JsonWriterOptions JsonOptions { get; } = new() { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the JSON payload of a sample (static form, for tools and tests).</summary>
    public static void WritePayload(in Sample sample, IBufferWriter<byte> output)
    {
        using var json = new Utf8JsonWriter(output, JsonOptions);
        WritePayload(sample, json);
    }

    /// <summary>Writes the JSON payload of a sample with a reusable writer (reset onto the output by the caller).</summary>
    public static void WritePayload(in Sample sample, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WritePropertyName("value"u8);
        WriteValue(json, sample.Value);
        Span<byte> timestamp = stackalloc byte[32];
        json.WriteString("timestamp"u8, FormatTimestamp(sample.SourceTimestamp, timestamp));
        json.WriteString("quality"u8, QualityName(sample.Quality));
        if (sample.StatusCode != 0)
        {
            json.WriteNumber("statusCode"u8, sample.StatusCode);
        }

        if (sample.Tag.Unit is { } unit)
        {
            json.WriteString("unit"u8, unit);
        }

        json.WriteEndObject();
        json.Flush();
    }

    /// <summary>ISO 8601 UTC with milliseconds (<c>2026-11-26T10:00:00.123Z</c>), without allocating.</summary>
    public static ReadOnlySpan<byte> FormatTimestamp(DateTimeOffset timestamp, Span<byte> destination)
    {
        timestamp.UtcDateTime.TryFormat(destination, out var written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return destination[..written];
    }

    public static string QualityName(Quality quality) => SampleStatus.Name(quality);

    /// <summary>Writes a sample value as JSON: booleans, numbers at their width (Float as its shortest float32 text), strings; null when there is none or it is not finite.</summary>
    public static void WriteValue(Utf8JsonWriter json, SampleValue value) => Uns.UnsEncoder.WriteValue(json, value);
}
