using System.Buffers.Binary;

namespace Gateway.Drivers.OpcUa.Encoding;

/// <summary>A structure with a binary encoding id (OPC 10000-6 §5.2.6).</summary>
public interface IEncodeable
{
    /// <summary>The numeric id (namespace 0) of the type's DefaultBinary encoding.</summary>
    uint BinaryEncodingId { get; }

    void Encode(UaEncoder e);

    void Decode(ref UaDecoder d);
}

/// <summary>OPC UA binary encoder (OPC 10000-6 §5.2), little-endian, writing into a <see cref="UaBuffer"/>.</summary>
public sealed class UaEncoder
{
    private static readonly long s_epochTicks = new DateTime(1601, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    public UaEncoder(UaBuffer buffer)
    {
        Buffer = buffer;
    }

    public UaBuffer Buffer { get; }

    public int Position => Buffer.Length;

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteByte(byte value)
    {
        Buffer.GetSpan(1)[0] = value;
        Buffer.Advance(1);
    }

    public void WriteSByte(sbyte value) => WriteByte((byte)value);

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16LittleEndian(Buffer.GetSpan(2), value);
        Buffer.Advance(2);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Buffer.GetSpan(2), value);
        Buffer.Advance(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(Buffer.GetSpan(4), value);
        Buffer.Advance(4);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Buffer.GetSpan(4), value);
        Buffer.Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(Buffer.GetSpan(8), value);
        Buffer.Advance(8);
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Buffer.GetSpan(8), value);
        Buffer.Advance(8);
    }

    public void WriteFloat(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(Buffer.GetSpan(4), value);
        Buffer.Advance(4);
    }

    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(Buffer.GetSpan(8), value);
        Buffer.Advance(8);
    }

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        var count = System.Text.Encoding.UTF8.GetByteCount(value);
        WriteInt32(count);
        System.Text.Encoding.UTF8.GetBytes(value, Buffer.GetSpan(count));
        Buffer.Advance(count);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Buffer.GetSpan(bytes.Length));
        Buffer.Advance(bytes.Length);
    }

    public void WriteByteString(byte[]? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        WriteInt32(value.Length);
        WriteBytes(value);
    }

    /// <summary>Ticks since 1601-01-01 UTC; MinValue encodes as 0 and MaxValue as Int64.MaxValue.</summary>
    public void WriteDateTime(DateTime value)
    {
        if (value == DateTime.MaxValue)
        {
            WriteInt64(long.MaxValue);
            return;
        }

        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        WriteInt64(utc.Ticks <= s_epochTicks ? 0 : utc.Ticks - s_epochTicks);
    }

    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(Buffer.GetSpan(16));
        Buffer.Advance(16);
    }

    public void WriteStatusCode(StatusCode value) => WriteUInt32(value.Code);

    public void WriteNodeId(NodeId? value) => WriteNodeId(value ?? NodeId.Null, 0);

    private void WriteNodeId(NodeId value, byte flags)
    {
        switch (value.IdType)
        {
            case NodeIdType.Numeric when value.NamespaceIndex == 0 && value.Numeric <= byte.MaxValue:
                WriteByte(flags);
                WriteByte((byte)value.Numeric);
                break;
            case NodeIdType.Numeric when value.NamespaceIndex <= byte.MaxValue && value.Numeric <= ushort.MaxValue:
                WriteByte((byte)(0x01 | flags));
                WriteByte((byte)value.NamespaceIndex);
                WriteUInt16((ushort)value.Numeric);
                break;
            case NodeIdType.Numeric:
                WriteByte((byte)(0x02 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteUInt32(value.Numeric);
                break;
            case NodeIdType.String:
                WriteByte((byte)(0x03 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteString(value.Text);
                break;
            case NodeIdType.Guid:
                WriteByte((byte)(0x04 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteGuid(value.Guid);
                break;
            default:
                WriteByte((byte)(0x05 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteByteString(value.Opaque);
                break;
        }
    }

    public void WriteExpandedNodeId(ExpandedNodeId? value)
    {
        value ??= ExpandedNodeId.Null;
        var flags = (byte)((value.NamespaceUri is not null ? 0x80 : 0) | (value.ServerIndex != 0 ? 0x40 : 0));
        WriteNodeId(value.NodeId, flags);
        if (value.NamespaceUri is not null)
        {
            WriteString(value.NamespaceUri);
        }

        if (value.ServerIndex != 0)
        {
            WriteUInt32(value.ServerIndex);
        }
    }

    public void WriteQualifiedName(QualifiedName value)
    {
        WriteUInt16(value.NamespaceIndex);
        WriteString(value.Name);
    }

    public void WriteLocalizedText(LocalizedText value)
    {
        var mask = (byte)((value.Locale is not null ? 1 : 0) | (value.Text is not null ? 2 : 0));
        WriteByte(mask);
        if (value.Locale is not null)
        {
            WriteString(value.Locale);
        }

        if (value.Text is not null)
        {
            WriteString(value.Text);
        }
    }

    public void WriteDiagnosticInfo(DiagnosticInfo? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        var mask = (byte)((value.SymbolicId.HasValue ? 0x01 : 0) | (value.NamespaceUri.HasValue ? 0x02 : 0) |
            (value.LocalizedText.HasValue ? 0x04 : 0) | (value.Locale.HasValue ? 0x08 : 0) |
            (value.AdditionalInfo is not null ? 0x10 : 0) | (value.InnerStatusCode.HasValue ? 0x20 : 0) |
            (value.InnerDiagnosticInfo is not null ? 0x40 : 0));
        WriteByte(mask);
        if (value.SymbolicId is { } symbolicId)
        {
            WriteInt32(symbolicId);
        }

        if (value.NamespaceUri is { } namespaceUri)
        {
            WriteInt32(namespaceUri);
        }

        if (value.Locale is { } locale)
        {
            WriteInt32(locale);
        }

        if (value.LocalizedText is { } localizedText)
        {
            WriteInt32(localizedText);
        }

        if (value.AdditionalInfo is not null)
        {
            WriteString(value.AdditionalInfo);
        }

        if (value.InnerStatusCode is { } inner)
        {
            WriteStatusCode(inner);
        }

        if (value.InnerDiagnosticInfo is not null)
        {
            WriteDiagnosticInfo(value.InnerDiagnosticInfo);
        }
    }

    public void WriteExtensionObject(ExtensionObject? value)
    {
        value ??= ExtensionObject.Null;
        if (value.Body is { } body)
        {
            WriteNodeId(new NodeId(0, body.BinaryEncodingId));
            WriteByte(1);
            var lengthAt = Position;
            WriteInt32(0);
            body.Encode(this);
            BinaryPrimitives.WriteInt32LittleEndian(Buffer.Written(lengthAt, 4), Position - lengthAt - 4);
            return;
        }

        WriteNodeId(value.TypeId);
        if (value.Encoding == 0 || value.RawBody is null)
        {
            WriteByte(0);
            return;
        }

        WriteByte(value.Encoding);
        WriteByteString(value.RawBody);
    }

    public void WriteDataValue(DataValue? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        var mask = (byte)((!value.Value.IsNull ? 0x01 : 0) | (value.StatusCode.Code != 0 ? 0x02 : 0) |
            (value.SourceTimestamp != default ? 0x04 : 0) | (value.ServerTimestamp != default ? 0x08 : 0) |
            (value.SourcePicoseconds != 0 ? 0x10 : 0) | (value.ServerPicoseconds != 0 ? 0x20 : 0));
        WriteByte(mask);
        if ((mask & 0x01) != 0)
        {
            WriteVariant(value.Value);
        }

        if ((mask & 0x02) != 0)
        {
            WriteStatusCode(value.StatusCode);
        }

        if ((mask & 0x04) != 0)
        {
            WriteDateTime(value.SourceTimestamp);
        }

        if ((mask & 0x10) != 0)
        {
            WriteUInt16(value.SourcePicoseconds);
        }

        if ((mask & 0x08) != 0)
        {
            WriteDateTime(value.ServerTimestamp);
        }

        if ((mask & 0x20) != 0)
        {
            WriteUInt16(value.ServerPicoseconds);
        }
    }

    public void WriteVariant(Variant value)
    {
        if (value.IsNull)
        {
            WriteByte(0);
            return;
        }

        var type = value.Type;
        if (!value.IsArray)
        {
            WriteByte((byte)type);
            WriteScalar(type, value.Value);
            return;
        }

        var array = (Array)value.Value!;
        WriteByte((byte)((byte)type | 0x80 | (value.Dimensions is not null ? 0x40 : 0)));
        WriteInt32(array.Length);
        for (var i = 0; i < array.Length; i++)
        {
            WriteScalar(type, array.GetValue(i));
        }

        if (value.Dimensions is { } dimensions)
        {
            WriteInt32(dimensions.Length);
            foreach (var dimension in dimensions)
            {
                WriteInt32(dimension);
            }
        }
    }

    private void WriteScalar(BuiltInType type, object? value)
    {
        switch (type)
        {
            case BuiltInType.Boolean: WriteBoolean((bool)value!); break;
            case BuiltInType.SByte: WriteSByte((sbyte)value!); break;
            case BuiltInType.Byte: WriteByte((byte)value!); break;
            case BuiltInType.Int16: WriteInt16((short)value!); break;
            case BuiltInType.UInt16: WriteUInt16((ushort)value!); break;
            case BuiltInType.Int32: WriteInt32((int)value!); break;
            case BuiltInType.UInt32: WriteUInt32((uint)value!); break;
            case BuiltInType.Int64: WriteInt64((long)value!); break;
            case BuiltInType.UInt64: WriteUInt64((ulong)value!); break;
            case BuiltInType.Float: WriteFloat((float)value!); break;
            case BuiltInType.Double: WriteDouble((double)value!); break;
            case BuiltInType.String: WriteString((string?)value); break;
            case BuiltInType.DateTime: WriteDateTime((DateTime)value!); break;
            case BuiltInType.Guid: WriteGuid((Guid)value!); break;
            case BuiltInType.ByteString: WriteByteString((byte[]?)value); break;
            case BuiltInType.XmlElement: WriteString((string?)value); break;
            case BuiltInType.NodeId: WriteNodeId((NodeId?)value); break;
            case BuiltInType.ExpandedNodeId: WriteExpandedNodeId((ExpandedNodeId?)value); break;
            case BuiltInType.StatusCode: WriteStatusCode((StatusCode)value!); break;
            case BuiltInType.QualifiedName: WriteQualifiedName((QualifiedName)value!); break;
            case BuiltInType.LocalizedText: WriteLocalizedText((LocalizedText)value!); break;
            case BuiltInType.ExtensionObject: WriteExtensionObject((ExtensionObject?)value); break;
            case BuiltInType.DataValue: WriteDataValue((DataValue?)value); break;
            case BuiltInType.Variant: WriteVariant((Variant)value!); break;
            case BuiltInType.DiagnosticInfo: WriteDiagnosticInfo((DiagnosticInfo?)value); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "not a built-in type");
        }
    }

    public void WriteArray<T>(IReadOnlyList<T>? items, Action<UaEncoder, T> write)
    {
        if (items is null)
        {
            WriteInt32(-1);
            return;
        }

        WriteInt32(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            write(this, items[i]);
        }
    }

    public void WriteEncodeableArray<T>(IReadOnlyList<T>? items)
        where T : IEncodeable => WriteArray(items, static (e, item) => item.Encode(e));

    public void WriteStringArray(IReadOnlyList<string?>? items) => WriteArray(items, static (e, s) => e.WriteString(s));

    public void WriteUInt32Array(IReadOnlyList<uint>? items) => WriteArray(items, static (e, v) => e.WriteUInt32(v));

    public void WriteStatusCodeArray(IReadOnlyList<StatusCode>? items) => WriteArray(items, static (e, v) => e.WriteStatusCode(v));

    public void WriteDiagnosticInfoArray(IReadOnlyList<DiagnosticInfo?>? items) => WriteArray(items, static (e, v) => e.WriteDiagnosticInfo(v));

    public void WriteByteStringArray(IReadOnlyList<byte[]?>? items) => WriteArray(items, static (e, v) => e.WriteByteString(v));

    /// <summary>A message body: its encoding NodeId, then the structure.</summary>
    public void WriteMessage(IEncodeable message)
    {
        WriteNodeId(new NodeId(0, message.BinaryEncodingId));
        message.Encode(this);
    }
}
