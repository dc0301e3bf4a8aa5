using System.Buffers.Binary;
using System.Collections.Concurrent;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;
using Microsoft.Extensions.Logging;

namespace Gateway.Drivers.OpcUa.Channel;

/// <summary>
/// A secure channel (OPC 10000-6 §6.7) over a UA TCP connection: OpenSecureChannel, chunking of outgoing
/// messages within the server's buffer size and chunk count, reassembly of incoming MSG/OPN/CLO chunks, abort
/// chunks, sequence numbers and request ids, token renewal at 75% of the revised lifetime, CloseSecureChannel.
/// </summary>
public sealed class SecureChannel : IAsyncDisposable
{
    private const uint SequenceWrapLimit = 4294966271;

    private readonly UaTcpConnection _connection;
    private readonly ISecurityPolicy _policy;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _endpointUrl;
    private readonly uint _requestedLifetime;
    private readonly ConcurrentDictionary<uint, Pending> _pending = new();
    private readonly Dictionary<uint, Partial> _partials = [];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<Exception?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiveLoop = Task.CompletedTask;
    private ITimer? _renewTimer;
    private uint _sequenceNumber;
    private uint _lastReceivedSequence;
    private bool _anyReceived;
    private int _requestId;
    private uint _tokenId;
    private long _tokenIssuedAt;
    private uint _previousTokenId;
    private long _previousTokenExpiresAt;
    private byte[] _clientNonce = [];

    private SecureChannel(UaTcpConnection connection, ISecurityPolicy policy, string endpointUrl, uint requestedLifetime, TimeProvider timeProvider, ILogger logger)
    {
        _connection = connection;
        _policy = policy;
        _endpointUrl = endpointUrl;
        _requestedLifetime = requestedLifetime;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public uint ChannelId { get; private set; }

    public uint TokenId => _tokenId;

    /// <summary>Revised lifetime of the current token in milliseconds.</summary>
    public uint TokenLifetime { get; private set; }

    /// <summary>How many times the token was renewed.</summary>
    public int Renewals { get; private set; }

    public UaTcpConnection Connection => _connection;

    public ISecurityPolicy Policy => _policy;

    /// <summary>Completes when the channel ends; the result is the cause (null after a clean close).</summary>
    public Task<Exception?> Completion => _completion.Task;

    public bool IsOpen => !_completion.Task.IsCompleted;

    /// <summary>Default time a request may take before it fails with BadTimeout.</summary>
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;

    /// <summary>The request timeout when none is given.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Connects, says Hello and opens the channel.</summary>
    public static async Task<SecureChannel> OpenAsync(
        string host, int port, string endpointUrl, ISecurityPolicy policy, TransportLimits limits, uint requestedLifetimeMs,
        TimeProvider timeProvider, ILogger logger, CancellationToken cancellationToken, TimeSpan? requestTimeout = null)
    {
        var connection = await UaTcpConnection.ConnectAsync(host, port, endpointUrl, limits, cancellationToken, requestTimeout ?? DefaultRequestTimeout, timeProvider);
        var channel = new SecureChannel(connection, policy, endpointUrl, requestedLifetimeMs, timeProvider, logger);
        if (requestTimeout is { } timeout)
        {
            // OpenSecureChannel (and every later request without its own timeout) waits no longer than the client asked.
            channel.RequestTimeout = timeout;
        }

        try
        {
            channel._receiveLoop = Task.Run(channel.ReceiveLoopAsync, CancellationToken.None);
            await channel.OpenOrRenewAsync(renew: false, cancellationToken);
            ChannelLog.ChannelOpened(logger, channel.ChannelId, endpointUrl, channel._tokenId, channel.TokenLifetime, connection.SendBufferSize);
            return channel;
        }
        catch
        {
            await channel.DisposeAsync();
            throw;
        }
    }

    private async Task OpenOrRenewAsync(bool renew, CancellationToken cancellationToken)
    {
        _clientNonce = _policy.CreateNonce();
        var request = new OpenSecureChannelRequest
        {
            ClientProtocolVersion = 0,
            RequestType = renew ? 1 : 0,
            SecurityMode = _policy.Mode,
            ClientNonce = _clientNonce,
            RequestedLifetime = _requestedLifetime,
        };
        var response = (OpenSecureChannelResponse)await SendAsync(request, "OPN", RequestTimeout, cancellationToken);
        _policy.DeriveKeys(response.SecurityToken.TokenId, _clientNonce, response.ServerNonce ?? []);
        ChannelId = response.SecurityToken.ChannelId;
        if (renew)
        {
            // The server may keep sending under the old token until it sees ours: accept it until its lifetime ends
            // (plus a quarter for clock and network slack, as node-opcua allows).
            _previousTokenId = _tokenId;
            Interlocked.Exchange(ref _previousTokenExpiresAt, _tokenIssuedAt + (long)(TokenLifetime * 1.25 * _timeProvider.TimestampFrequency / 1000));
        }

        _tokenId = response.SecurityToken.TokenId;
        _tokenIssuedAt = _timeProvider.GetTimestamp();
        TokenLifetime = response.SecurityToken.RevisedLifetime;
        if (renew)
        {
            Renewals++;
        }

        ScheduleRenewal(TokenLifetime == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(TokenLifetime * 0.75));
    }

    /// <summary>Replaces the renewal timer; <see cref="Timeout.InfiniteTimeSpan"/> (a token without lifetime) or a disposed channel arms none.</summary>
    private void ScheduleRenewal(TimeSpan due)
    {
        _renewTimer?.Dispose();
        if (due == Timeout.InfiniteTimeSpan || _stop.IsCancellationRequested)
        {
            return;
        }

        _renewTimer = _timeProvider.CreateTimer(_ => _ = RenewAsync(), null, due, Timeout.InfiniteTimeSpan);
    }

    private async Task RenewAsync()
    {
        if (!IsOpen)
        {
            return;
        }

        try
        {
            await OpenOrRenewAsync(renew: true, _stop.Token);
            ChannelLog.TokenRenewed(_logger, ChannelId, _tokenId);
        }
        catch (Exception ex) when (ex is UaException or OperationCanceledException or ObjectDisposedException)
        {
            // A renewal cancelled by DisposeAsync fails while IsOpen is still true: no retry, no warning then.
            if (IsOpen && !_stop.IsCancellationRequested)
            {
                ChannelLog.TokenRenewalFailed(_logger, ChannelId, ex);

                // The current token still has a quarter of its lifetime: try again in a second rather than let it
                // expire (a renewal that timed out on a busy server used to be the last one, and the channel died).
                ScheduleRenewal(TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>Sends a service request and waits for its response; a ServiceFault or a Bad service result throws <see cref="UaException"/>.</summary>
    public async Task<UaResponse> SendRequestAsync(UaRequest request, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var response = await SendAsync(request, "MSG", timeout ?? RequestTimeout, cancellationToken);
        return response;
    }

    private async Task<UaResponse> SendAsync(UaRequest request, string messageType, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!IsOpen)
        {
            throw new UaConnectionException(SampleStatus.BadSecureChannelClosed, "the secure channel is closed", Completion.Result);
        }

        var requestId = unchecked((uint)Interlocked.Increment(ref _requestId));
        if (request.RequestHeader.RequestHandle == 0)
        {
            request.RequestHeader.RequestHandle = requestId;
        }

        request.RequestHeader.Timestamp = _timeProvider.GetUtcNow().UtcDateTime;
        request.RequestHeader.TimeoutHint = (uint)Math.Min(timeout.TotalMilliseconds, uint.MaxValue);
        var pending = new Pending();
        _pending[requestId] = pending;
        try
        {
            await WriteMessageAsync(request, messageType, requestId, cancellationToken);
            var response = await pending.Completion.Task.WaitAsync(timeout, _timeProvider, cancellationToken);
            if (response is ServiceFault fault)
            {
                throw new UaException(fault.ResponseHeader.ServiceResult.Code, $"{request.GetType().Name[..^7]} failed");
            }

            if (response.ResponseHeader.ServiceResult.IsBad)
            {
                throw new UaException(response.ResponseHeader.ServiceResult.Code, $"{request.GetType().Name[..^7]} failed");
            }

            return response;
        }
        catch (TimeoutException ex)
        {
            throw new UaException(SampleStatus.BadTimeout, $"{request.GetType().Name[..^7]} got no response within {timeout.TotalSeconds:0.#} s", ex);
        }
        finally
        {
            _pending.TryRemove(requestId, out _);
        }
    }

    /// <summary>Encodes and chunks a message: each chunk within the server's receive buffer, no more chunks than it accepts.</summary>
    private async Task WriteMessageAsync(IEncodeable message, string messageType, uint requestId, CancellationToken cancellationToken)
    {
        var body = new UaBuffer(512);
        new UaEncoder(body).WriteMessage(message);

        var asymmetric = messageType == "OPN";
        var securityHeader = new UaBuffer(64);
        var sh = new UaEncoder(securityHeader);
        if (asymmetric)
        {
            sh.WriteString(_policy.Uri);
            sh.WriteByteString(_policy.SenderCertificate);
            sh.WriteByteString(_policy.ReceiverCertificateThumbprint);
        }

        var headerSize = 12 + (asymmetric ? securityHeader.Length : 4) + 8;
        var maxBody = _policy.MaxBodySize((int)_connection.SendBufferSize, headerSize, asymmetric);
        var chunkCount = Math.Max(1, (body.Length + maxBody - 1) / maxBody);
        if (_connection.SendMaxChunkCount != 0 && chunkCount > _connection.SendMaxChunkCount)
        {
            throw new UaException(SampleStatus.BadRequestTooLarge, $"the request needs {chunkCount} chunks, the server accepts {_connection.SendMaxChunkCount}");
        }

        if (_connection.SendMaxMessageSize != 0 && body.Length > _connection.SendMaxMessageSize)
        {
            throw new UaException(SampleStatus.BadRequestTooLarge, $"the request is {body.Length} bytes, the server accepts {_connection.SendMaxMessageSize}");
        }

        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            var chunks = new List<ReadOnlyMemory<byte>>(chunkCount);
            for (var i = 0; i < chunkCount; i++)
            {
                var offset = i * maxBody;
                var length = Math.Min(maxBody, body.Length - offset);
                var chunk = new UaBuffer(headerSize + length + 64);
                var e = new UaEncoder(chunk);
                e.WriteBytes(System.Text.Encoding.ASCII.GetBytes(messageType));
                e.WriteByte(i == chunkCount - 1 ? (byte)'F' : (byte)'C');
                e.WriteUInt32(0);
                e.WriteUInt32(ChannelId);
                if (asymmetric)
                {
                    e.WriteBytes(securityHeader.WrittenSpan);
                }
                else
                {
                    e.WriteUInt32(_tokenId);
                }

                var securityHeaderEnd = chunk.Length;
                e.WriteUInt32(NextSequenceNumber());
                e.WriteUInt32(requestId);
                e.WriteBytes(body.WrittenSpan.Slice(offset, length));
                _policy.SecureChunk(chunk, 0, securityHeaderEnd, asymmetric);
                BinaryPrimitives.WriteUInt32LittleEndian(chunk.Written(4, 4), (uint)chunk.Length);
                chunks.Add(chunk.WrittenMemory);
            }

            await _connection.WriteChunksAsync(chunks, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private uint NextSequenceNumber()
    {
        _sequenceNumber = _sequenceNumber >= SequenceWrapLimit ? 1 : _sequenceNumber + 1;
        return _sequenceNumber;
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? cause = null;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var chunk = await _connection.ReadChunkAsync(_stop.Token);
                HandleChunk(chunk);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (UaException ex)
        {
            cause = ex;
        }
        catch (UaDecodingException ex)
        {
            cause = new UaConnectionException(SampleStatus.BadDecodingError, "malformed chunk header", ex);
        }
        catch (ObjectDisposedException ex)
        {
            cause = new UaConnectionException(SampleStatus.BadConnectionClosed, "connection closed", ex);
        }

        Fail(cause ?? new UaConnectionException(SampleStatus.BadSecureChannelClosed, "the secure channel was closed"), cause);
    }

    private void Fail(Exception error, Exception? cause)
    {
        _renewTimer?.Dispose();
        if (cause is not null && _completion.Task.IsCompleted is false)
        {
            ChannelLog.ChannelLost(_logger, ChannelId, cause.Message);
        }

        _completion.TrySetResult(cause);
        foreach (var pending in _pending.Values)
        {
            pending.Completion.TrySetException(error);
        }
    }

    private void HandleChunk(UaChunk chunk)
    {
        if (chunk.MessageType == "ERR")
        {
            var (code, reason) = UaTcpConnection.ParseError(chunk.Bytes);
            throw new UaConnectionException(code, "the server reported an error: " + reason);
        }

        if (chunk.MessageType is not ("MSG" or "OPN" or "CLO"))
        {
            throw new UaConnectionException(SampleStatus.BadTcpMessageTypeInvalid, $"unexpected {chunk.MessageType} on an open channel");
        }

        var bytes = chunk.Bytes;
        var asymmetric = chunk.MessageType == "OPN";
        var d = new UaDecoder(bytes);
        d.Skip(8);
        var channelId = d.ReadUInt32();
        if (ChannelId != 0 && channelId != ChannelId)
        {
            throw new UaConnectionException(SampleStatus.BadSecureChannelIdInvalid, $"chunk for channel {channelId}, ours is {ChannelId}");
        }

        byte[]? senderCertificate = null;
        uint tokenId = 0;
        if (asymmetric)
        {
            var policyUri = d.ReadString();
            senderCertificate = d.ReadByteString();
            var receiverThumbprint = d.ReadByteString();
            if (policyUri != _policy.Uri)
            {
                throw new UaConnectionException(SampleStatus.BadSecurityChecksFailed, $"the server answered with security policy {policyUri}, we asked for {_policy.Uri}");
            }

            if (_policy.SenderCertificate is { } ours && receiverThumbprint is not null && !receiverThumbprint.AsSpan().SequenceEqual(Thumbprint(ours)))
            {
                throw new UaConnectionException(SampleStatus.BadCertificateInvalid, "the server secured OpenSecureChannel for another certificate than ours");
            }
        }
        else
        {
            tokenId = d.ReadUInt32();
            if (tokenId != _tokenId && _tokenId != 0)
            {
                if (tokenId != _previousTokenId)
                {
                    throw new UaConnectionException(SampleStatus.BadSecureChannelTokenUnknown, $"chunk under token {tokenId}, ours is {_tokenId}");
                }

                if (_timeProvider.GetTimestamp() > Interlocked.Read(ref _previousTokenExpiresAt))
                {
                    throw new UaConnectionException(SampleStatus.BadSecureChannelTokenUnknown, $"chunk under token {tokenId}, which expired after renewal to {_tokenId}");
                }
            }
        }

        var securityHeaderEnd = d.Position;
        var plainLength = _policy.UnsecureChunk(bytes, securityHeaderEnd, asymmetric, tokenId, senderCertificate);
        var sequence = new UaDecoder(bytes.AsSpan(securityHeaderEnd, plainLength - securityHeaderEnd));
        var sequenceNumber = sequence.ReadUInt32();
        var requestId = sequence.ReadUInt32();
        CheckSequence(sequenceNumber);
        var bodyStart = securityHeaderEnd + 8;
        var body = bytes.AsSpan(bodyStart, plainLength - bodyStart);

        switch (chunk.ChunkType)
        {
            case 'A':
                _partials.Remove(requestId);
                var abort = new UaDecoder(body);
                uint code;
                string reason;
                try
                {
                    code = abort.ReadUInt32();
                    reason = abort.ReadString() ?? "";
                }
                catch (UaDecodingException)
                {
                    code = SampleStatus.BadDecodingError;
                    reason = "malformed abort chunk";
                }

                Complete(requestId, null, new UaException(code, "the server aborted the response: " + reason));
                break;
            case 'C':
                var partial = _partials.TryGetValue(requestId, out var p) ? p : _partials[requestId] = new Partial();
                if (partial.Discarding)
                {
                    break;
                }

                partial.Chunks++;
                partial.Buffer.GetSpan(body.Length);
                body.CopyTo(partial.Buffer.GetSpan(body.Length));
                partial.Buffer.Advance(body.Length);
                if ((_connection.Limits.MaxChunkCount != 0 && partial.Chunks >= _connection.Limits.MaxChunkCount) ||
                    (_connection.Limits.MaxMessageSize != 0 && partial.Buffer.Length > _connection.Limits.MaxMessageSize))
                {
                    partial.Discarding = true;
                    partial.Buffer.Clear();
                    Complete(requestId, null, new UaException(SampleStatus.BadResponseTooLarge, "the response exceeds our message size or chunk count"));
                }

                break;
            default:
                ReadOnlySpan<byte> message;
                if (_partials.Remove(requestId, out var whole))
                {
                    if (whole.Discarding)
                    {
                        break;
                    }

                    whole.Buffer.GetSpan(body.Length);
                    body.CopyTo(whole.Buffer.GetSpan(body.Length));
                    whole.Buffer.Advance(body.Length);
                    message = whole.Buffer.WrittenSpan;
                }
                else
                {
                    message = body;
                }

                UaResponse? response = null;
                Exception? error = null;
                try
                {
                    var decoder = new UaDecoder(message);
                    response = decoder.ReadMessage() as UaResponse
                        ?? throw new UaDecodingException("the message is not a response");
                }
                catch (UaDecodingException ex)
                {
                    // One undecodable message fails its own request, not the channel.
                    ChannelLog.MessageDiscarded(_logger, requestId, ex.Message);
                    error = new UaException(SampleStatus.BadDecodingError, "undecodable response: " + ex.Message, ex);
                }

                Complete(requestId, response, error);
                break;
        }
    }

#pragma warning disable CA5350 // the asymmetric security header names certificates by their SHA-1 thumbprint (OPC 10000-6 §6.7.2.3)
    private static byte[] Thumbprint(byte[] certificate) => System.Security.Cryptography.SHA1.HashData(certificate);
#pragma warning restore CA5350

    private void CheckSequence(uint sequenceNumber)
    {
        if (_anyReceived && sequenceNumber != _lastReceivedSequence + 1 && !(_lastReceivedSequence > SequenceWrapLimit - 1024 && sequenceNumber < 1024))
        {
            throw new UaConnectionException(SampleStatus.BadSequenceNumberInvalid, $"sequence number {sequenceNumber} after {_lastReceivedSequence}");
        }

        _anyReceived = true;
        _lastReceivedSequence = sequenceNumber;
    }

    private void Complete(uint requestId, UaResponse? response, Exception? error)
    {
        if (!_pending.TryGetValue(requestId, out var pending))
        {
            ChannelLog.MessageDiscarded(_logger, requestId, "no request waits for it (timed out or cancelled)");
            return;
        }

        if (error is not null)
        {
            pending.Completion.TrySetException(error);
        }
        else
        {
            pending.Completion.TrySetResult(response!);
        }
    }

    /// <summary>Sends CloseSecureChannel (no response) and closes the socket.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (IsOpen)
        {
            try
            {
                var requestId = unchecked((uint)Interlocked.Increment(ref _requestId));
                var request = new CloseSecureChannelRequest();
                request.RequestHeader.Timestamp = _timeProvider.GetUtcNow().UtcDateTime;
                await WriteMessageAsync(request, "CLO", requestId, cancellationToken);
            }
            catch (Exception ex) when (ex is UaException or OperationCanceledException or ObjectDisposedException)
            {
                // closing anyway
            }
        }

        await DisposeAsync();
    }

    /// <summary>Drops the connection without CloseSecureChannel, as a network failure would (for tests and the reconnect ladder).</summary>
    public async Task AbortAsync()
    {
        await _connection.DisposeAsync();
        await _receiveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        // Cancel first: a renewal scheduled from now on sees the cancellation and arms no timer.
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        _renewTimer?.Dispose();

        await _connection.DisposeAsync();
        await _receiveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Fail(new UaConnectionException(SampleStatus.BadSecureChannelClosed, "the secure channel was closed"), null);
        (_policy as IDisposable)?.Dispose();
    }

    private sealed class Pending
    {
        public TaskCompletionSource<UaResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Partial
    {
        public UaBuffer Buffer { get; } = new(8192);

        public int Chunks { get; set; }

        public bool Discarding { get; set; }
    }
}
