using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Drivers.Modbus;

/// <summary>
/// The four tables of one Modbus unit, in memory, thread-safe. Addresses outside a table's size answer
/// exception 2 (illegal data address).
/// </summary>
public sealed class ModbusDataStore
{
    private readonly bool[] _coils;
    private readonly bool[] _discreteInputs;
    private readonly ushort[] _holdingRegisters;
    private readonly ushort[] _inputRegisters;
    private readonly Lock _lock = new();

    public ModbusDataStore(int coils = 65536, int discreteInputs = 65536, int holdingRegisters = 65536, int inputRegisters = 65536)
    {
        _coils = new bool[coils];
        _discreteInputs = new bool[discreteInputs];
        _holdingRegisters = new ushort[holdingRegisters];
        _inputRegisters = new ushort[inputRegisters];
    }

    /// <summary>Size of a table: valid addresses are 0 to size − 1.</summary>
    public int Size(ModbusTable table) => table switch
    {
        ModbusTable.Coil => _coils.Length,
        ModbusTable.DiscreteInput => _discreteInputs.Length,
        ModbusTable.HoldingRegister => _holdingRegisters.Length,
        _ => _inputRegisters.Length,
    };

    public bool Contains(ModbusTable table, int start, int count) => start >= 0 && count >= 0 && start + count <= Size(table);

    public void SetBits(ModbusTable table, int start, ReadOnlySpan<bool> values)
    {
        lock (_lock)
        {
            values.CopyTo(Bits(table).AsSpan(start));
        }
    }

    public void GetBits(ModbusTable table, int start, Span<bool> values)
    {
        lock (_lock)
        {
            Bits(table).AsSpan(start, values.Length).CopyTo(values);
        }
    }

    public void SetRegisters(ModbusTable table, int start, ReadOnlySpan<ushort> values)
    {
        lock (_lock)
        {
            values.CopyTo(Registers(table).AsSpan(start));
        }
    }

    public void GetRegisters(ModbusTable table, int start, Span<ushort> values)
    {
        lock (_lock)
        {
            Registers(table).AsSpan(start, values.Length).CopyTo(values);
        }
    }

    /// <summary>Stores a typed value in a register table (or a bit table for booleans).</summary>
    public void SetValue(ModbusTable table, int address, ModbusValueFormat format, SampleValue value)
    {
        if (table.IsBitTable())
        {
            SetBits(table, address, [value.AsBoolean]);
            return;
        }

        Span<ushort> registers = stackalloc ushort[format.RegisterCount];
        ModbusValueCodec.Encode(value, format, registers);
        SetRegisters(table, address, registers);
    }

    private bool[] Bits(ModbusTable table) => table == ModbusTable.Coil ? _coils : _discreteInputs;

    private ushort[] Registers(ModbusTable table) => table == ModbusTable.HoldingRegister ? _holdingRegisters : _inputRegisters;

    /// <summary>
    /// Answers one request PDU into <paramref name="response"/> (at least 253 bytes) and returns the response length.
    /// Never throws: malformed requests get exception 1 (unknown function) or 3 (bad quantity or length).
    /// </summary>
    public int Process(ReadOnlySpan<byte> request, Span<byte> response)
    {
        if (request.Length == 0)
        {
            return 0;
        }

        var function = request[0];
        switch (function)
        {
            case 1 or 2 or 3 or 4:
                {
                    if (request.Length != 5)
                    {
                        return Exception(response, function, ModbusExceptionCode.IllegalDataValue);
                    }

                    var table = (ModbusTable)function;
                    var start = BinaryPrimitives.ReadUInt16BigEndian(request[1..]);
                    var count = BinaryPrimitives.ReadUInt16BigEndian(request[3..]);
                    if (count < 1 || count > table.MaxReadCount())
                    {
                        return Exception(response, function, ModbusExceptionCode.IllegalDataValue);
                    }

                    if (!Contains(table, start, count))
                    {
                        return Exception(response, function, ModbusExceptionCode.IllegalDataAddress);
                    }

                    response[0] = function;
                    if (table.IsBitTable())
                    {
                        Span<bool> bits = stackalloc bool[count];
                        GetBits(table, start, bits);
                        var byteCount = (count + 7) / 8;
                        response[1] = (byte)byteCount;
                        ModbusPdu.PackBits(bits, response.Slice(2, byteCount));
                        return 2 + byteCount;
                    }

                    Span<ushort> registers = stackalloc ushort[count];
                    GetRegisters(table, start, registers);
                    response[1] = (byte)(2 * count);
                    for (var i = 0; i < count; i++)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(response[(2 + (2 * i))..], registers[i]);
                    }

                    return 2 + (2 * count);
                }

            case 5 or 6:
                {
                    if (request.Length != 5)
                    {
                        return Exception(response, function, ModbusExceptionCode.IllegalDataValue);
                    }

                    var address = BinaryPrimitives.ReadUInt16BigEndian(request[1..]);
                    var value = BinaryPrimitives.ReadUInt16BigEndian(request[3..]);
                    if (function == 5 && value is not (0xFF00 or 0x0000))
                    {
                        return Exception(response, function, ModbusExceptionCode.IllegalDataValue);
                    }

                    var table = function == 5 ? ModbusTable.Coil : ModbusTable.HoldingRegister;
                    if (!Contains(table, address, 1))
                    {
                        return Exception(response, function, ModbusExceptionCode.IllegalDataAddress);
                    }

                    if (function == 5)
                    {
                        SetBits(table, address, [value == 0xFF00]);
                    }
                    else
                    {
                        SetRegisters(table, address, [value]);
                    }

                    request[..5].CopyTo(response);
                    return 5;
                }

            case 15 or 16:
                {
                    if (request.Length < 6)
                    {
                        return Exception(response, function, ModbusExceptionCode.IllegalDataValue);
                    }

                    var address = BinaryPrimitives.ReadUInt16BigEndian(request[1..]);
                    var count = BinaryPrimitives.ReadUInt16BigEndian(request[3..]);
                    var byteCount = request[5];
                    var max = function == 15 ? ModbusLimits.MaxWriteBits : ModbusLimits.MaxWriteRegisters;
                    var expectedBytes = function == 15 ? (count + 7) / 8 : 2 * count;
                    if (count < 1 || count > max || byteCount != expectedBytes || request.Length != 6 + byteCount)
                    {
                        return Exception(response, function, ModbusExceptionCode.IllegalDataValue);
                    }

                    var table = function == 15 ? ModbusTable.Coil : ModbusTable.HoldingRegister;
                    if (!Contains(table, address, count))
                    {
                        return Exception(response, function, ModbusExceptionCode.IllegalDataAddress);
                    }

                    var data = request.Slice(6, byteCount);
                    if (function == 15)
                    {
                        Span<bool> bits = stackalloc bool[count];
                        ModbusPdu.UnpackBits(data, bits);
                        SetBits(table, address, bits);
                    }
                    else
                    {
                        Span<ushort> registers = stackalloc ushort[count];
                        ModbusPdu.ReadRegisters(data, registers);
                        SetRegisters(table, address, registers);
                    }

                    request[..5].CopyTo(response);
                    return 5;
                }

            default:
                return Exception(response, function, ModbusExceptionCode.IllegalFunction);
        }
    }

    private static int Exception(Span<byte> response, byte function, ModbusExceptionCode code)
    {
        response[0] = (byte)(function | 0x80);
        response[1] = (byte)code;
        return 2;
    }
}

/// <summary>
/// A small Modbus TCP server: one task per connection, requests answered in order from a <see cref="ModbusDataStore"/>
/// per unit id. A unit with no store gets no reply at all (like a gateway whose device is dead), so clients see a
/// timeout. Binds only the endpoint it is given.
/// </summary>
public sealed class ModbusTcpServer : IAsyncDisposable
{
    private readonly IPEndPoint _endpoint;
    private readonly Func<byte, ModbusDataStore?> _units;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _connections = [];
    private readonly Lock _lock = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private long _requests;

    public ModbusTcpServer(IPEndPoint endpoint, Func<byte, ModbusDataStore?> units, ILogger? logger = null)
    {
        _endpoint = endpoint;
        _units = units;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Most connections served at once; further clients are closed on accept.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>The bound endpoint (with the real port when port 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_listener?.LocalEndPoint ?? _endpoint;

    /// <summary>Requests answered or ignored since start.</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    public void Start()
    {
        var listener = new Socket(_endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A restarted server must be able to take its port back while old connections sit in TIME_WAIT.
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(_endpoint);
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        ModbusServerLog.Listening(_logger, LocalEndPoint.ToString());
        _acceptLoop = AcceptLoopAsync(listener, _stopping.Token);
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                ModbusServerLog.AcceptFailed(_logger, ex.Message);
                await Task.Delay(100, CancellationToken.None);
                continue;
            }

            lock (_lock)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                if (_connections.Count >= MaxConnections)
                {
                    client.Dispose();
                    continue;
                }

                client.NoDelay = true;
                _connections.Add(ServeAsync(client, cancellationToken));
            }
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken cancellationToken)
    {
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        var request = new byte[MbapHeader.Size + 256];
        var response = new byte[MbapHeader.Size + 256];
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (!await ReadExactAsync(stream, request.AsMemory(0, MbapHeader.Size), cancellationToken))
                {
                    return;
                }

                var header = MbapHeader.Read(request);
                if (!header.IsValid)
                {
                    ModbusServerLog.BadHeader(_logger, remote, header.ProtocolId, header.Length);
                    return;
                }

                if (!await ReadExactAsync(stream, request.AsMemory(MbapHeader.Size, header.PduLength), cancellationToken))
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                var store = _units(header.UnitId);
                if (store is null)
                {
                    continue;
                }

                var length = store.Process(request.AsSpan(MbapHeader.Size, header.PduLength), response.AsSpan(MbapHeader.Size));
                if (length == 0)
                {
                    continue;
                }

                new MbapHeader(header.TransactionId, 0, (ushort)(length + 1), header.UnitId).Write(response);
                await stream.WriteAsync(response.AsMemory(0, MbapHeader.Size + length), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            ModbusServerLog.ConnectionClosed(_logger, remote, ex.Message);
        }
    }

    private static async ValueTask<bool> ReadExactAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[read..], cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener?.Dispose();
        Task[] pending;
        lock (_lock)
        {
            pending = [.. _connections];
        }

        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }

        await Task.WhenAll(pending);
        _stopping.Dispose();
    }
}

internal static partial class ModbusServerLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Modbus TCP server listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Accept failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Closing {Remote}: invalid MBAP header (protocol {ProtocolId}, length {Length})")]
    public static partial void BadHeader(ILogger logger, string remote, ushort protocolId, ushort length);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Debug, Message = "Connection {Remote} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string remote, string reason);
}
