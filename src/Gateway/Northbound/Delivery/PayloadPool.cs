using System.Buffers;

namespace Gateway.Northbound.Delivery;

/// <summary>
/// The arrays payloads are written into, returned once their publication completed. A pool of its own rather than
/// <see cref="ArrayPool{T}.Shared"/>: a publish window keeps hundreds of payloads in flight at once, more than the
/// shared pool keeps per size (it would allocate most of them anew).
/// </summary>
public static class PayloadPool
{
    public static ArrayPool<byte> Shared { get; } = ArrayPool<byte>.Create(maxArrayLength: 4 * 1024 * 1024, maxArraysPerBucket: 8192);
}
