using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Gateway.Drivers.S7;

/// <summary>
/// The S7comm client: Setup Communication (PDU size negotiation) on each new ISO connection, then Read Var jobs of
/// several items and Write Var jobs of one, one job at a time (callers from several poll loops take turns). Every job
/// has its PDU reference checked; a timeout, a broken connection or a malformed answer closes the connection, and the
/// next job opens a new one.
/// </summary>
public sealed class S7Client : IAsyncDisposable
{
    private readonly S7IsoTransport _transport;
    private readonly ReusableTimeout _timeout;
    private readonly int _requestedPduSize;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _request = new byte[S7IsoTransport.MaxFrameSize];
    private readonly byte[] _response = new byte[S7IsoTransport.MaxPduBytes];
    private ushort _reference;
    private long _requests;
    private int _pduSize;

    public S7Client(S7IsoTransport transport, TimeProvider timeProvider, int requestedPduSize = 480)
    {
        _transport = transport;
        _timeout = new ReusableTimeout(timeProvider);
        _requestedPduSize = Math.Clamp(requestedPduSize, S7Wire.MinPduSize, S7Wire.MaxPduSize);
    }

    public S7IsoTransport Transport => _transport;

    /// <summary>The PDU size the CPU granted on the current connection; 0 before the first connection.</summary>
    public int PduSize
    {
        get => Volatile.Read(ref _pduSize);
        private set => Volatile.Write(ref _pduSize, value);
    }

    /// <summary>Read and write jobs sent so far (Setup Communication not counted).</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Connects (when not connected) and returns the negotiated PDU size.</summary>
    public ValueTask<int> ConnectAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Every poll cycle asks: when connected, answer without the gate and the timeout. A connection lost meanwhile
        // is found by the next job, whose plan is checked against the PDU again.
        var pduSize = PduSize;
        return pduSize > 0 && _transport.IsConnected ? ValueTask.FromResult(pduSize) : ConnectSlowAsync(timeout, cancellationToken);
    }

    private async ValueTask<int> ConnectSlowAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await RunAsync(timeout, 0, static (_, _, _) => ValueTask.FromResult(0), cancellationToken);
            return PduSize;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// One Read Var job of <paramref name="items"/> (at most 20, fitting the negotiated PDU both ways). Fills each
    /// destination and each item's return code (0xFF success); throws <see cref="S7Exception"/> when the CPU refused
    /// the whole job, <see cref="TimeoutException"/> or <see cref="IOException"/> when the connection failed.
    /// </summary>
    public async ValueTask ReadAsync(S7Item[] items, Memory<byte>[] destinations, byte[] returnCodes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (items.Length is 0 or > S7Wire.MaxItemsPerRequest)
        {
            throw new ArgumentOutOfRangeException(nameof(items), items.Length, $"a Read Var job has 1 to {S7Wire.MaxItemsPerRequest} items");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            await RunAsync(timeout, (Items: items, Destinations: destinations, ReturnCodes: returnCodes), static (client, job, token) => client.ReadJobAsync(job.Items, job.Destinations, job.ReturnCodes, token), cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One Write Var job of one item; throws <see cref="S7Exception"/> when the CPU refused it.</summary>
    public async ValueTask WriteAsync(S7Item item, ReadOnlyMemory<byte> data, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await RunAsync(timeout, (Item: item, Data: data), static (client, job, token) => client.WriteJobAsync(job.Item, job.Data, token), cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadJobAsync(S7Item[] items, Memory<byte>[] destinations, byte[] returnCodes, CancellationToken cancellationToken)
    {
        if (S7Wire.ReadRequestSize(items.Length) > PduSize || S7Wire.ReadResponseSize(items) > PduSize)
        {
            // Planned for another connection's PDU: an I/O failure, so the caller retries and plans again.
            throw new IOException($"{items.Length} items do not fit the PDU of {PduSize} bytes negotiated on the new connection to {_transport.Peer}");
        }

        var reference = NextReference();
        var length = S7Wire.WriteReadRequest(_request, reference, items);
        var received = await TransceiveAsync(length, cancellationToken);
        S7Wire.ParseReadResponse(_response.AsMemory(0, received), reference, items, returnCodes, destinations);
        return 0;
    }

    private async ValueTask<int> WriteJobAsync(S7Item item, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (data.Length > S7Wire.MaxWriteBytes(PduSize))
        {
            throw new ArgumentException($"{data.Length} bytes do not fit one write in the negotiated PDU of {PduSize} bytes");
        }

        var reference = NextReference();
        var length = S7Wire.WriteWriteRequest(_request, reference, item, data.Span);
        var received = await TransceiveAsync(length, cancellationToken);
        var code = S7Wire.ParseWriteResponse(_response.AsMemory(0, received), reference);
        if (code != S7Wire.ItemSuccess)
        {
            throw new S7Exception(S7ErrorSource.Item, code, $"writing {item}");
        }

        return 0;
    }

    private ushort NextReference()
    {
        _reference = _reference == ushort.MaxValue ? (ushort)1 : (ushort)(_reference + 1);
        return _reference;
    }

    private async ValueTask<int> TransceiveAsync(int length, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        await _transport.SendAsync(_request.AsMemory(0, length), cancellationToken);
        return await _transport.ReceiveAsync(_response, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="job"/> (a static lambda: no closure per job) on a connected transport within
    /// <paramref name="timeout"/>, connecting first if needed. The timeout source is reused while jobs succeed.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> RunAsync<TState, T>(TimeSpan timeout, TState state, Func<S7Client, TState, CancellationToken, ValueTask<T>> job, CancellationToken cancellationToken)
    {
        using var timeoutLease = _timeout.Start(timeout, cancellationToken);
        var token = timeoutLease.Token;
        var connecting = false;
        try
        {
            if (!_transport.IsConnected)
            {
                connecting = true;
                PduSize = 0;
                await _transport.ConnectAsync(token);
                var reference = NextReference();
                var length = S7Wire.WriteSetupCommunication(_request, reference, _requestedPduSize);
                await _transport.SendAsync(_request.AsMemory(0, length), token);
                var received = await _transport.ReceiveAsync(_response, token);
                try
                {
                    PduSize = Math.Min(S7Wire.ParseSetupCommunication(_response.AsMemory(0, received), reference), S7Wire.MaxPduSize);
                }
                catch (S7Exception ex)
                {
                    throw new S7ConnectionException($"{_transport.Peer} refused Setup Communication: {ex.Message}", ex);
                }

                connecting = false;
            }

            return await job(this, state, token);
        }
        catch (OperationCanceledException) when (timeoutLease.TimedOut)
        {
            // The answer may still come and would be taken for the next job's: start afresh.
            _transport.Disconnect();
            throw new TimeoutException(connecting
                ? $"{_transport.Peer} did not accept the connection within {timeout.TotalMilliseconds:0} ms"
                : $"no answer from {_transport.Peer} within {timeout.TotalMilliseconds:0} ms");
        }
        catch (OperationCanceledException)
        {
            _transport.Disconnect();
            throw;
        }
        catch (S7Exception)
        {
            // The CPU answered properly: the connection stays.
            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            _transport.Disconnect();
            if (ex is IOException)
            {
                throw;
            }

            throw new IOException($"connection to {_transport.Peer} lost: {ex.Message}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _transport.DisposeAsync();
        _gate.Dispose();
        _timeout.Dispose();
    }
}
