using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Channel;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// Makes MQTTnet's clients use a <see cref="CoalescingChannel"/> over its own TCP channel (TLS included). WebSocket
/// connections are not used by the gateway, and are left to MQTTnet's own factory.
/// </summary>
public sealed class CoalescingAdapterFactory : IMqttClientAdapterFactory
{
    private readonly MqttClientAdapterFactory _default = new();

    public IMqttChannelAdapter CreateClientAdapter(MqttClientOptions options, MqttPacketInspector packetInspector, IMqttNetLogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ChannelOptions is not MqttClientTcpOptions)
        {
            return _default.CreateClientAdapter(options, packetInspector, logger);
        }

        var formatter = new MqttPacketFormatterAdapter(options.ProtocolVersion, new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax));
        return new MqttChannelAdapter(new CoalescingChannel(new MqttTcpChannel(options)), formatter, logger)
        {
            AllowPacketFragmentation = options.AllowPacketFragmentation,
            PacketInspector = packetInspector,
        };
    }
}

/// <summary>
/// An MQTT channel that turns many small socket operations into few large ones. MQTTnet writes every packet with its
/// own send (and reads each packet's two-byte header with its own receive), so with hundreds of QoS 1 publications in
/// flight most of the CPU went into system calls. Here writes are copied into a buffer that one background loop sends
/// as a whole (everything written while the previous send ran goes out in the next), and reads are served from a
/// 64 KiB buffer filled by one receive at a time. Delivery is unchanged: a publication still counts only once its
/// PUBACK came back. A failed send is thrown by the next write and ends the connection as before.
/// </summary>
public sealed class CoalescingChannel : IMqttChannel
{
    /// <summary>Writes wait for the sender once this much is pending (bounded memory).</summary>
    public const int MaxPendingBytes = 1024 * 1024;

    private const int ReadBufferSize = 64 * 1024;

    private readonly IMqttChannel _inner;
    private readonly Lock _lock = new();
    private readonly byte[] _readBuffer = new byte[ReadBufferSize];
    private readonly SemaphoreSlim _sendSignal = new(0, 1);
    private readonly SemaphoreSlim _room = new(0, 1);
    private ArrayBufferWriter<byte> _pending = new(16 * 1024);
    private ArrayBufferWriter<byte> _sending = new(16 * 1024);
    private int _readStart;
    private int _readEnd;
    private Exception? _failure;
    private bool _senderWaiting;
    private Task _sender = Task.CompletedTask;
    private CancellationTokenSource? _stop;

    public CoalescingChannel(IMqttChannel inner)
    {
        _inner = inner;
    }

    public X509Certificate2 ClientCertificate => _inner.ClientCertificate;

    public EndPoint RemoteEndPoint => _inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => _inner.LocalEndPoint;

    public bool IsSecureConnection => _inner.IsSecureConnection;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await _inner.ConnectAsync(cancellationToken).ConfigureAwait(false);
        _stop = new CancellationTokenSource();
        _sender = SendLoopAsync(_stop.Token);
    }

    public async Task DisconnectAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await StopSenderAsync().ConfigureAwait(false);
        await _inner.DisconnectAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (_readStart == _readEnd)
        {
            _readStart = 0;
            _readEnd = await _inner.ReadAsync(_readBuffer, 0, _readBuffer.Length, cancellationToken).ConfigureAwait(false);
            if (_readEnd == 0)
            {
                return 0; // the connection was closed
            }
        }

        var taken = Math.Min(count, _readEnd - _readStart);
        Buffer.BlockCopy(_readBuffer, _readStart, buffer, offset, taken);
        _readStart += taken;
        return taken;
    }

    public async Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken)
    {
        while (true)
        {
            var wait = false;
            lock (_lock)
            {
                if (_failure is { } failure)
                {
                    throw new IOException("sending to the broker failed", failure);
                }

                if (_pending.WrittenCount < MaxPendingBytes)
                {
                    foreach (var segment in buffer)
                    {
                        _pending.Write(segment.Span);
                    }

                    if (isEndOfPacket && _senderWaiting)
                    {
                        _senderWaiting = false;
                        _sendSignal.Release();
                    }

                    return;
                }

                wait = true;
            }

            if (wait)
            {
                await _room.WaitAsync(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                bool empty;
                lock (_lock)
                {
                    empty = _pending.WrittenCount == 0;
                    if (empty)
                    {
                        _senderWaiting = true;
                    }
                    else
                    {
                        (_pending, _sending) = (_sending, _pending);
                    }
                }

                if (empty)
                {
                    await _sendSignal.WaitAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (_room.CurrentCount == 0)
                {
                    _room.Release();
                }

                await _inner.WriteAsync(new ReadOnlySequence<byte>(_sending.WrittenMemory), true, cancellationToken).ConfigureAwait(false);
                _sending.ResetWrittenCount();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            lock (_lock)
            {
                _failure = ex;
            }

            // Unblock the reader too: the connection is unusable.
            _inner.Dispose();
        }
    }

    /// <summary>Waits until everything written so far has been handed to the socket (DISCONNECT must go out).</summary>
    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < 100; i++)
        {
            lock (_lock)
            {
                if (_failure is not null || _sender.IsCompleted || (_pending.WrittenCount == 0 && _senderWaiting))
                {
                    return;
                }
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StopSenderAsync()
    {
        if (_stop is { } stop)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await _sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            stop.Dispose();
            _stop = null;
        }
    }

    public void Dispose()
    {
        _stop?.Cancel();
        _inner.Dispose();
        _sendSignal.Dispose();
        _room.Dispose();
    }
}
