using System.Buffers;
using Gateway.Northbound.Delivery;

namespace Gateway.Northbound.Uns;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over arrays rented from <see cref="Delivery.PayloadPool.Shared"/>: a payload is written
/// straight into its own pooled array, which <see cref="Detach"/> hands over (to be returned once the publication
/// completed). No copy and, in the steady state, no allocation per payload.
/// </summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private readonly int _initialSize;
    private byte[] _buffer;
    private int _written;
    private bool _disposed;

    public PooledBufferWriter(int initialSize = 256)
    {
        _initialSize = initialSize;
        _buffer = PayloadPool.Shared.Rent(initialSize);
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Discards what was written (the array is kept for the next payload).</summary>
    public void Reset() => _written = 0;

    /// <summary>Discards what was written after the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _written);
        _written = length;
    }

    /// <summary>Hands over the array holding what was written, and rents a fresh one for the next payload.</summary>
    public (byte[] Array, int Length) Detach()
    {
        var taken = (_buffer, _written);
        _buffer = PayloadPool.Shared.Rent(_initialSize);
        _written = 0;
        return taken;
    }

    /// <summary>Returns the array to the pool; the writer is not used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        PayloadPool.Shared.Return(_buffer);
        _buffer = [];
        _written = 0;
    }

    private void Ensure(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var needed = _written + Math.Max(1, sizeHint);
        if (needed <= _buffer.Length)
        {
            return;
        }

        var larger = PayloadPool.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        PayloadPool.Shared.Return(_buffer);
        _buffer = larger;
    }
}
