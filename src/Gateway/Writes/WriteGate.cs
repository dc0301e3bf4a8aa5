using System.Diagnostics.Metrics;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Gateway.Drivers.OpcUa.Transport;
using Gateway.Drivers.S7;
using Microsoft.Extensions.Logging;

namespace Gateway.Writes;

/// <summary>Where a write came from, for the audit line and the allow-list.</summary>
/// <param name="Channel"><c>uns</c>, <c>sparkplug</c>.</param>
/// <param name="Topic">The MQTT topic it arrived on.</param>
/// <param name="Client">What the sender declared (MQTT 5 user property <c>client</c> or <c>user</c>); null when nothing.</param>
public sealed record WriteOrigin(string Channel, string Topic, string? Client);

/// <summary>The answer to one write: the status, and the value read back after the PLC acknowledged it.</summary>
/// <param name="StatusCode">0 (Good), an Uncertain code (written, the read-back failed) or the Bad code of the refusal or failure.</param>
/// <param name="Value">The value read back; the requested value when the write was refused or not read back.</param>
/// <param name="Timestamp">The read-back's source timestamp, else the time of the answer.</param>
/// <param name="Reason">Why it is not Good, in words; null when Good.</param>
public readonly record struct WriteResult(uint StatusCode, SampleValue Value, DateTimeOffset Timestamp, string? Reason)
{
    public bool IsGood => StatusCode == SampleStatus.Good;

    /// <summary><c>Good</c>, or the status's name (<c>BadNotWritable</c>, <c>BadOutOfRange</c>, ...).</summary>
    public string Status => StatusCode == SampleStatus.Good ? "Good" : SampleStatus.Name(StatusCode);
}

/// <summary>
/// The one place every write to a PLC passes, whatever its origin (UNS <c>/set</c>, Sparkplug DCMD) and whatever the
/// driver: it resolves the tag, refuses what is not allowed (not <c>writable</c>, a sender not on the allow-list, a
/// value not of the tag's type or outside <c>min</c>/<c>max</c>, a second write within <c>minWriteIntervalMs</c>),
/// hands the rest to the driver at once (never to the buffer: a late setpoint is dangerous, so a PLC that is not
/// reachable answers Bad now), reads the value back, counts, and writes one audit line per write or refusal.
/// Thread-safe.
/// </summary>
public sealed partial class WriteGate
{
    /// <summary>The meter of the write counters; its name puts them on /metrics with the drivers' own counters.</summary>
    public const string MeterName = "Gateway.Drivers.Writes";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Counter<long> s_writes = s_meter.CreateCounter<long>("gateway_writes_total", description: "Writes to PLCs that reached the driver, by driver and result (good, bad)");
    private static readonly Counter<long> s_refusals = s_meter.CreateCounter<long>("gateway_write_refusals_total", description: "Writes refused before reaching the PLC, by driver and reason");

    // Replaced whole by a reload (ApplyTags): readers take the reference once per write.
    private volatile Dictionary<string, Entry> _tags;
    private readonly IDriverCatalog _catalog;
    private readonly WritesOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HashSet<string> _allowed;

    public WriteGate(GatewayConfig config, IDriverCatalog catalog, TimeProvider time, ILogger logger)
    {
        _catalog = catalog;
        _options = config.Writes;
        _time = time;
        _logger = logger;
        _allowed = new HashSet<string>(_options.AllowedClients, StringComparer.Ordinal);
        _tags = Entries(config, null);
    }

    /// <summary>
    /// Takes the tags of a reloaded configuration (a tag made read-only, out of range or slower stops being written at
    /// once); a tag that stays keeps its last write time, so a reload does not lift its rate limit. The <c>writes</c>
    /// section itself is applied at a restart only.
    /// </summary>
    public void ApplyTags(GatewayConfig config) => _tags = Entries(config, _tags);

    private static Dictionary<string, Entry> Entries(GatewayConfig config, Dictionary<string, Entry>? previous)
    {
        var tags = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var driver in config.Drivers.Where(d => d.Enabled))
        {
            foreach (var tag in driver.Tags)
            {
                var info = tag.ToTagInfo(driver);
                // A GPIO line is a bit whatever its tag says: an untyped output still takes only true/false (or 1/0).
                var type = TagWriteTypes.Parse(tag.Type ?? (driver.Type == "gpio" ? "bool" : null));
                var entry = new Entry(info, driver.Name, tag, type);
                if (previous is not null && previous.TryGetValue(info.Key, out var old))
                {
                    lock (old)
                    {
                        entry.LastWrite = old.LastWrite;
                    }
                }

                tags.TryAdd(info.Key, entry);
            }
        }

        return tags;
    }

    /// <summary>Whether MQTT writes are on (<c>writes.enabled</c>).</summary>
    public bool Enabled => _options.Enabled;

    /// <summary>Every configured tag (writable or not: a write to a read-only tag gets its refusal as an answer).</summary>
    public IEnumerable<TagInfo> Tags => _tags.Values.Select(e => e.Info);

    /// <summary>The configured tag with key <c>machine/path</c>; null when there is none.</summary>
    public TagInfo? Find(string key) => _tags.TryGetValue(key, out var entry) ? entry.Info : null;

    /// <summary>Checks, writes and reads back one value; never throws for a refusal or a PLC failure (they are results).</summary>
    public async Task<WriteResult> WriteAsync(string tagKey, SampleValue requested, WriteOrigin origin, CancellationToken cancellationToken)
    {
        if (!_tags.TryGetValue(tagKey, out var entry))
        {
            return Refuse(null, tagKey, requested, origin, SampleStatus.BadNodeIdUnknown, "no such tag in the configuration", "unknown");
        }

        if (!_options.Enabled)
        {
            return Refuse(entry, tagKey, requested, origin, SampleStatus.BadNotWritable, "writes are off (writes.enabled is false)", "disabled");
        }

        if (!entry.Config.Writable)
        {
            return Refuse(entry, tagKey, requested, origin, SampleStatus.BadNotWritable, "the tag is not writable (\"writable\": true in its configuration allows it)", "not_writable");
        }

        if (_allowed.Count > 0 && (origin.Client is null || !_allowed.Contains(origin.Client)))
        {
            return Refuse(entry, tagKey, requested, origin, SampleStatus.BadUserAccessDenied, origin.Client is null ? "the sender names no client (MQTT 5 user property 'client'), and writes.allowedClients is set" : $"client '{origin.Client}' is not in writes.allowedClients", "not_allowed");
        }

        if (Check(entry, requested, out var value) is { } problem)
        {
            return Refuse(entry, tagKey, requested, origin, problem.Status, problem.Reason, problem.Status == SampleStatus.BadOutOfRange ? "out_of_range" : "type");
        }

        // The rate limit last: a refused attempt does not hold the next one back.
        var now = _time.GetTimestamp();
        lock (entry)
        {
            if (entry.LastWrite is { } last && entry.Config.MinWriteIntervalMs > 0)
            {
                var since = _time.GetElapsedTime(last, now);
                if (since < TimeSpan.FromMilliseconds(entry.Config.MinWriteIntervalMs))
                {
                    return Refuse(entry, tagKey, requested, origin, SampleStatus.BadTooManyOperations, $"rate limited: the last write was {since.TotalMilliseconds:0} ms ago, minWriteIntervalMs is {entry.Config.MinWriteIntervalMs}", "rate_limited");
                }
            }

            entry.LastWrite = now;
        }

        var result = await WriteToDriverAsync(entry, value, cancellationToken);
        s_writes.Add(1, new KeyValuePair<string, object?>("driver", entry.Driver), new KeyValuePair<string, object?>("result", result.StatusCode >> 30 == 2 ? "bad" : "good"));
        if (result.StatusCode >> 30 == 2)
        {
            LogWriteFailed(_logger, tagKey, TagWriteTypes.Describe(requested), origin.Channel, origin.Topic, origin.Client ?? "-", entry.Driver, result.Status, result.Reason ?? "");
        }
        else
        {
            LogWritten(_logger, tagKey, TagWriteTypes.Describe(requested), origin.Channel, origin.Topic, origin.Client ?? "-", entry.Driver, result.Status, TagWriteTypes.Describe(result.Value));
        }

        return result;
    }

    private async Task<WriteResult> WriteToDriverAsync(Entry entry, SampleValue value, CancellationToken cancellationToken)
    {
        var driver = _catalog.Drivers.FirstOrDefault(d => d.Name == entry.Driver);
        if (driver is null)
        {
            return Bad(SampleStatus.BadNotConnected, value, $"driver '{entry.Driver}' is not running");
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(_options.TimeoutMs), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await driver.WriteAsync(entry.Info, value, linked.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var (status, reason) = Explain(ex, timeout.IsCancellationRequested);
            return Bad(status, value, reason);
        }

        try
        {
            var sample = await driver.ReadAsync(entry.Info, linked.Token);
            if (sample.Quality == Quality.Bad)
            {
                return new WriteResult(SampleStatus.UncertainLastUsableValue, value, _time.GetUtcNow(), $"written, but the read-back failed: {SampleStatus.Describe(sample.StatusCode)}");
            }

            return new WriteResult(sample.StatusCode, sample.Value, sample.SourceTimestamp, null);
        }
        catch (NotSupportedException)
        {
            // Acknowledged by the PLC; this driver cannot read one tag on demand: its next poll shows the value.
            return new WriteResult(SampleStatus.Good, value, _time.GetUtcNow(), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var (_, reason) = Explain(ex, timeout.IsCancellationRequested);
            return new WriteResult(SampleStatus.UncertainLastUsableValue, value, _time.GetUtcNow(), "written, but the read-back failed: " + reason);
        }
    }

    /// <summary>The status a driver's exception means for the writer.</summary>
    internal static (uint Status, string Reason) Explain(Exception exception, bool timedOut) => exception switch
    {
        OperationCanceledException when timedOut => (SampleStatus.BadTimeout, "no answer from the PLC in time"),
        UaException ua => (ua.StatusCode, ua.Message),
        S7Exception s7 => (s7.StatusCode, s7.Message),
        ModbusException modbus => (modbus.Code == ModbusExceptionCode.IllegalDataAddress ? SampleStatus.BadNotWritable : SampleStatus.BadDeviceFailure, modbus.Message),
        TimeoutException => (SampleStatus.BadTimeout, exception.Message),
        ModbusConnectionException or S7ConnectionException or SocketException => (SampleStatus.BadNotConnected, exception.Message),
        IOException => (SampleStatus.BadCommunicationError, exception.Message),
        OverflowException => (SampleStatus.BadOutOfRange, "the value does not fit the PLC's type: " + exception.Message),
        ArgumentException or FormatException => (SampleStatus.BadTypeMismatch, exception.Message),
        InvalidOperationException => (SampleStatus.BadNotWritable, exception.Message),
        _ => (SampleStatus.BadInternalError, exception.GetType().Name + ": " + exception.Message),
    };

    /// <summary>The value's type and range against the tag's: the value to hand the driver, or the refusal.</summary>
    private static (uint Status, string Reason)? Check(Entry entry, SampleValue requested, out SampleValue value)
    {
        value = requested;
        var type = entry.Type;
        var config = entry.Config;
        if (requested.Kind == SampleValueKind.None)
        {
            return (SampleStatus.BadTypeMismatch, "no value");
        }

        if (type == TagWriteType.Boolean)
        {
            if (requested.Kind == SampleValueKind.Boolean)
            {
                return null;
            }

            if (requested.IsWholeNumber && requested.AsInteger is 0 or 1)
            {
                value = SampleValue.FromBoolean(requested.AsInteger == 1);
                return null;
            }

            return (SampleStatus.BadTypeMismatch, $"the tag is a bool: send true or false, got {TagWriteTypes.Describe(requested)}");
        }

        if (type == TagWriteType.Text)
        {
            return requested.Kind == SampleValueKind.String ? null : (SampleStatus.BadTypeMismatch, $"the tag is a string: send a JSON string, got {TagWriteTypes.Describe(requested)}");
        }

        if (type == TagWriteType.Any)
        {
            return InRange(config, requested);
        }

        // Numbers only, in engineering units.
        if (!requested.IsNumeric || requested.Kind == SampleValueKind.Boolean)
        {
            return (SampleStatus.BadTypeMismatch, $"the tag is a {Name(type)}: send a number, got {TagWriteTypes.Describe(requested)}");
        }

        var engineering = requested.AsDouble;
        if (!double.IsFinite(engineering))
        {
            return (SampleStatus.BadTypeMismatch, "not a finite number");
        }

        var scaled = config.Scale != 1.0 || config.Offset != 0;
        if (TagWriteTypes.IsInteger(type) && !scaled)
        {
            if (requested.IsFloatingPoint && Math.Round(engineering) != engineering)
            {
                return (SampleStatus.BadTypeMismatch, $"the tag is a {Name(type)}: send a whole number, got {TagWriteTypes.Describe(requested)}");
            }

            if (requested.IsFloatingPoint)
            {
                value = engineering < 0 ? SampleValue.FromInteger((long)engineering) : SampleValue.FromUnsignedInteger((ulong)engineering);
            }
        }

        if (InRange(config, requested) is { } outside)
        {
            return outside;
        }

        // The raw value the PLC will hold must fit the tag's type (scale and offset are undone by the driver).
        var raw = scaled ? Math.Round((engineering - config.Offset) / config.Scale, TagWriteTypes.IsInteger(type) ? 0 : 15) : engineering;
        var (min, max) = TagWriteTypes.Range(type);
        var fits = type switch
        {
            TagWriteType.Int64 when !scaled && requested.Kind == SampleValueKind.UnsignedInteger => false,
            TagWriteType.UInt64 when !scaled && requested.Kind == SampleValueKind.Integer => requested.AsInteger >= 0,
            TagWriteType.Int64 or TagWriteType.UInt64 when !scaled && requested.IsWholeNumber => true,
            _ => raw >= min && raw <= max,
        };
        if (!fits)
        {
            return (SampleStatus.BadOutOfRange, $"{TagWriteTypes.Describe(requested)} does not fit the tag's type {Name(type)}{(scaled ? $" after scale {config.Scale} and offset {config.Offset} (raw {raw})" : "")}");
        }

        if (scaled)
        {
            value = SampleValue.FromDouble(engineering);
        }

        return null;
    }

    private static (uint Status, string Reason)? InRange(TagConfig config, SampleValue requested)
    {
        if (config.Min is null && config.Max is null)
        {
            return null;
        }

        if (!requested.IsNumeric || requested.Kind == SampleValueKind.Boolean)
        {
            return (SampleStatus.BadTypeMismatch, $"the tag has a range: send a number, got {TagWriteTypes.Describe(requested)}");
        }

        var v = requested.AsDouble;
        if ((config.Min is { } min && v < min) || (config.Max is { } max && v > max))
        {
            return (SampleStatus.BadOutOfRange, $"{TagWriteTypes.Describe(requested)} is outside the tag's range [{config.Min?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-inf"}, {config.Max?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "+inf"}]");
        }

        return null;
    }

    private static string Name(TagWriteType type) => type.ToString().ToLowerInvariant();

    /// <summary>
    /// Refuses a write that never became a checked value (a malformed payload, a retained message, a Sparkplug metric
    /// without a usable value): counted on /metrics with <paramref name="metricReason"/> and audited like any refusal.
    /// </summary>
    public WriteResult Refuse(string tagKey, SampleValue requested, WriteOrigin origin, uint status, string reason, string metricReason) =>
        Refuse(_tags.GetValueOrDefault(tagKey), tagKey, requested, origin, status, reason, metricReason);

    private WriteResult Refuse(Entry? entry, string tagKey, SampleValue requested, WriteOrigin origin, uint status, string reason, string metricReason)
    {
        s_refusals.Add(1, new KeyValuePair<string, object?>("driver", entry?.Driver ?? "none"), new KeyValuePair<string, object?>("reason", metricReason));
        LogRefused(_logger, tagKey, TagWriteTypes.Describe(requested), origin.Channel, origin.Topic, origin.Client ?? "-", SampleStatus.Name(status), reason);
        return new WriteResult(status, requested, _time.GetUtcNow(), reason);
    }

    private WriteResult Bad(uint status, SampleValue value, string reason) => new(status, value, _time.GetUtcNow(), reason);

    private sealed class Entry(TagInfo info, string driver, TagConfig config, TagWriteType type)
    {
        public TagInfo Info { get; } = info;

        public string Driver { get; } = driver;

        public TagConfig Config { get; } = config;

        public TagWriteType Type { get; } = type;

        /// <summary>The monotonic timestamp of the last write handed to the driver; null before the first.</summary>
        public long? LastWrite { get; set; }
    }

    // The audit trail: one line per write and per refusal, each naming the tag, the value, the origin and the result.
    [LoggerMessage(EventId = 6700, Level = LogLevel.Information, Message = "write audit: {Tag} = {Value} from {Channel} {Topic} (client {Client}) via driver {Driver}: {Status}, read back {ReadBack}")]
    private static partial void LogWritten(ILogger logger, string tag, string value, string channel, string topic, string client, string driver, string status, string readBack);

    [LoggerMessage(EventId = 6701, Level = LogLevel.Warning, Message = "write audit: {Tag} = {Value} from {Channel} {Topic} (client {Client}) via driver {Driver}: {Status}: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, string tag, string value, string channel, string topic, string client, string driver, string status, string reason);

    [LoggerMessage(EventId = 6702, Level = LogLevel.Warning, Message = "write audit: {Tag} = {Value} from {Channel} {Topic} (client {Client}) refused: {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string tag, string value, string channel, string topic, string client, string status, string reason);
}
