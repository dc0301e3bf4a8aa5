using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Drivers;

/// <summary>Where a driver hands its samples. Implementations apply back-pressure rather than drop.</summary>
public interface ISampleWriter
{
    /// <summary>Queues a sample; waits when the pipeline is full.</summary>
    ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken);

    /// <summary>
    /// Queues the samples of one read (for example one Modbus request's registers), in order; waits when the pipeline
    /// is full. The caller may reuse <paramref name="samples"/> once the returned task completes. The default writes
    /// them one by one; the gateway's pipeline takes the whole batch under one lock and one counter update.
    /// </summary>
    async ValueTask WriteBatchAsync(ReadOnlyMemory<Sample> samples, CancellationToken cancellationToken)
    {
        for (var i = 0; i < samples.Length; i++)
        {
            await WriteAsync(samples.Span[i], cancellationToken);
        }
    }

    /// <summary>
    /// Tells the host that a poll could not start on time (the previous poll, or the machine, ran past its due
    /// time): counted per driver as <c>gateway_driver_poll_overruns_total</c>. The default ignores it.
    /// </summary>
    void ReportPollOverrun()
    {
    }

    /// <summary>
    /// A poll of one unit starts: its samples follow, then <see cref="PollEnded"/>. The gateway's buffer writer
    /// commits a burst once every poll under way has ended (no quiet-time timer), so a polling driver brackets each
    /// poll; samples written outside a bracket (a subscription, a driver's own push) are committed once the
    /// pipeline is quiet. The default ignores it.
    /// </summary>
    void PollStarted()
    {
    }

    /// <summary>The poll <see cref="PollStarted"/> announced has ended: all its samples are written. The default ignores it.</summary>
    void PollEnded()
    {
    }
}

/// <summary>The connection state a driver reports for health pages and metrics.</summary>
public enum DriverState
{
    Starting,
    Connected,
    Degraded,
    Disconnected,
    Stopped,
}

/// <summary>A southbound driver: owns its connection(s), polls or subscribes, and emits samples.</summary>
public interface IDriver : IAsyncDisposable
{
    /// <summary>The driver's name from the configuration.</summary>
    string Name { get; }

    /// <summary>The tags the driver produces.</summary>
    IReadOnlyList<TagInfo> Tags { get; }

    /// <summary>The current connection state.</summary>
    DriverState State { get; }

    /// <summary>The last error, for the health page; null when healthy. Never contains secrets.</summary>
    string? LastError { get; }

    /// <summary>
    /// Runs until cancelled. Must not throw on device errors: a lost device turns its tags Bad once
    /// and is retried with backoff.
    /// </summary>
    Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a value to a tag. Only tags configured <c>writable</c> accept writes; the others
    /// throw <see cref="InvalidOperationException"/>.
    /// </summary>
    ValueTask WriteAsync(TagInfo tag, SampleValue value, CancellationToken cancellationToken) =>
        throw new InvalidOperationException($"driver '{Name}' does not support writes");

    /// <summary>
    /// Reads one tag now, outside its poll or subscription (the read-back after a write): a Good sample in engineering
    /// units, or a Bad one with the status the device gave. Throws what the connection throws (timeout, refused).
    /// The default throws <see cref="NotSupportedException"/>: the write's result then carries the value written.
    /// </summary>
    ValueTask<Sample> ReadAsync(TagInfo tag, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"driver '{Name}' cannot read a single tag on demand");
}

/// <summary>What a driver gets from the host.</summary>
public sealed class DriverContext
{
    public DriverContext(TimeProvider timeProvider, ILoggerFactory loggerFactory, string? stateDirectory = null)
    {
        TimeProvider = timeProvider;
        LoggerFactory = loggerFactory;
        StateDirectory = stateDirectory;
    }

    public TimeProvider TimeProvider { get; }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The gateway's state directory (PKI, persisted state); null in tools.</summary>
    public string? StateDirectory { get; }
}

/// <summary>One problem found in a configuration: the JSON path and the reason.</summary>
public readonly record struct ConfigProblem(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}

/// <summary>
/// Creates drivers of one or more <c>type</c>s. The host checks unknown keys against
/// <see cref="SettingsType"/> and <see cref="TagSettingsType"/>, then asks the factory to validate.
/// </summary>
public interface IDriverFactory
{
    /// <summary>The <c>type</c> values this factory serves (for example <c>modbus-tcp</c>).</summary>
    IReadOnlyCollection<string> Types { get; }

    /// <summary>The class whose properties are the driver-level keys beyond the common ones; null if none.</summary>
    Type? SettingsType(string type);

    /// <summary>The class whose properties are the tag-level keys beyond the common ones; null if none.</summary>
    Type? TagSettingsType(string type);

    /// <summary>Checks the driver's section; <paramref name="path"/> is its JSON path (for example <c>drivers[0]</c>).</summary>
    IEnumerable<ConfigProblem> Validate(DriverConfig config, IConfigurationSection section, string path);

    /// <summary>
    /// Whether the entries of the driver's <c>tags[]</c> are tags of their own (the default), checked by the host as
    /// UNS names and unique keys, or only adjust tags the driver defines itself (units, deadbands), checked by
    /// <see cref="Validate"/> alone.
    /// </summary>
    bool ConfiguredTagsAreNew(string type) => true;

    /// <summary>
    /// The keys (<c>machine/path</c>) of every tag the driver will produce, known without starting it: what the
    /// OEE section may refer to. Default: the configured tags.
    /// </summary>
    IEnumerable<string> TagKeys(DriverConfig config, IConfigurationSection section) => config.Tags.Select(t => t.ToTagInfo(config).Key);

    /// <summary>Builds the driver. Called only after <see cref="Validate"/> found no problem.</summary>
    IDriver Create(DriverConfig config, IConfigurationSection section, DriverContext context);
}
