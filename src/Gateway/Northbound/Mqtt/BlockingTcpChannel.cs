using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Channel;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// A plain TCP connection to the broker (no TLS) used only with blocking system calls, so that the socket stays in
/// blocking mode: <see cref="CoalescingChannel"/> then receives on a thread of its own (<see cref="Receive"/>), woken
/// by the kernel when bytes arrive, instead of the socket event loop handing each receive to a thread-pool worker (at
/// full rate that hand-off, one per socket read carrying PUBACKs, was a large part of the gateway's CPU). An async
/// call on a .NET socket would switch it to non-blocking mode for good (its blocking calls are then emulated through
/// the event loop): there is none here, the connect included.
/// <para>
/// <see cref="Receive"/> can also wait for a minimum number of bytes (<c>SO_RCVLOWAT</c>, Linux): the channel asks for
/// the PUBACKs it knows are owed (4 bytes each at least), so that one wake-up reads many of them; a receive timeout
/// bounds that wait, and a closed connection or a signal ends it at once.
/// </para>
/// </summary>
public sealed class BlockingTcpChannel : IMqttChannel
{
    private const int SolSocket = 1;   // SOL_SOCKET (Linux)
    private const int SoRcvLowat = 18; // SO_RCVLOWAT (Linux)

    private readonly EndPoint _remote;
    private readonly MqttClientTcpOptions _options;
    private readonly Lock _sendLock = new();
    private Socket? _socket;
    private readonly int _lowWaterWaitMs;
    private readonly int _sendStallMs;
    private int _lowWater = 1;

    /// <param name="options">MQTTnet's TCP options (<see cref="Serves"/> them).</param>
    /// <param name="lowWaterWait">How long a receive waiting for its minimum may wait (<see cref="DefaultLowWaterWait"/>).</param>
    /// <param name="sendStall">How long a send may wait for a broker that takes no byte (<see cref="DefaultSendStall"/>).</param>
    public BlockingTcpChannel(MqttClientTcpOptions options, TimeSpan? lowWaterWait = null, TimeSpan? sendStall = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _lowWaterWaitMs = (int)Math.Max(1, (lowWaterWait ?? DefaultLowWaterWait).TotalMilliseconds);
        _sendStallMs = (int)Math.Max(1, (sendStall ?? DefaultSendStall).TotalMilliseconds);
        _options = options;
        _remote = options.RemoteEndpoint ?? throw new ArgumentException("no broker endpoint", nameof(options));
    }

    /// <summary>Whether <paramref name="options"/> can be served by this channel: plain TCP, no TLS, no stream of someone else's.</summary>
    public static bool Serves(MqttClientTcpOptions options) =>
        options is { RemoteEndpoint: not null, StreamProvider: null } && options.TlsOptions?.UseTls != true;

    /// <summary>Whether <see cref="Receive"/> can wait for a minimum number of bytes here (Linux).</summary>
    public static bool HasLowWaterMark => OperatingSystem.IsLinux();

    /// <summary>
    /// How long a receive waiting for its minimum may wait before it returns what there is (or nothing): the longest a
    /// packet for MQTTnet (a PINGRESP, an inbound message) can be held up behind PUBACKs that are late.
    /// </summary>
    public static readonly TimeSpan DefaultLowWaterWait = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How long a send blocks on a broker that takes no byte (its receive window closed: a wedged or silent broker that
    /// keeps the connection open) before the connection is given up (<c>SO_SNDTIMEO</c>): a blocking send cannot be
    /// cancelled, and MQTTnet's keep-alive would queue behind it. What was not acknowledged stays in the buffer and is
    /// sent again after the reconnect.
    /// </summary>
    public static readonly TimeSpan DefaultSendStall = TimeSpan.FromSeconds(10);

    public X509Certificate2 ClientCertificate => null!;

    public EndPoint RemoteEndPoint => _socket?.RemoteEndPoint ?? _remote;

    public EndPoint LocalEndPoint => _socket?.LocalEndPoint ?? new IPEndPoint(IPAddress.Any, 0);

    public bool IsSecureConnection => false;

    /// <summary>Bytes received by the kernel and not read yet (0 when not connected).</summary>
    public int Available => _socket?.Available ?? 0;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = _options.AddressFamily == AddressFamily.Unspecified
            ? new Socket(SocketType.Stream, _options.ProtocolType)
            : new Socket(_options.AddressFamily, SocketType.Stream, _options.ProtocolType);
        try
        {
            socket.NoDelay = _options.NoDelay;
            socket.SendTimeout = _sendStallMs;
            if (_options.LingerState is { } linger)
            {
                socket.LingerState = linger;
            }

            if (_options.DualMode is { } dual && socket.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = dual;
            }

            if (_options.LocalEndpoint is { } local)
            {
                socket.Bind(local);
            }

            // A blocking connect on a pool thread (ConnectAsync would make the socket non-blocking); a cancellation
            // (MQTTnet's connect timeout) closes the socket under it.
            using (cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket))
            {
                try
                {
                    await Task.Run(() => socket.Connect(_remote), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            _socket = socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public Task DisconnectAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Blocks until bytes arrive and returns how many were copied into <paramref name="buffer"/>; 0 when the broker
    /// closed the connection. With <paramref name="atLeast"/> over 1 (and <see cref="HasLowWaterMark"/>) the kernel
    /// waits for that many bytes, or the low-water wait, whichever comes first: -1 when that time passed with
    /// nothing received. Only one thread receives.
    /// </summary>
    public int Receive(Span<byte> buffer, int atLeast = 1)
    {
        var socket = _socket ?? throw new IOException("not connected");
        atLeast = HasLowWaterMark ? Math.Clamp(atLeast, 1, buffer.Length) : 1;
        if (atLeast > 1 && socket.Available is var queued and > 0)
        {
            // Linux wakes a receive blocked for a minimum only once that many bytes came after those it copied at the
            // start: ask for the rest only (and take what is there at once when it is half or more).
            atLeast = Math.Max(1, atLeast - queued);
        }
        if (atLeast != _lowWater)
        {
            // The timeout only while a minimum is asked for: a plain wait (nothing owed) may last as long as it likes.
            Span<byte> value = stackalloc byte[sizeof(int)];
            BitConverter.TryWriteBytes(value, atLeast);
            socket.SetRawSocketOption(SolSocket, SoRcvLowat, value);
            if ((atLeast > 1) != (_lowWater > 1))
            {
                socket.ReceiveTimeout = atLeast > 1 ? _lowWaterWaitMs : 0;
            }

            _lowWater = atLeast;
        }

        try
        {
            return socket.Receive(buffer, SocketFlags.None);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return -1;
        }
    }

    /// <summary>Not used by <see cref="CoalescingChannel"/> (it receives on its own thread); a blocking receive for other callers.</summary>
    public Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            var received = Receive(buffer.AsSpan(offset, count));
            if (received >= 0)
            {
                return Task.FromResult(received);
            }
        }
    }

    /// <summary>Sends everything, blocking while the kernel's send buffer is full.</summary>
    public Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken)
    {
        var socket = _socket ?? throw new IOException("not connected");
        lock (_sendLock)
        {
            foreach (var segment in buffer)
            {
                var span = segment.Span;
                while (span.Length > 0)
                {
                    try
                    {
                        span = span[socket.Send(span, SocketFlags.None)..];
                    }
                    catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
                    {
                        throw new IOException($"the broker took no byte for {_sendStallMs / 1000.0:0.#} s: connection given up", ex);
                    }
                }
            }
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        var socket = Interlocked.Exchange(ref _socket, null);
        if (socket is null)
        {
            return;
        }

        try
        {
            socket.Shutdown(SocketShutdown.Both); // wakes a receive blocked in the kernel
        }
        catch (SocketException)
        {
            // Not connected any more.
        }

        socket.Dispose();
    }
}
