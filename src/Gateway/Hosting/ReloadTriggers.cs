using System.Runtime.InteropServices;
using Gateway.Dashboard;

namespace Gateway.Hosting;

/// <summary>The triggers of a reload: SIGHUP (systemd's <c>ExecReload</c>) and <c>POST /api/config/reload</c>.</summary>
internal static class ReloadTriggers
{
    /// <summary>Registers the reloader, the driver supervisor's partner, and the SIGHUP handler.</summary>
    public static IServiceCollection AddConfigReload(this IServiceCollection services, string configPath, IConfigurationRoot root)
    {
        var full = Path.GetFullPath(configPath);
        services.AddSingleton(sp => new ConfigReloader(full, root, sp.GetRequiredService<DriverSupervisor>(), sp.GetRequiredService<Observability.GatewayMetrics>(), sp.GetRequiredService<ILogger<ConfigReloader>>(), sp.GetService<Writes.WriteGate>()));
        services.AddHostedService<SighupReload>();
        return services;
    }

    /// <summary>
    /// <c>POST /api/config/reload</c>: 200 with the result when applied (or unchanged), 400 with every problem and its
    /// JSON path when refused, 500 when a driver could not be created, 403 when the request may not change anything.
    /// </summary>
    public static void MapConfigReload(this WebApplication app)
    {
        app.MapPost("/api/config/reload", async (HttpContext context, ConfigReloader reloader, DashboardAuth auth) =>
        {
            if (ChangeRequestGuard.Check(context, auth) is { } refused)
            {
                return Results.Json(new ApiError(refused.Reason), GatewayJsonContext.Default.ApiError, statusCode: refused.Status);
            }

            var result = await reloader.ReloadAsync(ChangeRequestGuard.Describe(context, auth), context.RequestAborted);
            var status = result.Result switch
            {
                ConfigReloadResult.Refused => StatusCodes.Status400BadRequest,
                ConfigReloadResult.Failed => StatusCodes.Status500InternalServerError,
                _ => StatusCodes.Status200OK,
            };
            return Results.Json(Document(result), HostingJsonContext.Default.ReloadDocument, statusCode: status);
        }).DisableAntiforgery();
    }

    /// <summary>The JSON answer (also what the dashboard shows after a save).</summary>
    public static ReloadDocument Document(ConfigReloadResult result) => new(
        result.Result,
        result.Problems.Select(p => new ProblemDocument(p.Path, p.Reason)),
        result.Restarted,
        result.Added,
        result.Removed,
        result.RestartRequired,
        result.Errors);

    /// <summary>SIGHUP reloads (instead of ending the process, the default for that signal).</summary>
    private sealed class SighupReload(ConfigReloader reloader, IHostApplicationLifetime lifetime) : IHostedService, IDisposable
    {
        private PosixSignalRegistration? _registration;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                // Not on the signal thread: a reload stops and starts drivers. ReloadAsync logs and counts its own result.
                _ = Task.Run(ReloadAsync);
            });
            return Task.CompletedTask;
        }

        private async Task ReloadAsync()
        {
            try
            {
                await reloader.ReloadAsync("SIGHUP", lifetime.ApplicationStopping);
            }
            catch (OperationCanceledException)
            {
                // The gateway is stopping: nothing to reload.
            }
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Dispose();
            return Task.CompletedTask;
        }

        public void Dispose()
        {
            _registration?.Dispose();
            _registration = null;
        }
    }
}

/// <summary>The answer of <c>POST /api/config/reload</c> (also what the dashboard shows after a save).</summary>
internal sealed record ReloadDocument(
    string Result,
    IEnumerable<ProblemDocument> Problems,
    IReadOnlyList<string> Restarted,
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<string> RestartRequired,
    IReadOnlyList<string> Errors);
