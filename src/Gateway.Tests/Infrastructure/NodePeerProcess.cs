using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real peer run by node for the tests (node-opcua's server, snap7's through node-snap7): finds its folder under
/// tests/peers, installs its node_modules with <c>npm ci</c> once when missing, starts the script on a free loopback
/// port, keeps what it prints, waits until it is ready (<see cref="IsReadyAsync"/>), and kills it after. A server that
/// never got ready is not left running behind the failed test.
/// </summary>
public abstract class NodePeerProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> s_installs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _output = new();
    private readonly int _keepLines;
    private Process? _process;

    /// <param name="directory">The peer's folder (<see cref="FindPeerDirectory"/>).</param>
    /// <param name="port">The port it listens on.</param>
    /// <param name="keepLines">How many of its last lines to keep; 0 keeps all (a trace the test reads).</param>
    protected NodePeerProcess(string directory, int port, int keepLines)
    {
        Directory = directory;
        Port = port;
        _keepLines = keepLines;
    }

    public int Port { get; }

    /// <summary>The peer's folder, where its script runs.</summary>
    protected string Directory { get; }

    /// <summary>The peer as a failure names it, for example <c>node-opcua</c>.</summary>
    protected abstract string Name { get; }

    /// <summary>The lines the peer printed (stdout and stderr), as many as are kept.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>The folder tests/peers/<paramref name="peer"/> above the test binaries, found by its <paramref name="script"/>.</summary>
    public static string FindPeerDirectory(string peer, string script)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "tests", "peers", peer, script)))
        {
            directory = directory.Parent;
        }

        return directory is null
            ? throw new InvalidOperationException($"tests/peers/{peer}/{script} not found above {AppContext.BaseDirectory}")
            : Path.Combine(directory.FullName, "tests", "peers", peer);
    }

    /// <summary>Runs <c>npm ci</c> in <paramref name="directory"/> unless <paramref name="installed"/> (a path inside it) exists; one install at a time per folder.</summary>
    internal static async Task EnsureInstalledAsync(string directory, string installed)
    {
        var gate = s_installs.GetOrAdd(directory, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try
        {
            var marker = Path.Combine(directory, installed);
            if (File.Exists(marker) || System.IO.Directory.Exists(marker))
            {
                return;
            }

            using var npm = Process.Start(new ProcessStartInfo("npm", "ci --no-audit --no-fund")
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = npm.StandardOutput.ReadToEndAsync();
            var error = npm.StandardError.ReadToEndAsync();
            await npm.WaitForExitAsync();
            if (npm.ExitCode != 0)
            {
                throw new InvalidOperationException($"npm ci failed in {directory}: {await output}{await error}");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Whether the started peer is ready (it listens, or it said so); asked every <paramref name="poll"/> of <see cref="StartNodeAsync"/>.</summary>
    protected abstract Task<bool> IsReadyAsync();

    /// <summary>Starts <c>node SCRIPT PORT ARGUMENTS...</c> and waits until it is ready, or throws (exited, or not ready within <paramref name="timeout"/>).</summary>
    protected async Task StartNodeAsync(string script, IEnumerable<string> arguments, TimeSpan timeout, TimeSpan poll)
    {
        var info = new ProcessStartInfo("node") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(Port.ToString(CultureInfo.InvariantCulture));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"node {script} exited with {_process.ExitCode}:\n{Output}");
            }

            if (await IsReadyAsync())
            {
                return;
            }

            await Task.Delay(poll);
        }

        await KillAsync();
        throw new TimeoutException($"{Name} did not listen on port {Port} within {timeout.TotalSeconds} s; its last output:\n{Output}");
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_keepLines > 0 && _output.Count > _keepLines && _output.TryDequeue(out _))
        {
        }
    }

    /// <summary>Forgets what the peer printed so far.</summary>
    public void ClearOutput() => _output.Clear();

    /// <summary>Kills the peer (SIGKILL, which ends a stopped process too), as a crash or a switched-off device would vanish.</summary>
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

    /// <summary>Sends <paramref name="signal"/> (for example <c>-STOP</c>) to the peer's pid.</summary>
    protected async Task SignalAsync(string signal)
    {
        var pid = (_process ?? throw new InvalidOperationException("not running")).Id;
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { signal, pid.ToString(CultureInfo.InvariantCulture) } })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {pid} exited with {kill.ExitCode}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        GC.SuppressFinalize(this);
    }
}
