using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Console;

namespace Gateway.Hosting;

/// <summary>
/// Runs the host as a systemd service: READY=1/STOPPING=1 (Type=notify), WATCHDOG=1 (WatchdogSec=) and the
/// systemd console formatter, whose <c>&lt;N&gt;</c> prefixes journald maps to severities.
/// </summary>
internal static class SystemdIntegration
{
    public static WebApplicationBuilder AddGatewaySystemd(this WebApplicationBuilder builder)
    {
        builder.Host.UseSystemd();

        // Microsoft.Extensions.Hosting.Systemd 10.0 recognises systemd by reading /proc/<parent>/comm, which
        // ProtectProc=invisible hides: it would then send no READY=1 (a Type=notify unit times out) and log
        // in the simple format. systemd 248+ names the process it started in SYSTEMD_EXEC_PID, and sets
        // INVOCATION_ID for every unit: trust those too.
        if (!SystemdHelpers.IsSystemdService() && IsStartedBySystemd(Environment.GetEnvironmentVariable, Environment.ProcessId))
        {
            builder.Services.Configure<ConsoleLoggerOptions>(options => options.FormatterName = ConsoleFormatterNames.Systemd);
            builder.Services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
            builder.Services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }

        builder.Services.AddHostedService<SystemdWatchdog>();
        return builder;
    }

    /// <summary>True when systemd started this process as a service (without looking into /proc).</summary>
    internal static bool IsStartedBySystemd(Func<string, string?> environment, int processId)
    {
        if (environment("SYSTEMD_EXEC_PID") is { Length: > 0 } execPid)
        {
            return execPid == processId.ToString(CultureInfo.InvariantCulture);
        }

        return !string.IsNullOrEmpty(environment("INVOCATION_ID")) && !string.IsNullOrEmpty(environment("NOTIFY_SOCKET"));
    }
}
