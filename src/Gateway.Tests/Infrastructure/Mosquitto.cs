using System.Diagnostics;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real mosquitto broker on a free loopback port, with persistence in a temporary folder so that a
/// persistent subscriber keeps its queued messages across a broker restart. Stop and start it to
/// simulate an outage.
/// </summary>
public sealed class Mosquitto : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _configFile;
    private Process? _process;

    /// <param name="extraConfig">Lines appended to the configuration.</param>
    /// <param name="listeners">Replaces the default anonymous listener; <c>{PORT}</c> is the broker's main port.</param>
    public Mosquitto(string? extraConfig = null, string? listeners = null)
    {
        Port = PortAllocator.FreeTcpPort();
        _directory = System.IO.Directory.CreateTempSubdirectory("gw-mosquitto-").FullName;
        _configFile = Path.Combine(_directory, "mosquitto.conf");
        var listenerLines = listeners?.Replace("{PORT}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            ?? $"listener {Port} 127.0.0.1\nallow_anonymous true";
        File.WriteAllText(_configFile, $"""
            {listenerLines}
            persistence true
            persistence_location {_directory}/
            autosave_interval 1
            max_queued_messages 0
            max_inflight_messages 0
            log_dest file {_directory}/mosquitto.log
            user root
            {extraConfig}
            """);
    }

    public int Port { get; }

    /// <summary>The broker's working folder (certificates and password files go here).</summary>
    public string Directory => _directory;

    public string Log => File.Exists(Path.Combine(_directory, "mosquitto.log")) ? File.ReadAllText(Path.Combine(_directory, "mosquitto.log")) : "";

    public static string Executable => File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";

    public async Task StartAsync()
    {
        _process = Process.Start(new ProcessStartInfo(Executable, ["-c", _configFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            await PortAllocator.WaitForPortAsync(Port, TimeSpan.FromSeconds(10));
        }
        catch (SocketException ex)
        {
            // Say why: a broker that exited (its configuration, a certificate, the port) left its reason in its log.
            var state = _process.HasExited ? $"exited with {_process.ExitCode}" : "still running";
            throw new InvalidOperationException($"mosquitto on port {Port} did not listen within 10 s ({state}); its log:\n{Log}", ex);
        }
    }

    /// <summary>SIGHUP: mosquitto reloads its configuration, password file and ACL file.</summary>
    public async Task ReloadAsync()
    {
        using var hup = Process.Start("kill", ["-HUP", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await hup!.WaitForExitAsync();
    }

    /// <summary>Stops the broker cleanly (SIGTERM): it saves its persistence file.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync(timeout.Token);
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
