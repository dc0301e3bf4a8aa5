using System.Buffers;

namespace Gateway.Drivers.OpcUa.Encoding;

/// <summary>
/// A growable byte buffer that is an <see cref="IBufferWriter{T}"/> and also lets the encoder patch bytes it
/// already wrote (length prefixes, chunk headers) without a second pass.
/// </summary>
public sealed class UaBuffer : IBufferWriter<byte>
{
    private byte[] _buffer;

    public UaBuffer(int initialCapacity = 256)
    {
        _buffer = new byte[Math.Max(16, initialCapacity)];
    }

    /// <summary>Bytes written so far.</summary>
    public int Length { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, Length);

    /// <summary>A writable view of already written bytes, for patching.</summary>
    public Span<byte> Written(int offset, int count) => _buffer.AsSpan(offset, count);

    public void Clear() => Length = 0;

    public void Advance(int count)
    {
        if (count < 0 || Length + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(Length);
    }

    public byte[] ToArray() => WrittenSpan.ToArray();

    private void Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (Length + sizeHint <= _buffer.Length)
        {
            return;
        }

        var size = Math.Max(_buffer.Length * 2, Length + sizeHint);
        Array.Resize(ref _buffer, size);
    }
}
