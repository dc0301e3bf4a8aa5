using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting;

/// <summary>Builds and runs the web host with every gateway service.</summary>
internal static class GatewayApplication
{
    public static async Task<int> RunAsync(GatewayConfig config, IConfigurationRoot root, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddConfiguration(root);
        builder.WebHost.UseUrls(config.Http.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var app = builder.Build();
        app.MapGet("/healthz", () => "ok");
        await app.RunAsync(cancellationToken);
        return 0;
    }
}
