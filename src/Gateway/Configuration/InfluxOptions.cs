using System.ComponentModel.DataAnnotations;
using Gateway.Drivers;

namespace Gateway.Configuration;

/// <summary>
/// InfluxDB output: line protocol, batched, fed from the disk buffer like MQTT. Version 1 writes through
/// <c>/write</c>; versions 2 and 3 through InfluxDB.Client (<c>/api/v2/write</c>).
/// </summary>
public sealed class InfluxOptions
{
    /// <summary>Base URL, for example <c>http://127.0.0.1:8086</c>.</summary>
    [Required]
    public string Url { get; set; } = "";

    /// <summary>1 (InfluxDB 1.x), 2 (InfluxDB 2.x) or 3 (InfluxDB 3, through its v2-compatible write API).</summary>
    [Range(1, 3)]
    public int Version { get; set; } = 2;

    /// <summary>Version 1: the database.</summary>
    public string? Database { get; set; }

    /// <summary>Version 1: an optional retention policy.</summary>
    public string? RetentionPolicy { get; set; }

    /// <summary>Version 1: user name, with <see cref="PasswordFile"/>.</summary>
    public string? Username { get; set; }

    /// <summary>Version 1: the file holding the password.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>Versions 2 and 3: the organisation.</summary>
    public string? Org { get; set; }

    /// <summary>Versions 2 and 3: the bucket (the database for InfluxDB 3).</summary>
    public string? Bucket { get; set; }

    /// <summary>Versions 2 and 3: the file holding the API token.</summary>
    public string? TokenFile { get; set; }

    /// <summary>Lines per write request.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 5000;

    /// <summary>Request timeout in milliseconds.</summary>
    [Range(100, 600_000)]
    public int TimeoutMs { get; set; } = 10_000;

    /// <summary>Longest wait between two retries after a 5xx or a network error, in milliseconds.</summary>
    [Range(100, 600_000)]
    public int MaxRetryDelayMs { get; set; } = 30_000;
}

/// <summary>What each InfluxDB version needs: a database for 1.x, a bucket (and an org for 2.x) and a token file for 2.x/3.</summary>
public sealed class InfluxRules : IConfigRule
{
    public void Check(ConfigContext context, List<ConfigProblem> problems)
    {
        if (context.Config.Influx is not { } influx)
        {
            return;
        }

        if (!Uri.TryCreate(influx.Url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            problems.Add(new ConfigProblem("influx.url", $"'{influx.Url}' is not an http:// or https:// URL"));
        }

        if (influx.Version == 1)
        {
            if (string.IsNullOrWhiteSpace(influx.Database))
            {
                problems.Add(new ConfigProblem("influx.database", "is required for InfluxDB 1.x (version 1)"));
            }

            if (influx.PasswordFile is not null)
            {
                ConfigFiles.CheckReadable(influx.PasswordFile, "influx.passwordFile", problems);
                if (string.IsNullOrEmpty(influx.Username))
                {
                    problems.Add(new ConfigProblem("influx.username", "is required when influx.passwordFile is set"));
                }
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(influx.Bucket))
        {
            problems.Add(new ConfigProblem("influx.bucket", $"is required for InfluxDB {influx.Version}.x"));
        }

        if (influx.Version == 2 && string.IsNullOrWhiteSpace(influx.Org))
        {
            problems.Add(new ConfigProblem("influx.org", "is required for InfluxDB 2.x"));
        }

        if (influx.TokenFile is null)
        {
            problems.Add(new ConfigProblem("influx.tokenFile", $"is required for InfluxDB {influx.Version}.x"));
        }
        else
        {
            ConfigFiles.CheckReadable(influx.TokenFile, "influx.tokenFile", problems);
        }
    }
}
