namespace Gateway.Dashboard;

/// <summary>
/// The dashboard's static files (HTML, CSS, JavaScript, icons), embedded in the gateway assembly under
/// <c>dashboard/</c>: the gateway serves them offline, with no web root to deploy and no CDN.
/// </summary>
internal sealed class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private readonly Dictionary<string, Asset> _assets = new(StringComparer.Ordinal);

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var etag = "\"" + Fnv1a64(bytes).ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + "\"";
            _assets[name[Prefix.Length..]] = new Asset(bytes, ContentType(name), etag);
        }
    }

    public IEnumerable<string> Names => _assets.Keys;

    public bool TryGet(string name, out Asset asset) => _assets.TryGetValue(name, out asset!);

    /// <summary>Writes the file, or 304 when the browser has it; <c>no-cache</c> so an upgrade is seen at once.</summary>
    public IResult Serve(HttpContext context, string name)
    {
        if (!_assets.TryGetValue(name, out var asset))
        {
            return Results.NotFound();
        }

        var response = context.Response;
        response.Headers.CacheControl = "no-cache";
        response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    /// <summary>
    /// FNV-1a, 64 bits: the ETag only has to change with the file. Not SHA-256: that loads OpenSSL (libcrypto, ~4 MB of
    /// RSS) at start for nothing else (docs/performance.md, fifth round).
    /// </summary>
    internal static ulong Fnv1a64(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".json" => "application/json",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };

    internal sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
