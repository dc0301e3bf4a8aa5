using System.Diagnostics;
using System.Text;
using Gateway.Drivers;
using Gateway.Drivers.S7;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Gateway.Tests.S7;

/// <summary>
/// Runs tests/peers/s7/server.js (snap7's server through node-snap7) on a free loopback port: installs node_modules
/// with <c>npm ci</c> when missing (node-snap7 builds its native addon), waits until the port accepts, kills it after.
/// </summary>
public sealed class Snap7Server : IAsyncDisposable
{
    private static readonly SemaphoreSlim s_install = new(1, 1);
    private readonly string[] _arguments;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private Snap7Server(int port, string[] arguments)
    {
        Port = port;
        _arguments = arguments;
    }

    public int Port { get; }

    /// <summary>The lines the server printed (with <c>--trace</c>: one <c>read AREA DB START SIZE RESULT</c> line per item read).</summary>
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

    public static string PeerDirectory
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "tests", "peers", "s7", "server.js")))
            {
                directory = directory.Parent;
            }

            return directory is null
                ? throw new InvalidOperationException("tests/peers/s7/server.js not found above " + AppContext.BaseDirectory)
                : Path.Combine(directory.FullName, "tests", "peers", "s7");
        }
    }

    /// <summary>Starts a server; <paramref name="arguments"/> are the script's options (<c>--pdu 240</c>, <c>--trace</c>).</summary>
    public static async Task<Snap7Server> StartAsync(params string[] arguments)
    {
        await EnsureInstalledAsync();
        var server = new Snap7Server(Infrastructure.PortAllocator.FreeTcpPort(), arguments);
        await server.StartProcessAsync();
        return server;
    }

    private static async Task EnsureInstalledAsync()
    {
        await s_install.WaitAsync();
        try
        {
            if (File.Exists(Path.Combine(PeerDirectory, "node_modules", "node-snap7", "build", "Release", "node_snap7.node")))
            {
                return;
            }

            using var npm = Process.Start(new ProcessStartInfo("npm", "ci --no-audit --no-fund")
            {
                WorkingDirectory = PeerDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = npm.StandardOutput.ReadToEndAsync();
            var error = npm.StandardError.ReadToEndAsync();
            await npm.WaitForExitAsync();
            if (npm.ExitCode != 0)
            {
                throw new InvalidOperationException($"npm ci failed in {PeerDirectory}: {await output}{await error}");
            }
        }
        finally
        {
            s_install.Release();
        }
    }

    private async Task StartProcessAsync()
    {
        var info = new ProcessStartInfo("node") { WorkingDirectory = PeerDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("server.js");
        info.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"node server.js exited with {_process.ExitCode}:\n{Output}");
            }

            if (Output.Contains("listening", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(50);
        }

        await KillAsync();
        throw new TimeoutException($"the snap7 server did not listen on port {Port} within 30 s:\n{Output}");
    }

    private void Keep(string? line)
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

    /// <summary>Lines of items read since the output was last cleared (needs <c>--trace</c>).</summary>
    public int ItemsRead() => Output.Split('\n').Count(l => l.StartsWith("read ", StringComparison.Ordinal));

    public void ClearOutput()
    {
        lock (_output)
        {
            _output.Clear();
        }
    }

    /// <summary>Kills the server (as a CPU switched off would vanish).</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port.</summary>
    public Task RestartAsync() => StartProcessAsync();

    public async ValueTask DisposeAsync() => await KillAsync();
}

/// <summary>One snap7 server shared by the tests of a class.</summary>
public sealed class Snap7Fixture : IAsyncLifetime
{
    public Snap7Server Server { get; private set; } = null!;

    public int Port => Server.Port;

    public async Task InitializeAsync() => Server = await Snap7Server.StartAsync("--trace");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Builds S7 drivers from JSON driver sections.</summary>
internal static class S7DriverBuilder
{
    public static S7Driver Build(string json, TimeProvider? timeProvider = null, Func<CancellationToken, ValueTask<Stream>>? connect = null)
    {
        var section = Section(json);
        var config = section.Get<DriverConfig>()!;
        var problems = new List<ConfigProblem>();
        var plan = S7DriverFactory.Resolve(config, section, "drivers[0]", problems);
        Assert.Empty(problems);
        var transport = connect is null
            ? new S7IsoTransport(plan.Settings.Host!, plan.Settings.Port, plan.LocalTsap, plan.RemoteTsap)
            : new S7IsoTransport(connect, "scripted", plan.LocalTsap, plan.RemoteTsap);
        var time = timeProvider ?? TimeProvider.System;
        return new S7Driver(config.Name, plan, new S7Client(transport, time, plan.Settings.PduSize), new DriverContext(time, NullLoggerFactory.Instance));
    }

    public static List<ConfigProblem> Problems(string json)
    {
        var section = Section(json);
        var config = section.Get<DriverConfig>()!;
        return [.. new S7DriverFactory().Validate(config, section, "drivers[0]")];
    }

    public static IConfigurationSection Section(string json)
    {
        var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("{\"d\":" + json + "}"))).Build();
        return root.GetSection("d");
    }

    /// <summary>A driver section for the snap7 server on <paramref name="port"/> with <paramref name="tags"/> (name, address, type or null).</summary>
    public static string Json(int port, IEnumerable<(string Name, string Address, string? Type)> tags, string extra = "")
    {
        var tagJson = string.Join(",", tags.Select(t => $"{{\"name\":\"{t.Name}\",\"address\":\"{t.Address}\"{(t.Type is null ? "" : $",\"type\":\"{t.Type}\"")}}}"));
        return $"{{\"name\":\"plc\",\"type\":\"s7\",\"machine\":\"press\",\"host\":\"127.0.0.1\",\"port\":{port},\"rack\":0,\"slot\":1,\"timeoutMs\":3000{extra},\"tags\":[{tagJson}]}}";
    }
}

/// <summary>Collects samples from a driver.</summary>
internal sealed class S7Samples : ISampleWriter
{
    private readonly List<Sample> _samples = [];

    public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
    {
        lock (_samples)
        {
            _samples.Add(sample);
        }

        return ValueTask.CompletedTask;
    }

    public List<Sample> Snapshot()
    {
        lock (_samples)
        {
            return [.. _samples];
        }
    }

    public List<Sample> For(string name) => Snapshot().Where(s => s.Tag.Path == name).ToList();

    public Sample Last(string name) => For(name)[^1];

    public void Clear()
    {
        lock (_samples)
        {
            _samples.Clear();
        }
    }

    /// <summary>Waits (real time) until <paramref name="condition"/> holds.</summary>
    public async Task WaitForAsync(Func<S7Samples, bool> condition, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition(this))
        {
            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException($"{what} not seen within {timeout.TotalSeconds} s; samples: {string.Join("; ", Snapshot().TakeLast(20).Select(s => $"{s.Tag.Path}={s.Value} {s.Quality} 0x{s.StatusCode:X8}"))}");
            }

            await Task.Delay(50);
        }
    }
}
