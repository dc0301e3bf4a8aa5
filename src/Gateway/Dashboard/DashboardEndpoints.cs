using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Dashboard;

/// <summary>Registration of the dashboard: its assets, its live feed, the login and the security headers.</summary>
internal static partial class DashboardEndpoints
{
    /// <summary>Registers the feed (a hosted service: call before the drivers, so it observes their first samples) and the login.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddSingleton<DashboardAssets>();
        services.AddSingleton<DashboardAuth>();
        services.AddSingleton<DashboardFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<DashboardFeed>());
        services.AddSingleton<BufferFlow>();
        services.AddHostedService(sp => sp.GetRequiredService<BufferFlow>());
        return services;
    }

    /// <summary>
    /// The security headers and the login gate for every request, then <c>/</c>, <c>/report</c>, <c>/assets/*</c>,
    /// <c>/login</c>, <c>/logout</c> and <c>/api/stream</c>. Read-only: nothing here writes towards a PLC.
    /// </summary>
    public static void MapDashboard(this WebApplication app)
    {
        var auth = app.Services.GetRequiredService<DashboardAuth>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Dashboard");
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers["X-Content-Type-Options"] = "nosniff";
            headers["X-Frame-Options"] = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
            if (!auth.Enabled || IsPublic(context.Request.Path) || IsAuthenticated(context, auth, logger))
            {
                await next(context);
                return;
            }

            var path = context.Request.Path;
            if (path.StartsWithSegments("/api") || path.StartsWithSegments("/metrics") || !HttpMethods.IsGet(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                headers.WWWAuthenticate = "Bearer realm=\"gateway\"";
                await context.Response.WriteAsJsonAsync(new ApiError("login required"), GatewayJsonContext.Default.ApiError);
                return;
            }

            context.Response.Redirect("/login?next=" + Uri.EscapeDataString(path + context.Request.QueryString));
        });

        var assets = app.Services.GetRequiredService<DashboardAssets>();
        app.MapGet("/", (HttpContext context) => assets.Serve(context, "index.html"));
        // The coaching report (a period against a baseline, printable): behind the login like the dashboard.
        app.MapGet("/report", (HttpContext context) => assets.Serve(context, "report.html"));
        app.MapGet("/assets/{*name}", (HttpContext context, string name) => assets.Serve(context, name));
        app.MapGet("/favicon.ico", (HttpContext context) => assets.Serve(context, "favicon.svg"));
        app.MapGet("/api/stream", (HttpContext context, DashboardFeed feed) => feed.StreamAsync(context));

        app.MapGet("/login", (HttpContext context) => auth.Enabled ? assets.Serve(context, "login.html") : Results.Redirect("/"));
        app.MapPost("/login", async (HttpContext context) =>
        {
            if (!auth.Enabled)
            {
                return Results.Redirect("/");
            }

            var remote = context.Connection.RemoteIpAddress;
            if (!context.Request.HasFormContentType)
            {
                return Results.BadRequest();
            }

            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var next = LocalPath(form["next"]);
            if (auth.IsLockedOut(remote, out var retryAfter))
            {
                DashboardLog.LoginLockedOut(logger, remote?.ToString() ?? "?");
                context.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Redirect("/login?error=locked&next=" + Uri.EscapeDataString(next));
            }

            if (auth.Authenticate(form["password"]) is not { } role)
            {
                auth.RecordFailure(remote);
                DashboardLog.LoginFailed(logger, remote?.ToString() ?? "?");
                return Results.Redirect("/login?error=password&next=" + Uri.EscapeDataString(next));
            }

            auth.RecordSuccess(remote);
            context.Response.Cookies.Append(DashboardAuth.CookieName, auth.IssueSession(role), DashboardAuth.CookieOptions(context.Request, DashboardAuth.SessionLifetime));
            DashboardLog.LoggedIn(logger, remote?.ToString() ?? "?");
            return Results.Redirect(next);
        }).DisableAntiforgery();

        app.MapPost("/logout", (HttpContext context) =>
        {
            context.Response.Cookies.Delete(DashboardAuth.CookieName, DashboardAuth.CookieOptions(context.Request, null));
            return Results.Redirect(auth.Enabled ? "/login" : "/");
        }).DisableAntiforgery();

        // The page asks whether to show the logout button.
        app.MapGet("/api/session", (HttpContext context, IOptions<GatewayConfig> config) => Results.Json(new SessionDocument(auth.Enabled, config.Value.Gateway.Id, DashboardAuth.IsViewer(context)), GatewayJsonContext.Default.SessionDocument));
    }

    /// <summary>The login page, its assets and the liveness probe; everything else needs a session when a password is set.</summary>
    private static bool IsPublic(PathString path) =>
        path.Equals("/healthz", StringComparison.Ordinal)
        || path.Equals("/login", StringComparison.Ordinal)
        || path.Equals("/favicon.ico", StringComparison.Ordinal)
        || path.StartsWithSegments("/assets", StringComparison.Ordinal);

    private static bool IsAuthenticated(HttpContext context, DashboardAuth auth, ILogger logger)
    {
        if (auth.SessionRole(context.Request.Cookies[DashboardAuth.CookieName]) is { } sessionRole)
        {
            context.Items[DashboardAuth.RoleItem] = sessionRole;
            return true;
        }

        // Prometheus (authorization: credentials_file) and scripts send the password as a bearer token.
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var remote = context.Connection.RemoteIpAddress;
        if (auth.IsLockedOut(remote, out _))
        {
            return false;
        }

        if (auth.Authenticate(header["Bearer ".Length..].Trim()) is { } bearerRole)
        {
            context.Items[DashboardAuth.RoleItem] = bearerRole;
            return true;
        }

        auth.RecordFailure(remote);
        DashboardLog.BearerFailed(logger, remote?.ToString() ?? "?");
        return false;
    }

    /// <summary>Only a path on this gateway: an open redirect to another site is refused.</summary>
    private static string LocalPath(string? next) =>
        !string.IsNullOrEmpty(next) && next[0] == '/' && (next.Length == 1 || (next[1] != '/' && next[1] != '\\')) ? next : "/";
}

/// <summary>Log events of the dashboard, EventId 7000-7099. The password never appears in them.</summary>
internal static partial class DashboardLog
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Warning, Message = "Dashboard login failed from {Remote}")]
    public static partial void LoginFailed(ILogger logger, string remote);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Dashboard login refused from {Remote}: too many failed attempts, retry later")]
    public static partial void LoginLockedOut(ILogger logger, string remote);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Dashboard login from {Remote}")]
    public static partial void LoggedIn(ILogger logger, string remote);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Wrong bearer token from {Remote}")]
    public static partial void BearerFailed(ILogger logger, string remote);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Dashboard stream frame failed")]
    public static partial void FrameFailed(ILogger logger, Exception exception);
}

/// <summary><c>/api/session</c>: whether the page shows the logout button.</summary>
internal sealed record SessionDocument(bool LoginRequired, string Gateway, bool Viewer);
