using System.ComponentModel.DataAnnotations;
using System.Net;
using Gateway.Drivers;

namespace Gateway.Configuration;

/// <summary>The HTTP endpoints: dashboard, API, health and metrics.</summary>
public sealed class HttpOptions
{
    /// <summary>Semicolon-separated listen URLs; any non-loopback one requires <see cref="PasswordFile"/>.</summary>
    [Required]
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// File holding the dashboard password (its first line); required for any non-loopback binding. When set, every
    /// page, <c>/api/*</c> and <c>/metrics</c> need a login session or <c>Authorization: Bearer &lt;password&gt;</c>;
    /// only <c>/healthz</c> stays open. See Dashboard/DashboardAuth.cs.
    /// </summary>
    public string? PasswordFile { get; set; }

    /// <summary>
    /// File holding a second, viewer password (its first line); needs <see cref="PasswordFile"/>. A viewer logs in like
    /// anyone and sees every page and API, but may change nothing: reloads, commissioning and drills answer 403.
    /// </summary>
    public string? ViewerPasswordFile { get; set; }

    /// <summary>
    /// Whether the commissioning page (<c>/commission</c>: discover, pick, preview and save tags) may be used. Default
    /// true; false makes its API answer 403 for everyone (the dashboard stays read-only). See docs/commissioning.md.
    /// </summary>
    public bool Commissioning { get; set; } = true;
}

/// <summary>Listen URLs must be http(s) with a valid port; any non-loopback one needs a password file with a password.</summary>
public sealed class HttpRules : IConfigRule
{
    public void Check(ConfigContext context, List<ConfigProblem> problems)
    {
        var http = context.Config.Http;
        var exposed = false;
        foreach (var url in http.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                problems.Add(new ConfigProblem("http.urls", $"'{url}' is not an http:// or https:// URL"));
                continue;
            }

            if (uri.Port is < 1 or > 65535)
            {
                problems.Add(new ConfigProblem("http.urls", $"port of '{url}' must be between 1 and 65535"));
            }

            var loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
            exposed |= !loopback;
            if (!loopback && http.PasswordFile is null)
            {
                problems.Add(new ConfigProblem("http.urls", $"'{url}' is not a loopback address: set http.passwordFile to expose the dashboard beyond this machine"));
            }
        }

        if (http.ViewerPasswordFile is { } viewerFile)
        {
            var before = problems.Count;
            if (http.PasswordFile is null)
            {
                problems.Add(new ConfigProblem("http.viewerPasswordFile", "needs http.passwordFile (the editors' password)"));
            }

            ConfigFiles.CheckReadable(viewerFile, "http.viewerPasswordFile", problems);
            if (problems.Count == before && string.IsNullOrEmpty(File.ReadLines(viewerFile).FirstOrDefault()))
            {
                problems.Add(new ConfigProblem("http.viewerPasswordFile", $"the first line of '{viewerFile}' (the password) is empty"));
            }
            else if (problems.Count == before && http.PasswordFile is { } editorFile && File.Exists(editorFile)
                     && string.Equals(File.ReadLines(viewerFile).First(), File.ReadLines(editorFile).FirstOrDefault(), StringComparison.Ordinal))
            {
                problems.Add(new ConfigProblem("http.viewerPasswordFile", "the viewer password must differ from the dashboard password"));
            }
        }

        if (http.PasswordFile is { } file)
        {
            var before = problems.Count;
            ConfigFiles.CheckReadable(file, "http.passwordFile", problems);
            if (problems.Count == before && string.IsNullOrEmpty(File.ReadLines(file).FirstOrDefault()))
            {
                // The password is the first line (Dashboard/DashboardAuth.cs); an empty one would open nothing.
                problems.Add(new ConfigProblem("http.passwordFile", $"the first line of '{file}' (the password) is empty"));
            }

            if (problems.Count == before && exposed && !OperatingSystem.IsWindows() &&
                (File.GetUnixFileMode(file) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                // The dashboard's password guards a port open to the plant network: other local users must not read it.
                problems.Add(new ConfigProblem("http.passwordFile", $"'{file}' is readable by group or others (mode {Convert.ToString((int)File.GetUnixFileMode(file), 8)}) while the dashboard listens beyond loopback: chmod 600 it"));
            }
        }
    }
}
