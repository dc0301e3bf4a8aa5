using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gateway.Pipeline;
using Gateway.Northbound.Delivery;
using MQTTnet.Channel;
using MQTTnet.Protocol;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// An MQTT channel that turns many small socket operations into few large ones. MQTTnet writes every packet with its
/// own send (and reads each packet's two-byte header with its own receive), so with hundreds of QoS 1 publications in
/// flight most of the CPU went into system calls. Here writes are copied into a buffer that one background loop sends
/// as a whole (everything written while the previous send ran goes out in the next), and reads are served from a
/// 64 KiB buffer filled by one receive at a time. Delivery is unchanged: a publication still counts only once its
/// PUBACK came back. A failed send is thrown by the next write and ends the connection as before.
/// <para>
/// The output's QoS 0 and 1 data does not go through MQTTnet at all (its request object, packet object, awaitable,
/// dispatcher lock and continuation per message were most of what a publication still cost): <see cref="TryPublish"/>
/// encodes the PUBLISH straight into the send buffer, between two of MQTTnet's packets (<see cref="OutboundPacketTracker"/>:
/// MQTTnet may write one packet in several writes), and the read side takes the PUBACKs of those out of the stream
/// before MQTTnet sees it (<see cref="PubAckFilter"/>), recording them in <see cref="Acknowledgements"/>. MQTTnet keeps
/// everything else: CONNECT, SUBSCRIBE, keep-alive, inbound messages, its own publications.
/// </para>
/// <para>
/// Over a <see cref="BlockingTcpChannel"/> (plain TCP) the broker's bytes are received on a thread of this channel,
/// blocked in the kernel until they come, and waiting for the PUBACKs owed when there are some (see
/// <see cref="PublishAcknowledgements.Owed"/>): one wake-up per batch of PUBACKs, no socket event loop and no
/// thread-pool hand-off per read. What is for MQTTnet is handed to its read loop through a small queue. Over TLS the
/// reads are MQTTnet's own, as before.
/// </para>
/// </summary>
public sealed class CoalescingChannel : IMqttChannel
{
    /// <summary>Writes wait for the sender once this much is pending (bounded memory).</summary>
    public const int MaxPendingBytes = 1024 * 1024;

    private const int ReadBufferSize = 64 * 1024;

    private readonly IMqttChannel _inner;
    private readonly BlockingTcpChannel? _blocking;
    private readonly Lock _handOff = new();
    private readonly ArrayBufferWriter<byte> _forMqttnet = new(1024);
    private int _forMqttnetTaken;
    private TaskCompletionSource? _mqttnetWaiting;
    private bool _receiveEnded;
    private Exception? _receiveFailure;
    private Thread? _receiver;
    private volatile bool _disconnectWritten;
    private readonly bool _mqtt5;
    private readonly Lock _lock = new();
    private readonly OutboundPacketTracker _outbound = new();
    private readonly PubAckFilter _filter;
    private readonly ArrayBufferWriter<byte> _deferred = new(1024);
    private readonly byte[] _readBuffer = new byte[ReadBufferSize];
    private readonly LoopSignal _sendSignal = new();
    private readonly SemaphoreSlim _room = new(0, 1);
    private ArrayBufferWriter<byte> _pending = new(16 * 1024);
    private ArrayBufferWriter<byte> _sending = new(16 * 1024);
    private byte[] _topicScratch = new byte[256];
    private int _readStart;
    private int _passEnd;
    private int _readEnd;
    private bool _publisherBlocked;
    private bool _closed;
    private Exception? _failure;
    private bool _senderWaiting;
    private Task _sender = Task.CompletedTask;
    private CancellationTokenSource? _stop;

    public CoalescingChannel(IMqttChannel inner, bool mqtt5)
    {
        _inner = inner;
        _blocking = inner as BlockingTcpChannel;
        _mqtt5 = mqtt5;
        _filter = new PubAckFilter(Acknowledgements);
    }

    /// <summary>The packet identifiers and PUBACKs of this connection's own publications.</summary>
    public PublishAcknowledgements Acknowledgements { get; } = new();

    public X509Certificate2 ClientCertificate => _inner.ClientCertificate;

    public EndPoint RemoteEndPoint => _inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => _inner.LocalEndPoint;

    public bool IsSecureConnection => _inner.IsSecureConnection;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await _inner.ConnectAsync(cancellationToken).ConfigureAwait(false);
        _stop = new CancellationTokenSource();
        _sender = SendLoopAsync(_stop.Token);
        if (_blocking is not null)
        {
            _receiver = new Thread(ReceiveLoop, 256 * 1024) { IsBackground = true, Name = "MQTT receive" };
            _receiver.Start();
        }
    }

    public async Task DisconnectAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _closed = true;
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await StopSenderAsync().ConfigureAwait(false);
        await _inner.DisconnectAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (_blocking is not null)
        {
            return await ReadHandedOverAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
        }

        while (_readStart == _passEnd)
        {
            MakeRoomToReceive();
            var received = await _inner.ReadAsync(_readBuffer, _readEnd, _readBuffer.Length - _readEnd, cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                return 0; // the connection was closed
            }

            _passEnd = _filter.Filter(_readBuffer, _passEnd, _readEnd + received, out _readEnd, out var acknowledged);
            if (acknowledged && Acknowledgements.ShouldWake())
            {
                Acknowledgements.Wake?.Invoke();
            }
        }

        var taken = Math.Min(count, _passEnd - _readStart);
        Buffer.BlockCopy(_readBuffer, _readStart, buffer, offset, taken);
        _readStart += taken;
        return taken;
    }

    /// <summary>Only the undecided start of a packet is left to keep: moves it down when the buffer's end is near.</summary>
    private void MakeRoomToReceive()
    {
        if (_readStart == _readEnd)
        {
            _readStart = _passEnd = _readEnd = 0;
        }
        else if (_readBuffer.Length - _readEnd < 4096)
        {
            // Only the start of an undecided packet is left (at most 8 bytes), near the end of the buffer: down to
            // the beginning, so that the next receive has the whole buffer after it.
            var kept = _readEnd - _readStart;
            Buffer.BlockCopy(_readBuffer, _readStart, _readBuffer, 0, kept);
            _readStart = _passEnd = 0;
            _readEnd = kept;
        }
    }

    /// <summary>
    /// The receiving thread over a <see cref="BlockingTcpChannel"/>: receives, takes out the PUBACKs of ours, wakes the
    /// output's loop as <see cref="PublishAcknowledgements.ShouldWake"/> says, and hands the rest to MQTTnet's reads.
    /// Ends when the broker closes the connection or the socket fails or is closed (MQTTnet's read then ends too).
    /// </summary>
    private void ReceiveLoop()
    {
        var blocking = _blocking!;
        try
        {
            while (true)
            {
                MakeRoomToReceive();

                // The PUBACKs owed are 4 bytes each at least; the start of one may be in the buffer already.
                var atLeast = (int)Math.Min(Acknowledgements.Owed() * 4, 4096) - (_readEnd - _passEnd);
                var received = blocking.Receive(_readBuffer.AsSpan(_readEnd), atLeast);
                if (received < 0)
                {
                    continue; // the wait for the PUBACKs owed timed out with nothing received: ask again
                }

                if (received == 0)
                {
                    return; // the broker closed the connection
                }

                _passEnd = _filter.Filter(_readBuffer, _passEnd, _readEnd + received, out _readEnd, out var acknowledged);
                if (acknowledged && Acknowledgements.ShouldWake())
                {
                    Acknowledgements.Wake?.Invoke();
                }

                if (_passEnd > _readStart)
                {
                    TaskCompletionSource? waiting;
                    lock (_handOff)
                    {
                        _forMqttnet.Write(_readBuffer.AsSpan(_readStart, _passEnd - _readStart));
                        waiting = _mqttnetWaiting;
                        _mqttnetWaiting = null;
                    }

                    _readStart = _passEnd;
                    waiting?.TrySetResult();
                }
            }
        }
        catch (Exception ex)
        {
            _receiveFailure = ex; // reported to MQTTnet's read, unless the channel was closed on purpose
        }
        finally
        {
            TaskCompletionSource? waiting;
            lock (_handOff)
            {
                _receiveEnded = true;
                waiting = _mqttnetWaiting;
                _mqttnetWaiting = null;
            }

            waiting?.TrySetResult();
        }
    }

    /// <summary>MQTTnet's read over a <see cref="BlockingTcpChannel"/>: what the receiving thread left for it.</summary>
    private async Task<int> ReadHandedOverAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task waiting;
            lock (_handOff)
            {
                var available = _forMqttnet.WrittenCount - _forMqttnetTaken;
                if (available > 0)
                {
                    var taken = Math.Min(count, available);
                    _forMqttnet.WrittenSpan.Slice(_forMqttnetTaken, taken).CopyTo(buffer.AsSpan(offset, taken));
                    _forMqttnetTaken += taken;
                    if (_forMqttnetTaken == _forMqttnet.WrittenCount)
                    {
                        _forMqttnet.ResetWrittenCount();
                        _forMqttnetTaken = 0;
                    }

                    return taken;
                }

                if (_receiveEnded)
                {
                    if (_receiveFailure is { } failure && !_closed)
                    {
                        throw new IOException($"receiving from the broker failed: {failure.Message}", failure);
                    }

                    if (_disconnectWritten || _closed)
                    {
                        break; // a close after our DISCONNECT: see below
                    }

                    return 0; // the connection was closed
                }

                waiting = (_mqttnetWaiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await waiting.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        // The broker closed the connection after MQTTnet's DISCONNECT, before MQTTnet stopped reading (the receiving
        // thread sees the close at once): MQTTnet's own read would have been cancelled first, so a close it did not
        // ask for is not reported (it would log a disconnection at every shutdown). Wait for that cancellation, a
        // second at most.
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        return 0;
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
                        CopyFromMqttnet(segment.Span);
                    }

                    if (_outbound.AtBoundary)
                    {
                        SignalSender(); // a packet is complete (isEndOfPacket says the same; the tracker is what counts)
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

    /// <summary>
    /// Encodes a PUBLISH of <paramref name="qualityOfService"/> 0 or 1 into the send buffer, at a packet boundary of
    /// MQTTnet's stream (after the packet MQTTnet is in the middle of writing, if any), and returns its packet
    /// identifier in <paramref name="packetIdentifier"/> (0 for QoS 0): its PUBACK is then recorded in
    /// <see cref="Acknowledgements"/>. False, with nothing written, while the send buffer is full
    /// (<see cref="MaxPendingBytes"/>): <see cref="PublishAcknowledgements.Wake"/> is called once it has room again.
    /// Throws when the connection failed or was closed. Only one thread publishes this way (the output's loop).
    /// </summary>
    public bool TryPublish(string topic, ReadOnlySpan<byte> payload, MqttQualityOfServiceLevel qualityOfService, out ushort packetIdentifier)
    {
        if (qualityOfService == MqttQualityOfServiceLevel.ExactlyOnce)
        {
            throw new ArgumentOutOfRangeException(nameof(qualityOfService), "QoS 2 publications go through MQTTnet (PUBREC, PUBREL, PUBCOMP)");
        }

        // The topic in UTF-8 once (it used to be counted twice and encoded once per packet).
        ArgumentNullException.ThrowIfNull(topic);
        var topicBytes = TopicBytes(topic);
        var size = PublishPacket.Size(topicBytes.Length, payload.Length, qualityOfService, _mqtt5, out _);
        lock (_lock)
        {
            ThrowIfUnusable();
            if (_pending.WrittenCount + _deferred.WrittenCount >= MaxPendingBytes)
            {
                _publisherBlocked = true;
                packetIdentifier = 0;
                return false;
            }

            packetIdentifier = qualityOfService == MqttQualityOfServiceLevel.AtMostOnce ? (ushort)0 : Acknowledgements.Allocate();
            var target = _outbound.AtBoundary ? _pending : _deferred;
            PublishPacket.Write(target.GetSpan(size), topicBytes, payload, qualityOfService, packetIdentifier, _mqtt5);
            target.Advance(size);
            if (target == _pending)
            {
                SignalSender();
            }

            return true;
        }
    }

    /// <summary>The UTF-8 of <paramref name="topic"/> in a scratch array of the publishing thread (only one publishes).</summary>
    private ReadOnlySpan<byte> TopicBytes(string topic)
    {
        var most = System.Text.Encoding.UTF8.GetMaxByteCount(topic.Length);
        if (_topicScratch.Length < most)
        {
            _topicScratch = new byte[Math.Max(most, _topicScratch.Length * 2)];
        }

        return _topicScratch.AsSpan(0, System.Text.Encoding.UTF8.GetBytes(topic, _topicScratch));
    }

    /// <summary>Copies MQTTnet's bytes to the send buffer, and the packets of ours that waited for its packet to end after it.</summary>
    private void CopyFromMqttnet(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            if (_outbound.AtBoundary && bytes[0] == 0xE0)
            {
                _disconnectWritten = true; // MQTTnet ends the connection: the broker's close that follows is expected
            }

            var taken = _outbound.Advance(bytes);
            if (Acknowledgements.InUse && PublishAcknowledgements.IsOurs(_outbound.IdentifierRead))
            {
                // Never reached in practice (MQTTnet would have numbered 32,767 packets on this connection), but two
                // packets with one identifier would confuse the broker: start afresh instead.
                var failure = new IOException($"MQTTnet numbered a packet {_outbound.IdentifierRead}, in the range of the gateway's own publications; the connection is closed and made again");
                _failure = failure;
                _inner.Dispose();
                throw failure;
            }

            _pending.Write(bytes[..taken]);
            bytes = bytes[taken..];
            if (_outbound.AtBoundary && _deferred.WrittenCount > 0)
            {
                _pending.Write(_deferred.WrittenSpan);
                _deferred.ResetWrittenCount();
            }
        }
    }

    private void ThrowIfUnusable()
    {
        if (_failure is { } failure)
        {
            throw new IOException("sending to the broker failed", failure);
        }

        if (_closed)
        {
            throw new IOException("the connection to the broker was closed");
        }
    }

    /// <summary>Under the lock: wakes the sender when it waits for bytes.</summary>
    private void SignalSender()
    {
        if (_senderWaiting)
        {
            _senderWaiting = false;
            _sendSignal.Set();
        }
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        // A stop wakes the loop, which then sees the cancellation (one registration, not one per wait).
        using var stopping = cancellationToken.Register(static signal => ((LoopSignal)signal!).Set(), _sendSignal);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                bool empty;
                var unblocked = false;
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
                        unblocked = _publisherBlocked;
                        _publisherBlocked = false;
                    }
                }

                if (unblocked)
                {
                    Acknowledgements.Wake?.Invoke();
                }

                if (empty)
                {
                    await _sendSignal.WaitAsync().ConfigureAwait(false);
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
        lock (_lock)
        {
            _closed = true;
        }

        _stop?.Cancel();
        _inner.Dispose();
        _room.Dispose();
    }
}
