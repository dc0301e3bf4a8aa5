using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;

namespace Gateway.Hosting;

/// <summary>
/// Feeds systemd's watchdog. Microsoft.Extensions.Hosting.Systemd sends READY=1 and STOPPING=1 but never
/// WATCHDOG=1, so a unit with <c>WatchdogSec=</c> would be killed after that delay. When systemd asks for a
/// watchdog (<c>WATCHDOG_USEC</c>, and <c>WATCHDOG_PID</c> naming this process if set), this sends
/// <c>WATCHDOG=1</c> over <c>$NOTIFY_SOCKET</c> every half period, as sd_watchdog_enabled(3) advises.
/// The keep-alive comes from a timer on the thread pool: a hung or starved process stops sending and is restarted.
/// </summary>
internal sealed partial class SystemdWatchdog : BackgroundService
{
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<SystemdWatchdog> _logger;
    private readonly Func<string, string?> _environment;
    private readonly Func<ISystemdNotifier> _notifier;

    public SystemdWatchdog(TimeProvider timeProvider, ILogger<SystemdWatchdog> logger)
        : this(timeProvider, logger, Environment.GetEnvironmentVariable, () => new SystemdNotifier())
    {
    }

    internal SystemdWatchdog(TimeProvider timeProvider, ILogger<SystemdWatchdog> logger, Func<string, string?> environment, Func<ISystemdNotifier> notifier)
    {
        _timeProvider = timeProvider;
        _logger = logger;
        _environment = environment;
        _notifier = notifier;
    }

    /// <summary>Half the watchdog period systemd asked for; null when it asked for none (or for another process).</summary>
    internal static TimeSpan? KeepAliveInterval(Func<string, string?> environment, int processId)
    {
        if (!ulong.TryParse(environment("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds) || microseconds == 0)
        {
            return null;
        }

        if (environment("WATCHDOG_PID") is { Length: > 0 } pid && pid != processId.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(microseconds / 2.0);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (KeepAliveInterval(_environment, Environment.ProcessId) is not { } interval)
        {
            return;
        }

        var notifier = _notifier();
        if (!notifier.IsEnabled)
        {
            Log.NoSocket(_logger);
            return;
        }

        Log.Enabled(_logger, interval.TotalSeconds);
        var watchdog = new ServiceState("WATCHDOG=1");
        try
        {
            var failing = false;
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    notifier.Notify(watchdog);
                    failing = false;
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
                {
                    // A failed keep-alive must not stop the gateway: systemd restarts it if they keep failing.
                    if (!failing)
                    {
                        Log.NotifyFailed(_logger, ex);
                    }

                    failing = true;
                }

                await Task.Delay(interval, _timeProvider, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1950, Level = LogLevel.Information, Message = "systemd watchdog enabled: WATCHDOG=1 every {IntervalSeconds:F1} s")]
        public static partial void Enabled(ILogger logger, double intervalSeconds);

        [LoggerMessage(EventId = 1951, Level = LogLevel.Warning, Message = "WATCHDOG_USEC is set but NOTIFY_SOCKET is not: the watchdog cannot be fed (use Type=notify)")]
        public static partial void NoSocket(ILogger logger);

        [LoggerMessage(EventId = 1952, Level = LogLevel.Warning, Message = "systemd watchdog: WATCHDOG=1 could not be sent")]
        public static partial void NotifyFailed(ILogger logger, Exception exception);
    }
}
