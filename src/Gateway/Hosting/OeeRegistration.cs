using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Oee;

namespace Gateway.Hosting;

/// <summary>Registration of the OEE engine, its service and nothing else.</summary>
internal static class OeeRegistration
{
    /// <summary>
    /// Registers the engine and its service when the configuration has an <c>oee</c> section. Call before the
    /// drivers are registered: hosted services start in registration order.
    /// </summary>
    public static IServiceCollection AddOee(this IServiceCollection services, GatewayConfig config)
    {
        if (config.Oee is not { } options)
        {
            return services;
        }

        services.AddSingleton(sp =>
        {
            var known = sp.GetRequiredService<IDriverCatalog>().Tags.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
            var stateDirectory = Path.GetDirectoryName(Path.GetFullPath(config.Buffer.Path));
            return new OeeEngine(
                options,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<OeeEngine>(),
                stateDirectory,
                known,
                OeeEngine.StateFileNameFor(config.Buffer.Path),
                sp.GetService<IClockSteps>());
        });
        services.AddSingleton(sp => new OeeHistory(
            Path.Combine(Path.GetDirectoryName(Path.GetFullPath(config.Buffer.Path))!, OeeHistory.FileNameFor(config.Buffer.Path)),
            sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<OeeService>();
        return services;
    }
}
