using System.Net;
using Gateway.Dashboard;

namespace Gateway.Drills;

/// <summary>
/// <c>GET /api/drill</c> (the drills running now), <c>POST /api/drill/outage?seconds=N</c>,
/// <c>POST /api/drill/outage/end</c>, <c>POST /api/drill/plc?machine=M&amp;seconds=N</c> and
/// <c>POST /api/drill/plc/end?machine=M</c>. With <c>http.passwordFile</c> the dashboard's login gate has already
/// asked for a session or the bearer password; without one only a loopback client may start a drill. A browser's
/// request must come from the dashboard itself (<see cref="SameOrigin"/>). Answers
/// <c>{"ok","message","drill"}</c> with 200, or 400 (bad input), 403, 404 (no such simulated machine), 409 (already
/// running, or nothing to end).
/// </summary>
internal static class DrillEndpoints
{
    public static IServiceCollection AddDrills(this IServiceCollection services) => services.AddSingleton<TrainerDrills>();

    public static void MapDrills(this WebApplication app)
    {
        var auth = app.Services.GetRequiredService<DashboardAuth>();
        var drills = app.Services.GetRequiredService<TrainerDrills>();
        app.MapGet("/api/drill", () => Results.Json(drills.Current(), DrillsJsonContext.Default.DrillState));
        app.MapPost("/api/drill/outage", (HttpContext context, int? seconds) =>
            Run(context, auth, drills, $"outage start {seconds ?? TrainerDrills.DefaultSeconds} s", origin => drills.StartOutage(seconds ?? TrainerDrills.DefaultSeconds, origin))).DisableAntiforgery();
        app.MapPost("/api/drill/outage/end", (HttpContext context) =>
            Run(context, auth, drills, "outage end", drills.EndOutage)).DisableAntiforgery();
        app.MapPost("/api/drill/plc", (HttpContext context, string? machine, int? seconds) =>
            Run(context, auth, drills, $"plc start {machine} {seconds ?? TrainerDrills.DefaultSeconds} s", origin => drills.StartPlc(machine, seconds ?? TrainerDrills.DefaultSeconds, origin))).DisableAntiforgery();
        app.MapPost("/api/drill/plc/end", (HttpContext context, string? machine) =>
            Run(context, auth, drills, $"plc end {machine}", origin => drills.EndPlc(machine, origin))).DisableAntiforgery();
    }

    /// <summary>
    /// Why a request may not start or end a drill, or null when it may: without a password only a loopback client
    /// may (with one, the login gate already checked the session or bearer password); a browser's request must come
    /// from this origin.
    /// </summary>
    internal static DrillResult? Refusal(bool passwordSet, HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is { IsIPv4MappedToIPv6: true })
        {
            remote = remote.MapToIPv4();
        }

        if (!passwordSet && (remote is null || !IPAddress.IsLoopback(remote)))
        {
            return new DrillResult(false, 403, "drills from another machine need the dashboard password (http.passwordFile)");
        }

        if (DashboardAuth.IsViewer(context))
        {
            return new DrillResult(false, 403, "a viewer login may not start drills: log in with the dashboard password");
        }

        return SameOrigin.Allows(context.Request) ? null : new DrillResult(false, 403, "cross-site request refused: start drills from this gateway's dashboard or its CLI");
    }

    private static IResult Run(HttpContext context, DashboardAuth auth, TrainerDrills drills, string what, Func<DrillOrigin, DrillResult> action)
    {
        var remote = context.Connection.RemoteIpAddress;
        var origin = new DrillOrigin(
            remote?.ToString() ?? "?",
            !auth.Enabled ? "loopback" : context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? "bearer" : "session");
        var result = Refusal(auth.Enabled, context) is { } refused ? drills.Refuse(origin, what, refused) : action(origin);

        return Results.Json(new DrillAnswer(result.Ok, result.Message, drills.Current()), DrillsJsonContext.Default.DrillAnswer, statusCode: result.StatusCode);
    }
}

/// <summary>The answer of a drill's start or end: the outcome and the drills running now.</summary>
internal sealed record DrillAnswer(bool Ok, string Message, DrillState Drill);
