using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Tests.Infrastructure;

/// <summary>The real gateway executable, started as a separate process so that it can be killed with SIGKILL.</summary>
public sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    public GatewayProcess(string configFile, int httpPort)
    {
        ConfigFile = configFile;
        HttpPort = httpPort;
    }

    public string ConfigFile { get; }

    /// <summary>Extra environment variables of the <c>run</c> process (for example libfaketime's).</summary>
    public Dictionary<string, string> ExtraEnvironment { get; } = new(StringComparer.Ordinal);

    public int HttpPort { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process?.HasExited ?? true;

    /// <summary>The process id (the same before and after a hot reload).</summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException("not started");

    /// <summary>Sends a signal (<c>HUP</c>, <c>TERM</c>, ...) with kill(1).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, Pid.ToString(CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>POSTs to the gateway; returns the status code and the body.</summary>
    public async Task<(int Status, string Body)> PostAsync(string path, IDictionary<string, string>? headers = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://127.0.0.1:{HttpPort}{path}"));
        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(key, value);
        }

        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static string GatewayDll => Path.Combine(AppContext.BaseDirectory, "gateway.dll");

    /// <summary>Runs a verb to completion and returns its exit code, standard output and standard error.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunVerbAsync(params string[] args) =>
        RunVerbInAsync(Path.GetTempPath(), null, args);

    /// <summary>Runs a verb in a working directory, with extra environment variables.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunVerbInAsync(string workingDirectory, IDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", [GatewayDll, .. args])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    public async Task StartAsync(bool waitForHealth = true)
    {
        var info = new ProcessStartInfo("dotnet", [GatewayDll, "run", "--config", ConfigFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ConfigFile)!,
        };
        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in ExtraEnvironment)
        {
            info.Environment[key] = value;
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (waitForHealth)
        {
            await WaitHealthyAsync(TimeSpan.FromSeconds(30));
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            if (HasExited)
            {
                throw new InvalidOperationException("gateway exited: " + Output);
            }

            try
            {
                var response = await http.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/healthz"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (Environment.TickCount64 < deadline)
            {
            }
            catch (TaskCanceledException) when (Environment.TickCount64 < deadline)
            {
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("gateway not healthy: " + Output);
            }

            await Task.Delay(100);
        }
    }

    public async Task<string> GetAsync(string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return await http.GetStringAsync(new Uri($"http://127.0.0.1:{HttpPort}{path}"));
    }

    /// <summary>Reads one un-labelled metric from /metrics.</summary>
    public async Task<double> MetricAsync(string name)
    {
        var text = await GetAsync("/metrics");
        var match = Regex.Match(text, "^" + Regex.Escape(name) + " (\\S+)$", RegexOptions.Multiline);
        if (!match.Success)
        {
            throw new InvalidOperationException($"metric {name} not found in:\n{text}");
        }

        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public async Task WaitMetricAsync(string name, Func<double, bool> condition, TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var value = await MetricAsync(name);
            if (condition(value))
            {
                return;
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"metric {name} stayed at {value}\n" + Output);
            }

            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no flush, no goodbye.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM: a clean stop; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (_process is null)
        {
            return -1;
        }

        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }
}
