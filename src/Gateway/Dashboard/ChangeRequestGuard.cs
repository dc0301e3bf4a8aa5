using System.Net;

namespace Gateway.Dashboard;

/// <summary>
/// The checks of an HTTP request that changes the plant's data flow (a config reload, a save): the login gate
/// has already let it through when <c>http.passwordFile</c> is set; this adds what a login does not cover.
/// <list type="bullet">
/// <item>Without a password file, only loopback clients may change anything (the config loader already allows only
/// loopback URLs then; this also holds behind a local reverse proxy's forwarding).</item>
/// <item>CSRF: a browser page of another site can make a simple POST with the session cookie (SameSite=Strict stops
/// it in current browsers, not in every embedded one) or to a loopback gateway without one. Such a request cannot
/// carry a custom header without a CORS preflight, which the gateway never grants: the request must carry
/// <see cref="HeaderName"/> or an <c>Authorization</c> header, and an <c>Origin</c> header, if any, must be this gateway's.</item>
/// </list>
/// </summary>
public static class ChangeRequestGuard
{
    /// <summary>The header a browser page (or a script without a bearer token) sends with a change; any value.</summary>
    public const string HeaderName = "X-Gateway-Request";

    /// <summary>Null when the request may change the configuration; otherwise the status code and the reason.</summary>
    public static (int Status, string Reason)? Check(HttpContext context, DashboardAuth auth)
    {
        var request = context.Request;
        var remote = context.Connection.RemoteIpAddress;
        if (!auth.Enabled && (remote is null || !IPAddress.IsLoopback(remote)))
        {
            return (StatusCodes.Status403Forbidden, "changes need the dashboard password (http.passwordFile) from a non-loopback client");
        }

        if (DashboardAuth.IsViewer(context))
        {
            return (StatusCodes.Status403Forbidden, "a viewer login may not change anything: log in with the dashboard password (http.passwordFile)");
        }

        var hasAuthorization = request.Headers.Authorization.Count > 0;
        if (!hasAuthorization && string.IsNullOrEmpty(request.Headers[HeaderName]))
        {
            return (StatusCodes.Status403Forbidden, $"missing header {HeaderName} (sent by the dashboard; add it to scripts, or use Authorization: Bearer)");
        }

        if (!SameOrigin.Allows(request))
        {
            return (StatusCodes.Status403Forbidden, $"cross-origin request refused (Origin {request.Headers.Origin}, Sec-Fetch-Site {request.Headers["Sec-Fetch-Site"]})");
        }

        return null;
    }

    /// <summary>Who asked, for an audit line: the client address and how it authenticated (never the secret).</summary>
    public static string Describe(HttpContext context, DashboardAuth auth)
    {
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "?";
        var how = !auth.Enabled ? "no password" : context.Request.Headers.Authorization.Count > 0 ? "bearer" : "session";
        return $"http {remote} ({how})";
    }
}
