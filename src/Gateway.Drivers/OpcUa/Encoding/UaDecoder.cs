using System.Buffers.Binary;

namespace Gateway.Drivers.OpcUa.Encoding;

/// <summary>
/// OPC UA binary decoder over a span. Every malformed input raises <see cref="UaDecodingException"/> (and only
/// that): lengths are checked against the bytes left before anything is allocated, nesting is bounded.
/// </summary>
public ref struct UaDecoder
{
    /// <summary>Variants in variants, diagnostic infos in diagnostic infos: deeper than this is hostile.</summary>
    public const int MaxDepth = 64;

    private static readonly long s_epochTicks = new DateTime(1601, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly long s_maxTicks = DateTime.MaxValue.Ticks - s_epochTicks;

    private readonly ReadOnlySpan<byte> _data;
    private int _position;
    private int _depth;

    public UaDecoder(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
        _depth = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _data.Length - _position)
        {
            throw new UaDecodingException($"unexpected end of message: {count} bytes needed at offset {_position}, {_data.Length - _position} left");
        }

        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    public void Skip(int count) => Take(count);

    public ReadOnlySpan<byte> ReadRaw(int count) => Take(count);

    public bool ReadBoolean() => Take(1)[0] != 0;

    public byte ReadByte() => Take(1)[0];

    public sbyte ReadSByte() => (sbyte)Take(1)[0];

    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public string? ReadString()
    {
        var length = ReadInt32();
        if (length < 0)
        {
            return null;
        }

        return System.Text.Encoding.UTF8.GetString(Take(length));
    }

    public byte[]? ReadByteString()
    {
        var length = ReadInt32();
        return length < 0 ? null : Take(length).ToArray();
    }

    public DateTime ReadDateTime()
    {
        var ticks = ReadInt64();
        if (ticks <= 0)
        {
            return DateTime.MinValue;
        }

        return ticks >= s_maxTicks ? DateTime.MaxValue : new DateTime(ticks + s_epochTicks, DateTimeKind.Utc);
    }

    public Guid ReadGuid() => new(Take(16));

    public StatusCode ReadStatusCode() => new(ReadUInt32());

    public NodeId ReadNodeId() => ReadNodeId(out _);

    private NodeId ReadNodeId(out byte flags)
    {
        var encoding = ReadByte();
        flags = (byte)(encoding & 0xC0);
        switch (encoding & 0x3F)
        {
            case 0:
                return new NodeId(0, ReadByte());
            case 1:
                var ns = ReadByte();
                return new NodeId(ns, ReadUInt16());
            case 2:
                var ns2 = ReadUInt16();
                return new NodeId(ns2, ReadUInt32());
            case 3:
                var ns3 = ReadUInt16();
                return new NodeId(ns3, ReadString() ?? "");
            case 4:
                var ns4 = ReadUInt16();
                return new NodeId(ns4, ReadGuid());
            case 5:
                var ns5 = ReadUInt16();
                return new NodeId(ns5, ReadByteString() ?? []);
            default:
                throw new UaDecodingException($"invalid NodeId encoding 0x{encoding:X2}");
        }
    }

    public ExpandedNodeId ReadExpandedNodeId()
    {
        var nodeId = ReadNodeId(out var flags);
        var uri = (flags & 0x80) != 0 ? ReadString() : null;
        var server = (flags & 0x40) != 0 ? ReadUInt32() : 0;
        return new ExpandedNodeId(nodeId, uri, server);
    }

    public QualifiedName ReadQualifiedName()
    {
        var ns = ReadUInt16();
        return new QualifiedName(ns, ReadString());
    }

    public LocalizedText ReadLocalizedText()
    {
        var mask = ReadByte();
        var locale = (mask & 1) != 0 ? ReadString() : null;
        var text = (mask & 2) != 0 ? ReadString() : null;
        return new LocalizedText(locale, text);
    }

    public DiagnosticInfo? ReadDiagnosticInfo()
    {
        var mask = ReadByte();
        if (mask == 0)
        {
            return null;
        }

        Enter();
        var result = new DiagnosticInfo
        {
            SymbolicId = (mask & 0x01) != 0 ? ReadInt32() : null,
            NamespaceUri = (mask & 0x02) != 0 ? ReadInt32() : null,
            Locale = (mask & 0x08) != 0 ? ReadInt32() : null,
            LocalizedText = (mask & 0x04) != 0 ? ReadInt32() : null,
            AdditionalInfo = (mask & 0x10) != 0 ? ReadString() : null,
            InnerStatusCode = (mask & 0x20) != 0 ? ReadStatusCode() : null,
            InnerDiagnosticInfo = (mask & 0x40) != 0 ? ReadDiagnosticInfo() : null,
        };
        _depth--;
        return result;
    }

    /// <summary>Decodes known structures through <see cref="UaTypeRegistry"/>; unknown or undecodable ones keep their raw body.</summary>
    public ExtensionObject ReadExtensionObject()
    {
        var typeId = ReadNodeId();
        var encoding = ReadByte();
        if (encoding == 0)
        {
            return typeId.IsNull ? ExtensionObject.Null : new ExtensionObject(typeId, 0, null, null);
        }

        if (encoding is not (1 or 2))
        {
            throw new UaDecodingException($"invalid ExtensionObject encoding {encoding}");
        }

        var length = ReadInt32();
        if (length < 0)
        {
            return new ExtensionObject(typeId, encoding, [], null);
        }

        var body = Take(length);
        if (encoding == 1 && typeId.NamespaceIndex == 0 && typeId.IdType == NodeIdType.Numeric && UaTypeRegistry.TryCreate(typeId.Numeric, out var instance))
        {
            Enter();
            try
            {
                var inner = new UaDecoder(body) { _depth = _depth };
                instance.Decode(ref inner);
                return new ExtensionObject(typeId, encoding, null, instance);
            }
            catch (UaDecodingException)
            {
                // A known type that does not decode is kept raw: one bad structure must not lose the message.
            }
            finally
            {
                _depth--;
            }
        }

        return new ExtensionObject(typeId, encoding, body.ToArray(), null);
    }

    public DataValue ReadDataValue()
    {
        var mask = ReadByte();
        Enter();
        var value = (mask & 0x01) != 0 ? ReadVariant() : Variant.Null;
        var status = (mask & 0x02) != 0 ? ReadStatusCode() : StatusCode.Good;
        var source = (mask & 0x04) != 0 ? ReadDateTime() : default;
        var sourcePico = (mask & 0x10) != 0 ? ReadUInt16() : (ushort)0;
        var server = (mask & 0x08) != 0 ? ReadDateTime() : default;
        var serverPico = (mask & 0x20) != 0 ? ReadUInt16() : (ushort)0;
        _depth--;
        return new DataValue
        {
            Value = value,
            StatusCode = status,
            SourceTimestamp = source,
            SourcePicoseconds = sourcePico,
            ServerTimestamp = server,
            ServerPicoseconds = serverPico,
        };
    }

    public Variant ReadVariant()
    {
        var mask = ReadByte();
        var type = (BuiltInType)(mask & 0x3F);
        if ((byte)type > 25)
        {
            throw new UaDecodingException($"invalid Variant type {(byte)type}");
        }

        if ((mask & 0x80) == 0)
        {
            if (type == BuiltInType.Null)
            {
                return Variant.Null;
            }

            Enter();
            var scalar = ReadScalar(type);
            _depth--;
            return new Variant(type, scalar);
        }

        if (type == BuiltInType.Null)
        {
            throw new UaDecodingException("Variant array of type Null");
        }

        var length = ReadInt32();
        Array array;
        Enter();
        if (length < 0)
        {
            array = NewArray(type, 0);
        }
        else
        {
            if (length > Remaining)
            {
                throw new UaDecodingException($"Variant array of {length} elements but {Remaining} bytes left");
            }

            array = NewArray(type, length);
            for (var i = 0; i < length; i++)
            {
                array.SetValue(ReadScalar(type), i);
            }
        }

        _depth--;
        int[]? dimensions = null;
        if ((mask & 0x40) != 0)
        {
            var count = ReadInt32();
            if (count < 0 || count > Remaining / 4)
            {
                throw new UaDecodingException($"invalid ArrayDimensions length {count}");
            }

            dimensions = new int[count];
            long product = 1;
            for (var i = 0; i < count; i++)
            {
                dimensions[i] = ReadInt32();
                if (dimensions[i] < 0)
                {
                    throw new UaDecodingException("negative array dimension");
                }

                product = Math.Min(product * dimensions[i], int.MaxValue + 1L);
            }

            if (count == 0 || product != array.Length)
            {
                throw new UaDecodingException($"array dimensions do not match the {array.Length} values");
            }
        }

        return new Variant(type, array, dimensions);
    }

    private object? ReadScalar(BuiltInType type) => type switch
    {
        BuiltInType.Boolean => ReadBoolean(),
        BuiltInType.SByte => ReadSByte(),
        BuiltInType.Byte => ReadByte(),
        BuiltInType.Int16 => ReadInt16(),
        BuiltInType.UInt16 => ReadUInt16(),
        BuiltInType.Int32 => ReadInt32(),
        BuiltInType.UInt32 => ReadUInt32(),
        BuiltInType.Int64 => ReadInt64(),
        BuiltInType.UInt64 => ReadUInt64(),
        BuiltInType.Float => ReadFloat(),
        BuiltInType.Double => ReadDouble(),
        BuiltInType.String => ReadString(),
        BuiltInType.DateTime => ReadDateTime(),
        BuiltInType.Guid => ReadGuid(),
        BuiltInType.ByteString => ReadByteString(),
        BuiltInType.XmlElement => ReadString(),
        BuiltInType.NodeId => ReadNodeId(),
        BuiltInType.ExpandedNodeId => ReadExpandedNodeId(),
        BuiltInType.StatusCode => ReadStatusCode(),
        BuiltInType.QualifiedName => ReadQualifiedName(),
        BuiltInType.LocalizedText => ReadLocalizedText(),
        BuiltInType.ExtensionObject => ReadExtensionObject(),
        BuiltInType.DataValue => ReadDataValue(),
        BuiltInType.Variant => ReadVariant(),
        BuiltInType.DiagnosticInfo => ReadDiagnosticInfo(),
        _ => throw new UaDecodingException($"invalid built-in type {(byte)type}"),
    };

    /// <summary>
    /// A new array of <see cref="ClrType"/> elements. Spelled out, not <c>Array.CreateInstance</c>: the native AOT
    /// build has the code of these array types compiled in, not of an element type chosen at run time.
    /// </summary>
    public static Array NewArray(BuiltInType type, int length) => type switch
    {
        BuiltInType.Boolean => new bool[length],
        BuiltInType.SByte => new sbyte[length],
        BuiltInType.Byte => new byte[length],
        BuiltInType.Int16 => new short[length],
        BuiltInType.UInt16 => new ushort[length],
        BuiltInType.Int32 => new int[length],
        BuiltInType.UInt32 => new uint[length],
        BuiltInType.Int64 => new long[length],
        BuiltInType.UInt64 => new ulong[length],
        BuiltInType.Float => new float[length],
        BuiltInType.Double => new double[length],
        BuiltInType.String or BuiltInType.XmlElement => new string[length],
        BuiltInType.DateTime => new DateTime[length],
        BuiltInType.Guid => new Guid[length],
        BuiltInType.ByteString => new byte[length][],
        BuiltInType.NodeId => new NodeId[length],
        BuiltInType.ExpandedNodeId => new ExpandedNodeId[length],
        BuiltInType.StatusCode => new StatusCode[length],
        BuiltInType.QualifiedName => new QualifiedName[length],
        BuiltInType.LocalizedText => new LocalizedText[length],
        BuiltInType.ExtensionObject => new ExtensionObject[length],
        BuiltInType.DataValue => new DataValue[length],
        BuiltInType.Variant => new Variant[length],
        BuiltInType.DiagnosticInfo => new DiagnosticInfo[length],
        _ => new object[length],
    };

    /// <summary>The .NET type that holds one value of a built-in type.</summary>
    public static Type ClrType(BuiltInType type) => type switch
    {
        BuiltInType.Boolean => typeof(bool),
        BuiltInType.SByte => typeof(sbyte),
        BuiltInType.Byte => typeof(byte),
        BuiltInType.Int16 => typeof(short),
        BuiltInType.UInt16 => typeof(ushort),
        BuiltInType.Int32 => typeof(int),
        BuiltInType.UInt32 => typeof(uint),
        BuiltInType.Int64 => typeof(long),
        BuiltInType.UInt64 => typeof(ulong),
        BuiltInType.Float => typeof(float),
        BuiltInType.Double => typeof(double),
        BuiltInType.String or BuiltInType.XmlElement => typeof(string),
        BuiltInType.DateTime => typeof(DateTime),
        BuiltInType.Guid => typeof(Guid),
        BuiltInType.ByteString => typeof(byte[]),
        BuiltInType.NodeId => typeof(NodeId),
        BuiltInType.ExpandedNodeId => typeof(ExpandedNodeId),
        BuiltInType.StatusCode => typeof(StatusCode),
        BuiltInType.QualifiedName => typeof(QualifiedName),
        BuiltInType.LocalizedText => typeof(LocalizedText),
        BuiltInType.ExtensionObject => typeof(ExtensionObject),
        BuiltInType.DataValue => typeof(DataValue),
        BuiltInType.Variant => typeof(Variant),
        BuiltInType.DiagnosticInfo => typeof(DiagnosticInfo),
        _ => typeof(object),
    };

    private void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw new UaDecodingException("structure nested too deeply");
        }
    }

    /// <summary>Reads an array length: -1 (null) gives -1; anything longer than the bytes left is rejected.</summary>
    public int ReadArrayLength()
    {
        var length = ReadInt32();
        if (length < -1 || length > Remaining)
        {
            throw new UaDecodingException($"invalid array length {length} with {Remaining} bytes left");
        }

        return length;
    }

    public T[]? ReadEncodeableArray<T>()
        where T : IEncodeable, new()
    {
        var length = ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var items = new T[length];
        for (var i = 0; i < length; i++)
        {
            var item = new T();
            Enter();
            item.Decode(ref this);
            _depth--;
            items[i] = item;
        }

        return items;
    }

    public T ReadEncodeable<T>()
        where T : IEncodeable, new()
    {
        var item = new T();
        Enter();
        item.Decode(ref this);
        _depth--;
        return item;
    }

    public string?[]? ReadStringArray()
    {
        var length = ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var items = new string?[length];
        for (var i = 0; i < length; i++)
        {
            items[i] = ReadString();
        }

        return items;
    }

    public uint[]? ReadUInt32Array()
    {
        var length = ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var items = new uint[length];
        for (var i = 0; i < length; i++)
        {
            items[i] = ReadUInt32();
        }

        return items;
    }

    public StatusCode[]? ReadStatusCodeArray()
    {
        var length = ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var items = new StatusCode[length];
        for (var i = 0; i < length; i++)
        {
            items[i] = ReadStatusCode();
        }

        return items;
    }

    public DiagnosticInfo?[]? ReadDiagnosticInfoArray()
    {
        var length = ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var items = new DiagnosticInfo?[length];
        for (var i = 0; i < length; i++)
        {
            items[i] = ReadDiagnosticInfo();
        }

        return items;
    }

    public byte[]?[]? ReadByteStringArray()
    {
        var length = ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var items = new byte[]?[length];
        for (var i = 0; i < length; i++)
        {
            items[i] = ReadByteString();
        }

        return items;
    }

    public DataValue[]? ReadDataValueArray()
    {
        var length = ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var items = new DataValue[length];
        for (var i = 0; i < length; i++)
        {
            items[i] = ReadDataValue();
        }

        return items;
    }

    public ExtensionObject[]? ReadExtensionObjectArray()
    {
        var length = ReadArrayLength();
        if (length < 0)
        {
            return null;
        }

        var items = new ExtensionObject[length];
        for (var i = 0; i < length; i++)
        {
            items[i] = ReadExtensionObject();
        }

        return items;
    }

    /// <summary>Reads a message body: the encoding NodeId, then the registered structure.</summary>
    public IEncodeable ReadMessage()
    {
        var typeId = ReadNodeId();
        if (typeId.NamespaceIndex != 0 || typeId.IdType != NodeIdType.Numeric || !UaTypeRegistry.TryCreate(typeId.Numeric, out var message))
        {
            throw new UaDecodingException($"unknown message type {typeId}");
        }

        message.Decode(ref this);
        return message;
    }
}
