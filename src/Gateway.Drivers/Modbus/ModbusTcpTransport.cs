using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Drivers.Modbus;

/// <summary>
/// Modbus TCP: MBAP framing over one kept-open connection. Each request gets a new transaction id; a response whose
/// transaction id or unit id does not match is discarded and counted, never accepted (a late answer to a timed-out
/// request must not be taken for the answer to the next one). A malformed MBAP header means the byte stream can no
/// longer be trusted, so the connection is dropped.
/// </summary>
public sealed class ModbusTcpTransport : IModbusTransport
{
    private readonly Func<CancellationToken, ValueTask<Stream>> _connect;
    private readonly TimeProvider _timeProvider;
    private readonly ReusableTimeout _timeout;
    private readonly ILogger _logger;
    private readonly string _peer;
    private readonly byte[] _transmit = new byte[MbapHeader.Size + ModbusLimits.MaxPduLength];
    private readonly byte[] _receive = new byte[MbapHeader.Size + 256];
    private Stream? _stream;
    private ushort _transactionId;
    private long _discarded;
    private bool _midFrame;
    private int _consecutiveTimeouts;
    private RateLimitedLog? _discardedLog;
    private RateLimitedLog? _malformedLog;

    public ModbusTcpTransport(string host, int port, TimeProvider timeProvider, ILogger? logger = null)
        : this(cancellationToken => ConnectAsync(host, port, cancellationToken), $"{host}:{port}", timeProvider, logger)
    {
    }

    /// <summary>A transport over any stream the <paramref name="connect"/> function opens (tests use in-memory pipes).</summary>
    public ModbusTcpTransport(Func<CancellationToken, ValueTask<Stream>> connect, string peer, TimeProvider timeProvider, ILogger? logger = null)
    {
        _connect = connect;
        _peer = peer;
        _timeProvider = timeProvider;
        _timeout = new ReusableTimeout(timeProvider);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Who this transport serves, as its log lines name it (the factory sets <c>Modbus driver NAME</c>).</summary>
    public string Source { get; init; } = "Modbus TCP client";

    /// <summary>Consecutive timeouts, with no response in between, after which the connection is reopened.</summary>
    public int ReconnectAfterTimeouts { get; init; } = 3;

    public long DiscardedFrames => Interlocked.Read(ref _discarded);

    public bool IsConnected => _stream is not null;

    // Pooled state machines: a request that really waits for the socket allocates nothing (1000 polls/s at 1 ms).
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> TransceiveAsync(byte unitId, ReadOnlyMemory<byte> request, Memory<byte> response, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (request.Length is < 1 or > ModbusLimits.MaxPduLength)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Length, "a PDU has 1 to 253 bytes");
        }

        // One timeout source, reset and reused while requests succeed: no allocation per request on the hot path.
        using var timeoutLease = _timeout.Start(timeout, cancellationToken);
        var token = timeoutLease.Token;
        _discardedLog?.Flush();
        _malformedLog?.Flush();
        try
        {
            var stream = _stream ??= await _connect(token);
            var transactionId = unchecked(++_transactionId);
            new MbapHeader(transactionId, 0, (ushort)(request.Length + 1), unitId).Write(_transmit);
            request.Span.CopyTo(_transmit.AsSpan(MbapHeader.Size));
            _midFrame = true; // a write cut short leaves the peer with half a request
            await stream.WriteAsync(_transmit.AsMemory(0, MbapHeader.Size + request.Length), token);
            _midFrame = false;
            while (true)
            {
                await ReadExactAsync(stream, _receive.AsMemory(0, MbapHeader.Size), token);
                var header = MbapHeader.Read(_receive);
                if (!header.IsValid)
                {
                    _malformedLog ??= new RateLimitedLog(_logger, _timeProvider, Source, $"invalid MBAP headers from {_peer}");
                    if (_malformedLog.ShouldLog())
                    {
                        ModbusTcpLog.InvalidHeader(_logger, Source, _peer, header.ProtocolId, header.Length);
                    }

                    Disconnect();
                    throw new ModbusProtocolException($"invalid MBAP header from {_peer} (protocol {header.ProtocolId}, length {header.Length}); connection dropped");
                }

                await ReadExactAsync(stream, _receive.AsMemory(MbapHeader.Size, header.PduLength), token);
                _midFrame = false;
                if (header.TransactionId != transactionId || header.UnitId != unitId)
                {
                    Interlocked.Increment(ref _discarded);
                    _discardedLog ??= new RateLimitedLog(_logger, _timeProvider, Source, $"discarded responses from {_peer}");
                    if (_discardedLog.ShouldLog())
                    {
                        ModbusTcpLog.Discarded(_logger, Source, _peer, header.TransactionId, header.UnitId, transactionId, unitId);
                    }


                    continue;
                }

                if (header.PduLength > response.Length)
                {
                    throw new ModbusProtocolException($"response of {header.PduLength} bytes does not fit the buffer");
                }

                _receive.AsSpan(MbapHeader.Size, header.PduLength).CopyTo(response.Span);
                _consecutiveTimeouts = 0;
                return header.PduLength;
            }
        }
        catch (OperationCanceledException) when (timeoutLease.TimedOut)
        {
            if (_midFrame || ++_consecutiveTimeouts >= ReconnectAfterTimeouts)
            {
                // Part of a frame was read or written (the stream position is unknown), or the peer has been silent
                // for several requests in a row (a half-open connection looks exactly like that): start afresh.
                Disconnect();
            }

            throw new TimeoutException($"no response from {_peer} unit {unitId} within {timeout.TotalMilliseconds:0} ms");
        }
        catch (OperationCanceledException)
        {
            if (_midFrame)
            {
                Disconnect();
            }

            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Disconnect();
            if (ex is ModbusProtocolException or ModbusConnectionException)
            {
                throw;
            }

            throw new IOException($"connection to {_peer} lost: {ex.Message}", ex);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadExactAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[read..], cancellationToken);
            if (n == 0)
            {
                throw new EndOfStreamException($"{_peer} closed the connection");
            }

            read += n;
            _midFrame = true;
        }
    }

    public void Disconnect()
    {
        var stream = _stream;
        _stream = null;
        _midFrame = false;
        _consecutiveTimeouts = 0;
        stream?.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Disconnect();
        _timeout.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Opens a TCP connection with Nagle off (requests are small and latency-bound).</summary>
    public static async ValueTask<Stream> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ModbusConnectionException($"cannot connect to {host}:{port}: {ex.SocketErrorCode} ({ex.Message})", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

internal static partial class ModbusTcpLog
{
    [LoggerMessage(EventId = 1150, Level = LogLevel.Warning, Message = "{Source}: discarded a response from {Peer}: transaction {TransactionId} unit {UnitId}, expected transaction {ExpectedTransactionId} unit {ExpectedUnitId} (a late answer or a peer that does not echo transaction ids; further ones are summed up once a minute)")]
    public static partial void Discarded(ILogger logger, string source, string peer, ushort transactionId, byte unitId, ushort expectedTransactionId, byte expectedUnitId);

    [LoggerMessage(EventId = 1151, Level = LogLevel.Warning, Message = "{Source}: invalid MBAP header from {Peer} (protocol {ProtocolId}, length {Length}); connection dropped")]
    public static partial void InvalidHeader(ILogger logger, string source, string peer, ushort protocolId, ushort length);
}
