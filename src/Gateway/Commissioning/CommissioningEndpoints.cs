using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Dashboard;
using Gateway.Drivers;
using Gateway.Drivers.BuiltIn;
using Gateway.Drivers.Modbus;
using Gateway.Drivers.S7;
using Gateway.Drivers.OpcUa.Transport;
using Microsoft.Extensions.Options;

namespace Gateway.Commissioning;

/// <summary>
/// The commissioning page (<c>/commission</c>) and its JSON API under <c>/api/commission</c>: the configuration
/// document (secrets masked), discovery (OPC UA browse, Modbus scan), a preview of proposed tags, and the save.
/// Every API call is a change, or a read towards the plant: it passes the editor rule (<see cref="Refusal"/>).
/// </summary>
internal static class CommissioningEndpoints
{
    public static void MapCommissioning(this WebApplication app)
    {
        var assets = app.Services.GetRequiredService<DashboardAssets>();
        app.MapGet("/commission", (HttpContext context) => assets.Serve(context, "commission.html"));
        var api = app.MapGroup("/api/commission").DisableAntiforgery();
        api.AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            var refusal = Refusal(context, context.RequestServices.GetRequiredService<DashboardAuth>(), context.RequestServices.GetRequiredService<IOptions<GatewayConfig>>().Value);
            return refusal is { } r ? Results.Json(new ApiError(r.Reason), GatewayJsonContext.Default.ApiError, statusCode: r.Status) : await next(invocation);
        });

        api.MapGet("/config", (ConfigSaver saver, IOptions<GatewayConfig> config) =>
        {
            var (document, hash) = saver.Read();
            return Results.Json(
                new ConfigDocument(hash, saver.ConfigPath, TagPreview.Spelling(config.Value.Mqtt.Format), BuiltInDrivers.Factories.SelectMany(f => f.Types).Order(StringComparer.Ordinal), document),
                CommissioningJsonContext.Default.ConfigDocument);
        });

        api.MapPost("/save", async (HttpContext context, ConfigSaver saver, DashboardAuth auth) =>
        {
            var body = await BodyAsync(context);
            if (body?["drivers"] is not JsonArray list || list.Any(d => d?["driver"] is not JsonObject))
            {
                return Results.Json(new ApiError("give drivers: [{ index, driver }]"), GatewayJsonContext.Default.ApiError, statusCode: StatusCodes.Status400BadRequest);
            }

            var drivers = list.Select(d => new SubmittedDriver(d!["index"] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null, (JsonObject)d["driver"]!.DeepClone())).ToList();
            var outcome = await saver.SaveAsync(drivers, (string?)body["hash"], ChangeRequestGuard.Describe(context, auth), context.RequestAborted);
            var status = outcome.Result switch
            {
                SaveOutcome.Refused => StatusCodes.Status400BadRequest,
                SaveOutcome.Conflict => StatusCodes.Status409Conflict,
                _ when outcome.Reload is { Succeeded: false } => StatusCodes.Status500InternalServerError,
                _ => StatusCodes.Status200OK,
            };
            return Results.Json(
                new SaveDocument(
                    outcome.Result,
                    outcome.Problems.Select(p => new ProblemDocument(p.Path, p.Reason)),
                    outcome.Changes,
                    outcome.Backup is null ? null : Path.GetFileName(outcome.Backup),
                    outcome.Hash,
                    outcome.Reload is null ? null : ReloadDocument.From(outcome.Reload)),
                CommissioningJsonContext.Default.SaveDocument,
                statusCode: status);
        });

        api.MapPost("/opcua/browse", (HttpContext context, IOptions<GatewayConfig> config) =>
            DiscoverAsync(context, (driver, body, ct) => DiscoveryApi.OpcUaChildrenAsync(driver, (string?)body["nodeId"], StateDirectory(config.Value), ct)));
        api.MapPost("/opcua/folder", (HttpContext context, IOptions<GatewayConfig> config) =>
            DiscoverAsync(context, (driver, body, ct) => DiscoveryApi.OpcUaFolderAsync(driver, (string?)body["nodeId"], StateDirectory(config.Value), ct)));
        api.MapPost("/modbus/scan", (Func<HttpContext, Task<IResult>>)(context =>
            DiscoverAsync(context, (driver, body, ct) => DiscoveryApi.ModbusScanAsync(driver, (string?)body["ranges"], body["unit"] is JsonValue u && u.TryGetValue<int>(out var unit) ? unit : null, ct))));

        api.MapPost("/modbus/units", (Func<HttpContext, Task<IResult>>)(context =>
            DiscoverAsync(context, (driver, body, ct) => DiscoveryApi.ModbusUnitsAsync(driver, (string?)body["units"], Int(body, "timeoutMs"), ct))));
        api.MapPost("/s7/scan", (Func<HttpContext, Task<IResult>>)(context =>
            DiscoverAsync(context, (driver, body, ct) => DiscoveryApi.S7ScanAsync(driver, Int(body, "db"), Int(body, "start"), Int(body, "length"), ct))));

        api.MapPost("/opcua/certificate", (HttpContext context, IOptions<GatewayConfig> config) =>
            DiscoverAsync(context, (driver, _, ct) => DiscoveryApi.OpcUaCertificatesAsync(driver, StateDirectory(config.Value), ct)));
        api.MapPost("/opcua/trust", (HttpContext context, IOptions<GatewayConfig> config, DashboardAuth auth, ILoggerFactory loggers) =>
            DiscoverAsync(context, async (driver, body, ct) =>
            {
                if ((string?)body["thumbprint"] is not { Length: > 0 } thumbprint)
                {
                    return Results.Json(new ApiError("give thumbprint: the SHA-1 thumbprint of the certificate shown"), GatewayJsonContext.Default.ApiError, statusCode: StatusCodes.Status400BadRequest);
                }

                var trusted = await DiscoveryApi.OpcUaTrustAsync(driver, thumbprint, StateDirectory(config.Value), ct);
                if (trusted is not var (certificate, path, url))
                {
                    return Results.Json(new ApiError($"the server no longer offers the certificate {thumbprint}: fetch it again and check it"), GatewayJsonContext.Default.ApiError, statusCode: StatusCodes.Status409Conflict);
                }

                CommissioningLog.ServerCertificateTrusted(loggers.CreateLogger("Gateway.Commissioning"), ChangeRequestGuard.Describe(context, auth), certificate.Subject, certificate.Thumbprint, url, path);
                return Results.Json(new TrustDocument(Path.GetFileName(path), path, certificate.Subject, certificate.Thumbprint), CommissioningJsonContext.Default.TrustDocument);
            }));

        api.MapPost("/preview", (HttpContext context, ConfigSaver saver, IOptions<GatewayConfig> config, ILoggerFactory loggers) =>
            DiscoverAsync(context, async (driver, _, ct) =>
            {
                var (document, _) = saver.Read();
                var drivers = document["drivers"] as JsonArray;
                var original = drivers?.OfType<JsonObject>().FirstOrDefault(d => (string?)d["name"] == (string?)driver["name"]);
                ConfigSecrets.Restore(driver, original);
                var driverContext = new DriverContext(TimeProvider.System, loggers, StateDirectory(config.Value));
                var (samples, problems) = await TagPreview.RunAsync(document, driver, config.Value, BuiltInDrivers.Factories, driverContext, ct);
                return problems.Count > 0
                    ? Results.Json(new PreviewRefusal("the driver is not valid", problems.Select(p => new ProblemDocument(p.Path, p.Reason))), CommissioningJsonContext.Default.PreviewRefusal, statusCode: StatusCodes.Status400BadRequest)
                    : Results.Json(new PreviewDocument(TagPreview.Spelling(config.Value.Mqtt.Format), samples), CommissioningJsonContext.Default.PreviewDocument);
            }));
    }

    /// <summary>
    /// Null when the request may commission; else the status and the reason. <c>http.commissioning: false</c> turns
    /// the page's API off; otherwise the rule of a reload (<see cref="ChangeRequestGuard"/>: a login when
    /// <c>http.passwordFile</c> is set, loopback only without one, the request header, same origin).
    /// </summary>
    internal static (int Status, string Reason)? Refusal(HttpContext context, DashboardAuth auth, GatewayConfig config)
    {
        if (!config.Http.Commissioning)
        {
            return (StatusCodes.Status403Forbidden, "commissioning is turned off on this gateway (http.commissioning: false)");
        }

        return ChangeRequestGuard.Check(context, auth);
    }

    private static int? Int(JsonObject body, string key) => body[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;

    private static string StateDirectory(GatewayConfig config) => Path.GetDirectoryName(Path.GetFullPath(config.Buffer.Path))!;

    private static async Task<JsonObject?> BodyAsync(HttpContext context)
    {
        try
        {
            return await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A discovery call: its body's <c>driver</c>, the work, and the PLC's failures as 502 with their message.</summary>
    private static Task<IResult> DiscoverAsync(HttpContext context, Func<JsonObject, JsonObject, CancellationToken, Task<JsonNode>> work) =>
        DiscoverAsync(context, async (driver, body, ct) => (IResult)Results.Json(await work(driver, body, ct), CommissioningJsonContext.Default.JsonNode));

    /// <summary>As above, for a call that makes its own answer.</summary>
    private static async Task<IResult> DiscoverAsync(HttpContext context, Func<JsonObject, JsonObject, CancellationToken, Task<IResult>> work)
    {
        var body = await BodyAsync(context);
        if (body?["driver"] is not JsonObject driver)
        {
            return Results.Json(new ApiError("give driver: { ... } (the driver being edited)"), GatewayJsonContext.Default.ApiError, statusCode: StatusCodes.Status400BadRequest);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            var result = await work((JsonObject)driver.DeepClone(), body, timeout.Token);
            return result;
        }
        catch (ArgumentException ex)
        {
            return Results.Json(new ApiError(ex.Message), GatewayJsonContext.Default.ApiError, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (Exception ex) when (ex is UaException or ModbusException or S7Exception or IOException or TimeoutException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException
                                       || (ex is OperationCanceledException && !context.RequestAborted.IsCancellationRequested))
        {
            return Results.Json(new ApiError(ex is OperationCanceledException ? "the PLC did not answer in time" : ex.Message), GatewayJsonContext.Default.ApiError, statusCode: StatusCodes.Status502BadGateway);
        }
    }
}
