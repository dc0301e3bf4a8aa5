namespace Gateway.Drivers.Modbus;

/// <summary>
/// Moves one frame: sends a request PDU to a unit and returns the matching response PDU. Transports own framing
/// (MBAP or RTU with CRC) and the matching of responses to requests; they know nothing about function codes
/// beyond what RTU needs to find the end of a frame. Not thread-safe: <see cref="ModbusClient"/> serialises calls.
/// </summary>
public interface IModbusTransport : IAsyncDisposable
{
    /// <summary>
    /// Sends <paramref name="request"/> to <paramref name="unitId"/> and copies the response PDU into
    /// <paramref name="response"/>, returning its length (0 for a broadcast, which has no reply).
    /// Throws <see cref="TimeoutException"/> when no matching response arrives within <paramref name="timeout"/>,
    /// <see cref="ModbusConnectionException"/> when the peer cannot be reached, and other <see cref="IOException"/>s
    /// when the connection breaks.
    /// </summary>
    ValueTask<int> TransceiveAsync(byte unitId, ReadOnlyMemory<byte> request, Memory<byte> response, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Frames received and dropped because they did not match the request (transaction id, unit id, CRC).</summary>
    long DiscardedFrames { get; }

    /// <summary>True while a connection (or an open port) is held.</summary>
    bool IsConnected { get; }

    /// <summary>Drops the connection; the next call reconnects.</summary>
    void Disconnect();
}

/// <summary>A byte pipe for RTU frames: a serial port, a pseudo-terminal, or a TCP socket (RTU over TCP).</summary>
public interface IModbusSerialLine : IDisposable
{
    bool IsOpen { get; }

    /// <summary>Opens the line; throws <see cref="ModbusConnectionException"/> when it cannot.</summary>
    ValueTask OpenAsync(CancellationToken cancellationToken);

    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Reads at least one byte; 0 means the line was closed.</summary>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Drops whatever was received and not read yet.</summary>
    void DiscardInput();

    void Close();
}
