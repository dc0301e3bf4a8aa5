using Gateway.Buffering;
using Gateway.Commissioning;
using Gateway.Configuration;
using Gateway.Dashboard;
using Gateway.Drills;
using Gateway.Drivers;
using Gateway.Drivers.BuiltIn;
using Gateway.Northbound;
using Gateway.Northbound.Delivery;
using Gateway.Northbound.Influx;
using Gateway.Northbound.Mqtt;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Uns;
using Gateway.Observability;
using Gateway.Oee;
using Gateway.Pipeline;
using Gateway.Writes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>Builds and runs the web host with every gateway service.</summary>
internal static class GatewayApplication
{
    public static async Task<int> RunAsync(string configPath, GatewayConfig config, IConfigurationRoot root, CancellationToken cancellationToken)
    {
        // One process per buffer (issue 13): another gateway on it is refused in one line, before anything starts.
        if (BufferLock.Check(config.Buffer.Path) is { } refused)
        {
            await Console.Error.WriteLineAsync($"gateway: cannot start: {refused.Message}");
            return 1;
        }

        // The content root is the install folder (appsettings.json, static assets), not the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, CommissioningJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(2, DrillsJsonContext.Default);
        });
        builder.AddGatewaySystemd();
        builder.WebHost.UseUrls(config.Http.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.Services.AddGateway(config, root);
        builder.Services.AddConfigReload(configPath, root);
        var app = builder.Build();
        // Secret files others can read: one warning each at start (issue 13), naming the file and its key, never the content.
        SecretFiles.Warn(config, root, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Configuration"));
        app.MapDashboard();
        app.MapDrills();
        app.MapGatewayEndpoints();
        app.MapConfigReload();
        app.MapCommissioning();
        try
        {
            await app.RunAsync(cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is System.Net.Sockets.SocketException or null)
        {
            // Kestrel: the dashboard's address is taken.
            await Console.Error.WriteLineAsync($"gateway: cannot start: {ex.Message} (set http.urls, for instance GATEWAY_HTTP__URLS=http://127.0.0.1:18080)");
            return 1;
        }

        return 0;
    }

    /// <summary>One northbound output: its sink name in the buffer and how to make its hosted service.</summary>
    internal sealed record Output(string SinkName, Func<IServiceProvider, IHostedService> Create);

    /// <summary>
    /// The northbound outputs <c>mqtt.format</c> and <c>influx</c> select, in start order: the one place that decides,
    /// used both for the buffer's list of sinks and for the hosted services.
    /// </summary>
    internal static List<Output> Outputs(GatewayConfig config)
    {
        var outputs = new List<Output>();
        if (config.Mqtt.Format is MqttFormat.Uns or MqttFormat.Both)
        {
            outputs.Add(new Output(UnsFormat.Name, sp => Mqtt(sp, config, new UnsFormat(config, sp.GetRequiredService<WriteGate>(), Logger(sp, "Gateway.Writes")), Logger(sp, "Gateway.Northbound.Uns"))));
        }

        if (config.Mqtt.Format is MqttFormat.SparkplugB or MqttFormat.Both)
        {
            outputs.Add(new Output(SparkplugFormat.Name, sp =>
            {
                var logger = Logger(sp, "Gateway.Northbound.Sparkplug");
                var format = new SparkplugFormat(config, sp.GetRequiredService<IDriverCatalog>(), sp.GetRequiredService<LiveTags>(), sp.GetRequiredService<TimeProvider>(), logger, sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<WriteGate>());
                return Mqtt(sp, config, format, logger);
            }));
        }

        if (config.Influx is not null)
        {
            outputs.Add(new Output(InfluxPublisher.SinkName, sp => ActivatorUtilities.CreateInstance<InfluxPublisher>(sp)));
        }

        return outputs;
    }

    private static ILogger Logger(IServiceProvider sp, string category) => sp.GetRequiredService<ILoggerFactory>().CreateLogger(category);

    private static MqttOutput Mqtt(IServiceProvider sp, GatewayConfig config, IMqttFormat format, ILogger logger) => new(
        format,
        config,
        sp.GetRequiredService<ISampleLog>(),
        sp.GetRequiredService<BufferSignal>(),
        sp.GetRequiredService<GatewayMetrics>(),
        sp.GetRequiredService<TimeProvider>(),
        logger,
        northLink: sp.GetService<NorthLinkSwitch>());

    /// <summary>The northbound outputs that consume the buffer, by the names of their cursors.</summary>
    public static List<string> Sinks(GatewayConfig config) => [.. Outputs(config).Select(o => o.SinkName)];

    /// <summary>Registers the pipeline, the buffer, the northbound publishers and one service per driver.</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services, GatewayConfig config, IConfigurationRoot root)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(config));
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<LiveTags>();
        services.AddClockWatch();
        services.AddSingleton(sp =>
        {
            var pipeline = new SamplePipeline(sp.GetRequiredService<GatewayMetrics>());
            pipeline.Observe(sp.GetRequiredService<LiveTags>().Update);
            return pipeline;
        });
        services.AddSingleton<BufferSignal>();
        services.AddSingleton(sp => new WriteGate(config, sp.GetRequiredService<IDriverCatalog>(), sp.GetRequiredService<TimeProvider>(), Logger(sp, "Gateway.Writes")));
        services.AddSingleton<NorthLinkSwitch>();
        services.AddSingleton(sp => new SampleBuffer(config.Buffer.Path, config.Buffer.MaxBytes, Sinks(config), sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SampleBuffer>>()));
        services.AddSingleton<ISampleLog>(sp => sp.GetRequiredService<SampleBuffer>());
        services.AddSingleton(sp => new DriverSupervisor(sp, config, root));
        services.AddSingleton<IDriverCatalog>(sp => sp.GetRequiredService<DriverSupervisor>());

        // Hosted services start in this order and stop in the reverse: drivers stop first, then the
        // writer flushes what they produced, then the publisher and the embedded broker.
        services.AddHostedService<EmbeddedBroker>();
        foreach (var output in Outputs(config))
        {
            services.AddSingleton<IHostedService>(output.Create);
        }

        services.AddHostedService<BufferWriterService>();
        services.AddOee(config);
        services.AddDashboard();
        services.AddDrills();
        services.AddHostedService<StartupTrim>();

        // The drivers start last (after the buffer writer and the outputs) and stop first; a reload swaps them in between.
        services.AddHostedService(sp => sp.GetRequiredService<DriverSupervisor>());
        return services;
    }
}
