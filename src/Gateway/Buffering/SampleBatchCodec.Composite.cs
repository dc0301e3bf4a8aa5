using System.Buffers.Binary;
using System.Text;
using Gateway.Drivers;

namespace Gateway.Buffering;

/// <summary>
/// Arrays and structures in a buffer batch. At the top level of a sample their body follows an int32-LE byte length
/// (so that a decode which skips the sample skips it in one step); inside a structure or an array of structures they
/// are written without it.
/// <code>
/// array     := elementType:byte (SourceType) count:varint element*
/// element   := Boolean: byte 0/1 | Int8-Int64: zigzag-varint | UInt8-UInt64: varint | Float: 4 bytes LE
///              | Double: 8 bytes LE | String: length:varint UTF-8 | DateTime: UTC ticks int64-LE | Structure: structure
/// structure := typeName:string count:varint (name:string nested)*
/// nested    := kind:byte (SampleValueKind) then None: nothing | Boolean: byte 0/1 | Integer: zigzag-varint
///              | UnsignedInteger: varint | Double: 8 bytes LE | Float: 4 bytes LE | String: string | Array: array
///              | Structure: structure
/// </code>
/// Every value comes back exactly (floats by their bits, timestamps by their ticks).
/// </summary>
public static partial class SampleBatchCodec
{
    // Deeper than this in a stored batch is corruption, not a PLC's structure.
    private const int MaxDepth = 32;

    private static void WriteComposite(BatchWriter writer, in SampleValue value)
    {
        var at = writer.ReserveInt32();
        var start = writer.Length;
        if (value.Kind == SampleValueKind.Array)
        {
            WriteArray(writer, value.AsArray!);
        }
        else
        {
            WriteStructure(writer, value.AsStructure!);
        }

        writer.PatchInt32(at, writer.Length - start);
    }

    private static void WriteArray(BatchWriter writer, SampleArray array)
    {
        writer.WriteByte((byte)array.ElementType);
        writer.WriteVarint((ulong)array.Length);
        // By ElementType, not by array type patterns: a ushort[] passes as a short[] at run time.
        switch (array.ElementType)
        {
            case SourceType.Boolean:
                foreach (var item in (bool[])array.Items)
                {
                    writer.WriteByte(item ? (byte)1 : (byte)0);
                }

                break;
            case SourceType.Int8:
                foreach (var item in (sbyte[])array.Items)
                {
                    writer.WriteVarint(ZigZag(item));
                }

                break;
            case SourceType.UInt8:
                foreach (var item in (byte[])array.Items)
                {
                    writer.WriteVarint(item);
                }

                break;
            case SourceType.Int16:
                foreach (var item in (short[])array.Items)
                {
                    writer.WriteVarint(ZigZag(item));
                }

                break;
            case SourceType.UInt16:
                foreach (var item in (ushort[])array.Items)
                {
                    writer.WriteVarint(item);
                }

                break;
            case SourceType.Int32:
                foreach (var item in (int[])array.Items)
                {
                    writer.WriteVarint(ZigZag(item));
                }

                break;
            case SourceType.UInt32:
                foreach (var item in (uint[])array.Items)
                {
                    writer.WriteVarint(item);
                }

                break;
            case SourceType.Int64:
                foreach (var item in (long[])array.Items)
                {
                    writer.WriteVarint(ZigZag(item));
                }

                break;
            case SourceType.UInt64:
                foreach (var item in (ulong[])array.Items)
                {
                    writer.WriteVarint(item);
                }

                break;
            case SourceType.Float:
                foreach (var item in (float[])array.Items)
                {
                    writer.WriteInt32(BitConverter.SingleToInt32Bits(item));
                }

                break;
            case SourceType.Double:
                foreach (var item in (double[])array.Items)
                {
                    writer.WriteInt64(BitConverter.DoubleToInt64Bits(item));
                }

                break;
            case SourceType.String:
                foreach (var item in (string[])array.Items)
                {
                    writer.WriteString(item);
                }

                break;
            case SourceType.DateTime:
                foreach (var item in (DateTime[])array.Items)
                {
                    writer.WriteInt64(item.Ticks);
                }

                break;
            case SourceType.Structure:
                foreach (var item in (SampleValue[])array.Items)
                {
                    WriteStructure(writer, item.AsStructure!);
                }

                break;
            default:
                throw new NotSupportedException($"The buffer cannot store an array of {array.ElementType}.");
        }
    }

    private static void WriteStructure(BatchWriter writer, SampleStructure structure)
    {
        writer.WriteString(structure.TypeName);
        writer.WriteVarint((ulong)structure.Count);
        for (var i = 0; i < structure.Count; i++)
        {
            writer.WriteString(structure.NameAt(i));
            WriteNested(writer, structure.ValueAt(i));
        }
    }

    private static void WriteNested(BatchWriter writer, in SampleValue value)
    {
        writer.WriteByte((byte)value.Kind);
        switch (value.Kind)
        {
            case SampleValueKind.None:
                break;
            case SampleValueKind.Boolean:
                writer.WriteByte(value.AsBoolean ? (byte)1 : (byte)0);
                break;
            case SampleValueKind.Array:
                WriteArray(writer, value.AsArray!);
                break;
            case SampleValueKind.Structure:
                WriteStructure(writer, value.AsStructure!);
                break;
            default:
                WriteScalar(writer, value);
                break;
        }
    }

    private static SampleValue ReadComposite(SampleValueKind kind, ReadOnlySpan<byte> body)
    {
        var position = 0;
        var value = kind == SampleValueKind.Array
            ? SampleValue.FromArray(ReadArray(body, ref position, 0))
            : SampleValue.FromStructure(ReadStructure(body, ref position, 0));
        if (position != body.Length)
        {
            throw new InvalidDataException($"A stored {kind} is {body.Length} bytes but its content ends at {position}.");
        }

        return value;
    }

    private static SampleArray ReadArray(ReadOnlySpan<byte> data, ref int position, int depth)
    {
        var elementType = (SourceType)data[position++];
        var count = checked((int)ReadVarint(data, ref position));
        if (count > data.Length - position)
        {
            throw new InvalidDataException($"A stored array claims {count} elements in {data.Length - position} bytes.");
        }

        switch (elementType)
        {
            case SourceType.Boolean:
                var booleans = new bool[count];
                for (var i = 0; i < count; i++)
                {
                    booleans[i] = data[position++] != 0;
                }

                return SampleArray.Of(booleans);
            case SourceType.Int8:
                var int8 = new sbyte[count];
                for (var i = 0; i < count; i++)
                {
                    int8[i] = checked((sbyte)UnZigZag(ReadVarint(data, ref position)));
                }

                return SampleArray.Of(int8);
            case SourceType.UInt8:
                var uint8 = new byte[count];
                for (var i = 0; i < count; i++)
                {
                    uint8[i] = checked((byte)ReadVarint(data, ref position));
                }

                return SampleArray.Of(uint8);
            case SourceType.Int16:
                var int16 = new short[count];
                for (var i = 0; i < count; i++)
                {
                    int16[i] = checked((short)UnZigZag(ReadVarint(data, ref position)));
                }

                return SampleArray.Of(int16);
            case SourceType.UInt16:
                var uint16 = new ushort[count];
                for (var i = 0; i < count; i++)
                {
                    uint16[i] = checked((ushort)ReadVarint(data, ref position));
                }

                return SampleArray.Of(uint16);
            case SourceType.Int32:
                var int32 = new int[count];
                for (var i = 0; i < count; i++)
                {
                    int32[i] = checked((int)UnZigZag(ReadVarint(data, ref position)));
                }

                return SampleArray.Of(int32);
            case SourceType.UInt32:
                var uint32 = new uint[count];
                for (var i = 0; i < count; i++)
                {
                    uint32[i] = checked((uint)ReadVarint(data, ref position));
                }

                return SampleArray.Of(uint32);
            case SourceType.Int64:
                var int64 = new long[count];
                for (var i = 0; i < count; i++)
                {
                    int64[i] = UnZigZag(ReadVarint(data, ref position));
                }

                return SampleArray.Of(int64);
            case SourceType.UInt64:
                var uint64 = new ulong[count];
                for (var i = 0; i < count; i++)
                {
                    uint64[i] = ReadVarint(data, ref position);
                }

                return SampleArray.Of(uint64);
            case SourceType.Float:
                var floats = new float[count];
                for (var i = 0; i < count; i++)
                {
                    floats[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadInt32LittleEndian(data[position..]));
                    position += 4;
                }

                return SampleArray.Of(floats);
            case SourceType.Double:
                var doubles = new double[count];
                for (var i = 0; i < count; i++)
                {
                    doubles[i] = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(data[position..]));
                    position += 8;
                }

                return SampleArray.Of(doubles);
            case SourceType.String:
                var strings = new string[count];
                for (var i = 0; i < count; i++)
                {
                    strings[i] = ReadString(data, ref position);
                }

                return SampleArray.Of(strings);
            case SourceType.DateTime:
                var times = new DateTime[count];
                for (var i = 0; i < count; i++)
                {
                    times[i] = new DateTime(BinaryPrimitives.ReadInt64LittleEndian(data[position..]), DateTimeKind.Utc);
                    position += 8;
                }

                return SampleArray.Of(times);
            case SourceType.Structure:
                var structures = new SampleValue[count];
                for (var i = 0; i < count; i++)
                {
                    structures[i] = SampleValue.FromStructure(ReadStructure(data, ref position, depth + 1));
                }

                return SampleArray.OfStructures(structures);
            default:
                throw new InvalidDataException($"Unknown array element type {(int)elementType} in a buffer batch.");
        }
    }

    private static SampleStructure ReadStructure(ReadOnlySpan<byte> data, ref int position, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"A stored structure is nested deeper than {MaxDepth} levels.");
        }

        var typeName = ReadString(data, ref position);
        var count = checked((int)ReadVarint(data, ref position));
        if (count > data.Length - position)
        {
            throw new InvalidDataException($"A stored structure claims {count} fields in {data.Length - position} bytes.");
        }

        var names = new string[count];
        var values = new SampleValue[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = ReadString(data, ref position);
            values[i] = ReadNested(data, ref position, depth + 1);
        }

        return new SampleStructure(typeName, names, values);
    }

    private static SampleValue ReadNested(ReadOnlySpan<byte> data, ref int position, int depth)
    {
        var kind = (SampleValueKind)data[position++];
        switch (kind)
        {
            case SampleValueKind.None:
                return SampleValue.None;
            case SampleValueKind.Boolean:
                return SampleValue.FromBoolean(data[position++] != 0);
            case SampleValueKind.Integer:
                return SampleValue.FromInteger(UnZigZag(ReadVarint(data, ref position)));
            case SampleValueKind.UnsignedInteger:
                return SampleValue.FromUnsignedInteger(ReadVarint(data, ref position));
            case SampleValueKind.Double:
                var d = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(data[position..]));
                position += 8;
                return SampleValue.FromDouble(d);
            case SampleValueKind.Float:
                var f = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadInt32LittleEndian(data[position..]));
                position += 4;
                return SampleValue.FromFloat(f);
            case SampleValueKind.String:
                return SampleValue.FromString(ReadString(data, ref position));
            case SampleValueKind.Array:
                return SampleValue.FromArray(ReadArray(data, ref position, depth + 1));
            case SampleValueKind.Structure:
                return SampleValue.FromStructure(ReadStructure(data, ref position, depth + 1));
            default:
                throw new InvalidDataException($"Unknown sample kind {(int)kind} inside a stored structure.");
        }
    }

    private static string ReadString(ReadOnlySpan<byte> data, ref int position)
    {
        var length = checked((int)ReadVarint(data, ref position));
        var text = Encoding.UTF8.GetString(data.Slice(position, length));
        position += length;
        return text;
    }
}
