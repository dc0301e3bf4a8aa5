using System.Text.Json;
using Gateway.Configuration;
using Gateway.Drivers;

namespace Gateway.Northbound.Uns;

/// <summary>
/// Unified Namespace topics and JSON payloads, written allocation-light: topics are built once per tag and cached,
/// payloads are written with one reused <see cref="Utf8JsonWriter"/> straight into pooled arrays.
/// <list type="bullet">
/// <item>live: <c>&lt;prefix&gt;/&lt;enterprise&gt;/&lt;site&gt;/&lt;area&gt;/&lt;line&gt;/&lt;machine&gt;/&lt;tag path&gt;</c>,
/// <c>{"value":23.4,"timestamp":"2026-11-26T10:00:00.123Z","quality":"Good","unit":"degC"}</c>;</item>
/// <item>history (the backlog replayed after an outage): <c>&lt;prefix&gt;/…/&lt;line&gt;/_gateway/&lt;id&gt;/history</c>, a JSON
/// array in buffer order whose elements are the live payload with <c>"topic"</c> first.</item>
/// </list>
/// A Float is written as the shortest text that reads back as the same float32 (22.1, not 22.100000381469727), an
/// UnsignedInteger exactly; a value JSON cannot carry (NaN, infinity) as null. Not thread-safe (one per output).
/// </summary>
public sealed class UnsEncoder : IDisposable
{
    private readonly UnsTopics _topics;
    private readonly PooledBufferWriter _buffer = new();
    private readonly Utf8JsonWriter _json;
    private int _historyElements;
    private bool _disposed;

    public UnsEncoder(GatewayIdentity identity, string topicPrefix)
    {
        _topics = new UnsTopics(identity, topicPrefix);
        _json = new Utf8JsonWriter(_buffer, JsonOptions);
    }

    /// <summary>
    /// Payload writer options. Names and text in the plant's language ("°C", "Presse à chaud") go out as UTF-8,
    /// not as <c>\u00B0</c> escapes: the payload is JSON for MQTT clients, never embedded in HTML, so the relaxed
    /// encoder is safe; it still escapes quotes, backslashes and control characters.
    /// </summary>
    public static JsonWriterOptions JsonOptions { get; } = new() { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The retained status topic; its last will says <c>offline</c>.</summary>
    public string StatusTopic => _topics.StatusTopic;

    /// <summary>Where the backlog goes, as JSON arrays.</summary>
    public string HistoryTopic => _topics.HistoryTopic;

    /// <summary>The live topic of a tag (cached by tag instance).</summary>
    public string Topic(TagInfo tag) => _topics.Topic(tag);

    /// <summary>Writes one live payload; returns the pooled array holding it and its length.</summary>
    public (byte[] Array, int Length) LivePayload(in Sample sample)
    {
        _buffer.Reset();
        _json.Reset(_buffer);
        WritePayload(_json, sample, topic: null);
        _json.Flush();
        return _buffer.Detach();
    }

    /// <summary>Starts a history array.</summary>
    public void BeginHistory()
    {
        _buffer.Reset();
        _json.Reset(_buffer);
        _json.WriteStartArray();
        _historyElements = 0;
    }

    /// <summary>
    /// Adds one element to the history array, unless the array, closed, would then be over <paramref name="maxLength"/>
    /// bytes while it already holds an element: the element is then taken back, the array left as it was, and false
    /// returned (the sample starts the next array). <paramref name="length"/>: the bytes written so far.
    /// </summary>
    public bool TryAppendHistory(in Sample sample, long maxLength, out long length)
    {
        var before = Written;
        WritePayload(_json, sample, Topic(sample.Tag));
        length = Written;
        if (length + 1 > maxLength && _historyElements > 0)
        {
            // After a flush the writer holds no memory of the buffer: what it wrote can be cut off under it. Its own
            // byte count stays larger; the array is only closed after this.
            _json.Flush();
            _buffer.Truncate((int)before);
            length = before;
            return false;
        }

        _historyElements++;
        return true;
    }

    private long Written => _json.BytesPending + _json.BytesCommitted;

    /// <summary>Ends the history array; returns the pooled array holding it and its length.</summary>
    public (byte[] Array, int Length) EndHistory()
    {
        _json.WriteEndArray();
        _json.Flush();
        return _buffer.Detach();
    }

    /// <summary>Writes the JSON object of a sample, with <c>"topic"</c> first when given (a history element).</summary>
    public static void WritePayload(Utf8JsonWriter json, in Sample sample, string? topic)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        if (topic is not null)
        {
            json.WriteString("topic"u8, topic);
        }

        json.WritePropertyName("value"u8);
        WriteValue(json, sample.Value);
        Span<byte> timestamp = stackalloc byte[24];
        json.WriteString("timestamp"u8, FormatTimestamp(sample.SourceTimestamp, timestamp));
        json.WriteString("quality"u8, sample.Quality switch
        {
            Quality.Good => "Good"u8,
            Quality.Uncertain => "Uncertain"u8,
            _ => "Bad"u8,
        });
        if (sample.StatusCode != 0)
        {
            json.WriteNumber("statusCode"u8, sample.StatusCode);
        }

        if (sample.Tag.Unit is { } unit)
        {
            json.WriteString("unit"u8, unit);
        }

        json.WriteEndObject();
    }

    /// <summary>Writes a sample value as JSON (<see cref="SampleJson.WriteValue"/>).</summary>
    public static void WriteValue(Utf8JsonWriter json, SampleValue value) => SampleJson.WriteValue(json, value);

    /// <summary>ISO 8601 UTC with milliseconds (<c>2026-11-26T10:00:00.123Z</c>), digit by digit: no allocation, no format parsing.</summary>
    public static ReadOnlySpan<byte> FormatTimestamp(DateTimeOffset timestamp, Span<byte> destination)
    {
        var utc = timestamp.UtcDateTime;
        var (date, time) = utc;
        var (year, month, day) = date;
        var (hour, minute, second, millisecond) = time;
        Digits(destination, 0, year, 4);
        destination[4] = (byte)'-';
        Digits(destination, 5, month, 2);
        destination[7] = (byte)'-';
        Digits(destination, 8, day, 2);
        destination[10] = (byte)'T';
        Digits(destination, 11, hour, 2);
        destination[13] = (byte)':';
        Digits(destination, 14, minute, 2);
        destination[16] = (byte)':';
        Digits(destination, 17, second, 2);
        destination[19] = (byte)'.';
        Digits(destination, 20, millisecond, 3);
        destination[23] = (byte)'Z';
        return destination[..24];
    }

    private static void Digits(Span<byte> destination, int at, int value, int count)
    {
        for (var i = at + count - 1; i >= at; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _json.Dispose();
        _buffer.Dispose();
    }
}
