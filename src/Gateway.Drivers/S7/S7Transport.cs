using System.Buffers.Binary;
using System.Net.Sockets;

namespace Gateway.Drivers.S7;

/// <summary>
/// ISO-on-TCP (RFC 1006): TPKT frames carrying COTP (ISO 8073 class 0). Opens the connection with a COTP connection
/// request for a TSAP pair, then moves whole S7 PDUs: one DT TPDU out, and in, DT fragments reassembled until the one
/// marked end of TSDU. Knows nothing of S7 itself. Not thread-safe: the client sends one job at a time.
/// </summary>
public sealed class S7IsoTransport : IAsyncDisposable
{
    /// <summary>Largest TPKT accepted: a 4096-byte payload (snap7's and the S7-1500's largest) and headers.</summary>
    public const int MaxFrameSize = 4096 + S7Wire.TpktHeaderSize + S7Wire.CotpDataHeaderSize;

    /// <summary>Largest reassembled S7 PDU accepted.</summary>
    public const int MaxPduBytes = 8192;

    private readonly Func<CancellationToken, ValueTask<Stream>> _connect;
    private readonly byte[] _frame = new byte[MaxFrameSize];
    private Stream? _stream;

    public S7IsoTransport(string host, int port, ushort localTsap, ushort remoteTsap)
        : this(cancellationToken => ConnectTcpAsync(host, port, cancellationToken), $"{host}:{port}", localTsap, remoteTsap)
    {
    }

    /// <summary>A transport over any stream <paramref name="connect"/> opens (tests use in-memory pipes).</summary>
    public S7IsoTransport(Func<CancellationToken, ValueTask<Stream>> connect, string peer, ushort localTsap, ushort remoteTsap)
    {
        _connect = connect;
        Peer = peer;
        LocalTsap = localTsap;
        RemoteTsap = remoteTsap;
    }

    public string Peer { get; }

    public ushort LocalTsap { get; }

    public ushort RemoteTsap { get; }

    public bool IsConnected => _stream is not null;

    /// <summary>Opens TCP and the ISO connection. Throws <see cref="S7ConnectionException"/> when either is refused.</summary>
    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        Disconnect();
        Stream stream;
        try
        {
            stream = await _connect(cancellationToken);
        }
        catch (SocketException ex)
        {
            throw new S7ConnectionException($"cannot connect to {Peer}: {ex.Message} (is the CPU reachable, and port 102 open?)", ex);
        }

        try
        {
            var length = S7Wire.WriteConnectionRequest(_frame, LocalTsap, RemoteTsap);
            await stream.WriteAsync(_frame.AsMemory(0, length), cancellationToken);
            var (cotp, _) = await ReadFrameAsync(stream, cancellationToken);
            var type = cotp.Length > 1 ? (byte)(cotp.Span[1] & 0xF0) : (byte)0;
            if (type != S7Wire.CotpConnectionConfirm)
            {
                throw new S7ConnectionException(
                    $"{Peer} refused the ISO connection for remote TSAP 0x{RemoteTsap:X4} (COTP 0x{type:X2}): check rack and slot (S7-300: rack 0, slot 2; S7-400: the CPU's slot in its rack; S7-1200/1500: rack 0, slot 1 or 0), or the TSAP pair for a LOGO! or S7-200 Smart");
            }
        }
        catch (Exception ex) when (ex is IOException and not S7ConnectionException and not S7ProtocolException || ex is SocketException or ObjectDisposedException)
        {
            await stream.DisposeAsync();
            throw new S7ConnectionException(
                $"{Peer} closed the connection on the ISO connection request for remote TSAP 0x{RemoteTsap:X4}: check rack and slot (S7-300: rack 0, slot 2; S7-1200/1500: rack 0, slot 1), or the TSAP pair", ex);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }

        _stream = stream;
    }

    /// <summary>Sends one S7 PDU in one COTP DT TPDU.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> pdu, CancellationToken cancellationToken)
    {
        var stream = _stream ?? throw new InvalidOperationException("not connected");
        var length = S7Wire.TpktHeaderSize + S7Wire.CotpDataHeaderSize + pdu.Length;
        if (length > _frame.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(pdu), pdu.Length, "larger than one TPKT frame");
        }

        S7Wire.WriteTpkt(_frame, length);
        _frame[4] = 0x02;
        _frame[5] = S7Wire.CotpData;
        _frame[6] = 0x80; // TPDU number 0, end of TSDU
        pdu.CopyTo(_frame.AsMemory(S7Wire.TpktHeaderSize + S7Wire.CotpDataHeaderSize));
        await stream.WriteAsync(_frame.AsMemory(0, length), cancellationToken);
    }

    /// <summary>Receives one S7 PDU (DT fragments reassembled) into <paramref name="buffer"/>; returns its length.</summary>
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var stream = _stream ?? throw new InvalidOperationException("not connected");
        var total = 0;
        while (true)
        {
            var (cotp, payload) = await ReadFrameAsync(stream, cancellationToken);
            var header = cotp.Span;
            if (header.Length < 3 || (header[1] & 0xF0) != S7Wire.CotpData)
            {
                if (header.Length > 1 && (header[1] & 0xF0) is S7Wire.CotpDisconnectRequest or S7Wire.CotpError)
                {
                    throw new S7ConnectionException($"{Peer} ended the ISO connection (COTP 0x{header[1] & 0xF0:X2})");
                }

                throw new S7ProtocolException($"unexpected COTP TPDU 0x{(header.Length > 1 ? header[1] : 0):X2} from {Peer}, expected data");
            }

            if (total + payload.Length > buffer.Length)
            {
                throw new S7ProtocolException($"S7 PDU from {Peer} larger than {buffer.Length} bytes");
            }

            payload.CopyTo(buffer[total..]);
            total += payload.Length;
            if ((header[2] & 0x80) != 0)
            {
                // Empty end-of-TSDU fragments are acknowledgements some stacks send: wait for a real PDU.
                if (total > 0)
                {
                    return total;
                }
            }
        }
    }

    /// <summary>Reads one TPKT frame and splits it into its COTP header (length byte included) and its payload.</summary>
    private async ValueTask<(ReadOnlyMemory<byte> Cotp, ReadOnlyMemory<byte> Payload)> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        await ReadExactAsync(stream, _frame.AsMemory(0, S7Wire.TpktHeaderSize), cancellationToken);
        var (length, problem) = S7Frames.CheckTpkt(_frame.AsSpan(0, S7Wire.TpktHeaderSize));
        if (problem is not null)
        {
            throw new S7ProtocolException($"{problem} from {Peer}");
        }

        await ReadExactAsync(stream, _frame.AsMemory(S7Wire.TpktHeaderSize, length - S7Wire.TpktHeaderSize), cancellationToken);
        var (cotpLength, cotpProblem) = S7Frames.CheckCotp(_frame.AsSpan(S7Wire.TpktHeaderSize, length - S7Wire.TpktHeaderSize));
        if (cotpProblem is not null)
        {
            throw new S7ProtocolException($"{cotpProblem} from {Peer}");
        }

        var cotp = _frame.AsMemory(S7Wire.TpktHeaderSize, cotpLength);
        return (cotp, _frame.AsMemory(S7Wire.TpktHeaderSize + cotpLength, length - S7Wire.TpktHeaderSize - cotpLength));
    }

    private static async ValueTask ReadExactAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken);
        }
        catch (EndOfStreamException ex)
        {
            throw new IOException("the CPU closed the connection", ex);
        }
    }

    private static async ValueTask<Stream> ConnectTcpAsync(string host, int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(host, port, cancellationToken);
            return client.GetStream();
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Closes the connection; the next <see cref="ConnectAsync"/> opens a new one.</summary>
    public void Disconnect()
    {
        var stream = _stream;
        _stream = null;
        stream?.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Disconnect();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Checks of TPKT and COTP headers, apart so that the fuzz tests reach them without a connection.</summary>
public static class S7Frames
{
    /// <summary>The frame length of a TPKT header, or why it is not one.</summary>
    public static (int Length, string? Problem) CheckTpkt(ReadOnlySpan<byte> header)
    {
        if (header[0] != 0x03)
        {
            return (0, $"not a TPKT frame (version 0x{header[0]:X2})");
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
        if (length < S7Wire.TpktHeaderSize + 2 || length > S7IsoTransport.MaxFrameSize)
        {
            return (0, $"TPKT frame of {length} bytes (accepted: {S7Wire.TpktHeaderSize + 2} to {S7IsoTransport.MaxFrameSize})");
        }

        return (length, null);
    }

    /// <summary>The COTP header's length (its length byte included) within a TPKT payload, or why it is malformed.</summary>
    public static (int Length, string? Problem) CheckCotp(ReadOnlySpan<byte> payload)
    {
        var headerLength = payload[0] + 1;
        if (headerLength < 2 || headerLength > payload.Length)
        {
            return (0, $"COTP header of {headerLength} bytes in a payload of {payload.Length}");
        }

        return (headerLength, null);
    }
}
