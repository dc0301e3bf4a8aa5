using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// An MQTT broker other than mosquitto, started by a test on free loopback ports and stopped after it. Brokers differ
/// where the gateway notices: aedes and RabbitMQ 3.10 speak MQTT 3.1.1 only (they refuse a v5 CONNECT, each its own
/// way), RabbitMQ answers a QoS 2 PUBLISH with a PUBACK and gives retained messages only to exact-topic
/// subscriptions.
/// </summary>
public abstract class TestBroker : IAsyncDisposable
{
    private readonly StringBuilder _output = new();

    /// <summary><c>aedes</c> or <c>rabbitmq</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The MQTT port (127.0.0.1).</summary>
    public abstract int Port { get; }

    /// <summary>What the broker printed.</summary>
    public string Log
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a broker by name: <c>aedes</c> or <c>rabbitmq</c>.</summary>
    public static async Task<TestBroker> StartNewAsync(string name)
    {
        TestBroker broker = name switch
        {
            "aedes" => new AedesBroker(),
            "rabbitmq" => new RabbitMqBroker(),
            _ => throw new ArgumentException("unknown broker " + name, nameof(name)),
        };
        try
        {
            await broker.StartAsync();
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }

        return broker;
    }

    /// <summary>Starts the broker (again, after <see cref="StopAsync"/>, with what it stored) and waits until its MQTT port accepts.</summary>
    public abstract Task StartAsync();

    /// <summary>The broker goes away: every connection dropped, the port closed. Its store (sessions, retained) is kept.</summary>
    public abstract Task StopAsync();

    public abstract ValueTask DisposeAsync();

    protected void Keep(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    protected Process Launch(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var process = Process.Start(info) ?? throw new InvalidOperationException(info.FileName + " did not start");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    protected static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    protected async Task WaitForPortAsync(Process process, int port, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode}:\n{Log}");
            }

            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (deadline.Elapsed < timeout)
            {
                await Task.Delay(100);
            }
            catch (System.Net.Sockets.SocketException)
            {
                throw new TimeoutException($"{Name} did not listen on {port} within {timeout.TotalSeconds} s:\n{Log}");
            }
        }
    }

    protected static async Task EndAsync(Process? process)
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    /// <summary>The folder of a peer under tests/peers, found above the test assembly.</summary>
    internal static string PeerDirectory(string peer)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !System.IO.Directory.Exists(Path.Combine(directory.FullName, "tests", "peers", peer)))
        {
            directory = directory.Parent;
        }

        return directory is null
            ? throw new InvalidOperationException($"tests/peers/{peer} not found above {AppContext.BaseDirectory}")
            : Path.Combine(directory.FullName, "tests", "peers", peer);
    }
}

/// <summary>
/// aedes 1.2.0 (npm, tests/peers/aedes/server.mjs): MQTT 3.1.1 only, answering a v5 CONNECT with a 3.1.1 CONNACK
/// "unacceptable protocol version". Its store is in memory: <see cref="StopAsync"/> drops every connection and closes
/// the port (SIGUSR1), <see cref="StartAsync"/> listens again (SIGUSR2), so sessions and retained messages survive the
/// outage as they do on a broker with a disk store.
/// </summary>
public sealed class AedesBroker : TestBroker
{
    private Process? _process;

    public AedesBroker()
    {
        Port = PortAllocator.FreeTcpPort();
    }

    public override string Name => "aedes";

    public override int Port { get; }

    public override async Task StartAsync()
    {
        if (_process is not null)
        {
            await SignalAsync(_process, "USR2");
            await WaitForPortAsync(_process, Port, TimeSpan.FromSeconds(10));
            return;
        }

        await EnsureInstalledAsync();
        var info = new ProcessStartInfo("node", ["server.mjs", Port.ToString(CultureInfo.InvariantCulture)]) { WorkingDirectory = PeerDirectory("aedes") };
        _process = Launch(info);
        await WaitForPortAsync(_process, Port, TimeSpan.FromSeconds(30));
    }

    public override async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        await SignalAsync(_process, "USR1");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, Port);
                await Task.Delay(50);
            }
            catch (System.Net.Sockets.SocketException)
            {
                return;
            }
        }

        throw new TimeoutException("aedes still listens after SIGUSR1");
    }

    public override async ValueTask DisposeAsync()
    {
        await EndAsync(_process);
        _process = null;
    }

    private static Task EnsureInstalledAsync() =>
        NodePeerProcess.EnsureInstalledAsync(PeerDirectory("aedes"), Path.Combine("node_modules", "aedes", "package.json"));
}

/// <summary>
/// RabbitMQ 3.10 (Debian's rabbitmq-server) with its MQTT plugin, as a node of its own: its own epmd on a free port
/// (ERL_EPMD_PORT), its own node name, data and log folders in a temporary folder, AMQP and MQTT listeners on free
/// loopback ports (rabbitmq.conf), only rabbitmq_mqtt enabled. It closes the connection on an MQTT 5 CONNECT without
/// answering, answers a QoS 2 PUBLISH with a PUBACK, and delivers retained messages only to exact-topic
/// subscriptions. <see cref="StopAsync"/> stops the node cleanly (SIGTERM); <see cref="StartAsync"/> starts it again
/// on the same data folder (durable sessions and retained messages survive).
/// </summary>
public sealed class RabbitMqBroker : TestBroker
{
    private const string Server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private readonly string _directory;
    private readonly int _amqpPort;
    private readonly int _epmdPort;
    private Process? _epmd;
    private Process? _node;

    public RabbitMqBroker()
    {
        Port = PortAllocator.FreeTcpPort();
        _amqpPort = PortAllocator.FreeTcpPort();
        _epmdPort = PortAllocator.FreeTcpPort();
        _directory = System.IO.Directory.CreateTempSubdirectory("gw-rabbitmq-").FullName;
        File.WriteAllText(Path.Combine(_directory, "rabbitmq.conf"), $"""
            listeners.tcp.default = 127.0.0.1:{_amqpPort}
            mqtt.listeners.tcp.default = 127.0.0.1:{Port}
            mqtt.allow_anonymous = true
            log.console = true
            log.console.level = warning
            log.file = false
            """);
        File.WriteAllText(Path.Combine(_directory, "enabled_plugins"), "[rabbitmq_mqtt].\n");
    }

    public override string Name => "rabbitmq";

    public override int Port { get; }

    public static bool Installed => File.Exists(Server);

    public override async Task StartAsync()
    {
        if (!Installed)
        {
            throw new InvalidOperationException("rabbitmq-server is not installed (apt-get install rabbitmq-server; test.sh does it)");
        }

        if (_epmd is null)
        {
            _epmd = Launch(new ProcessStartInfo("epmd", ["-port", _epmdPort.ToString(CultureInfo.InvariantCulture), "-address", "127.0.0.1"]));
            await WaitForPortAsync(_epmd, _epmdPort, TimeSpan.FromSeconds(10));
        }

        var info = new ProcessStartInfo(Server) { WorkingDirectory = _directory };
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = _directory,
            ["RABBITMQ_NODENAME"] = $"gw{Port}@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = _amqpPort.ToString(CultureInfo.InvariantCulture),
            // The inter-node port defaults to the AMQP port + 20000, which may be taken: one chosen free.
            ["RABBITMQ_DIST_PORT"] = PortAllocator.FreeTcpPort().ToString(CultureInfo.InvariantCulture),
            ["ERL_EPMD_PORT"] = _epmdPort.ToString(CultureInfo.InvariantCulture),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(_directory, "advanced.config"),
            // Not Debian's /etc/rabbitmq/rabbitmq-env.conf.
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(_directory, "rabbitmq-env.conf"),
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        _node = Launch(info);
        // About 9 s on an idle machine; far more on a loaded one.
        await WaitForPortAsync(_node, Port, TimeSpan.FromSeconds(120));
    }

    public override async Task StopAsync()
    {
        if (_node is null)
        {
            return;
        }

        // The start script turns SIGTERM into a clean stop of the node.
        await SignalAsync(_node, "TERM");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await _node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }

        await EndAsync(_node);
        _node = null;
    }

    public override async ValueTask DisposeAsync()
    {
        await StopAsync();
        await EndAsync(_epmd);
        _epmd = null;
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
