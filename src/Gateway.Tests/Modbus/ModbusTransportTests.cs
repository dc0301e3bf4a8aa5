using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Gateway.Drivers.Modbus;

using Xunit;

namespace Gateway.Tests.Modbus;

/// <summary>
/// A tiny, deliberately misbehaving Modbus TCP server: each request goes to a handler that decides what to send back
/// (nothing, a wrong transaction id, a closed socket...).
/// </summary>
internal sealed class ScriptedTcpServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="handler">(connection number, request number, header, PDU, stream) → false to close the connection.</param>
    public ScriptedTcpServer(Func<int, int, MbapHeader, byte[], NetworkStream, Task<bool>> handler)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(8);
        _loop = RunAsync(handler);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    private async Task RunAsync(Func<int, int, MbapHeader, byte[], NetworkStream, Task<bool>> handler)
    {
        var connection = 0;
        try
        {
            while (true)
            {
                using var socket = await _listener.AcceptAsync(_stop.Token);
                connection++;
                await using var stream = new NetworkStream(socket);
                var header = new byte[7];
                for (var request = 1; ; request++)
                {
                    try
                    {
                        await stream.ReadExactlyAsync(header, _stop.Token);
                        var mbap = MbapHeader.Read(header);
                        var pdu = new byte[mbap.PduLength];
                        await stream.ReadExactlyAsync(pdu, _stop.Token);
                        if (!await handler(connection, request, mbap, pdu, stream))
                        {
                            break;
                        }
                    }
                    catch (Exception ex) when (ex is EndOfStreamException or IOException)
                    {
                        break;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    /// <summary>Sends a read-holding-registers response with the given header fields.</summary>
    public static async Task SendRegistersAsync(NetworkStream stream, ushort transactionId, byte unitId, params ushort[] values)
    {
        var frame = new byte[7 + 2 + (2 * values.Length)];
        new MbapHeader(transactionId, 0, (ushort)(3 + (2 * values.Length)), unitId).Write(frame);
        frame[7] = 3;
        frame[8] = (byte)(2 * values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            frame[9 + (2 * i)] = (byte)(values[i] >> 8);
            frame[10 + (2 * i)] = (byte)values[i];
        }

        await stream.WriteAsync(frame);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _loop;
        _stop.Dispose();
    }
}

public sealed class ModbusTcpTransportTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(2);

    private static ModbusClient Client(int port) => new(new ModbusTcpTransport("127.0.0.1", port, TimeProvider.System));

    [Fact]
    public async Task Read_WhenTransactionIdMismatches_DiscardsAndCounts()
    {
        await using var server = new ScriptedTcpServer(async (_, _, header, _, stream) =>
        {
            await ScriptedTcpServer.SendRegistersAsync(stream, (ushort)(header.TransactionId + 7), header.UnitId, 0xDEAD);
            await ScriptedTcpServer.SendRegistersAsync(stream, header.TransactionId, header.UnitId, 42);
            return true;
        });
        await using var client = Client(server.Port);

        var registers = await client.ReadHoldingRegistersAsync(1, 0, 1, s_timeout, CancellationToken.None);

        Assert.Equal(new ushort[] { 42 }, registers);
        Assert.Equal(1, client.Transport.DiscardedFrames);
    }

    [Fact]
    public async Task Read_WhenUnitIdMismatches_DiscardsAndCounts()
    {
        await using var server = new ScriptedTcpServer(async (_, _, header, _, stream) =>
        {
            await ScriptedTcpServer.SendRegistersAsync(stream, header.TransactionId, (byte)(header.UnitId + 1), 0xDEAD);
            await ScriptedTcpServer.SendRegistersAsync(stream, header.TransactionId, header.UnitId, 7);
            return true;
        });
        await using var client = Client(server.Port);

        var registers = await client.ReadHoldingRegistersAsync(5, 0, 1, s_timeout, CancellationToken.None);

        Assert.Equal(new ushort[] { 7 }, registers);
        Assert.Equal(1, client.Transport.DiscardedFrames);
    }

    [Fact]
    public async Task Read_WhenLateAnswerArrivesAfterTimeout_NeverTakesItForTheNextAnswer()
    {
        // The telegraf#14317 desync: the answer to a timed-out request must not become the answer to the next one.
        await using var server = new ScriptedTcpServer(async (_, request, header, _, stream) =>
        {
            if (request == 1)
            {
                await Task.Delay(600);
                await ScriptedTcpServer.SendRegistersAsync(stream, header.TransactionId, header.UnitId, 111);
            }
            else
            {
                await ScriptedTcpServer.SendRegistersAsync(stream, header.TransactionId, header.UnitId, 222);
            }

            return true;
        });
        await using var client = Client(server.Port);

        await Assert.ThrowsAsync<TimeoutException>(() => client.ReadHoldingRegistersAsync(1, 0, 1, TimeSpan.FromMilliseconds(150), CancellationToken.None));
        var second = await client.ReadHoldingRegistersAsync(1, 0, 1, TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(new ushort[] { 222 }, second);
        Assert.Equal(1, client.Transport.DiscardedFrames);
    }

    [Fact]
    public async Task Read_WhenServerClosesTheConnection_FailsThenReconnectsOnTheNextRequest()
    {
        await using var server = new ScriptedTcpServer(async (connection, _, header, _, stream) =>
        {
            if (connection == 1)
            {
                return false; // close without answering
            }

            await ScriptedTcpServer.SendRegistersAsync(stream, header.TransactionId, header.UnitId, 99);
            return true;
        });
        await using var client = Client(server.Port);

        var failure = await Assert.ThrowsAnyAsync<IOException>(() => client.ReadHoldingRegistersAsync(1, 0, 1, s_timeout, CancellationToken.None));
        var registers = await client.ReadHoldingRegistersAsync(1, 0, 1, s_timeout, CancellationToken.None);

        Assert.Contains("closed", failure.Message, StringComparison.Ordinal);
        Assert.Equal(new ushort[] { 99 }, registers);
    }

    [Fact]
    public async Task Read_WhenMbapHeaderIsInvalid_DropsTheConnection()
    {
        await using var server = new ScriptedTcpServer(async (_, _, header, _, stream) =>
        {
            var frame = new byte[] { (byte)(header.TransactionId >> 8), (byte)header.TransactionId, 0x00, 0x01, 0x00, 0x05, header.UnitId, 3, 2, 0, 1 };
            await stream.WriteAsync(frame);
            return true;
        });
        await using var client = Client(server.Port);

        await Assert.ThrowsAsync<ModbusProtocolException>(() => client.ReadHoldingRegistersAsync(1, 0, 1, s_timeout, CancellationToken.None));

        Assert.False(client.Transport.IsConnected);
    }

    [Fact]
    public async Task Read_WhenNothingListens_ThrowsConnectionException()
    {
        await using var client = Client(FreePort.Next());

        var exception = await Assert.ThrowsAsync<ModbusConnectionException>(() => client.ReadHoldingRegistersAsync(1, 0, 1, s_timeout, CancellationToken.None));

        Assert.Contains("ConnectionRefused", exception.Message, StringComparison.Ordinal);
    }
}

/// <summary>An in-memory serial line: what the transport writes goes to a responder, whose bytes the transport reads.</summary>
internal sealed class FakeSerialLine(Func<byte[], byte[][]> responder) : IModbusSerialLine
{
    private readonly Channel<byte[]> _incoming = Channel.CreateUnbounded<byte[]>();
    private byte[] _pending = [];
    private int _offset;

    public List<byte[]> Written { get; } = [];

    public bool IsOpen { get; private set; }

    /// <summary>When true, reading past the queued bytes returns 0 (the line closed) instead of waiting.</summary>
    public bool EndWhenEmpty { get; init; }

    public void Enqueue(byte[] bytes) => _incoming.Writer.TryWrite(bytes);

    public ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        IsOpen = true;
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var frame = data.ToArray();
        Written.Add(frame);
        foreach (var chunk in responder(frame))
        {
            _incoming.Writer.TryWrite(chunk);
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_offset >= _pending.Length)
        {
            if (EndWhenEmpty && !_incoming.Reader.TryRead(out _pending!))
            {
                return 0;
            }

            if (!EndWhenEmpty)
            {
                _pending = await _incoming.Reader.ReadAsync(cancellationToken);
            }

            _offset = 0;
            if (_pending.Length == 0)
            {
                return 0;
            }
        }

        var n = Math.Min(buffer.Length, _pending.Length - _offset);
        _pending.AsMemory(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    public void DiscardInput()
    {
        _pending = [];
        _offset = 0;
        while (_incoming.Reader.TryRead(out _))
        {
        }
    }

    public void Close() => IsOpen = false;

    public void Dispose() => Close();

    /// <summary>An RTU frame: unit, PDU, CRC low byte first.</summary>
    public static byte[] Frame(byte unit, params byte[] pdu)
    {
        var frame = new byte[pdu.Length + 3];
        frame[0] = unit;
        pdu.CopyTo(frame, 1);
        var crc = ModbusCrc.Compute(frame.AsSpan(0, pdu.Length + 1));
        frame[^2] = (byte)crc;
        frame[^1] = (byte)(crc >> 8);
        return frame;
    }
}

public sealed class ModbusRtuTransportTests
{
    private static ModbusClient Client(FakeSerialLine line) => new(new ModbusRtuTransport(line, "fake", 0, TimeProvider.System));

    [Fact]
    public async Task Request_IsFramedWithUnitIdAndCrcLowByteFirst()
    {
        var line = new FakeSerialLine(_ => [FakeSerialLine.Frame(1, [0x03, 0x14, .. new byte[20]])]);
        await using var client = Client(line);

        await client.ReadHoldingRegistersAsync(1, 0, 10, TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.Equal(new byte[] { 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD }, Assert.Single(line.Written));
    }

    [Fact]
    public async Task Read_WhenResponseArrivesInPieces_AssemblesTheFrame()
    {
        var frame = FakeSerialLine.Frame(1, 0x03, 0x04, 0x12, 0x34, 0x56, 0x78);
        var line = new FakeSerialLine(_ => frame.Select(b => new[] { b }).ToArray());
        await using var client = Client(line);

        var registers = await client.ReadHoldingRegistersAsync(1, 0, 2, TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.Equal(new ushort[] { 0x1234, 0x5678 }, registers);
    }

    [Fact]
    public async Task Read_WhenCrcIsWrong_DiscardsAndCountsThenTimesOut()
    {
        var corrupt = FakeSerialLine.Frame(1, 0x03, 0x02, 0x00, 0x2A);
        corrupt[^1] ^= 0xFF;
        var line = new FakeSerialLine(_ => [corrupt]);
        await using var client = Client(line);

        await Assert.ThrowsAsync<TimeoutException>(() => client.ReadHoldingRegistersAsync(1, 0, 1, TimeSpan.FromMilliseconds(200), CancellationToken.None));

        Assert.Equal(1, client.Transport.DiscardedFrames);
    }

    [Fact]
    public async Task Read_WhenAnotherUnitAnswers_DiscardsAndCountsAndTakesTheRightOne()
    {
        var line = new FakeSerialLine(_ => [FakeSerialLine.Frame(5, 0x03, 0x02, 0xDE, 0xAD), FakeSerialLine.Frame(1, 0x03, 0x02, 0x00, 0x2A)]);
        await using var client = Client(line);

        var registers = await client.ReadHoldingRegistersAsync(1, 0, 1, TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.Equal(new ushort[] { 42 }, registers);
        Assert.Equal(1, client.Transport.DiscardedFrames);
    }

    [Fact]
    public async Task Read_WhenExceptionResponse_ThrowsModbusExceptionWithCode()
    {
        var line = new FakeSerialLine(_ => [FakeSerialLine.Frame(1, 0x83, 0x02)]);
        await using var client = Client(line);

        var exception = await Assert.ThrowsAsync<ModbusException>(() => client.ReadHoldingRegistersAsync(1, 200, 1, TimeSpan.FromSeconds(2), CancellationToken.None));

        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, exception.Code);
    }

    [Fact]
    public async Task Write_ToBroadcastUnitZero_ReturnsWithoutWaitingForAReply()
    {
        var line = new FakeSerialLine(_ => []);
        await using var client = Client(line);

        await client.WriteSingleRegisterAsync(0, 1, 3, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.True(ModbusCrc.Check(Assert.Single(line.Written)));
    }
}
