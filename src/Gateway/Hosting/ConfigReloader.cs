using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Drivers.BuiltIn;
using Gateway.Observability;
using Gateway.Writes;
using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting;

/// <summary>
/// Reloads the configuration file the gateway was started with (SIGHUP, <c>POST /api/config/reload</c>, a save from
/// the dashboard). The file is checked exactly as <c>check-config</c> checks it (<see cref="ConfigLoader.Load"/>); a
/// refused file changes nothing. Only the drivers are applied live (see <see cref="DriverSupervisor"/>); the other
/// sections keep the values the gateway started with and are reported in
/// <see cref="ConfigReloadResult.RestartRequired"/>. One reload at a time; one audit line each.
/// </summary>
public sealed partial class ConfigReloader : IDisposable
{
    private readonly string _path;
    private readonly IConfiguration _startRoot;
    private readonly DriverSupervisor _drivers;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly WriteGate? _writes;

    internal ConfigReloader(string path, IConfiguration startRoot, DriverSupervisor drivers, GatewayMetrics metrics, ILogger<ConfigReloader> logger, WriteGate? writes = null)
    {
        _writes = writes;
        _path = path;
        _startRoot = startRoot;
        _drivers = drivers;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The configuration file (as given to <c>run --config</c>).</summary>
    public string ConfigPath => _path;

    /// <summary>Reads, checks and applies the file; never throws for a refused or failed reload (they are results).</summary>
    /// <param name="origin">Who asked, for the audit line: <c>SIGHUP</c>, <c>http 127.0.0.1 (session)</c>, ...</param>
    /// <param name="cancellationToken">Cancels the wait for another reload in progress; a swap once begun is completed.</param>
    public async Task<ConfigReloadResult> ReloadAsync(string origin, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var result = await ApplyAsync();
            _metrics.AddConfigReload(result.Result);
            Audit(origin, result);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<ConfigReloadResult> ApplyAsync()
    {
        var loaded = ConfigLoader.Load(_path, BuiltInDrivers.Factories);
        if (!loaded.IsValid)
        {
            return new ConfigReloadResult(ConfigReloadResult.Refused, loaded.Problems, [], [], [], [], []);
        }

        var changes = ConfigDiff.Compute(_drivers.Entries, _startRoot, ConfigDiff.Drivers(loaded.Config!, loaded.Root!), loaded.Root!);
        var restarted = changes.Changed.Select(d => d.Name).ToList();
        var added = changes.Added.Select(d => d.Name).ToList();
        if (changes.DriversUnchanged)
        {
            return new ConfigReloadResult(ConfigReloadResult.Unchanged, [], [], [], [], changes.RestartRequired, []);
        }

        // Once begun, a swap is finished whatever the caller does (an HTTP client that hangs up must not leave a
        // driver stopped and its replacement not started); DriverSupervisor.StopTimeout bounds it.
        var outcome = await _drivers.ApplyAsync(changes, loaded.Config!, loaded.Root!, CancellationToken.None);

        // The write gate follows the tags at once: a tag made read-only by this file is not written a moment longer.
        _writes?.ApplyTags(loaded.Config!);
        return new ConfigReloadResult(outcome.Failures.Count > 0 ? ConfigReloadResult.Failed : ConfigReloadResult.Applied, [], restarted, added, changes.Removed, changes.RestartRequired, outcome.Failures);
    }

    private void Audit(string origin, ConfigReloadResult result)
    {
        static string List(IReadOnlyList<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);
        var restart = result.RestartRequired.Count == 0 ? "" : $"; not applied until a restart: {string.Join(", ", result.RestartRequired)}";
        switch (result.Result)
        {
            case ConfigReloadResult.Refused:
                LogRefused(_logger, origin, _path, result.Problems.Count, string.Join("; ", result.Problems));
                break;
            case ConfigReloadResult.Failed:
                LogFailed(_logger, origin, _path, List(result.Restarted), List(result.Added), List(result.Removed), string.Join("; ", result.Errors) + restart);
                break;
            default:
                LogApplied(_logger, origin, _path, result.Result, List(result.Restarted), List(result.Added), List(result.Removed), restart);
                break;
        }
    }

    [LoggerMessage(EventId = 1740, Level = LogLevel.Information, Message = "Config reload from {Origin} ({File}): {Result}; drivers restarted: {Restarted}; added: {Added}; removed: {Removed}{RestartRequired}")]
    private static partial void LogApplied(ILogger logger, string origin, string file, string result, string restarted, string added, string removed, string restartRequired);

    [LoggerMessage(EventId = 1741, Level = LogLevel.Warning, Message = "Config reload from {Origin} ({File}): refused, the running configuration is kept; {Count} problem(s): {Problems}")]
    private static partial void LogRefused(ILogger logger, string origin, string file, int count, string problems);

    [LoggerMessage(EventId = 1742, Level = LogLevel.Error, Message = "Config reload from {Origin} ({File}): failed; drivers restarted: {Restarted}; added: {Added}; removed: {Removed}; not running: {Errors}")]
    private static partial void LogFailed(ILogger logger, string origin, string file, string restarted, string added, string removed, string errors);
}
