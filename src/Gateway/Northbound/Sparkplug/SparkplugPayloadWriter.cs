using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Gateway.Drivers;
using Gateway.Northbound.Delivery;
using Google.Protobuf;

namespace Gateway.Northbound.Sparkplug;

/// <summary>
/// Writes Sparkplug B payloads (sparkplug_b.proto's Payload, Metric, PropertySet, PropertyValue) straight into a
/// buffer rented from <see cref="PayloadPool.Shared"/>: no message objects, no per-metric allocation. Fields go out in
/// field-number order, as Google.Protobuf writes them, so the bytes equal those of the generated classes for the
/// same content (the tests compare them). One payload at a time: <see cref="Begin"/>, metrics, <see cref="Finish"/>.
/// </summary>
public sealed class SparkplugPayloadWriter
{
    // Wire types (protobuf encoding): varint, 64-bit, length-delimited, 32-bit.
    private const int Varint = 0;
    private const int Fixed64 = 1;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    /// <summary>Ignition's convention for a value's quality: the OPC classic codes, 192 good, 64 uncertain, 0 bad.</summary>
    public const string QualityProperty = "Quality";

    /// <summary>The engineering unit property of a birth metric (Tahu and Ignition read <c>engUnit</c>).</summary>
    public const string UnitProperty = "engUnit";

    private static readonly int s_qualityKeyBytes = Encoding.UTF8.GetByteCount(QualityProperty);
    private static readonly int s_unitKeyBytes = Encoding.UTF8.GetByteCount(UnitProperty);

    private byte[] _buffer;
    private int _position;

    public SparkplugPayloadWriter(int initialCapacity = 4096)
    {
        _buffer = PayloadPool.Shared.Rent(Math.Max(64, initialCapacity));
    }

    /// <summary>Bytes written so far in the current payload.</summary>
    public int Length => _position;

    /// <summary>Metrics written into the current payload.</summary>
    public int MetricCount { get; private set; }

    /// <summary>Starts a payload with its timestamp (ms since the Unix epoch).</summary>
    public void Begin(ulong timestamp)
    {
        _position = 0;
        MetricCount = 0;
        WriteTag(1, Varint);
        WriteVarint(timestamp);
    }

    /// <summary>Ends the payload with its seq (null for none, as in NDEATH) and hands over the buffer.</summary>
    public PooledPayload Finish(ulong? seq)
    {
        if (seq is { } value)
        {
            WriteTag(3, Varint);
            WriteVarint(value);
        }

        var payload = new PooledPayload(_buffer, _position);
        _buffer = PayloadPool.Shared.Rent(Math.Max(64, _position));
        _position = 0;
        MetricCount = 0;
        return payload;
    }

    /// <summary>Drops what was written (the writer's buffer is kept).</summary>
    public void Reset()
    {
        _position = 0;
        MetricCount = 0;
    }

    /// <summary>The bytes the seq field adds at <see cref="Finish"/>.</summary>
    public const int SeqBytes = 3;

    /// <summary>
    /// A data metric (DDATA): alias, source timestamp, <c>is_historical</c> when set, the value in the field of its
    /// kind (or <c>is_null</c>), and a Quality property when the quality is not Good. <c>datatype</c> is the one the
    /// value goes as (it picks <c>int_value</c> or <c>long_value</c> for an integer); Unknown: by its kind.
    /// </summary>
    public void WriteDataMetric(ulong alias, ulong timestamp, in SampleValue value, Quality quality, bool historical, DataType datatype = DataType.Unknown) =>
        Write(new DataMetric(alias, timestamp, value, quality, historical, datatype));

    /// <summary>A data metric whose size is known (<see cref="DataMetric"/>): see <see cref="WriteDataMetric"/>.</summary>
    public void Write(in DataMetric metric)
    {
        var size = metric.Size;
        WriteTag(2, LengthDelimited);
        WriteVarint((ulong)size);
        Ensure(size);
        WriteTag(2, Varint);
        WriteVarint(metric.Alias);
        WriteTag(3, Varint);
        WriteVarint(metric.Timestamp);
        if (metric.Historical)
        {
            WriteTag(5, Varint);
            WriteByte(1);
        }

        if (metric.Value.Kind == SampleValueKind.None)
        {
            WriteTag(7, Varint);
            WriteByte(1);
        }

        if (metric.Quality != Quality.Good)
        {
            WriteProperties(metric.Quality, null, 0);
        }

        WriteValue(metric.Value, metric.Datatype, metric.StringBytes);
        MetricCount++;
    }

    /// <summary>A data metric's bytes inside the payload, with its field tag and length prefix.</summary>
    public static int DataMetricBytes(ulong alias, ulong timestamp, in SampleValue value, Quality quality, bool historical, DataType datatype = DataType.Unknown) =>
        new DataMetric(alias, timestamp, value, quality, historical, datatype).Bytes;

    /// <summary>
    /// A birth metric (NBIRTH, DBIRTH): name, alias, timestamp, datatype, <c>is_null</c> when there is no value yet,
    /// then the Quality (when not Good) and engUnit properties, then the value.
    /// </summary>
    public void WriteBirthMetric(string name, ulong? alias, ulong timestamp, DataType datatype, in SampleValue value, Quality quality, string? unit)
    {
        var nameBytes = Encoding.UTF8.GetByteCount(name);
        var unitBytes = unit is null ? 0 : Encoding.UTF8.GetByteCount(unit);
        var propertiesSize = PropertiesSize(quality, unit, unitBytes);
        var stringBytes = StringBytes(value);
        var size = 1 + VarintSize((ulong)nameBytes) + nameBytes
            + (alias is { } a ? 1 + VarintSize(a) : 0)
            + 1 + VarintSize(timestamp)
            + 1 + VarintSize((ulong)datatype)
            + (value.Kind == SampleValueKind.None ? 2 : 0)
            + (propertiesSize < 0 ? 0 : 1 + VarintSize((ulong)propertiesSize) + propertiesSize)
            + ValueSize(value, datatype, stringBytes);
        WriteTag(2, LengthDelimited);
        WriteVarint((ulong)size);
        Ensure(size);
        WriteTag(1, LengthDelimited);
        WriteString(name, nameBytes);
        if (alias is { } aliasValue)
        {
            WriteTag(2, Varint);
            WriteVarint(aliasValue);
        }

        WriteTag(3, Varint);
        WriteVarint(timestamp);
        WriteTag(4, Varint);
        WriteVarint((ulong)datatype);
        if (value.Kind == SampleValueKind.None)
        {
            WriteTag(7, Varint);
            WriteByte(1);
        }

        if (propertiesSize >= 0)
        {
            WriteProperties(quality, unit, unitBytes);
        }

        WriteValue(value, datatype, stringBytes);
        MetricCount++;
    }

    /// <summary>
    /// A data metric (DDATA) with its size computed once: the session checks it against the broker's limit, then
    /// <see cref="Write"/> writes it (a string's UTF-8 length is counted once for both).
    /// </summary>
    public readonly struct DataMetric
    {
        public DataMetric(ulong alias, ulong timestamp, in SampleValue value, Quality quality, bool historical, DataType datatype = DataType.Unknown)
        {
            Datatype = datatype;
            Alias = alias;
            Timestamp = timestamp;
            Value = value;
            Quality = quality;
            Historical = historical;
            StringBytes = SparkplugPayloadWriter.StringBytes(value);
            var propertiesSize = quality == Quality.Good ? -1 : PropertiesSize(quality, null, 0);
            Size = 1 + VarintSize(alias)
                + 1 + VarintSize(timestamp)
                + (historical ? 2 : 0)
                + (value.Kind == SampleValueKind.None ? 2 : 0)
                + (propertiesSize < 0 ? 0 : 1 + VarintSize((ulong)propertiesSize) + propertiesSize)
                + ValueSize(value, datatype, StringBytes);
        }

        /// <summary>The datatype the value goes as (Unknown: by its kind).</summary>
        public DataType Datatype { get; }

        public ulong Alias { get; }

        public ulong Timestamp { get; }

        public SampleValue Value { get; }

        public Quality Quality { get; }

        public bool Historical { get; }

        /// <summary>The UTF-8 length of a string value; 0 for the other kinds.</summary>
        public int StringBytes { get; }

        /// <summary>The Metric message's size, without its field tag and length prefix.</summary>
        public int Size { get; }

        /// <summary>What the metric adds to the payload: field tag, length prefix and <see cref="Size"/>.</summary>
        public int Bytes => 1 + VarintSize((ulong)Size) + Size;
    }

    /// <summary>The Sparkplug datatype a value of this kind is announced and sent as; Unknown for no value.</summary>
    public static DataType DataTypeOf(SampleValueKind kind) => kind switch
    {
        SampleValueKind.Boolean => DataType.Boolean,
        SampleValueKind.Integer => DataType.Int64,
        SampleValueKind.UnsignedInteger => DataType.UInt64,
        SampleValueKind.Float => DataType.Float,
        SampleValueKind.Double => DataType.Double,
        SampleValueKind.String => DataType.String,
        SampleValueKind.Structure => DataType.String,
        _ => DataType.Unknown,
    };

    /// <summary>
    /// The Sparkplug 3.0 array datatype of an array whose elements are <paramref name="element"/> (FloatArray …);
    /// an array of structures goes as a String with its JSON text, as a structure does.
    /// </summary>
    public static DataType ArrayDataTypeOf(SourceType element) => element switch
    {
        SourceType.Boolean => DataType.BooleanArray,
        SourceType.Int8 => DataType.Int8Array,
        SourceType.Int16 => DataType.Int16Array,
        SourceType.Int32 => DataType.Int32Array,
        SourceType.Int64 => DataType.Int64Array,
        SourceType.UInt8 => DataType.UInt8Array,
        SourceType.UInt16 => DataType.UInt16Array,
        SourceType.UInt32 => DataType.UInt32Array,
        SourceType.UInt64 => DataType.UInt64Array,
        SourceType.Float => DataType.FloatArray,
        SourceType.Double => DataType.DoubleArray,
        SourceType.String => DataType.StringArray,
        SourceType.DateTime => DataType.DateTimeArray,
        SourceType.Structure => DataType.String,
        _ => DataType.Unknown,
    };

    /// <summary>
    /// What a birth announces for a tag not read yet: its source type, the array datatype when the tag holds arrays
    /// (<see cref="TagInfo.IsArray"/>), String (JSON text) for a structure; Unknown when nothing is known.
    /// </summary>
    public static DataType DataTypeOf(TagInfo tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        return tag.IsArray ? ArrayDataTypeOf(tag.SourceType) : DataTypeOf(tag.SourceType);
    }

    /// <summary>
    /// The Sparkplug datatype of a value of a tag whose source type is <paramref name="source"/>: the source's own
    /// (Int8 … UInt64, Float) when the value is of it and fits it, otherwise the kind's (<see cref="DataTypeOf(SampleValueKind)"/>:
    /// a scaled integer is a Double, a value wider than its source goes as Int64 or UInt64). Unknown for no value.
    /// </summary>
    public static DataType DataTypeOf(SourceType source, in SampleValue value)
    {
        switch (value.Kind)
        {
            case SampleValueKind.Integer or SampleValueKind.UnsignedInteger:
                if (source is >= SourceType.Int8 and <= SourceType.UInt64 && SourceTypes.Fits(source, value))
                {
                    return DataTypeOf(source);
                }

                return value.Kind == SampleValueKind.UnsignedInteger && value.AsUnsignedInteger > long.MaxValue ? DataType.UInt64 : DataTypeOf(value.Kind);
            case SampleValueKind.Array:
                return ArrayDataTypeOf(value.AsArray!.ElementType);
            default:
                return DataTypeOf(value.Kind);
        }
    }

    /// <summary>The Sparkplug datatype of a source type (what a birth announces for a tag not read yet); Unknown when not known.</summary>
    public static DataType DataTypeOf(SourceType source) => source switch
    {
        SourceType.Boolean => DataType.Boolean,
        SourceType.Int8 => DataType.Int8,
        SourceType.Int16 => DataType.Int16,
        SourceType.Int32 => DataType.Int32,
        SourceType.Int64 => DataType.Int64,
        SourceType.UInt8 => DataType.UInt8,
        SourceType.UInt16 => DataType.UInt16,
        SourceType.UInt32 => DataType.UInt32,
        SourceType.UInt64 => DataType.UInt64,
        SourceType.Float => DataType.Float,
        SourceType.Double => DataType.Double,
        SourceType.String => DataType.String,
        SourceType.DateTime => DataType.DateTime,
        SourceType.Structure => DataType.String,
        _ => DataType.Unknown,
    };

    /// <summary>
    /// Whether an integer of this datatype goes in <c>int_value</c> (uint32) rather than <c>long_value</c> (uint64):
    /// Int8, Int16, Int32, UInt8, UInt16 do (negative ones as their 32-bit two's complement, as Eclipse Tahu writes
    /// and reads them). UInt32 goes in <c>long_value</c>: the specification's working group says a 3.0 decoder reads
    /// it from either field (eclipse-sparkplug/sparkplug#453), while Eclipse Tahu's JavaScript decoder (sparkplug-payload
    /// 1.0.3) and older Ignition versions read it only from <c>long_value</c> (eclipse-tahu/tahu#218, #397).
    /// </summary>
    private static bool IsIntValue(DataType datatype) => datatype is DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.UInt8 or DataType.UInt16;

    /// <summary>The <c>int_value</c> of a whole number: its low 32 bits (a negative Int8/16/32 sign-extended to 32 bits).</summary>
    private static uint IntValue(in SampleValue value) => value.Kind == SampleValueKind.UnsignedInteger ? unchecked((uint)value.AsUnsignedInteger) : unchecked((uint)value.AsInteger);

    /// <summary>
    /// The length of the value's bytes in its length-delimited field: a string's UTF-8, an array's bytes_value, the
    /// JSON text of a structure (or an array of structures); 0 for the other kinds.
    /// </summary>
    private static int StringBytes(in SampleValue value) => value.Kind switch
    {
        SampleValueKind.String => Encoding.UTF8.GetByteCount(value.AsString!),
        SampleValueKind.Array when IsPacked(value) => SparkplugArrays.ByteCount(value.AsArray!),
        SampleValueKind.Array or SampleValueKind.Structure => Encoding.UTF8.GetByteCount(value.ToString()),
        _ => 0,
    };

    // Arrays of structures have no Sparkplug array type: they go as JSON text, as structures do.
    private static bool IsPacked(in SampleValue value) => value.AsArray!.ElementType != SourceType.Structure;

    private static int ValueSize(in SampleValue value, DataType datatype, int stringBytes) => value.Kind switch
    {
        SampleValueKind.Integer or SampleValueKind.UnsignedInteger when IsIntValue(datatype) => 1 + VarintSize(IntValue(value)),
        SampleValueKind.Boolean => 2,
        SampleValueKind.Integer => 1 + VarintSize(unchecked((ulong)value.AsInteger)),
        SampleValueKind.UnsignedInteger => 1 + VarintSize(value.AsUnsignedInteger),
        SampleValueKind.Float => 5,
        SampleValueKind.Double => 9,
        SampleValueKind.String => StringFieldSize(stringBytes),
        SampleValueKind.Array when IsPacked(value) => 1 + StringFieldSize(stringBytes), // field 16: a two-byte tag
        SampleValueKind.Array or SampleValueKind.Structure => StringFieldSize(stringBytes),
        _ => 0,
    };

    private void WriteValue(in SampleValue value, DataType datatype, int stringBytes)
    {
        switch (value.Kind)
        {
            case SampleValueKind.Integer or SampleValueKind.UnsignedInteger when IsIntValue(datatype):
                WriteTag(10, Varint);
                WriteVarint(IntValue(value));
                break;
            case SampleValueKind.Boolean:
                WriteTag(14, Varint);
                WriteByte(value.AsBoolean ? (byte)1 : (byte)0);
                break;
            case SampleValueKind.Integer:
                WriteTag(11, Varint);
                WriteVarint(unchecked((ulong)value.AsInteger));
                break;
            case SampleValueKind.UnsignedInteger:
                WriteTag(11, Varint);
                WriteVarint(value.AsUnsignedInteger);
                break;
            case SampleValueKind.Float:
                WriteTag(12, Fixed32);
                BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_position), value.AsFloat);
                _position += 4;
                break;
            case SampleValueKind.Double:
                WriteTag(13, Fixed64);
                BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_position), value.AsDouble);
                _position += 8;
                break;
            case SampleValueKind.String:
                WriteTag(15, LengthDelimited);
                WriteString(value.AsString!, stringBytes);
                break;
            case SampleValueKind.Array when IsPacked(value):
                // bytes_value = 16: (16 << 3) | 2 = 130, a two-byte varint tag.
                WriteByte(0x82);
                WriteByte(0x01);
                WriteVarint((ulong)stringBytes);
                Ensure(stringBytes);
                _position += SparkplugArrays.Write(value.AsArray!, _buffer.AsSpan(_position, stringBytes));
                break;
            case SampleValueKind.Array or SampleValueKind.Structure:
                WriteTag(15, LengthDelimited);
                WriteString(value.ToString(), stringBytes);
                break;
        }
    }

    /// <summary>The PropertySet's size (without its own tag and length), or -1 when it has no property.</summary>
    private static int PropertiesSize(Quality quality, string? unit, int unitBytes)
    {
        if (quality == Quality.Good && unit is null)
        {
            return -1;
        }

        var size = 0;
        if (quality != Quality.Good)
        {
            var valueSize = QualityValueSize(quality);
            size += StringFieldSize(s_qualityKeyBytes) + 1 + VarintSize((ulong)valueSize) + valueSize;
        }

        if (unit is not null)
        {
            var valueSize = 2 + StringFieldSize(unitBytes);
            size += StringFieldSize(s_unitKeyBytes) + 1 + VarintSize((ulong)valueSize) + valueSize;
        }

        return size;
    }

    private static uint QualityCode(Quality quality) => quality == Quality.Uncertain ? 64u : 0u;

    // PropertyValue { type = Int32, int_value = code }
    private static int QualityValueSize(Quality quality) => 2 + 1 + VarintSize(QualityCode(quality));

    private void WriteProperties(Quality quality, string? unit, int unitBytes)
    {
        WriteTag(9, LengthDelimited);
        WriteVarint((ulong)PropertiesSize(quality, unit, unitBytes));

        // Repeated keys (field 1) first, then the values (field 2), in the same order.
        if (quality != Quality.Good)
        {
            WriteTag(1, LengthDelimited);
            WriteString(QualityProperty, s_qualityKeyBytes);
        }

        if (unit is not null)
        {
            WriteTag(1, LengthDelimited);
            WriteString(UnitProperty, s_unitKeyBytes);
        }

        if (quality != Quality.Good)
        {
            WriteTag(2, LengthDelimited);
            WriteVarint((ulong)QualityValueSize(quality));
            WriteTag(1, Varint);
            WriteByte((byte)DataType.Int32);
            WriteTag(3, Varint);
            WriteVarint(QualityCode(quality));
        }

        if (unit is not null)
        {
            WriteTag(2, LengthDelimited);
            WriteVarint((ulong)(2 + StringFieldSize(unitBytes)));
            WriteTag(1, Varint);
            WriteByte((byte)DataType.String);
            WriteTag(8, LengthDelimited);
            WriteString(unit, unitBytes);
        }
    }

    private static int StringFieldSize(int bytes) => 1 + VarintSize((ulong)bytes) + bytes;

    private static int VarintSize(ulong value) => CodedOutputStream.ComputeRawVarint64Size(value);

    private void WriteTag(int field, int wireType)
    {
        Ensure(1);
        _buffer[_position++] = (byte)((field << 3) | wireType);
    }

    private void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_position++] = value;
    }

    private void WriteVarint(ulong value)
    {
        Ensure(10);
        var buffer = _buffer;
        var position = _position;
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[position++] = (byte)value;
        _position = position;
    }

    private void WriteString(string text, int bytes)
    {
        WriteVarint((ulong)bytes);
        Ensure(bytes);
        _position += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_position));
    }

    private void Ensure(int bytes)
    {
        if (_position + bytes > _buffer.Length)
        {
            var larger = PayloadPool.Shared.Rent(Math.Max(_buffer.Length * 2, _position + bytes));
            _buffer.AsSpan(0, _position).CopyTo(larger);
            PayloadPool.Shared.Return(_buffer);
            _buffer = larger;
        }
    }
}

/// <summary>
/// A finished payload in a buffer rented from <see cref="PayloadPool.Shared"/>: <see cref="Dispose"/> (once the
/// publication is acknowledged, or failed) returns it.
/// </summary>
public sealed class PooledPayload : IDisposable
{
    private byte[]? _buffer;

    internal PooledPayload(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(PooledPayload))).AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => Memory.Span;

    /// <summary>Gives up the rented array: the caller returns it to <see cref="PayloadPool.Shared"/>.</summary>
    internal byte[] Detach()
    {
        // One owner (the message that holds it): no race to guard against.
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(PooledPayload));
        _buffer = null;
        return buffer;
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            PayloadPool.Shared.Return(buffer);
        }
    }
}
