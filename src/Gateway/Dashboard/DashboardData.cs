using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Observability;
using Gateway.Oee;

namespace Gateway.Dashboard;

/// <summary>
/// The JSON documents shared by the HTTP API and the live stream, so that <c>/api/status</c>, <c>/api/tags</c>,
/// <c>/api/oee</c> and the events of <c>/api/stream</c> always have the same shape.
/// </summary>
internal static class DashboardData
{
    /// <summary>The options of every JSON answer: camelCase, ISO 8601 times (the ASP.NET Core web defaults).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>Health of the drivers, the buffer and the MQTT link (<c>/api/status</c>, stream event <c>status</c>).</summary>
    public static StatusDocument Status(GatewayConfig config, GatewayMetrics metrics, SampleBuffer buffer, IDriverCatalog drivers, TimeProvider timeProvider) =>
        Status(config, metrics, buffer, drivers, timeProvider, PlantTime.For(config.Oee), null);

    /// <summary>As above, with the plant's clock already resolved (the feed keeps one).</summary>
    public static StatusDocument Status(GatewayConfig config, GatewayMetrics metrics, SampleBuffer buffer, IDriverCatalog drivers, TimeProvider timeProvider, PlantTime plant, BufferFlow? flow)
    {
        var rates = flow?.Current() ?? new BufferFlowReading(0, 0, null);
        return StatusDocument(config, metrics, buffer, drivers, timeProvider, plant, rates);
    }

    private static StatusDocument StatusDocument(GatewayConfig config, GatewayMetrics metrics, SampleBuffer buffer, IDriverCatalog drivers, TimeProvider timeProvider, PlantTime plant, BufferFlowReading rates) => new(
        GeneratedAt: timeProvider.GetUtcNow(),
        TimeZone: plant.TimeZone,
        UtcOffset: plant.UtcOffset(timeProvider.GetUtcNow()),
        Gateway: config.Gateway,
        Mqtt: new StatusMqtt(metrics.MqttConnected, config.Mqtt.Host ?? "embedded", config.Mqtt.Port, metrics.SamplesPublished, metrics.PublishFailures),
        Buffer: new StatusBuffer(buffer.Count, buffer.Bytes, buffer.MaxBytes, buffer.MaxBytes == 0 ? 0 : (double)buffer.Bytes / buffer.MaxBytes, metrics.OldestSampleAge.TotalSeconds, metrics.SamplesDropped,
            rates.FillPerSecond, rates.DrainPerSecond, rates.MinutesToEmpty),
        Drivers: drivers.Drivers.Select(d => new StatusDriver(d.Name, d.State.ToString(), d.LastError, d.Tags.Count, metrics.Driver(d.Name).SamplesRead)));

    /// <summary>The OEE of every machine (<c>/api/oee</c>, stream event <c>oee</c>); no machines without an <c>oee</c> section.</summary>
    public static OeeReport Oee(IServiceProvider services) =>
        services.GetService<OeeEngine>()?.Snapshot()
        ?? new OeeReport(services.GetRequiredService<TimeProvider>().GetUtcNow(), [], []).InPlantTime(PlantTime.For(null));

    /// <summary>
    /// Writes one tag as <c>{"tag","machine","path","value","quality","statusCode","statusText","timestamp","unit"}</c>
    /// (statusText: the code's name and hex, <c>BadSensorFailure (0x808C0000)</c>): value is a
    /// boolean, a number, a string or null (no value, or a non-finite number); timestamp is the source timestamp. The
    /// one shape of a tag for <c>/api/tags</c> and the stream's <c>tags</c> events.
    /// </summary>
    public static void WriteTag(Utf8JsonWriter json, in Sample sample)
    {
        json.WriteStartObject();
        json.WriteString("tag"u8, sample.Tag.Key);
        json.WriteString("machine"u8, sample.Tag.Machine);
        json.WriteString("path"u8, sample.Tag.Path);
        json.WritePropertyName("value"u8);
        SampleJson.WriteValue(json, sample.Value);
        json.WriteString("quality"u8, SampleStatus.Name(sample.Quality));
        json.WriteNumber("statusCode"u8, sample.StatusCode);
        json.WriteString("statusText"u8, SampleStatus.Describe(sample.StatusCode));
        json.WriteString("timestamp"u8, sample.SourceTimestamp);
        if (sample.Tag.Unit is { } unit)
        {
            json.WriteString("unit"u8, unit);
        }
        else
        {
            json.WriteNull("unit"u8);
        }

        json.WriteEndObject();
    }

    /// <summary><c>/api/tags</c>: every tag, in the order given, as <see cref="WriteTag"/> writes it.</summary>
    public static byte[] TagsDocument(IEnumerable<Sample> samples)
    {
        var output = new ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartArray();
            foreach (var sample in samples)
            {
                WriteTag(json, sample);
            }

            json.WriteEndArray();
        }

        return output.WrittenSpan.ToArray();
    }
}

/// <summary><c>/api/status</c> and the stream's <c>status</c> event (with <c>drill</c> added by the endpoint).</summary>
internal sealed record StatusDocument(DateTimeOffset GeneratedAt, string TimeZone, string UtcOffset, GatewayIdentity Gateway, StatusMqtt Mqtt, StatusBuffer Buffer, IEnumerable<StatusDriver> Drivers);

internal sealed record StatusMqtt(bool Connected, string Broker, int Port, long Published, long Failures);

internal sealed record StatusBuffer(long Samples, long Bytes, long MaxBytes, double Fill, double OldestSampleAgeSeconds, long Dropped, double FillRatePerSecond, double DrainRatePerSecond, double? MinutesToEmpty);

internal sealed record StatusDriver(string Name, string State, string? LastError, int Tags, long SamplesRead);
