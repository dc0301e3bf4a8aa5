using System.Buffers.Binary;
using System.Text;
using Gateway.Drivers;

namespace Gateway.Northbound.Sparkplug;

/// <summary>
/// The <c>bytes_value</c> of the Sparkplug 3.0 array datatypes (specification, "Datatype Details"; as Eclipse Tahu's
/// Java encoder writes them): Int8Array … DoubleArray are the elements packed little-endian; BooleanArray is a 4-byte
/// little-endian element count, then the bits, eight per byte, the first element in the most significant bit, the
/// last byte padded with zeros; StringArray is each string's UTF-8 followed by a NUL byte; DateTimeArray is each
/// timestamp as an int64 of milliseconds since the Unix epoch (UTC), little-endian.
/// </summary>
public static class SparkplugArrays
{
    /// <summary>The length of the array's <c>bytes_value</c>.</summary>
    public static int ByteCount(SampleArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        switch (array.ElementType)
        {
            case SourceType.Boolean:
                return 4 + ((array.Length + 7) / 8);
            case SourceType.String:
                var bytes = 0;
                foreach (var item in (string[])array.Items)
                {
                    bytes += Encoding.UTF8.GetByteCount(item) + 1;
                }

                return bytes;
            default:
                return array.Length * ElementSize(array.ElementType);
        }
    }

    /// <summary>Writes the array's <c>bytes_value</c> into <paramref name="destination"/> (at least <see cref="ByteCount"/> long); returns the bytes written.</summary>
    public static int Write(SampleArray array, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(array);
        var position = 0;
        // By ElementType, not by array type patterns: a ushort[] passes as a short[] at run time.
        switch (array.ElementType)
        {
            case SourceType.Boolean:
                var booleans = (bool[])array.Items;
                BinaryPrimitives.WriteInt32LittleEndian(destination, booleans.Length);
                var bits = destination.Slice(4, (booleans.Length + 7) / 8);
                bits.Clear();
                for (var i = 0; i < booleans.Length; i++)
                {
                    if (booleans[i])
                    {
                        bits[i >> 3] |= (byte)(0x80 >> (i & 7));
                    }
                }

                return 4 + bits.Length;
            case SourceType.Int8:
                foreach (var item in (sbyte[])array.Items)
                {
                    destination[position++] = unchecked((byte)item);
                }

                return position;
            case SourceType.UInt8:
                ((byte[])array.Items).CopyTo(destination);
                return array.Length;
            case SourceType.Int16:
                foreach (var item in (short[])array.Items)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(destination[position..], item);
                    position += 2;
                }

                return position;
            case SourceType.UInt16:
                foreach (var item in (ushort[])array.Items)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(destination[position..], item);
                    position += 2;
                }

                return position;
            case SourceType.Int32:
                foreach (var item in (int[])array.Items)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(destination[position..], item);
                    position += 4;
                }

                return position;
            case SourceType.UInt32:
                foreach (var item in (uint[])array.Items)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(destination[position..], item);
                    position += 4;
                }

                return position;
            case SourceType.Int64:
                foreach (var item in (long[])array.Items)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(destination[position..], item);
                    position += 8;
                }

                return position;
            case SourceType.UInt64:
                foreach (var item in (ulong[])array.Items)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(destination[position..], item);
                    position += 8;
                }

                return position;
            case SourceType.Float:
                foreach (var item in (float[])array.Items)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(destination[position..], item);
                    position += 4;
                }

                return position;
            case SourceType.Double:
                foreach (var item in (double[])array.Items)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(destination[position..], item);
                    position += 8;
                }

                return position;
            case SourceType.String:
                foreach (var item in (string[])array.Items)
                {
                    position += Encoding.UTF8.GetBytes(item, destination[position..]);
                    destination[position++] = 0;
                }

                return position;
            case SourceType.DateTime:
                foreach (var item in (DateTime[])array.Items)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(destination[position..], (item.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond);
                    position += 8;
                }

                return position;
            default:
                throw new NotSupportedException($"Sparkplug has no array datatype for elements of {array.ElementType}.");
        }
    }

    private static int ElementSize(SourceType element) => element switch
    {
        SourceType.Int8 or SourceType.UInt8 => 1,
        SourceType.Int16 or SourceType.UInt16 => 2,
        SourceType.Int32 or SourceType.UInt32 or SourceType.Float => 4,
        SourceType.Int64 or SourceType.UInt64 or SourceType.Double or SourceType.DateTime => 8,
        _ => throw new NotSupportedException($"Sparkplug has no array datatype for elements of {element}."),
    };
}
