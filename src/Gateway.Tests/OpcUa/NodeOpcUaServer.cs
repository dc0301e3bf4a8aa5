using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// Runs tests/peers/opcua/server.mjs, or server-variant.mjs (a server set up as field servers are), with node-opcua
/// 2.186.4 on a free loopback port: installs node_modules with
/// <c>npm ci</c> when missing, waits until the port accepts, and kills the process afterwards.
/// </summary>
public sealed class NodeOpcUaServer : IAsyncDisposable
{
    private static readonly SemaphoreSlim s_install = new(1, 1);
    private static readonly SemaphoreSlim s_starting = new(1, 1);
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(180);
    private readonly string _script;
    private string[] _arguments;
    private Process? _process;

    private NodeOpcUaServer(string script, int port, string[] arguments)
    {
        _script = script;
        Port = port;
        _arguments = arguments;
    }

    public int Port { get; }

    public string Url => $"opc.tcp://127.0.0.1:{Port}";

    public static string PeerDirectory
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "tests", "peers", "opcua", "server.mjs")))
            {
                directory = directory.Parent;
            }

            return directory is null
                ? throw new InvalidOperationException("tests/peers/opcua/server.mjs not found above " + AppContext.BaseDirectory)
                : Path.Combine(directory.FullName, "tests", "peers", "opcua");
        }
    }

    /// <summary>Starts a server; <paramref name="arguments"/> are the script's options (for example <c>--small-chunks</c>).</summary>
    public static Task<NodeOpcUaServer> StartAsync(params string[] arguments) => StartScriptAsync("server.mjs", arguments);

    /// <summary>Starts server-variant.mjs: namespaces 2 and 3, odd NodeIds and types, small limits (see its options).</summary>
    public static Task<NodeOpcUaServer> StartVariantAsync(params string[] arguments) => StartScriptAsync("server-variant.mjs", arguments);

    private static async Task<NodeOpcUaServer> StartScriptAsync(string script, string[] arguments)
    {
        await EnsureInstalledAsync();
        var server = new NodeOpcUaServer(script, Infrastructure.PortAllocator.FreeTcpPort(), arguments);
        await server.StartProcessAsync();
        return server;
    }

    internal static async Task EnsureInstalledAsync()
    {
        await s_install.WaitAsync();
        try
        {
            if (Directory.Exists(Path.Combine(PeerDirectory, "node_modules", "node-opcua")))
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
        // One start at a time: node-opcua's start-up (address space, certificates) is CPU-heavy, and on a loaded
        // two-core CI machine several at once made each other miss their deadline.
        await s_starting.WaitAsync();
        try
        {
            await StartProcessCoreAsync();
        }
        finally
        {
            s_starting.Release();
        }
    }

    private async Task StartProcessCoreAsync()
    {
        var info = new ProcessStartInfo("node") { WorkingDirectory = PeerDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(_script);
        info.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(string? line)
        {
            if (line is not null)
            {
                output.Enqueue(line);
                while (output.Count > 20 && output.TryDequeue(out _))
                {
                }
            }
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < s_startTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"node {_script} exited with {_process.ExitCode}:\n{string.Join('\n', output)}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        // A server that never listened is not left running behind the failed test.
        await KillAsync();
        throw new TimeoutException($"node-opcua did not listen on port {Port} within {s_startTimeout.TotalSeconds} s; its last output:\n{string.Join('\n', output)}");
    }

    /// <summary>Kills the server (as a crash would).</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            // SIGKILL ends a stopped process too.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>
    /// Freezes the server (SIGSTOP to its pid): its TCP connections stay open but nothing answers, as with a hung
    /// PLC or a half-open connection. <see cref="ResumeAsync"/> lets it run on.
    /// </summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        var pid = (_process ?? throw new InvalidOperationException("not running")).Id;
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {pid} exited with {kill.ExitCode}");
        }
    }

    /// <summary>Starts the server again on the same port.</summary>
    public Task RestartAsync() => StartProcessAsync();

    /// <summary>Starts the server again on the same port with other options (a server updated while clients wait).</summary>
    public Task RestartAsync(params string[] arguments)
    {
        _arguments = arguments;
        return StartProcessAsync();
    }

    public async ValueTask DisposeAsync() => await KillAsync();
}
