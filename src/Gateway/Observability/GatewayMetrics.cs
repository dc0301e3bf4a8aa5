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
    private readonly ConcurrentDictionary<string, SinkCounters> _sinks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _primaryHosts = new(StringComparer.Ordinal);
    private long _bufferFlushes;
    private long _bufferSamples;
    private long _bufferBytes;
    private long _oldestSampleUnixMs;
    private long _clockSteps;
    private readonly ConcurrentDictionary<string, long> _configReloads = new(StringComparer.Ordinal) { ["applied"] = 0, ["unchanged"] = 0, ["refused"] = 0, ["failed"] = 0 };

    private readonly MeterListener _driverMeters = new();
    private readonly ConcurrentDictionary<(string Name, string Labels), long> _driverCounters = new();
    private readonly ConcurrentDictionary<string, string> _driverCounterHelp = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Key, string Value), string> _singleLabels = new();

    public GatewayMetrics(TimeProvider timeProvider)
    {
        TimeProvider = timeProvider;
        // Counters that driver families publish on their own meters (Gateway.Drivers.*), exported as they are.
        _driverMeters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("Gateway.Drivers", StringComparison.Ordinal) && instrument is Counter<long>)
            {
                _driverCounterHelp[instrument.Name] = instrument.Description ?? instrument.Name;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _driverMeters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == Gateway.Drivers.DriverMetrics.ErrorsCounterName)
            {
                // A driver's own error count joins the host's per-driver family (one gateway_driver_errors_total).
                foreach (var tag in tags)
                {
                    if (tag.Key == Gateway.Drivers.DriverMetrics.DriverTag && tag.Value is string driver)
                    {
                        Driver(driver).AddErrors(value);
                    }
                }

                return;
            }

            // Drivers count every request: the common one-label case reuses its rendered labels (no allocation).
            string labels;
            if (tags.Length == 1 && tags[0].Value is string one)
            {
                labels = _singleLabels.GetOrAdd((tags[0].Key, one), static key => $"{key.Key}=\"{Escape(key.Value)}\"");
            }
            else
            {
                var text = new StringBuilder();
                foreach (var tag in tags)
                {
                    text.Append(text.Length == 0 ? "" : ",").Append(tag.Key).Append("=\"").Append(Escape(Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "")).Append('"');
                }

                labels = text.ToString();
            }

            _driverCounters.AddOrUpdate((instrument.Name, labels), static (_, add) => add, static (_, old, add) => old + add, value);
        });
        _driverMeters.Start();
        _meter.CreateObservableCounter("gateway_samples_buffered_total", () => Volatile.Read(ref _samplesBuffered), "{sample}", "Samples written to the disk buffer");
        _meter.CreateObservableCounter("gateway_buffer_dropped_samples_total", () => Volatile.Read(ref _samplesDropped), "{sample}", "Samples dropped by the buffer quota");
        _meter.CreateObservableCounter("gateway_samples_published_total", () => SamplesPublished, "{sample}", "Samples acknowledged by the northbound outputs");
        _meter.CreateObservableCounter("gateway_publish_failures_total", () => PublishFailures, "{failure}", "Publications that failed");
        _meter.CreateObservableGauge("gateway_buffer_samples", () => Volatile.Read(ref _bufferSamples), "{sample}", "Samples waiting in the buffer");
        _meter.CreateObservableGauge("gateway_buffer_bytes", () => Volatile.Read(ref _bufferBytes), "By", "Bytes of samples waiting in the buffer");
        _meter.CreateObservableGauge("gateway_mqtt_connected", () => MqttConnected ? 1 : 0, null, "1 when every MQTT output is connected");
    }

    public TimeProvider TimeProvider { get; }

    public long SamplesBuffered => Volatile.Read(ref _samplesBuffered);

    public long SamplesDropped => Volatile.Read(ref _samplesDropped);

    /// <summary>Samples acknowledged, summed over the northbound outputs.</summary>
    public long SamplesPublished => _sinks.Values.Sum(s => s.Published);

    public long PublishFailures => _sinks.Values.Sum(s => s.Failures);

    public long BufferSamples => Volatile.Read(ref _bufferSamples);

    public long BufferBytes => Volatile.Read(ref _bufferBytes);

    /// <summary>True when every MQTT output is connected (false before the first one registers).</summary>
    public bool MqttConnected => _sinks.Values.Any(s => s.IsMqtt) && _sinks.Values.Where(s => s.IsMqtt).All(s => s.Connected);

    /// <summary>The counters of one northbound output (<c>mqtt-uns</c>, <c>mqtt-sparkplug</c>, <c>influx</c>).</summary>
    public SinkCounters Sink(string name) => _sinks.GetOrAdd(name, n => new SinkCounters(n));

    public IEnumerable<SinkCounters> Sinks => _sinks.Values;

    /// <summary>What the Sparkplug node knows of its primary host (<c>mqtt.sparkplug.primaryHostId</c>): true once it said online.</summary>
    public void SetPrimaryHostOnline(string hostId, bool online) => _primaryHosts[hostId] = online;

    /// <summary>The last state set for <paramref name="hostId"/>; null when none was.</summary>
    public bool? PrimaryHostOnline(string hostId) => _primaryHosts.TryGetValue(hostId, out var online) ? online : null;

    /// <summary>Age of the oldest buffered sample (by its gateway timestamp); zero when the buffer is empty.</summary>
    public TimeSpan OldestSampleAge
    {
        get
        {
            var oldest = Volatile.Read(ref _oldestSampleUnixMs);
            return oldest == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(0, TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() - oldest));
        }
    }

    /// <summary>Drops a driver's series from /metrics (a reload removed the driver).</summary>
    public void ForgetDriver(string name) => _drivers.TryRemove(name, out _);

    /// <summary>Counts one configuration reload by its result (<c>applied</c>, <c>unchanged</c>, <c>refused</c>, <c>failed</c>).</summary>
    public void AddConfigReload(string result) => _configReloads.AddOrUpdate(result, 1, static (_, n) => n + 1);

    /// <summary>The reloads counted so far with <paramref name="result"/>.</summary>
    public long ConfigReloads(string result) => _configReloads.GetValueOrDefault(result);

    public DriverCounters Driver(string name) => _drivers.GetOrAdd(name, n => new DriverCounters(n));

    public IEnumerable<DriverCounters> Drivers => _drivers.Values;

    public void AddFiltered(long count) => Interlocked.Add(ref _samplesFiltered, count);

    public void AddBuffered(long count)
    {
        Interlocked.Add(ref _samplesBuffered, count);
        Interlocked.Increment(ref _bufferFlushes);
    }

    public void AddDropped(long count) => Interlocked.Add(ref _samplesDropped, count);

    /// <summary>Steps of the wall clock against the monotonic clock (see <c>Hosting.ClockWatch</c>).</summary>
    public long ClockSteps => Volatile.Read(ref _clockSteps);

    public void AddClockStep() => Interlocked.Increment(ref _clockSteps);


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
        Metric(text, "gateway_driver_poll_overruns_total", "counter", "Polls that could not start on time (the previous poll or the machine ran past the due time)", _drivers.Values.Select(d => ($"driver=\"{Escape(d.Name)}\"", (double)d.PollOverruns)));
        Single(text, "gateway_clock_steps_total", "counter", "Steps of the wall clock against the monotonic clock (NTP corrections, manual changes, suspend)", ClockSteps);
        Metric(text, "gateway_driver_connected", "gauge", "1 when the driver's source is reachable", _drivers.Values.Select(d => ($"driver=\"{Escape(d.Name)}\"", d.Connected ? 1.0 : 0.0)));
        foreach (var family in _driverCounters.GroupBy(c => c.Key.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Metric(text, family.Key, "counter", _driverCounterHelp.GetValueOrDefault(family.Key, family.Key), family.Select(c => (c.Key.Labels, (double)c.Value)));
        }

        Metric(text, "gateway_config_reloads_total", "counter", "Configuration reloads (SIGHUP, POST /api/config/reload, a save) by result: applied, unchanged, refused (invalid, the running one kept), failed", _configReloads.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => ($"result=\"{r.Key}\"", (double)r.Value)));
        Single(text, "gateway_samples_filtered_total", "counter", "Samples suppressed by deadband or change-of-value filtering", Volatile.Read(ref _samplesFiltered));
        Single(text, "gateway_samples_buffered_total", "counter", "Samples written to the disk buffer", SamplesBuffered);
        Single(text, "gateway_buffer_flushes_total", "counter", "Batches written to the disk buffer", Volatile.Read(ref _bufferFlushes));
        Single(text, "gateway_buffer_samples", "gauge", "Samples waiting in the buffer", BufferSamples);
        Single(text, "gateway_buffer_bytes", "gauge", "Bytes of samples waiting in the buffer", BufferBytes);
        Single(text, "gateway_buffer_max_bytes", "gauge", "Buffer quota in bytes", bufferMaxBytes);
        Single(text, "gateway_buffer_oldest_sample_age_seconds", "gauge", "Age of the oldest buffered sample", OldestSampleAge.TotalSeconds);
        Single(text, "gateway_buffer_dropped_samples_total", "counter", "Samples dropped because the buffer was over its quota", SamplesDropped);
        Metric(text, "gateway_samples_published_total", "counter", "Samples acknowledged by each northbound output (MQTT PUBACK, InfluxDB 204)", _sinks.Values.Select(x => ($"sink=\"{x.Name}\"", (double)x.Published)));
        Metric(text, "gateway_publish_failures_total", "counter", "Publications that failed (the samples stay in the buffer) or were refused for good", _sinks.Values.Select(x => ($"sink=\"{x.Name}\"", (double)x.Failures)));
        Metric(text, "gateway_sink_connected", "gauge", "1 when the northbound output is connected", _sinks.Values.Select(x => ($"sink=\"{x.Name}\"", x.Connected ? 1.0 : 0.0)));
        Single(text, "gateway_mqtt_connected", "gauge", "1 when every MQTT output is connected to its broker", MqttConnected ? 1 : 0);
        Metric(text, "gateway_sink_connects_total", "counter", "Successful connections of each northbound output", _sinks.Values.Select(x => ($"sink=\"{x.Name}\"", (double)x.Connects)));
        Metric(text, "gateway_sink_lag_seconds", "gauge", "Age of the oldest sample each northbound output has not delivered yet (0 when none waits)", _sinks.Values.Select(x => ($"sink=\"{x.Name}\"", x.LagSeconds)));
        Metric(text, "gateway_sink_history_published_total", "counter", "Samples of the backlog (replayed after an outage, flagged as history) acknowledged by each output", _sinks.Values.Select(x => ($"sink=\"{x.Name}\"", (double)x.HistoryPublished)));
        Metric(text, "gateway_sink_overloaded", "gauge", "1 while the drivers read faster than the output delivers and its backlog grows", _sinks.Values.Select(x => ($"sink=\"{x.Name}\"", x.Overloaded ? 1.0 : 0.0)));
        Metric(text, "gateway_sink_stalled", "gauge", "1 while the output is connected, samples wait, and nothing has been acknowledged for a while", _sinks.Values.Select(x => ($"sink=\"{x.Name}\"", x.Stalled ? 1.0 : 0.0)));
        Metric(text, "gateway_sink_stalls_total", "counter", "Times each output stopped making progress although samples waited", _sinks.Values.Select(x => ($"sink=\"{x.Name}\"", (double)x.Stalls)));
        ProcessMetrics(text);
        if (!_primaryHosts.IsEmpty)
        {
            Metric(text, "gateway_sparkplug_primary_host_online", "gauge", "1 while the Sparkplug primary host application says it is online (STATE); 0 holds the data in the buffer", _primaryHosts.Select(h => ($"host=\"{Escape(h.Key)}\"", h.Value ? 1.0 : 0.0)));
        }

        return text.ToString();
    }

    /// <summary>
    /// The process's own cost, under the names Prometheus's client libraries use (resident memory, CPU time), and the
    /// GC figures behind the memory: what a consultant watching a Pi's gateway asks first. The gen0 budget cap is the
    /// one the GC applies (<see cref="GC.GetConfigurationVariables"/>), 0 when none is set: the native AOT build
    /// carries it compiled in (Gateway.csproj), and a build that lost it shows 0 here.
    /// </summary>
    private static void ProcessMetrics(StringBuilder text)
    {
        Single(text, "process_resident_memory_bytes", "gauge", "Resident memory of the gateway process (VmRSS)", ResidentBytes());
        Single(text, "process_cpu_seconds_total", "counter", "CPU time of the gateway process, user and system", Environment.CpuUsage.TotalTime.TotalSeconds);
        var memory = GC.GetGCMemoryInfo();
        Single(text, "gateway_gc_heap_bytes", "gauge", "Managed heap size after the last garbage collection", memory.HeapSizeBytes);
        Single(text, "gateway_gc_committed_bytes", "gauge", "Memory the garbage collector had committed after its last collection", memory.TotalCommittedBytes);
        Single(text, "gateway_gc_gen0_budget_max_bytes", "gauge", "The largest gen0 allocation budget the garbage collector applies (0: none, it follows the CPU's cache size)", Gen0MaxBudget);
        Metric(text, "gateway_gc_collections_total", "counter", "Garbage collections by generation", [("generation=\"0\"", GC.CollectionCount(0)), ("generation=\"1\"", GC.CollectionCount(1)), ("generation=\"2\"", GC.CollectionCount(2))]);
    }

    /// <summary>The gen0 budget cap the GC read at start (<c>System.GC.Gen0MaxBudget</c>, <c>DOTNET_GCGen0MaxBudget</c>).</summary>
    internal static long Gen0MaxBudget { get; } =
        GC.GetConfigurationVariables().TryGetValue("GCGen0MaxBudget", out var value) ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;

    /// <summary>VmRSS from /proc/self/statm (resident pages, its second field); 0 where there is no procfs.</summary>
    private static double ResidentBytes()
    {
        try
        {
            Span<byte> buffer = stackalloc byte[128];
            using var statm = File.OpenHandle("/proc/self/statm");
            var length = RandomAccess.Read(statm, buffer, 0);
            var fields = buffer[..length];
            var space = fields.IndexOf((byte)' ');
            var rest = fields[(space + 1)..];
            var end = rest.IndexOf((byte)' ');
            return long.TryParse(end < 0 ? rest : rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var pages)
                ? (double)pages * Environment.SystemPageSize
                : 0;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
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

    public void Dispose()
    {
        _driverMeters.Dispose();
        _meter.Dispose();
    }
}

/// <summary>Per-driver counters.</summary>
public sealed class DriverCounters(string name)
{
    private long _samplesRead;
    private long _errors;
    private long _pollOverruns;

    public string Name { get; } = name;

    public long SamplesRead => Volatile.Read(ref _samplesRead);

    public long Errors => Volatile.Read(ref _errors);

    private volatile Func<bool>? _connectedProbe;
    private volatile bool _connected;

    /// <summary>Whether the driver's source is reachable: asked of the probe, if one is set, each time it is read.</summary>
    public bool Connected
    {
        get => _connectedProbe is { } probe ? probe() : _connected;
        set
        {
            _connectedProbe = null;
            _connected = value;
        }
    }

    /// <summary>
    /// Reads <see cref="Connected"/> from <paramref name="probe"/> whenever it is asked (a scrape), instead of a timer
    /// per driver copying the state every second; setting <see cref="Connected"/> removes the probe.
    /// </summary>
    public void ConnectedFrom(Func<bool> probe) => _connectedProbe = probe;

    public long PollOverruns => Volatile.Read(ref _pollOverruns);

    public void AddRead() => Interlocked.Increment(ref _samplesRead);

    public void AddRead(long count) => Interlocked.Add(ref _samplesRead, count);

    public void AddPollOverrun() => Interlocked.Increment(ref _pollOverruns);

    public void AddError() => Interlocked.Increment(ref _errors);

    public void AddErrors(long count) => Interlocked.Add(ref _errors, count);
}

/// <summary>Counters of one northbound output.</summary>
public sealed class SinkCounters(string name)
{
    private long _published;
    private long _failures;
    private long _connects;
    private int _connected;

    public string Name { get; } = name;

    public bool IsMqtt => Name.StartsWith("mqtt", StringComparison.Ordinal);

    public long Published => Volatile.Read(ref _published);

    public long Failures => Volatile.Read(ref _failures);

    public long Connects => Volatile.Read(ref _connects);

    public bool Connected => Volatile.Read(ref _connected) == 1;

    public void AddPublished(long count) => Interlocked.Add(ref _published, count);

    private long _historyPublished;
    private long _lagBits;
    private long _stalls;
    private int _stalled;
    private int _overloaded;

    /// <summary>Samples of the history lane (the backlog of an outage) acknowledged.</summary>
    public long HistoryPublished => Volatile.Read(ref _historyPublished);

    public void AddHistoryPublished(long count) => Interlocked.Add(ref _historyPublished, count);

    /// <summary>Age in seconds of the oldest sample this output has not delivered (0 when none waits).</summary>
    public double LagSeconds
    {
        get => BitConverter.Int64BitsToDouble(Volatile.Read(ref _lagBits));
        set => Volatile.Write(ref _lagBits, BitConverter.DoubleToInt64Bits(value));
    }

    /// <summary>True while the output is connected, samples wait and nothing was acknowledged for a while.</summary>
    public bool Stalled => Volatile.Read(ref _stalled) == 1;

    /// <summary>Times the output stalled.</summary>
    public long Stalls => Volatile.Read(ref _stalls);

    public void StalledChanged(bool stalled)
    {
        if (Interlocked.Exchange(ref _stalled, stalled ? 1 : 0) == 0 && stalled)
        {
            Interlocked.Increment(ref _stalls);
        }
    }

    /// <summary>True while reads outrun this output and its backlog grows.</summary>
    public bool Overloaded
    {
        get => Volatile.Read(ref _overloaded) == 1;
        set => Volatile.Write(ref _overloaded, value ? 1 : 0);
    }

    public void AddFailures(long count) => Interlocked.Add(ref _failures, count);

    public void ConnectedChanged(bool connected)
    {
        if (Interlocked.Exchange(ref _connected, connected ? 1 : 0) == 0 && connected)
        {
            Interlocked.Increment(ref _connects);
        }
    }
}
