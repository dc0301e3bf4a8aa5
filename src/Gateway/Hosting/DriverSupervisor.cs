using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Drivers.BuiltIn;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting;

/// <summary>What applying a reload did to the drivers.</summary>
/// <param name="Failures">Drivers that could not be created (<c>drivers[i] (name): reason</c>); they do not run.</param>
/// <param name="TagsRemoved">Tags of the stopped drivers that no running driver has any more (they left the live view).</param>
public sealed record DriverSwapOutcome(IReadOnlyList<string> Failures, int TagsRemoved);

/// <summary>
/// Runs one <see cref="DriverService"/> per enabled driver, and is the gateway's <see cref="IDriverCatalog"/>.
/// A reload (<see cref="ApplyAsync"/>) stops the changed and removed drivers, starts the changed and added ones,
/// and leaves every other driver running untouched: its loop, its connection and its writer are the same objects.
/// Samples a stopped driver already wrote are in the pipeline or the buffer and are delivered as any other.
/// </summary>
internal sealed class DriverSupervisor : IDriverCatalog, IHostedService, IAsyncDisposable
{
    /// <summary>How long a stopping driver may take before the reload goes on without waiting for it.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly IServiceProvider _services;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string? _stateDirectory;
    private List<Running> _running;
    private IDriver[] _drivers;
    private long _version;
    private bool _started;
    private bool _stopped;

    public DriverSupervisor(IServiceProvider services, GatewayConfig config, IConfiguration root)
    {
        _services = services;
        // The buffer's folder as it is at start: buffer.path changes only with a restart.
        _stateDirectory = Path.GetDirectoryName(Path.GetFullPath(config.Buffer.Path));
        _running = [.. ConfigDiff.Drivers(config, root).Select(entry => new Running(entry, Create(config, root, entry)))];
        _drivers = [.. _running.Select(r => r.Service.Driver)];
    }

    public IReadOnlyList<IDriver> Drivers => Volatile.Read(ref _drivers);

    public long Version => Interlocked.Read(ref _version);

    /// <summary>The drivers running now, as the configuration described them.</summary>
    public IReadOnlyList<DriverEntry> Entries => [.. Volatile.Read(ref _running).Select(r => r.Entry)];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var running in _running)
            {
                await running.Service.StartAsync(cancellationToken);
            }

            _started = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _stopped = true;
            await Task.WhenAll(_running.Select(r => r.Service.StopAsync(cancellationToken)));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stops the changed and removed drivers, then creates and starts the changed and added ones from
    /// <paramref name="next"/>; the unchanged keep running. One reload at a time; after the host stopped, nothing.
    /// </summary>
    public async Task<DriverSwapOutcome> ApplyAsync(ConfigChanges changes, GatewayConfig next, IConfiguration nextRoot, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_stopped)
            {
                return new DriverSwapOutcome(["the gateway is stopping: nothing was applied"], 0);
            }

            var leaving = changes.Changed.Select(d => d.Name).Concat(changes.Removed).ToHashSet(StringComparer.Ordinal);
            var stopping = _running.Where(r => leaving.Contains(r.Entry.Name)).ToList();
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(StopTimeout);
                await Task.WhenAll(stopping.Select(r => StopQuietlyAsync(r.Service, timeout.Token)));
            }

            var oldTags = stopping.SelectMany(r => r.Service.Driver.Tags).ToList();
            var failures = new List<string>();
            var kept = _running.Where(r => !leaving.Contains(r.Entry.Name)).ToDictionary(r => r.Entry.Name, StringComparer.Ordinal);
            var starting = new List<Running>();
            var list = new List<Running>();
            foreach (var entry in ConfigDiff.Drivers(next, nextRoot))
            {
                if (kept.TryGetValue(entry.Name, out var same))
                {
                    list.Add(same);
                    continue;
                }

                try
                {
                    var created = new Running(entry, Create(next, nextRoot, entry));
                    starting.Add(created);
                    list.Add(created);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    failures.Add($"drivers[{entry.Index}] ({entry.Name}): {ex.Message}");
                }
            }

            Volatile.Write(ref _running, list);
            Volatile.Write(ref _drivers, [.. list.Select(r => r.Service.Driver)]);
            Interlocked.Increment(ref _version);
            if (_started)
            {
                foreach (var running in starting)
                {
                    await running.Service.StartAsync(cancellationToken);
                }
            }

            // The tags no driver reads any more leave the live view (a changed driver's remaining tags stay, with their last value).
            var present = list.SelectMany(r => r.Service.Driver.Tags).ToHashSet();
            var gone = oldTags.Where(t => !present.Contains(t)).Distinct().ToList();
            _services.GetRequiredService<LiveTags>().Remove(gone);
            var metrics = _services.GetRequiredService<GatewayMetrics>();
            foreach (var name in changes.Removed)
            {
                metrics.ForgetDriver(name);
            }

            foreach (var stopped in stopping)
            {
                stopped.Service.Dispose();
            }

            return new DriverSwapOutcome(failures, gone.Count);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var running in _running)
        {
            running.Service.Dispose();
        }

        _gate.Dispose();
        await ValueTask.CompletedTask;
    }

    private static async Task StopQuietlyAsync(DriverService service, CancellationToken cancellationToken)
    {
        try
        {
            await service.StopAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Past StopTimeout: its loop was cancelled; it ends on its own, its replacement starts meanwhile.
        }
    }

    private DriverService Create(GatewayConfig config, IConfiguration root, DriverEntry entry)
    {
        var driverConfig = config.Drivers[entry.Index];
        var section = root.GetSection("drivers").GetSection(entry.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var factory = BuiltInDrivers.Factories.First(f => f.Types.Contains(driverConfig.Type));
        var sp = _services;
        var context = new DriverContext(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), _stateDirectory);
        return new DriverService(factory.Create(driverConfig, section, context), sp.GetRequiredService<SamplePipeline>(), sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DriverService>>());
    }

    private sealed record Running(DriverEntry Entry, DriverService Service);
}
