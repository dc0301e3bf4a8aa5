using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Gateway.Observability;

/// <summary>
/// The gateway's counters and gauges. Published through System.Diagnostics.Metrics (meter <c>Gateway</c>)
/// and rendered at /metrics in the Prometheus text format.
/// </summary>
public sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "Gateway";

    private readonly Meter _meter = new(MeterName);
    private readonly ConcurrentDictionary<string, DriverCounters> _drivers = new(StringComparer.Ordinal);
    private long _samplesFiltered;
    private long _samplesBuffered;
    private long _samplesDropped;
    private long _samplesPublished;
    private long _publishFailures;
    private long _bufferFlushes;
    private long _mqttConnects;
    private long _bufferSamples;
    private long _bufferBytes;
    private long _oldestSampleUnixMs;
    private int _mqttConnected;

    public GatewayMetrics(TimeProvider timeProvider)
    {
        TimeProvider = timeProvider;
        _meter.CreateObservableCounter("gateway_samples_buffered_total", () => Volatile.Read(ref _samplesBuffered), "{sample}", "Samples written to the disk buffer");
        _meter.CreateObservableCounter("gateway_buffer_dropped_samples_total", () => Volatile.Read(ref _samplesDropped), "{sample}", "Samples dropped by the buffer quota");
        _meter.CreateObservableCounter("gateway_samples_published_total", () => Volatile.Read(ref _samplesPublished), "{sample}", "Samples acknowledged by the broker");
        _meter.CreateObservableCounter("gateway_publish_failures_total", () => Volatile.Read(ref _publishFailures), "{failure}", "Publications that failed");
        _meter.CreateObservableGauge("gateway_buffer_samples", () => Volatile.Read(ref _bufferSamples), "{sample}", "Samples waiting in the buffer");
        _meter.CreateObservableGauge("gateway_buffer_bytes", () => Volatile.Read(ref _bufferBytes), "By", "Bytes of samples waiting in the buffer");
        _meter.CreateObservableGauge("gateway_mqtt_connected", () => Volatile.Read(ref _mqttConnected), null, "1 when connected to the broker");
    }

    public TimeProvider TimeProvider { get; }

    public long SamplesBuffered => Volatile.Read(ref _samplesBuffered);

    public long SamplesDropped => Volatile.Read(ref _samplesDropped);

    public long SamplesPublished => Volatile.Read(ref _samplesPublished);

    public long PublishFailures => Volatile.Read(ref _publishFailures);

    public long BufferSamples => Volatile.Read(ref _bufferSamples);

    public long BufferBytes => Volatile.Read(ref _bufferBytes);

    public bool MqttConnected => Volatile.Read(ref _mqttConnected) == 1;

    /// <summary>Age of the oldest buffered sample (by its gateway timestamp); zero when the buffer is empty.</summary>
    public TimeSpan OldestSampleAge
    {
        get
        {
            var oldest = Volatile.Read(ref _oldestSampleUnixMs);
            return oldest == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(0, TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() - oldest));
        }
    }

    public DriverCounters Driver(string name) => _drivers.GetOrAdd(name, n => new DriverCounters(n));

    public IEnumerable<DriverCounters> Drivers => _drivers.Values;

    public void AddFiltered(long count) => Interlocked.Add(ref _samplesFiltered, count);

    public void AddBuffered(long count)
    {
        Interlocked.Add(ref _samplesBuffered, count);
        Interlocked.Increment(ref _bufferFlushes);
    }

    public void AddDropped(long count) => Interlocked.Add(ref _samplesDropped, count);

    public void AddPublished(long count) => Interlocked.Add(ref _samplesPublished, count);

    public void AddPublishFailures(long count) => Interlocked.Add(ref _publishFailures, count);

    public void MqttConnectedChanged(bool connected)
    {
        Volatile.Write(ref _mqttConnected, connected ? 1 : 0);
        if (connected)
        {
            Interlocked.Increment(ref _mqttConnects);
        }
    }

    public void SetBufferState(long samples, long bytes, long oldestUnixMs)
    {
        Volatile.Write(ref _bufferSamples, samples);
        Volatile.Write(ref _bufferBytes, bytes);
        Volatile.Write(ref _oldestSampleUnixMs, oldestUnixMs);
    }

    /// <summary>Renders every metric in the Prometheus text exposition format (version 0.0.4).</summary>
    public string RenderPrometheus(long bufferMaxBytes)
    {
        var text = new StringBuilder(2048);
        Metric(text, "gateway_driver_samples_read_total", "counter", "Samples produced by each driver, before filtering", _drivers.Values.Select(d => ($"driver=\"{Escape(d.Name)}\"", (double)d.SamplesRead)));
        Metric(text, "gateway_driver_errors_total", "counter", "Errors reported by each driver", _drivers.Values.Select(d => ($"driver=\"{Escape(d.Name)}\"", (double)d.Errors)));
        Metric(text, "gateway_driver_connected", "gauge", "1 when the driver's source is reachable", _drivers.Values.Select(d => ($"driver=\"{Escape(d.Name)}\"", d.Connected ? 1.0 : 0.0)));
        Single(text, "gateway_samples_filtered_total", "counter", "Samples suppressed by deadband or change-of-value filtering", Volatile.Read(ref _samplesFiltered));
        Single(text, "gateway_samples_buffered_total", "counter", "Samples written to the disk buffer", SamplesBuffered);
        Single(text, "gateway_buffer_flushes_total", "counter", "Batches written to the disk buffer", Volatile.Read(ref _bufferFlushes));
        Single(text, "gateway_buffer_samples", "gauge", "Samples waiting in the buffer", BufferSamples);
        Single(text, "gateway_buffer_bytes", "gauge", "Bytes of samples waiting in the buffer", BufferBytes);
        Single(text, "gateway_buffer_max_bytes", "gauge", "Buffer quota in bytes", bufferMaxBytes);
        Single(text, "gateway_buffer_oldest_sample_age_seconds", "gauge", "Age of the oldest buffered sample", OldestSampleAge.TotalSeconds);
        Single(text, "gateway_buffer_dropped_samples_total", "counter", "Samples dropped because the buffer was over its quota", SamplesDropped);
        Single(text, "gateway_samples_published_total", "counter", "Samples acknowledged by the broker", SamplesPublished);
        Single(text, "gateway_publish_failures_total", "counter", "Publications that failed and stayed in the buffer", PublishFailures);
        Single(text, "gateway_mqtt_connected", "gauge", "1 when connected to the MQTT broker", MqttConnected ? 1 : 0);
        Single(text, "gateway_mqtt_connects_total", "counter", "Successful connections to the MQTT broker", Volatile.Read(ref _mqttConnects));
        return text.ToString();
    }

    private static void Single(StringBuilder text, string name, string type, string help, double value) =>
        Metric(text, name, type, help, [("", value)]);

    private static void Metric(StringBuilder text, string name, string type, string help, IEnumerable<(string Labels, double Value)> values)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        foreach (var (labels, value) in values)
        {
            text.Append(name);
            if (labels.Length > 0)
            {
                text.Append('{').Append(labels).Append('}');
            }

            text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    public void Dispose() => _meter.Dispose();
}

/// <summary>Per-driver counters.</summary>
public sealed class DriverCounters(string name)
{
    private long _samplesRead;
    private long _errors;

    public string Name { get; } = name;

    public long SamplesRead => Volatile.Read(ref _samplesRead);

    public long Errors => Volatile.Read(ref _errors);

    public bool Connected { get; set; }

    public void AddRead() => Interlocked.Increment(ref _samplesRead);

    public void AddError() => Interlocked.Increment(ref _errors);
}
