using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Drivers.Modbus;

/// <summary>
/// Modbus RTU framing (Serial Line v1.02): unit id, PDU, CRC-16/MODBUS low byte first; at least 3.5 character
/// times of silence before each request (fixed 1.75 ms above 19200 baud). RTU has no length field, so the end of a
/// response is found from its function code and byte count. A frame with a bad CRC, from another unit or with an
/// unknown function code is discarded and counted; the line is then drained after a silent interval so that the next
/// frame starts clean. Also used for RTU over TCP, where the silent interval does not apply.
/// </summary>
public sealed class ModbusRtuTransport : IModbusTransport
{
    private const int MaxFrame = 256;
    private readonly IModbusSerialLine _line;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _peer;
    private readonly TimeSpan _silentInterval;
    private readonly byte[] _transmit = new byte[MaxFrame];
    private readonly byte[] _receive = new byte[MaxFrame];
    private long _lastActivity;
    private long _quietUntil;
    private long _discarded;
    private RateLimitedLog? _discardedLog;

    /// <param name="line">The serial line (or socket) carrying the frames.</param>
    /// <param name="peer">A name for logs and errors (the port or host).</param>
    /// <param name="baudRate">The line speed, for the 3.5-character silent interval; 0 for RTU over TCP (no interval).</param>
    /// <param name="timeProvider">The clock for timeouts and the silent interval.</param>
    /// <param name="logger">Where discarded frames are logged; none by default.</param>
    /// <param name="bitsPerCharacter">Start + data + parity + stop bits; the specification's 11 by default.</param>
    public ModbusRtuTransport(IModbusSerialLine line, string peer, int baudRate, TimeProvider timeProvider, ILogger? logger = null, int bitsPerCharacter = 11)
    {
        _line = line;
        _peer = peer;
        _timeProvider = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _silentInterval = SilentInterval(baudRate, bitsPerCharacter);
        _lastActivity = timeProvider.GetTimestamp();
    }

    /// <summary>3.5 character times, or 1.75 ms above 19200 baud (Serial Line v1.02 §2.5.1.1); zero without a baud rate.</summary>
    public static TimeSpan SilentInterval(int baudRate, int bitsPerCharacter = 11) =>
        baudRate <= 0 ? TimeSpan.Zero
        : baudRate > 19200 ? TimeSpan.FromMicroseconds(1750)
        : TimeSpan.FromSeconds(3.5 * bitsPerCharacter / baudRate);

    public TimeSpan InterFrameDelay => _silentInterval;

    public long DiscardedFrames => Interlocked.Read(ref _discarded);

    public bool IsConnected => _line.IsOpen;

    public async ValueTask<int> TransceiveAsync(byte unitId, ReadOnlyMemory<byte> request, Memory<byte> response, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (request.Length is < 1 or > ModbusLimits.MaxPduLength)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Length, "a PDU has 1 to 253 bytes");
        }

        _discardedLog?.Flush();

        await WaitQuietAsync(cancellationToken);
        using var timeoutSource = new CancellationTokenSource(timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        var token = linked.Token;
        try
        {
            if (!_line.IsOpen)
            {
                await _line.OpenAsync(token);
                _lastActivity = _timeProvider.GetTimestamp();
            }

            await WaitSilenceAsync(token);

            // RTU has no transaction id: whatever is waiting on the line now is no answer to this request (a late
            // answer to a timed-out one, noise); left there it would be taken for the answer.
            _line.DiscardInput();
            _transmit[0] = unitId;
            request.Span.CopyTo(_transmit.AsSpan(1));
            var crc = ModbusCrc.Compute(_transmit.AsSpan(0, request.Length + 1));
            _transmit[request.Length + 1] = (byte)crc;
            _transmit[request.Length + 2] = (byte)(crc >> 8);
            await _line.WriteAsync(_transmit.AsMemory(0, request.Length + 3), token);
            _lastActivity = _timeProvider.GetTimestamp();
            if (unitId == 0)
            {
                return 0; // broadcast: no reply
            }

            while (true)
            {
                var length = await ReadFrameAsync(token);
                if (length < 0)
                {
                    await DrainAsync(token);
                    continue;
                }

                var frame = _receive.AsSpan(0, length);
                if (!ModbusCrc.Check(frame))
                {
                    Discard("CRC mismatch", frame[0]);
                    await DrainAsync(token);
                    continue;
                }

                if (frame[0] != unitId)
                {
                    Discard("wrong unit id", frame[0]);
                    continue;
                }

                var pdu = frame[1..^2];
                if (pdu.Length > response.Length)
                {
                    throw new ModbusProtocolException($"response of {pdu.Length} bytes does not fit the buffer");
                }

                pdu.CopyTo(response.Span);
                return pdu.Length;
            }
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _line.DiscardInput();

            // A slow device may still answer: keep the line quiet one more timeout before the next request, and
            // discard what came meanwhile, so that the late answer is not taken for the next one (libmodbus's
            // error recovery does the same).
            _quietUntil = _timeProvider.GetTimestamp() + (long)(timeout.TotalSeconds * _timeProvider.TimestampFrequency);
            throw new TimeoutException($"no response from {_peer} unit {unitId} within {timeout.TotalMilliseconds:0} ms");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or ObjectDisposedException && ex is not ModbusConnectionException)
        {
            Disconnect();
            throw new IOException($"line {_peer} failed: {ex.Message}", ex);
        }
    }

    /// <summary>Reads one frame by its announced length; -1 when the function code is unknown (the caller drains).</summary>
    private async ValueTask<int> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var got = 0;
        var need = 2;
        while (true)
        {
            while (got < need)
            {
                var n = await _line.ReadAsync(_receive.AsMemory(got, need - got), cancellationToken);
                if (n == 0)
                {
                    throw new EndOfStreamException($"{_peer} closed");
                }

                got += n;
                _lastActivity = _timeProvider.GetTimestamp();
            }

            var pduLength = ModbusPdu.ResponseLength(_receive.AsSpan(1, got - 1));
            if (pduLength < 0)
            {
                Discard("unknown function code", _receive[0]);
                return -1;
            }

            var total = pduLength == 0 ? got + 1 : 1 + pduLength + 2;
            if (total > MaxFrame)
            {
                Discard("frame too long", _receive[0]);
                return -1;
            }

            if (pduLength != 0 && got >= total)
            {
                return total;
            }

            need = total;
        }
    }

    private void Discard(string reason, byte unitId)
    {
        Interlocked.Increment(ref _discarded);
        _discardedLog ??= new RateLimitedLog(_logger, _timeProvider, Source, $"discarded RTU frames on {_peer}");
        if (_discardedLog.ShouldLog())
        {
            ModbusRtuLog.Discarded(_logger, Source, _peer, reason, unitId);
        }
    }

    /// <summary>Who this transport serves, as its log lines name it (the factory sets <c>Modbus driver NAME</c>).</summary>
    public string Source { get; init; } = "Modbus RTU client";

    /// <summary>After a timeout: waits out the late-answer window (outside the next request's own timeout).</summary>
    private async ValueTask WaitQuietAsync(CancellationToken cancellationToken)
    {
        var quiet = _quietUntil - _timeProvider.GetTimestamp();
        if (_quietUntil != 0 && quiet > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)quiet / _timeProvider.TimestampFrequency), _timeProvider, cancellationToken);
        }

        _quietUntil = 0;
    }

    private async ValueTask WaitSilenceAsync(CancellationToken cancellationToken)
    {
        var remaining = _silentInterval - _timeProvider.GetElapsedTime(_lastActivity);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, _timeProvider, cancellationToken);
        }
    }

    /// <summary>After a broken frame: let the rest of it arrive, then drop it.</summary>
    private async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(_silentInterval > TimeSpan.FromMilliseconds(2) ? _silentInterval : TimeSpan.FromMilliseconds(2), _timeProvider, cancellationToken);
        _line.DiscardInput();
    }

    public void Disconnect() => _line.Close();

    public ValueTask DisposeAsync()
    {
        _line.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal static partial class ModbusRtuLog
{
    [LoggerMessage(EventId = 1170, Level = LogLevel.Warning, Message = "{Source}: discarded an RTU frame on {Peer} ({Reason}, unit {UnitId}); further ones are summed up once a minute")]
    public static partial void Discarded(ILogger logger, string source, string peer, string reason, byte unitId);
}
