using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Configuration;
using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Core.Exceptions;

namespace Gateway.Northbound.Influx;

/// <summary>What a write request came back with.</summary>
public enum InfluxOutcome
{
    /// <summary>204: written.</summary>
    Written,

    /// <summary>400: a line the server will never accept (syntax, type conflict).</summary>
    Rejected,

    /// <summary>5xx, 429, a network error or a timeout: try again later.</summary>
    Retry,

    /// <summary>413: the request is over the server's body size limit (max-body-size): send fewer lines at once.</summary>
    TooLarge,
}

/// <summary>One write request of line-protocol lines.</summary>
public interface IInfluxWriter : IDisposable
{
    /// <summary>Human-readable target for logs.</summary>
    string Target { get; }

    Task<(InfluxOutcome Outcome, string? Error)> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken);
}

/// <summary>InfluxDB 1.x: <c>POST /write?db=...&amp;precision=ns</c>, with basic authentication when configured.</summary>
public sealed class InfluxV1Writer : IInfluxWriter
{
    private readonly HttpClient _http;
    private readonly Uri _write;
    private readonly bool _authenticated;
    private readonly string _username;
    private readonly string _database;

    public InfluxV1Writer(InfluxOptions options)
    {
        _http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(options.TimeoutMs) };
        var query = $"write?db={Uri.EscapeDataString(options.Database!)}&precision=ns";
        if (!string.IsNullOrEmpty(options.RetentionPolicy))
        {
            query += "&rp=" + Uri.EscapeDataString(options.RetentionPolicy);
        }

        _write = new Uri(new Uri(options.Url.TrimEnd('/') + "/"), query);
        if (options.Username is not null)
        {
            var password = options.PasswordFile is null ? "" : MqttConnectionFactory.ReadSecret(options.PasswordFile);
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(options.Username + ":" + password)));
        }

        Target = $"{options.Url} (database {options.Database})";
        _authenticated = options.Username is not null;
        _username = options.Username ?? "";
        _database = options.Database!;
    }

    public string Target { get; }

    public async Task<(InfluxOutcome Outcome, string? Error)> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new StringContent(string.Join('\n', lines), Encoding.UTF8, "text/plain");
            using var response = await _http.PostAsync(_write, content, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NoContent || response.IsSuccessStatusCode)
            {
                return (InfluxOutcome.Written, null);
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var outcome = response.StatusCode switch
            {
                HttpStatusCode.BadRequest => InfluxOutcome.Rejected,
                HttpStatusCode.RequestEntityTooLarge => InfluxOutcome.TooLarge,
                _ => InfluxOutcome.Retry,
            };
            return (outcome, $"{(int)response.StatusCode} {response.ReasonPhrase}: {body.Trim()}{Hint(response.StatusCode, body)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (InfluxOutcome.Retry, ex.Message);
        }
    }

    /// <summary>What to check, for the answers a misconfigured gateway or server gets (InfluxDB 1.x HTTP API).</summary>
    private string Hint(HttpStatusCode status, string body) => status switch
    {
        HttpStatusCode.Unauthorized => _authenticated
            ? " - check influx.username and influx.passwordFile"
            : " - the server has authentication enabled (auth-enabled): set influx.username and influx.passwordFile",
        HttpStatusCode.Forbidden => $" - user '{_username}' may not write to this database: GRANT WRITE ON \"{_database}\" TO \"{_username}\"",
        HttpStatusCode.NotFound when body.Contains("database not found", StringComparison.Ordinal) =>
            $" - create it (CREATE DATABASE \"{_database}\") or fix influx.database",
        HttpStatusCode.NotFound when body.Contains("retention policy not found", StringComparison.Ordinal) =>
            " - create it or fix influx.retentionPolicy",
        _ => "",
    };

    public void Dispose() => _http.Dispose();
}

/// <summary>InfluxDB 2.x and 3 through InfluxDB.Client (<c>/api/v2/write</c>, token authentication).</summary>
public sealed class InfluxV2Writer : IInfluxWriter
{
    private readonly InfluxDBClient _client;
    private readonly InfluxOptions _options;

    public InfluxV2Writer(InfluxOptions options)
    {
        _options = options;
        var token = MqttConnectionFactory.ReadSecret(options.TokenFile!);
        _client = new InfluxDBClient(new InfluxDBClientOptions(options.Url)
        {
            Token = token,
            Org = options.Org,
            Bucket = options.Bucket,
            Timeout = TimeSpan.FromMilliseconds(options.TimeoutMs),
        });
        Target = $"{options.Url} (bucket {options.Bucket})";
    }

    public string Target { get; }

    public async Task<(InfluxOutcome Outcome, string? Error)> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        try
        {
            await _client.GetWriteApiAsync().WriteRecordsAsync([.. lines], WritePrecision.Ns, _options.Bucket, _options.Org, cancellationToken);
            return (InfluxOutcome.Written, null);
        }
        catch (BadRequestException ex)
        {
            return (InfluxOutcome.Rejected, "400: " + ex.Message);
        }
        catch (HttpException ex) when (ex.Status == 413)
        {
            return (InfluxOutcome.TooLarge, $"413: {ex.Message}");
        }
        catch (HttpException ex)
        {
            return (InfluxOutcome.Retry, $"{ex.Status}: {ex.Message}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InfluxException && !cancellationToken.IsCancellationRequested)
        {
            return (InfluxOutcome.Retry, ex.Message);
        }
    }

    public void Dispose() => _client.Dispose();
}
