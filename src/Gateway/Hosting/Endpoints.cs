using System.Text.Json;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Dashboard;
using Gateway.Drills;
using Gateway.Drivers;
using Gateway.Northbound;
using Gateway.Observability;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>The HTTP surface: health, metrics and the JSON API.</summary>
internal static class Endpoints
{
    public static void MapGatewayEndpoints(this WebApplication app)
    {
        app.MapGet("/healthz", (GatewayMetrics metrics, IDriverCatalog drivers) =>
            Results.Json(new HealthDocument("ok", metrics.MqttConnected, drivers.Drivers.Select(d => new HealthDriver(d.Name, d.State.ToString()))), HostingJsonContext.Default.HealthDocument));

        app.MapGet("/metrics", (GatewayMetrics metrics, SampleBuffer buffer) =>
            Results.Text(metrics.RenderPrometheus(buffer.MaxBytes), "text/plain; version=0.0.4; charset=utf-8"));

        // The drills running now ride along as "drill" (the same document as /api/drill).
        app.MapGet("/api/status", (GatewayMetrics metrics, SampleBuffer buffer, IDriverCatalog drivers, IOptions<GatewayConfig> options, TimeProvider timeProvider, IServiceProvider services) =>
        {
            var status = JsonSerializer.SerializeToNode(DashboardData.Status(options.Value, metrics, buffer, drivers, timeProvider, Oee.PlantTime.For(options.Value.Oee), services.GetService<BufferFlow>()), GatewayJsonContext.Default.StatusDocument)!.AsObject();
            if (services.GetService<TrainerDrills>() is { } drills)
            {
                status["drill"] = JsonSerializer.SerializeToNode(drills.Current(), DrillsJsonContext.Default.DrillState);
            }

            return Results.Json(status, GatewayJsonContext.Default.JsonObject);
        });

        // The tag shape is DashboardData.WriteTag's, shared with the dashboard's stream.
        app.MapGet("/api/tags", (LiveTags tags) =>
            Results.Bytes(DashboardData.TagsDocument(tags.Snapshot()), "application/json; charset=utf-8"));

        // The JSON shape is documented on OeeReport (Oee/OeeSnapshot.cs); without an oee section, no machines.
        app.MapGet("/api/oee", (IServiceProvider services) => Results.Json(DashboardData.Oee(services), GatewayJsonContext.Default.OeeReport));

        // Hours, shifts, days or a total of the OEE history, JSON or CSV (Dashboard/OeeHistoryApi.cs).
        app.MapOeeHistory();
    }
}

/// <summary><c>/healthz</c>.</summary>
internal sealed record HealthDocument(string Status, bool MqttConnected, IEnumerable<HealthDriver> Drivers);

internal sealed record HealthDriver(string Name, string State);
