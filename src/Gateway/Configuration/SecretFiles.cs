using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Configuration;

/// <summary>
/// The files of the configuration that hold secrets (passwords, tokens, the MQTT client key), and the ones other local
/// users can get at: on Unix, a mode with any group or other bit (mode &amp; 077). Such a file is not refused (the
/// dashboard's off loopback is, by <see cref="HttpRules"/>): the gateway warns once at start, naming the file and the
/// configuration keys that point at it, never its content.
/// </summary>
public static partial class SecretFiles
{
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>A secret file that group or others may access.</summary>
    /// <param name="File">The file as the configuration names it.</param>
    /// <param name="ConfigPaths">The configuration keys naming it (<c>mqtt.passwordFile</c>, <c>drivers[2].passwordFile</c>).</param>
    /// <param name="Mode">Its permission bits, in octal (<c>644</c>).</param>
    public sealed record Exposed(string File, IReadOnlyList<string> ConfigPaths, string Mode);

    /// <summary>Every secret file the configuration names, with the key that names it, in configuration order.</summary>
    public static List<(string ConfigPath, string File)> Named(GatewayConfig config, IConfiguration? root)
    {
        var files = new List<(string, string)>();
        void Add(string path, string? file)
        {
            if (!string.IsNullOrEmpty(file))
            {
                files.Add((path, file));
            }
        }

        Add("mqtt.passwordFile", config.Mqtt.PasswordFile);
        Add("mqtt.tls.keyFile", config.Mqtt.Tls is { Enabled: true } tls ? tls.KeyFile : null);
        Add("influx.passwordFile", config.Influx?.PasswordFile);
        Add("influx.tokenFile", config.Influx?.TokenFile);
        Add("http.passwordFile", config.Http.PasswordFile);
        Add("http.viewerPasswordFile", config.Http.ViewerPasswordFile);
        if (root is not null)
        {
            // Driver settings live in their own sections (OPC UA's passwordFile), read by the driver's factory.
            var index = 0;
            foreach (var driver in root.GetSection("drivers").GetChildren())
            {
                Add($"drivers[{index}].passwordFile", driver["passwordFile"]);
                index++;
            }
        }

        return files;
    }

    /// <summary>The named secret files that group or others may access (none on Windows, or for files that do not exist).</summary>
    public static List<Exposed> FindExposed(GatewayConfig config, IConfiguration? root)
    {
        var exposed = new List<Exposed>();
        if (OperatingSystem.IsWindows())
        {
            return exposed;
        }

        foreach (var group in Named(config, root).GroupBy(f => Path.GetFullPath(f.File), StringComparer.Ordinal))
        {
            UnixFileMode mode;
            try
            {
                if (!File.Exists(group.Key))
                {
                    continue;
                }

                mode = File.GetUnixFileMode(group.Key);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if ((mode & GroupOrOthers) != 0)
            {
                exposed.Add(new Exposed(group.First().File, [.. group.Select(f => f.ConfigPath)], Convert.ToString((int)mode, 8).PadLeft(3, '0')));
            }
        }

        return exposed;
    }

    /// <summary>Logs one warning per exposed secret file.</summary>
    public static void Warn(GatewayConfig config, IConfiguration? root, ILogger logger)
    {
        foreach (var file in FindExposed(config, root))
        {
            LogExposed(logger, file.File, string.Join(", ", file.ConfigPaths), file.Mode);
        }
    }

    /// <summary>The warning's text, for check-config (the same words as the log line).</summary>
    public static string Describe(Exposed file) =>
        string.Create(CultureInfo.InvariantCulture, $"secret file '{file.File}' ({string.Join(", ", file.ConfigPaths)}) is accessible to group or others (mode {file.Mode}): other users of this machine can read the secret; chmod 600 it");

    [LoggerMessage(EventId = 1800, Level = LogLevel.Warning, Message = "Secret file '{File}' ({ConfigPaths}) is accessible to group or others (mode {Mode}): other users of this machine can read the secret; chmod 600 it")]
    private static partial void LogExposed(ILogger logger, string file, string configPaths, string mode);
}
