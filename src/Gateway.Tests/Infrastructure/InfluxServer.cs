using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>Debian's influxd 1.x on free loopback ports, with its data in a temporary folder.</summary>
public sealed class InfluxServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gw-influx-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private Process? _process;

    /// <param name="httpSettings">Lines added to the <c>[http]</c> section (<c>auth-enabled = true</c>, <c>max-body-size = ...</c>).</param>
    public InfluxServer(string httpSettings = "")
    {
        Port = PortAllocator.FreeTcpPort();
        var rpc = PortAllocator.FreeTcpPort();
        File.WriteAllText(Path.Combine(_directory, "influxdb.conf"), $"""
            reporting-disabled = true
            bind-address = "127.0.0.1:{rpc}"
            [meta]
              dir = "{_directory}/meta"
            [data]
              dir = "{_directory}/data"
              wal-dir = "{_directory}/wal"
              query-log-enabled = false
            [http]
              enabled = true
              bind-address = "127.0.0.1:{Port}"
              log-enabled = false
            {httpSettings}
            [monitor]
              store-enabled = false
            [subscriber]
              enabled = false
            [continuous_queries]
              enabled = false
            """);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public async Task StartAsync()
    {
        _process = Process.Start(new ProcessStartInfo("influxd", ["run", "-config", Path.Combine(_directory, "influxdb.conf")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Environment.TickCount64 + 30_000;
        while (true)
        {
            try
            {
                using var ping = await _http.GetAsync(new Uri(Url + "/ping"));
                if (ping.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (Environment.TickCount64 < deadline)
            {
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// With auth-enabled, creates the first admin user (InfluxDB allows that one without credentials) and sends
    /// its credentials with every later request of this helper.
    /// </summary>
    public async Task CreateAdminAsync(string user, string password)
    {
        await QueryAsync(null, $"CREATE USER \"{user}\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES", post: true);
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(user + ":" + password)));
    }

    /// <summary>Runs an InfluxQL statement that changes something (CREATE USER, GRANT...).</summary>
    public async Task ExecuteAsync(string statement) => await QueryAsync(null, statement, post: true);

    public async Task CreateDatabaseAsync(string name) => await QueryAsync(null, $"CREATE DATABASE \"{name}\"", post: true);

    /// <summary>Writes raw line protocol (to prepare a type conflict, for instance).</summary>
    public async Task WriteAsync(string database, string lines)
    {
        using var response = await _http.PostAsync(new Uri($"{Url}/write?db={database}&precision=ns"), new StringContent(lines));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Runs InfluxQL and returns the first series' values (rows of columns).</summary>
    public async Task<List<JsonElement[]>> SelectAsync(string database, string query)
    {
        var result = await QueryAsync(database, query, post: false);
        var rows = new List<JsonElement[]>();
        foreach (var statement in result.GetProperty("results").EnumerateArray())
        {
            if (!statement.TryGetProperty("series", out var series))
            {
                continue;
            }

            foreach (var serie in series.EnumerateArray())
            {
                foreach (var row in serie.GetProperty("values").EnumerateArray())
                {
                    rows.Add([.. row.EnumerateArray()]);
                }
            }
        }

        return rows;
    }

    /// <summary>Runs InfluxQL and returns the whole answer (series names, columns, values).</summary>
    public Task<JsonElement> QueryJsonAsync(string database, string query) => QueryAsync(database, query, post: false);

    private async Task<JsonElement> QueryAsync(string? database, string query, bool post)
    {
        var uri = new Uri($"{Url}/query?epoch=ns{(database is null ? "" : "&db=" + database)}&q={Uri.EscapeDataString(query)}");
        using var response = post ? await _http.PostAsync(uri, null) : await _http.GetAsync(uri);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>())!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _http.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static long Long(JsonElement value) => value.ValueKind == JsonValueKind.Number ? value.GetInt64() : long.Parse(value.GetString()!, CultureInfo.InvariantCulture);
}
