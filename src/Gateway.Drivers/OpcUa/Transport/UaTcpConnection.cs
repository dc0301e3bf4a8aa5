using System.Buffers.Binary;
using System.Net.Sockets;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.Transport;

/// <summary>What Hello asks for and Acknowledge grants (OPC 10000-6 §7.1.2).</summary>
public sealed record TransportLimits
{
    /// <summary>Largest chunk we accept (at least 8192).</summary>
    public uint ReceiveBufferSize { get; init; } = 65535;

    /// <summary>Largest chunk we will send.</summary>
    public uint SendBufferSize { get; init; } = 65535;

    /// <summary>Largest message we accept; some servers refuse 0, so a real size is asked for.</summary>
    public uint MaxMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Most chunks per message we accept.</summary>
    public uint MaxChunkCount { get; init; } = 5000;
}

/// <summary>One UA TCP chunk as received: its 3-letter type, its chunk type (F, C, A) and the whole chunk bytes.</summary>
public readonly record struct UaChunk(string MessageType, char ChunkType, byte[] Bytes);

/// <summary>
/// The UA TCP transport (OPC 10000-6 §7.1): a socket, the Hello/Acknowledge handshake with negotiated buffer
/// sizes and chunk counts, and reading and writing whole chunks. Knows nothing of secure channels.
/// </summary>
public sealed class UaTcpConnection : IAsyncDisposable
{
    public const int HeaderSize = 8;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _header = new byte[HeaderSize];

    private UaTcpConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Largest chunk we may send (the server's receive buffer).</summary>
    public uint SendBufferSize { get; private set; }

    /// <summary>Largest chunk the server will send us.</summary>
    public uint ReceiveBufferSize { get; private set; }

    /// <summary>Largest message the server accepts; 0 = no limit.</summary>
    public uint SendMaxMessageSize { get; private set; }

    /// <summary>Most chunks per message the server accepts; 0 = no limit.</summary>
    public uint SendMaxChunkCount { get; private set; }

    /// <summary>Our own limits for what we receive.</summary>
    public TransportLimits Limits { get; private set; } = new();

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> and completes Hello/Acknowledge for <paramref name="endpointUrl"/>.</summary>
    public static async Task<UaTcpConnection> ConnectAsync(string host, int port, string endpointUrl, TransportLimits limits, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new UaConnectionException(SampleStatus.BadNotConnected, $"cannot connect to {host}:{port}: {ex.Message}", ex);
        }

        var connection = new UaTcpConnection(socket);
        try
        {
            await connection.HelloAsync(endpointUrl, limits, cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task HelloAsync(string endpointUrl, TransportLimits limits, CancellationToken cancellationToken)
    {
        var buffer = new UaBuffer(128);
        var e = new UaEncoder(buffer);
        e.WriteBytes("HELF"u8);
        e.WriteUInt32(0);
        e.WriteUInt32(0); // protocol version
        e.WriteUInt32(limits.ReceiveBufferSize);
        e.WriteUInt32(limits.SendBufferSize);
        e.WriteUInt32(limits.MaxMessageSize);
        e.WriteUInt32(limits.MaxChunkCount);
        e.WriteString(endpointUrl);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.Written(4, 4), (uint)buffer.Length);
        await WriteAsync(buffer.WrittenMemory, cancellationToken);

        // Until the Acknowledge, accept up to 8192 bytes (an ERR with a reason).
        ReceiveBufferSize = 8192;
        var chunk = await ReadChunkAsync(cancellationToken);
        if (chunk.MessageType == "ERR")
        {
            var (code, reason) = ParseError(chunk.Bytes);
            throw new UaConnectionException(code, $"server refused the connection: {reason}");
        }

        if (chunk.MessageType != "ACK")
        {
            throw new UaConnectionException(SampleStatus.BadTcpMessageTypeInvalid, $"expected ACK, got {chunk.MessageType}");
        }

        var d = new UaDecoder(chunk.Bytes.AsSpan(HeaderSize));
        try
        {
            _ = d.ReadUInt32();
            var serverReceive = d.ReadUInt32();
            var serverSend = d.ReadUInt32();
            var serverMaxMessage = d.ReadUInt32();
            var serverMaxChunks = d.ReadUInt32();
            if (serverReceive < 8192 || serverSend < 8192)
            {
                throw new UaConnectionException(SampleStatus.BadTcpMessageTypeInvalid, $"server buffers below 8192 bytes ({serverReceive}/{serverSend})");
            }

            SendBufferSize = Math.Min(serverReceive, limits.SendBufferSize);
            ReceiveBufferSize = Math.Min(serverSend, limits.ReceiveBufferSize);
            SendMaxMessageSize = serverMaxMessage;
            SendMaxChunkCount = serverMaxChunks;
            Limits = limits with { ReceiveBufferSize = ReceiveBufferSize, SendBufferSize = SendBufferSize };
        }
        catch (UaDecodingException ex)
        {
            throw new UaConnectionException(SampleStatus.BadDecodingError, "malformed Acknowledge", ex);
        }
    }

    /// <summary>Parses an ERR message: UInt32 error code, String reason.</summary>
    public static (uint Code, string Reason) ParseError(byte[] chunk)
    {
        try
        {
            var d = new UaDecoder(chunk.AsSpan(HeaderSize));
            var code = d.ReadUInt32();
            return (code, d.ReadString() ?? SampleStatus.Name(code));
        }
        catch (UaDecodingException)
        {
            return (SampleStatus.BadTcpMessageTypeInvalid, "malformed ERR message");
        }
    }

    /// <summary>Reads one whole chunk; a chunk larger than our receive buffer ends the connection.</summary>
    public async Task<UaChunk> ReadChunkAsync(CancellationToken cancellationToken)
    {
        await ReadExactlyAsync(_header, cancellationToken);
        var type = System.Text.Encoding.ASCII.GetString(_header, 0, 3);
        var chunkType = (char)_header[3];
        var size = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(4));
        if (size < HeaderSize || size > ReceiveBufferSize)
        {
            throw new UaConnectionException(SampleStatus.BadTcpMessageTooLarge, $"chunk of {size} bytes (limit {ReceiveBufferSize})");
        }

        if (type is not ("MSG" or "OPN" or "CLO" or "ACK" or "ERR" or "RHE") || chunkType is not ('F' or 'C' or 'A'))
        {
            throw new UaConnectionException(SampleStatus.BadTcpMessageTypeInvalid, $"unknown message type '{type}{chunkType}'");
        }

        var bytes = new byte[size];
        _header.CopyTo(bytes, 0);
        await ReadExactlyAsync(bytes.AsMemory(HeaderSize), cancellationToken);
        return new UaChunk(type, chunkType, bytes);
    }

    private async ValueTask ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer, cancellationToken);
        }
        catch (EndOfStreamException ex)
        {
            throw new UaConnectionException(SampleStatus.BadConnectionClosed, "the server closed the connection", ex);
        }
        catch (IOException ex)
        {
            throw new UaConnectionException(SampleStatus.BadConnectionClosed, "connection lost: " + ex.Message, ex);
        }
    }

    /// <summary>Writes whole chunks; one writer at a time so that chunks of a message stay together.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken);
        }
        catch (IOException ex)
        {
            throw new UaConnectionException(SampleStatus.BadConnectionClosed, "connection lost: " + ex.Message, ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Writes several chunks of one message without interleaving another message's chunks.</summary>
    public async ValueTask WriteChunksAsync(IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            foreach (var chunk in chunks)
            {
                await _stream.WriteAsync(chunk, cancellationToken);
            }
        }
        catch (IOException ex)
        {
            throw new UaConnectionException(SampleStatus.BadConnectionClosed, "connection lost: " + ex.Message, ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // already gone
        }
        catch (ObjectDisposedException)
        {
            // already disposed
        }

        // The write lock is not disposed: a writer still waiting on it must see a closed stream, not a disposed lock.
        return _stream.DisposeAsync();
    }
}
