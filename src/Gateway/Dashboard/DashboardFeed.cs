using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Extensions.Options;

namespace Gateway.Dashboard;

/// <summary>
/// The live feed of the dashboard (<c>/api/stream</c>, server-sent events). Every sample that passes the filters
/// is stamped with a sequence number in one table (latest value per tag). Every <see cref="TagInterval"/> one
/// frame with the tags changed since the previous frame is serialised once and shared by every client; every
/// <see cref="HealthInterval"/> the OEE and the health are serialised once. There is no queue per client: a
/// client remembers the last sequence number it sent, so one that fell behind (a slow phone on the plant Wi-Fi)
/// gets, when it is ready again, one delta with the latest value of each tag that changed meanwhile.
/// </summary>
public sealed partial class DashboardFeed : BackgroundService
{
    /// <summary>How often tag changes are sent.</summary>
    public static readonly TimeSpan TagInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the OEE and the health (drivers, buffer, MQTT) are sent.</summary>
    public static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(2);

    /// <summary>Concurrent stream clients; more are answered 503 (a dashboard is a few screens, not a public site).</summary>
    public const int MaxClients = 32;

    // Latest entry per tag, under _sequenceLock (written in place by tag index: no allocation, no hashing per sample).
    private readonly TagSlots<Entry> _tags = new();
    private readonly Lock _sequenceLock = new();
    private readonly IServiceProvider _services;
    private readonly IDriverCatalog _drivers;
    private readonly GatewayConfig _config;
    private readonly GatewayMetrics _metrics;
    private readonly SampleBuffer _buffer;
    private readonly SamplePipeline _pipeline;
    private readonly TimeProvider _timeProvider;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<DashboardFeed> _logger;
    private readonly Oee.PlantTime _plantTime;
    private long _sequence;
    private int _clients;
    private TagFrame _tagFrame = new(0, 0, []);
    private Frame? _statusFrame;
    private Frame? _oeeFrame;
    private long _frameVersion;
    private TaskCompletionSource _tick = NewTick();
    private readonly Lock _timerLock = new();
    private PeriodicTimer? _timer;

    public DashboardFeed(IServiceProvider services, IOptions<GatewayConfig> config, GatewayMetrics metrics, SampleBuffer buffer, SamplePipeline pipeline, TimeProvider timeProvider, IHostApplicationLifetime lifetime, ILogger<DashboardFeed> logger)
    {
        _services = services;
        _drivers = services.GetService<IDriverCatalog>() ?? EmptyCatalog.Instance;
        _config = config.Value;
        _plantTime = Oee.PlantTime.For(_config.Oee);
        _metrics = metrics;
        _buffer = buffer;
        _pipeline = pipeline;
        _timeProvider = timeProvider;
        _lifetime = lifetime;
        _logger = logger;
    }

    /// <summary>Clients connected to the stream now.</summary>
    public int Clients => Volatile.Read(ref _clients);

    /// <summary>Subscribes to the pipeline before the drivers start (hosted services start in registration order).</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _pipeline.ObserveBatches(ObserveBatch);
        return base.StartAsync(cancellationToken);
    }

    /// <summary>One sample: a slot write under a short lock.</summary>
    public void Observe(Sample sample) => ObserveBatch(new ReadOnlySpan<Sample>(in sample));

    /// <summary>Called by the pipeline for every driver batch: the lock is taken once per batch, each entry written in place.</summary>
    public void ObserveBatch(ReadOnlySpan<Sample> samples)
    {
        // The lock makes "sequence number N is visible" imply "every entry up to N is stored", so a frame
        // that reads the sequence first and then scans misses nothing.
        lock (_sequenceLock)
        {
            foreach (ref readonly var sample in samples)
            {
                _tags.GetValueRefOrAddDefault(sample.Tag, out _) = new Entry(sample, ++_sequence);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Stopped while nobody watches (most of the time on a plant floor: two wake-ups a second saved); the first
        // client starts it (StreamAsync), and a tick that finds no client left stops it again.
        using var timer = new PeriodicTimer(Timeout.InfiniteTimeSpan, _timeProvider);
        _timer = timer;
        if (Clients > 0)
        {
            timer.Period = TagInterval;
        }

        var ticksPerHealth = Math.Max(1, (int)(HealthInterval / TagInterval));
        var tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (Clients == 0)
                {
                    // Nobody watches: nothing is serialised, and no tick until a client comes. A new client builds
                    // what it needs.
                    _statusFrame = null;
                    _oeeFrame = null;
                    lock (_timerLock)
                    {
                        if (Clients == 0)
                        {
                            timer.Period = Timeout.InfiniteTimeSpan;
                        }
                    }

                    continue;
                }

                try
                {
                    var changed = BuildTagFrame();
                    if (tick++ % ticksPerHealth == 0)
                    {
                        _statusFrame = BuildStatusFrame();
                        _oeeFrame = BuildOeeFrame();
                        changed = true;
                    }

                    if (changed)
                    {
                        Interlocked.Exchange(ref _tick, NewTick()).TrySetResult();
                    }
                }
                catch (Exception ex) when (ex is InvalidOperationException or JsonException or ObjectDisposedException)
                {
                    DashboardLog.FrameFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_timerLock)
            {
                _timer = null;
            }

            _tick.TrySetResult();
        }
    }

    /// <summary>Starts the frame timer for a client that just came (it may be stopped: nobody watched).</summary>
    private void StartTicking()
    {
        lock (_timerLock)
        {
            if (_timer is { } timer && timer.Period == Timeout.InfiniteTimeSpan)
            {
                timer.Period = TagInterval;
            }
        }
    }

    /// <summary>Serves one client until it leaves or the gateway stops.</summary>
    public async Task StreamAsync(HttpContext context)
    {
        if (Interlocked.Increment(ref _clients) > MaxClients)
        {
            Interlocked.Decrement(ref _clients);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "10";
            return;
        }

        StartTicking();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _lifetime.ApplicationStopping);
        var cancellationToken = stop.Token;
        try
        {
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.Headers.ContentType = "text/event-stream; charset=utf-8";
            response.Headers.CacheControl = "no-cache, no-store";
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
            var body = response.Body;

            // Retry after 2 s when the connection drops; then everything the client has is replaced.
            await body.WriteAsync("retry: 2000\n\n"u8.ToArray(), cancellationToken);
            var frame = Volatile.Read(ref _tagFrame);
            var sent = Math.Max(frame.ToSequence, CurrentSequence());
            await body.WriteAsync(BuildTagEvent(0, sent, full: true), cancellationToken);
            var status = _statusFrame ?? BuildStatusFrame();
            var oee = _oeeFrame ?? BuildOeeFrame();
            await body.WriteAsync(status.Bytes, cancellationToken);
            await body.WriteAsync(oee.Bytes, cancellationToken);
            await body.FlushAsync(cancellationToken);
            var statusVersion = status.Version;
            var oeeVersion = oee.Version;

            while (!cancellationToken.IsCancellationRequested)
            {
                // Take the tick before looking at the frames: a frame published in between completes it at once.
                var tick = Volatile.Read(ref _tick).Task;
                var wrote = false;
                frame = Volatile.Read(ref _tagFrame);
                if (frame.ToSequence > sent)
                {
                    // Up to date: the shared bytes. Behind (it was slow): its own coalesced delta, latest values only.
                    var bytes = frame.FromSequence == sent ? frame.Bytes : BuildTagEvent(sent, frame.ToSequence, full: false);
                    await body.WriteAsync(bytes, cancellationToken);
                    sent = frame.ToSequence;
                    wrote = true;
                }

                if (_statusFrame is { } s && s.Version != statusVersion)
                {
                    await body.WriteAsync(s.Bytes, cancellationToken);
                    statusVersion = s.Version;
                    wrote = true;
                }

                if (_oeeFrame is { } o && o.Version != oeeVersion)
                {
                    await body.WriteAsync(o.Bytes, cancellationToken);
                    oeeVersion = o.Version;
                    wrote = true;
                }

                if (wrote)
                {
                    await body.FlushAsync(cancellationToken);
                }

                await tick.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // The client went away in the middle of a write: nothing to tell.
        }
        finally
        {
            Interlocked.Decrement(ref _clients);
        }
    }

    private bool BuildTagFrame()
    {
        var previous = Volatile.Read(ref _tagFrame);
        var upTo = CurrentSequence();
        if (upTo == previous.ToSequence)
        {
            return false;
        }

        Volatile.Write(ref _tagFrame, new TagFrame(previous.ToSequence, upTo, BuildTagEvent(previous.ToSequence, upTo, full: false)));
        return true;
    }

    /// <summary><c>event: tags</c> with every tag whose sequence number is in (from, to]; <c>full</c> replaces the client's table.</summary>
    private byte[] BuildTagEvent(long from, long to, bool full)
    {
        var output = new ArrayBufferWriter<byte>(4096);
        output.Write("event: tags\ndata: "u8);
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteBoolean("full"u8, full);
            json.WriteString("generatedAt"u8, _timeProvider.GetUtcNow());
            json.WriteStartArray("tags"u8);
            // The entries of the frame are copied under the lock (the drivers write in place), written outside it.
            var entries = Entries(full ? long.MinValue : from, to);
            if (full)
            {
                entries.Sort(static (a, b) => string.CompareOrdinal(a.Sample.Tag.Key, b.Sample.Tag.Key));
            }

            foreach (var entry in entries)
            {
                DashboardData.WriteTag(json, entry.Sample);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        output.Write("\n\n"u8);
        return output.WrittenSpan.ToArray();
    }

    private Frame BuildStatusFrame() =>
        Event("status", DashboardData.Status(_config, _metrics, _buffer, _drivers, _timeProvider, _plantTime, _services.GetService<BufferFlow>()), GatewayJsonContext.Default.StatusDocument);

    private Frame BuildOeeFrame() => Event("oee", DashboardData.Oee(_services), GatewayJsonContext.Default.OeeReport);

    private Frame Event<T>(string name, T document, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var output = new ArrayBufferWriter<byte>(4096);
        output.Write(Encoding.ASCII.GetBytes($"event: {name}\ndata: "));
        using (var json = new Utf8JsonWriter(output))
        {
            JsonSerializer.Serialize(json, document, typeInfo);
        }

        output.Write("\n\n"u8);
        return new Frame(Interlocked.Increment(ref _frameVersion), output.WrittenSpan.ToArray());
    }

    /// <summary>The entries with from &lt; sequence ≤ to, copied under the lock.</summary>
    private List<Entry> Entries(long from, long to)
    {
        lock (_sequenceLock)
        {
            var entries = new List<Entry>(from == long.MinValue ? _tags.Count : Math.Min(_tags.Count, 256));
            foreach (var entry in _tags.Values)
            {
                if (entry.Sequence > from && entry.Sequence <= to)
                {
                    entries.Add(entry);
                }
            }

            return entries;
        }
    }

    private long CurrentSequence()
    {
        lock (_sequenceLock)
        {
            return _sequence;
        }
    }

    private static TaskCompletionSource NewTick() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>No drivers: a feed built without the gateway's catalogue (tests, tools).</summary>
    private sealed class EmptyCatalog : IDriverCatalog
    {
        public static readonly EmptyCatalog Instance = new();

        public IReadOnlyList<IDriver> Drivers => [];
    }

    private readonly record struct Entry(Sample Sample, long Sequence);

    private sealed record TagFrame(long FromSequence, long ToSequence, byte[] Bytes);

    private sealed record Frame(long Version, byte[] Bytes);
}
