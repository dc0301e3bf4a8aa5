using System.Buffers.Binary;
using System.Text;
using Gateway.Drivers;

namespace Gateway.Buffering;

/// <summary>
/// The binary form of one flush batch in the buffer (the <c>data</c> blob of a <c>batches</c> row).
/// <code>
/// batch  := version:byte(1) count:varint firstGatewayTicks:int64-LE sample*
/// sample := tagId:varint gatewayDelta:zigzag-varint (ticks after the previous sample's gateway timestamp)
///           sourceOffset:zigzag-varint (source ticks minus gateway ticks) flags:byte [status:varint] value
/// flags  := kind (bits 0-3) | quality (bits 4-5) | has-status (bit 6) | boolean value (bit 7)
/// value  := None, Boolean: nothing | Integer: zigzag-varint | UnsignedInteger: varint | Double: 8 bytes LE
///           | Float: 4 bytes LE | String: length:varint UTF-8 bytes
///           | Array, Structure: length:int32-LE body (see <c>SampleBatchCodec.Composite.cs</c>)
/// </code>
/// Kinds 7 (Array) and 8 (Structure) came without a version change: a batch of scalars is the same bytes as
/// before, and a gateway that predates them refuses such a batch by its kind. Kinds 9-15 are free; a reader refuses
/// a version it does not know.
/// Timestamps are UTC ticks. Encoding allocates nothing per sample (the writer's buffer grows by doubling and is reused).
/// </summary>
public static partial class SampleBatchCodec
{
    /// <summary>The format version written in the first byte.</summary>
    public const byte Version = 1;

    private const int KindMask = 0x0F;
    private const int QualityShift = 4;
    private const int QualityMask = 0x30;
    private const int HasStatusFlag = 0x40;
    private const int TrueFlag = 0x80;

    /// <summary>Encodes <paramref name="count"/> samples from <paramref name="samples"/> at <paramref name="start"/>; <paramref name="tagId"/> maps a tag to its stored id.</summary>
    public static void Encode<TTagIds>(IReadOnlyList<Sample> samples, int start, int count, TTagIds tagId, BatchWriter writer)
        where TTagIds : ITagIds
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(writer);
        writer.Reset();
        writer.WriteByte(Version);
        writer.WriteVarint((ulong)count);
        var previous = count == 0 ? 0 : samples[start].GatewayTimestamp.UtcTicks;
        writer.WriteInt64(previous);
        for (var i = start; i < start + count; i++)
        {
            var sample = samples[i];
            var gateway = sample.GatewayTimestamp.UtcTicks;
            writer.WriteVarint((ulong)tagId.IdOf(sample.Tag));
            writer.WriteVarint(ZigZag(gateway - previous));
            writer.WriteVarint(ZigZag(sample.SourceTimestamp.UtcTicks - gateway));
            previous = gateway;
            var value = sample.Value;
            var flags = (int)value.Kind | ((int)sample.Quality << QualityShift);
            if (sample.StatusCode != 0)
            {
                flags |= HasStatusFlag;
            }

            if (value.Kind == SampleValueKind.Boolean && value.AsBoolean)
            {
                flags |= TrueFlag;
            }

            writer.WriteByte((byte)flags);
            if (sample.StatusCode != 0)
            {
                writer.WriteVarint(sample.StatusCode);
            }

            switch (value.Kind)
            {
                case SampleValueKind.None or SampleValueKind.Boolean:
                    break;
                case SampleValueKind.Array or SampleValueKind.Structure:
                    WriteComposite(writer, value);
                    break;
                default:
                    WriteScalar(writer, value);
                    break;
            }
        }
    }

    /// <summary>The body of an integer, unsigned, double, float or string value (a sample's, or an array's element).</summary>
    private static void WriteScalar(BatchWriter writer, in SampleValue value)
    {
        switch (value.Kind)
        {
            case SampleValueKind.Integer:
                writer.WriteVarint(ZigZag(value.AsInteger));
                break;
            case SampleValueKind.UnsignedInteger:
                writer.WriteVarint(value.AsUnsignedInteger);
                break;
            case SampleValueKind.Double:
                writer.WriteInt64(BitConverter.DoubleToInt64Bits(value.AsDouble));
                break;
            case SampleValueKind.Float:
                writer.WriteInt32(BitConverter.SingleToInt32Bits(value.AsFloat));
                break;
            case SampleValueKind.String:
                writer.WriteString(value.AsString!);
                break;
            default:
                throw new NotSupportedException($"The buffer cannot store a value of kind {value.Kind}.");
        }
    }

    /// <summary>The number of samples in an encoded batch, read from its header (internal: for tests).</summary>
    internal static int CountOf(ReadOnlySpan<byte> data)
    {
        CheckVersion(data);
        var position = 1;
        return (int)ReadVarint(data, ref position);
    }

    /// <summary>
    /// Decodes a batch whose first sample has sequence <paramref name="firstSequence"/>, adding to <paramref name="into"/>
    /// the samples for which <paramref name="include"/> is true. Returns how many were added.
    /// </summary>
    public static int Decode<TTags, TFilter>(ReadOnlySpan<byte> data, long firstSequence, TTags tags, TFilter include, List<BufferedSample> into, int max = int.MaxValue)
        where TTags : ITagLookup
        where TFilter : ISequenceFilter
    {
        var cursor = Begin(data);
        return Decode(data, firstSequence, ref cursor, tags, include, into, max);
    }

    /// <summary>A cursor at the first sample of an encoded batch (its header read and checked).</summary>
    public static BatchCursor Begin(ReadOnlySpan<byte> data)
    {
        CheckVersion(data);
        var position = 1;
        var count = (int)ReadVarint(data, ref position);
        var gateway = BinaryPrimitives.ReadInt64LittleEndian(data[position..]);
        return new BatchCursor { Count = count, Index = 0, Position = position + 8, Gateway = gateway };
    }

    /// <summary>
    /// Decodes on from <paramref name="cursor"/> (left after the last sample decoded, so that the next read of the
    /// same batch resumes there instead of decoding its beginning again), adding the samples <paramref name="include"/>
    /// keeps, at most <paramref name="max"/>. Returns how many were added.
    /// </summary>
    public static int Decode<TTags, TFilter>(ReadOnlySpan<byte> data, long firstSequence, ref BatchCursor cursor, TTags tags, TFilter include, List<BufferedSample> into, int max = int.MaxValue)
        where TTags : ITagLookup
        where TFilter : ISequenceFilter
    {
        ArgumentNullException.ThrowIfNull(into);
        var position = cursor.Position;
        var gateway = cursor.Gateway;
        var count = cursor.Count;
        var i = cursor.Index;
        var added = 0;
        for (; i < count && added < max; i++)
        {
            var sequence = firstSequence + i;
            var keep = include.Includes(sequence);
            var tagId = (long)ReadVarint(data, ref position);
            gateway += UnZigZag(ReadVarint(data, ref position));
            var source = gateway + UnZigZag(ReadVarint(data, ref position));
            int flags = data[position++];
            var status = (flags & HasStatusFlag) != 0 ? (uint)ReadVarint(data, ref position) : 0u;
            var kind = (SampleValueKind)(flags & KindMask);
            SampleValue value;
            switch (kind)
            {
                case SampleValueKind.None:
                    value = SampleValue.None;
                    break;
                case SampleValueKind.Boolean:
                    value = SampleValue.FromBoolean((flags & TrueFlag) != 0);
                    break;
                case SampleValueKind.Integer:
                    value = SampleValue.FromInteger(UnZigZag(ReadVarint(data, ref position)));
                    break;
                case SampleValueKind.UnsignedInteger:
                    value = SampleValue.FromUnsignedInteger(ReadVarint(data, ref position));
                    break;
                case SampleValueKind.Double:
                    value = SampleValue.FromDouble(BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(data[position..])));
                    position += 8;
                    break;
                case SampleValueKind.Float:
                    value = SampleValue.FromFloat(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadInt32LittleEndian(data[position..])));
                    position += 4;
                    break;
                case SampleValueKind.String:
                    var length = (int)ReadVarint(data, ref position);
                    value = keep ? SampleValue.FromString(Encoding.UTF8.GetString(data.Slice(position, length))) : SampleValue.None;
                    position += length;
                    break;
                case SampleValueKind.Array or SampleValueKind.Structure:
                    var size = BinaryPrimitives.ReadInt32LittleEndian(data[position..]);
                    position += 4;
                    value = keep ? ReadComposite(kind, data.Slice(position, size)) : SampleValue.None;
                    position += size;
                    break;
                default:
                    throw new InvalidDataException($"Unknown sample kind {(int)kind} in a buffer batch.");
            }

            if (keep)
            {
                var quality = (Quality)((flags & QualityMask) >> QualityShift);
                into.Add(new BufferedSample(sequence, new Sample(tags.TagOf(tagId), new DateTimeOffset(source, TimeSpan.Zero), new DateTimeOffset(gateway, TimeSpan.Zero), value, quality, status)));
                added++;
            }
        }

        cursor.Index = i;
        cursor.Position = position;
        cursor.Gateway = gateway;
        return added;
    }

    private static void CheckVersion(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data[0] != Version)
        {
            throw new InvalidDataException($"Unknown buffer batch version {(data.IsEmpty ? -1 : data[0])} (this gateway reads version {Version}).");
        }
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }

            shift += 7;
            if (shift > 63)
            {
                throw new InvalidDataException("A varint in a buffer batch is longer than 10 bytes.");
            }
        }
    }
}

/// <summary>Where a decode of one batch stands: the next sample's index and byte position, and the previous gateway timestamp.</summary>
public struct BatchCursor
{
    public int Count;
    public int Index;
    public int Position;
    public long Gateway;
}

/// <summary>Maps a tag to its id in the buffer's <c>tags</c> table.</summary>
public interface ITagIds
{
    long IdOf(TagInfo tag);
}

/// <summary>Maps a stored tag id back to its tag.</summary>
public interface ITagLookup
{
    TagInfo TagOf(long id);
}

/// <summary>Which sequence numbers a decode keeps.</summary>
public interface ISequenceFilter
{
    bool Includes(long sequence);
}

/// <summary>Keeps every sample.</summary>
public readonly struct AllSequences : ISequenceFilter
{
    public bool Includes(long sequence) => true;
}

/// <summary>A reusable, growing byte buffer for <see cref="SampleBatchCodec.Encode"/>.</summary>
public sealed class BatchWriter
{
    private byte[] _buffer;

    public BatchWriter(int capacity = 64 * 1024) => _buffer = new byte[capacity];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void Reset() => Length = 0;

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[Length++] = value;
    }

    public void WriteVarint(ulong value)
    {
        Ensure(10);
        var buffer = _buffer;
        var position = Length;
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[position++] = (byte)value;
        Length = position;
    }

    public void WriteInt64(long value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(Length), value);
        Length += 8;
    }

    public void WriteInt32(int value)
    {
        Ensure(4);
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(Length), value);
        Length += 4;
    }

    /// <summary>Leaves room for an int32 written later with <see cref="PatchInt32"/>; returns where it goes.</summary>
    public int ReserveInt32()
    {
        Ensure(4);
        var at = Length;
        Length += 4;
        return at;
    }

    /// <summary>Writes an int32 (LE) into room left by <see cref="ReserveInt32"/>.</summary>
    public void PatchInt32(int at, int value) => BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(at), value);

    public void WriteString(string value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        Ensure(bytes + 10);
        WriteVarint((ulong)bytes);
        Encoding.UTF8.GetBytes(value, _buffer.AsSpan(Length));
        Length += bytes;
    }

    private void Ensure(int more)
    {
        if (Length + more > _buffer.Length)
        {
            System.Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + more));
        }
    }
}
