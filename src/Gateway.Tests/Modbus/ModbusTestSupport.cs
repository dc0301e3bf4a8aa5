using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;

using Xunit;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Modbus;

internal static class FreePort
{
    /// <summary>A loopback port free right now (the OS picks it).</summary>
    public static int Next() => Infrastructure.PortAllocator.FreeTcpPort();
}

/// <summary>A child process (a peer) killed with its process tree on dispose.</summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    public PeerProcess(string fileName, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {fileName}");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

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

    public bool HasExited => _process.HasExited;

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

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}

internal static class Peers
{
    public const string Python = "/usr/bin/python3";

    public static string ModbusScript => Path.Combine(AppContext.BaseDirectory, "peers", "modbus_server.py");

    /// <summary>Retries <paramref name="probe"/> until it succeeds or the deadline passes.</summary>
    public static Task WaitUntilAsync(Func<Task<bool>> probe, TimeSpan deadline, Func<string> describe) =>
        Eventually.TrueAsync(probe, () => "peer not ready: " + describe(), deadline, ex => ex is IOException or TimeoutException or SocketException or UnauthorizedAccessException);
}

/// <summary>pymodbus (Debian) serving tests/peers/modbus_server.py over TCP on a free loopback port.</summary>
public class PymodbusTcpFixture : IAsyncLifetime, IDisposable
{
    private PeerProcess? _peer;

    /// <summary>The script's mode: <c>tcp</c> (MBAP) or <c>rtutcp</c> (RTU frames over TCP).</summary>
    protected virtual string Mode => "tcp";

    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            Port = FreePort.Next();
            _peer = new PeerProcess(Peers.Python, Peers.ModbusScript, Mode, Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            try
            {
                await Peers.WaitUntilAsync(
                    async () =>
                    {
                        await using var client = NewClient();
                        await client.ReadHoldingRegistersAsync(1, 0, 1, TimeSpan.FromMilliseconds(500), CancellationToken.None);
                        return true;
                    },
                    TimeSpan.FromSeconds(15),
                    () => _peer.Output);
                return;
            }
            catch (TimeoutException) when (attempt < 2)
            {
                _peer.Dispose();
            }
        }
    }

    public virtual ModbusClient NewClient() => new(new ModbusTcpTransport("127.0.0.1", Port, TimeProvider.System));

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _peer?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>pymodbus with its RTU framer on a TCP socket: RTU over TCP.</summary>
public sealed class PymodbusRtuOverTcpFixture : PymodbusTcpFixture
{
    protected override string Mode => "rtutcp";

    public override ModbusClient NewClient() =>
        new(new ModbusRtuTransport(new TcpSerialLine("127.0.0.1", Port), $"127.0.0.1:{Port}", 0, TimeProvider.System));
}

/// <summary>pymodbus serving RTU on one end of a socat pseudo-terminal pair; the client opens the other end.</summary>
public sealed class PymodbusRtuFixture : IAsyncLifetime, IDisposable
{
    private PeerProcess? _socat;
    private PeerProcess? _peer;
    private string _directory = "";

    public string ClientPort => Path.Combine(_directory, "tty_cli");

    public async Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("gateway-rtu-").FullName;
        var server = Path.Combine(_directory, "tty_srv");
        _socat = new PeerProcess("socat", "-d", "-d", $"pty,raw,echo=0,link={server}", $"pty,raw,echo=0,link={ClientPort}");
        await Peers.WaitUntilAsync(() => Task.FromResult(File.Exists(server) && File.Exists(ClientPort)), TimeSpan.FromSeconds(10), () => _socat.Output);
        _peer = new PeerProcess(Peers.Python, Peers.ModbusScript, "rtu", server, "19200");
        await Peers.WaitUntilAsync(
            async () =>
            {
                await using var client = NewClient();
                await client.ReadHoldingRegistersAsync(1, 0, 1, TimeSpan.FromMilliseconds(500), CancellationToken.None);
                return true;
            },
            TimeSpan.FromSeconds(15),
            () => _peer.Output + _socat.Output);
    }

    public ModbusClient NewClient() =>
        new(new ModbusRtuTransport(new SerialPortLine(ClientPort, 19200, ModbusParity.None), ClientPort, 19200, TimeProvider.System));

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _peer?.Dispose();
        _socat?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Collects samples from a driver; <see cref="For"/> looks a tag up by its key.</summary>
internal sealed class CollectingWriter : Infrastructure.SampleRecorder
{
    public List<Sample> For(string key) => ForKey(key);
}

/// <summary>
/// An in-memory transport that answers from data stores, one per unit; a unit without a store never answers
/// (the call waits for the timeout on the given clock, then throws).
/// </summary>
internal sealed class LoopbackTransport(TimeProvider timeProvider, Dictionary<byte, ModbusDataStore> units) : IModbusTransport
{
    public long DiscardedFrames => 0;

    public bool IsConnected => true;

    public int Requests;

    public async ValueTask<int> TransceiveAsync(byte unitId, ReadOnlyMemory<byte> request, Memory<byte> response, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Requests);
        if (!units.TryGetValue(unitId, out var store))
        {
            await Task.Delay(timeout, timeProvider, cancellationToken);
            throw new TimeoutException($"unit {unitId} did not answer");
        }

        return store.Process(request.Span, response.Span);
    }

    public void Disconnect()
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
