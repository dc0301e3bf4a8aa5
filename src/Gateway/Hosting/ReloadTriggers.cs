using System.Runtime.InteropServices;
using Gateway.Commissioning;
using Gateway.Configuration;
using Gateway.Dashboard;
using Gateway.Drivers.BuiltIn;

namespace Gateway.Hosting;

/// <summary>
/// The triggers of a reload: SIGHUP (systemd's <c>ExecReload</c>), <c>POST /api/config/reload</c>, and the save of
/// the commissioning page (<see cref="ConfigSaver"/>, given the reload as a function).
/// </summary>
internal static class ReloadTriggers
{
    /// <summary>Registers the reloader, the driver supervisor's partner, the SIGHUP handler and the commissioning save.</summary>
    public static IServiceCollection AddConfigReload(this IServiceCollection services, string configPath, IConfigurationRoot root)
    {
        var full = Path.GetFullPath(configPath);
        services.AddSingleton(sp => new ConfigReloader(full, root, sp.GetRequiredService<DriverSupervisor>(), sp.GetRequiredService<Observability.GatewayMetrics>(), sp.GetRequiredService<ILogger<ConfigReloader>>(), sp.GetService<Writes.WriteGate>()));
        services.AddHostedService<SighupReload>();
        services.AddSingleton(sp =>
        {
            var reloader = sp.GetRequiredService<ConfigReloader>();
            return new ConfigSaver(reloader.ConfigPath, BuiltInDrivers.Factories, reloader.ReloadAsync, sp.GetRequiredService<ILogger<ConfigSaver>>());
        });
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
            return Results.Json(ReloadDocument.From(result), HostingJsonContext.Default.ReloadDocument, statusCode: status);
        }).DisableAntiforgery();
    }

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
