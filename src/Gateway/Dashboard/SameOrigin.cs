namespace Gateway.Dashboard;

/// <summary>
/// The cross-site request rule of the dashboard's POSTs that change the plant's data flow (drills): the session
/// cookie is <c>SameSite=Strict</c>, so another site's page cannot ride a login; and without a password (loopback only)
/// a page of another site open in the same browser could still post to <c>127.0.0.1</c>, so a browser's request must
/// also come from this origin. Scripts and the CLI send neither header and pass.
/// </summary>
public static class SameOrigin
{
    /// <summary>
    /// False when a browser says the request comes from another site: an <c>Origin</c> header other than this request's
    /// <c>scheme://host[:port]</c> (or <c>null</c>), or <c>Sec-Fetch-Site</c> other than <c>same-origin</c> or <c>none</c>.
    /// </summary>
    public static bool Allows(HttpRequest request)
    {
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0 && fetchSite is not ("same-origin" or "none"))
        {
            return false;
        }

        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0
            || string.Equals(origin, request.Scheme + "://" + request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
