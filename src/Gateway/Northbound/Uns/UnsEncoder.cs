using System.Buffers;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound.Delivery;

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
    private readonly string _linePrefix;
    private readonly Dictionary<TagInfo, string> _topics = new(ReferenceEqualityComparer.Instance);
    private readonly PooledBufferWriter _buffer = new();
    private readonly Utf8JsonWriter _json;

    public UnsEncoder(GatewayIdentity identity, string topicPrefix)
    {
        var prefix = topicPrefix.Trim('/');
        _linePrefix = (prefix.Length > 0 ? prefix + "/" : "") + $"{identity.Enterprise}/{identity.Site}/{identity.Area}/{identity.Line}";
        StatusTopic = $"{_linePrefix}/_gateway/{identity.Id}/status";
        HistoryTopic = $"{_linePrefix}/_gateway/{identity.Id}/history";
        _json = new Utf8JsonWriter(_buffer, UnsFormatter.JsonOptions);
    }

    /// <summary>The retained status topic; its last will says <c>offline</c>.</summary>
    public string StatusTopic { get; }

    /// <summary>Where the backlog goes, as JSON arrays.</summary>
    public string HistoryTopic { get; }

    /// <summary>The live topic of a tag (cached by tag instance).</summary>
    public string Topic(TagInfo tag)
    {
        if (!_topics.TryGetValue(tag, out var topic))
        {
            topic = $"{_linePrefix}/{tag.Machine}/{tag.Path}";
            _topics[tag] = topic;
        }

        return topic;
    }

    /// <summary>Writes one live payload; returns the pooled array holding it and its length.</summary>
    public (byte[] Array, int Length) LivePayload(in Sample sample)
    {
        _buffer.Reset();
        _json.Reset(_buffer);
        WriteObject(sample, topic: null);
        _json.Flush();
        return _buffer.Detach();
    }

    /// <summary>Starts a history array.</summary>
    public void BeginHistory()
    {
        _buffer.Reset();
        _json.Reset(_buffer);
        _json.WriteStartArray();
    }

    /// <summary>Adds one element to the history array; returns the bytes written so far.</summary>
    public long AppendHistory(in Sample sample)
    {
        WriteObject(sample, Topic(sample.Tag));
        return _json.BytesPending + _json.BytesCommitted;
    }

    /// <summary>Ends the history array; returns the pooled array holding it and its length.</summary>
    public (byte[] Array, int Length) EndHistory()
    {
        _json.WriteEndArray();
        _json.Flush();
        return _buffer.Detach();
    }

    private void WriteObject(in Sample sample, string? topic)
    {
        var json = _json;
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
        _json.Dispose();
        var (array, _) = _buffer.Detach();
        PayloadPool.Shared.Return(array);
    }
}
