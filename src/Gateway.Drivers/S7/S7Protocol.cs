using System.Buffers.Binary;

namespace Gateway.Drivers.S7;

/// <summary>The memory areas of an S7 CPU, by their S7comm area codes.</summary>
public enum S7Area : byte
{
    /// <summary>Process inputs (I, German E).</summary>
    Inputs = 0x81,

    /// <summary>Process outputs (Q, German A).</summary>
    Outputs = 0x82,

    /// <summary>Bit memory, Merker (M).</summary>
    Merkers = 0x83,

    /// <summary>A data block (DB).</summary>
    DataBlock = 0x84,

    /// <summary>Counters (C, German Z): two bytes each.</summary>
    Counters = 0x1C,

    /// <summary>Timers (T): two bytes each.</summary>
    Timers = 0x1D,
}

/// <summary>The transport size of a request item (the S7 "word length" the item counts in).</summary>
public enum S7TransportSize : byte
{
    Bit = 0x01,
    Byte = 0x02,
    Counter = 0x1C,
    Timer = 0x1D,
}

/// <summary>One item of a Read Var or Write Var request: an area, a DB number, a start and a count.</summary>
/// <param name="Area">The area.</param>
/// <param name="DbNumber">The DB number; 0 outside data blocks.</param>
/// <param name="Start">The first byte (for timers and counters: the first timer or counter number).</param>
/// <param name="Count">Bytes to read (timers and counters: how many; bits: 1).</param>
/// <param name="Bit">The bit of <paramref name="Start"/> for bit items, 0 to 7; -1 for byte items.</param>
public readonly record struct S7Item(S7Area Area, int DbNumber, int Start, int Count, int Bit = -1)
{
    public S7TransportSize TransportSize => Bit >= 0 ? S7TransportSize.Bit
        : Area == S7Area.Timers ? S7TransportSize.Timer
        : Area == S7Area.Counters ? S7TransportSize.Counter
        : S7TransportSize.Byte;

    /// <summary>Bytes of data this item carries (timers and counters are two bytes each).</summary>
    public int DataBytes => Bit >= 0 ? 1 : Area is S7Area.Timers or S7Area.Counters ? 2 * Count : Count;

    public override string ToString() => S7Address.Describe(this);
}

/// <summary>Sizes and codes of TPKT (RFC 1006), COTP (ISO 8073) and S7comm as they appear on the wire.</summary>
public static class S7Wire
{
    public const int TpktHeaderSize = 4;

    /// <summary>COTP data header: length 2, type DT (0xF0), EOT flag and TPDU number.</summary>
    public const int CotpDataHeaderSize = 3;

    /// <summary>S7 job header: protocol id 0x32, PDU type, reserved, PDU reference, parameter and data lengths.</summary>
    public const int JobHeaderSize = 10;

    /// <summary>S7 ack-data header: the job header plus error class and error code.</summary>
    public const int AckHeaderSize = 12;

    /// <summary>Bytes of one Read Var / Write Var request item (variable specification).</summary>
    public const int RequestItemSize = 12;

    /// <summary>Bytes before an item's data in a response or a Write Var request: return code or reserved, transport size, length.</summary>
    public const int DataItemHeaderSize = 4;

    /// <summary>Most items per Read Var request that S7-300/400 CPUs (and snap7) accept.</summary>
    public const int MaxItemsPerRequest = 20;

    /// <summary>The smallest PDU an S7 CPU negotiates (S7-200, LOGO!, S7-300 with old firmware).</summary>
    public const int MinPduSize = 240;

    /// <summary>The largest PDU S7-1500 CPUs negotiate.</summary>
    public const int MaxPduSize = 960;

    public const byte ProtocolId = 0x32;
    public const byte PduJob = 0x01;
    public const byte PduAck = 0x02;
    public const byte PduAckData = 0x03;
    public const byte PduUserData = 0x07;
    public const byte FunctionSetupCommunication = 0xF0;
    public const byte FunctionReadVar = 0x04;
    public const byte FunctionWriteVar = 0x05;

    public const byte CotpConnectionRequest = 0xE0;
    public const byte CotpConnectionConfirm = 0xD0;
    public const byte CotpDisconnectRequest = 0x80;
    public const byte CotpData = 0xF0;
    public const byte CotpError = 0x70;

    /// <summary>Return code of an item that was read or written.</summary>
    public const byte ItemSuccess = 0xFF;

    /// <summary>Bytes a Read Var response of <paramref name="items"/> items needs (odd items padded, except the last).</summary>
    public static int ReadResponseSize(ReadOnlySpan<S7Item> items)
    {
        var size = AckHeaderSize + 2;
        for (var i = 0; i < items.Length; i++)
        {
            var data = items[i].DataBytes;
            size += DataItemHeaderSize + data + (i < items.Length - 1 && data % 2 != 0 ? 1 : 0);
        }

        return size;
    }

    /// <summary>Bytes a Read Var request of <paramref name="items"/> items needs.</summary>
    public static int ReadRequestSize(int items) => JobHeaderSize + 2 + (RequestItemSize * items);

    /// <summary>The data bytes one Read Var response item can carry in a PDU of <paramref name="pduSize"/> bytes.</summary>
    public static int MaxReadBytes(int pduSize) => pduSize - AckHeaderSize - 2 - DataItemHeaderSize;

    /// <summary>The data bytes one Write Var request item can carry in a PDU of <paramref name="pduSize"/> bytes.</summary>
    public static int MaxWriteBytes(int pduSize) => pduSize - JobHeaderSize - 2 - RequestItemSize - DataItemHeaderSize;

    /// <summary>The remote TSAP of a CPU at <paramref name="rack"/> and <paramref name="slot"/>, as a PG connection (0x01) would address it.</summary>
    public static ushort RemoteTsap(int rack, int slot, byte connectionType = 0x01) => (ushort)((connectionType << 8) | ((rack & 0x07) << 5) | (slot & 0x1F));

    /// <summary>TPKT + COTP connection request (class 0, TPDU size 1024) for the TSAP pair.</summary>
    public static int WriteConnectionRequest(Span<byte> buffer, ushort localTsap, ushort remoteTsap)
    {
        ReadOnlySpan<byte> cotp =
        [
            0x11, CotpConnectionRequest, 0x00, 0x00, 0x00, 0x01, 0x00,
            0xC0, 0x01, 0x0A,
            0xC1, 0x02, (byte)(localTsap >> 8), (byte)localTsap,
            0xC2, 0x02, (byte)(remoteTsap >> 8), (byte)remoteTsap,
        ];
        var length = TpktHeaderSize + cotp.Length;
        WriteTpkt(buffer, length);
        cotp.CopyTo(buffer[TpktHeaderSize..]);
        return length;
    }

    public static void WriteTpkt(Span<byte> buffer, int length)
    {
        buffer[0] = 0x03;
        buffer[1] = 0x00;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], (ushort)length);
    }

    /// <summary>The S7 Setup Communication job: one job in parallel each way, <paramref name="pduSize"/> requested.</summary>
    public static int WriteSetupCommunication(Span<byte> pdu, ushort reference, int pduSize)
    {
        WriteJobHeader(pdu, reference, 8, 0);
        var parameters = pdu[JobHeaderSize..];
        parameters[0] = FunctionSetupCommunication;
        parameters[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(parameters[2..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(parameters[4..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(parameters[6..], (ushort)pduSize);
        return JobHeaderSize + 8;
    }

    /// <summary>A Read Var job of <paramref name="items"/>; returns its length.</summary>
    public static int WriteReadRequest(Span<byte> pdu, ushort reference, ReadOnlySpan<S7Item> items)
    {
        var parameterLength = 2 + (RequestItemSize * items.Length);
        WriteJobHeader(pdu, reference, parameterLength, 0);
        var parameters = pdu[JobHeaderSize..];
        parameters[0] = FunctionReadVar;
        parameters[1] = (byte)items.Length;
        for (var i = 0; i < items.Length; i++)
        {
            WriteItemSpecification(parameters.Slice(2 + (i * RequestItemSize), RequestItemSize), items[i]);
        }

        return JobHeaderSize + parameterLength;
    }

    /// <summary>A Write Var job of one item and its data; returns its length.</summary>
    public static int WriteWriteRequest(Span<byte> pdu, ushort reference, S7Item item, ReadOnlySpan<byte> data)
    {
        const int parameterLength = 2 + RequestItemSize;
        var dataLength = DataItemHeaderSize + data.Length;
        WriteJobHeader(pdu, reference, parameterLength, dataLength);
        var parameters = pdu[JobHeaderSize..];
        parameters[0] = FunctionWriteVar;
        parameters[1] = 1;
        WriteItemSpecification(parameters.Slice(2, RequestItemSize), item);
        var body = pdu[(JobHeaderSize + parameterLength)..];
        body[0] = 0x00;
        var (transport, length) = item.TransportSize switch
        {
            // Data transport sizes: 3 bit (length in bits), 4 byte/word (length in bits), 9 octet string (length in bytes).
            S7TransportSize.Bit => ((byte)0x03, data.Length),
            S7TransportSize.Byte => ((byte)0x04, data.Length * 8),
            _ => ((byte)0x09, data.Length),
        };
        body[1] = transport;
        BinaryPrimitives.WriteUInt16BigEndian(body[2..], (ushort)length);
        data.CopyTo(body[DataItemHeaderSize..]);
        return JobHeaderSize + parameterLength + dataLength;
    }

    private static void WriteJobHeader(Span<byte> pdu, ushort reference, int parameterLength, int dataLength)
    {
        pdu[0] = ProtocolId;
        pdu[1] = PduJob;
        pdu[2] = 0;
        pdu[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(pdu[4..], reference);
        BinaryPrimitives.WriteUInt16BigEndian(pdu[6..], (ushort)parameterLength);
        BinaryPrimitives.WriteUInt16BigEndian(pdu[8..], (ushort)dataLength);
    }

    private static void WriteItemSpecification(Span<byte> span, S7Item item)
    {
        span[0] = 0x12; // variable specification
        span[1] = 0x0A; // length of what follows
        span[2] = 0x10; // syntax id: S7ANY
        span[3] = (byte)item.TransportSize;
        BinaryPrimitives.WriteUInt16BigEndian(span[4..], (ushort)(item.Bit >= 0 ? 1 : item.Count));
        BinaryPrimitives.WriteUInt16BigEndian(span[6..], (ushort)(item.Area == S7Area.DataBlock ? item.DbNumber : 0));
        span[8] = (byte)item.Area;

        // Timers and counters are addressed by number; everything else by bit address (byte × 8 + bit).
        var address = item.Area is S7Area.Timers or S7Area.Counters ? item.Start : (item.Start * 8) + Math.Max(item.Bit, 0);
        span[9] = (byte)(address >> 16);
        span[10] = (byte)(address >> 8);
        span[11] = (byte)address;
    }

    /// <summary>
    /// Checks an ack-data PDU against the job it answers and returns its parameters and data. Throws
    /// <see cref="S7ProtocolException"/> for a malformed or mismatched PDU and <see cref="S7Exception"/> when the
    /// header carries an error class.
    /// </summary>
    public static (ReadOnlyMemory<byte> Parameters, ReadOnlyMemory<byte> Data) ParseAck(ReadOnlyMemory<byte> pdu, ushort reference, byte function)
    {
        var span = pdu.Span;
        if (span.Length < JobHeaderSize || span[0] != ProtocolId)
        {
            throw new S7ProtocolException($"not an S7 PDU ({span.Length} bytes, protocol id 0x{(span.Length > 0 ? span[0] : 0):X2})");
        }

        var type = span[1];
        if (type is not (PduAck or PduAckData))
        {
            throw new S7ProtocolException($"unexpected S7 PDU type 0x{type:X2} (expected an acknowledgement)");
        }

        if (span.Length < AckHeaderSize)
        {
            throw new S7ProtocolException($"S7 acknowledgement of {span.Length} bytes is shorter than its header");
        }

        var answered = BinaryPrimitives.ReadUInt16BigEndian(span[4..]);
        if (answered != reference)
        {
            throw new S7ProtocolException($"S7 acknowledgement for PDU reference {answered}, expected {reference}");
        }

        var parameterLength = BinaryPrimitives.ReadUInt16BigEndian(span[6..]);
        var dataLength = BinaryPrimitives.ReadUInt16BigEndian(span[8..]);
        var errorClass = span[10];
        var errorCode = span[11];
        if (errorClass != 0 || errorCode != 0)
        {
            throw new S7Exception(S7ErrorSource.Header, (ushort)((errorClass << 8) | errorCode));
        }

        if (AckHeaderSize + parameterLength + dataLength > span.Length)
        {
            throw new S7ProtocolException($"S7 acknowledgement announces {parameterLength} + {dataLength} bytes but carries {span.Length - AckHeaderSize}");
        }

        var parameters = pdu.Slice(AckHeaderSize, parameterLength);
        if (parameterLength < 1 || parameters.Span[0] != function)
        {
            throw new S7ProtocolException($"S7 acknowledgement of function 0x{(parameterLength > 0 ? parameters.Span[0] : 0):X2}, expected 0x{function:X2}");
        }

        return (parameters, pdu.Slice(AckHeaderSize + parameterLength, dataLength));
    }

    /// <summary>The PDU size (and parallel jobs) the CPU granted in its Setup Communication acknowledgement.</summary>
    public static int ParseSetupCommunication(ReadOnlyMemory<byte> pdu, ushort reference)
    {
        var (parameters, _) = ParseAck(pdu, reference, FunctionSetupCommunication);
        if (parameters.Length < 8)
        {
            throw new S7ProtocolException($"Setup Communication acknowledgement with {parameters.Length} parameter bytes, expected 8");
        }

        var size = BinaryPrimitives.ReadUInt16BigEndian(parameters.Span[6..]);
        if (size < 64)
        {
            throw new S7ProtocolException($"the CPU granted a PDU of {size} bytes, too small to read anything");
        }

        return size;
    }

    /// <summary>
    /// Decodes a Read Var acknowledgement of <paramref name="items"/>: copies each item's data into
    /// <paramref name="destinations"/> and returns each item's return code (0xFF success). An item that failed has no data.
    /// </summary>
    public static void ParseReadResponse(ReadOnlyMemory<byte> pdu, ushort reference, ReadOnlySpan<S7Item> items, Span<byte> returnCodes, IReadOnlyList<Memory<byte>> destinations)
    {
        var (parameters, data) = ParseAck(pdu, reference, FunctionReadVar);
        if (parameters.Length < 2 || parameters.Span[1] != items.Length)
        {
            throw new S7ProtocolException($"Read Var acknowledgement for {(parameters.Length < 2 ? 0 : parameters.Span[1])} items, expected {items.Length}");
        }

        var span = data.Span;
        var offset = 0;
        for (var i = 0; i < items.Length; i++)
        {
            if (offset + DataItemHeaderSize > span.Length)
            {
                throw new S7ProtocolException($"Read Var acknowledgement ends before item {i + 1} of {items.Length}");
            }

            var code = span[offset];
            var transport = span[offset + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(span[(offset + 2)..]);
            offset += DataItemHeaderSize;
            returnCodes[i] = code;
            if (code != ItemSuccess)
            {
                // A failed item carries no data (snap7 still writes a length of 4; real CPUs write 0).
                continue;
            }

            // Bit and byte/word/int transport sizes count in bits; real and octet strings in bytes.
            var bytes = transport is 0x04 or 0x05 or 0x06 ? (length + 7) / 8 : length;
            var expected = items[i].DataBytes;
            if (bytes != expected)
            {
                throw new S7ProtocolException($"Read Var item {i + 1} carries {bytes} bytes, expected {expected}");
            }

            if (offset + bytes > span.Length)
            {
                throw new S7ProtocolException($"Read Var item {i + 1} of {bytes} bytes runs past the end of the acknowledgement");
            }

            if (destinations[i].Length < bytes)
            {
                throw new S7ProtocolException($"Read Var item {i + 1} of {bytes} bytes does not fit its buffer");
            }

            span.Slice(offset, bytes).CopyTo(destinations[i].Span);
            offset += bytes;
            if (i < items.Length - 1 && bytes % 2 != 0)
            {
                offset++; // a fill byte keeps the next item on an even offset
            }
        }
    }

    /// <summary>The return code of the one item of a Write Var acknowledgement.</summary>
    public static byte ParseWriteResponse(ReadOnlyMemory<byte> pdu, ushort reference)
    {
        var (parameters, data) = ParseAck(pdu, reference, FunctionWriteVar);
        if (parameters.Length < 2 || parameters.Span[1] != 1 || data.Length < 1)
        {
            throw new S7ProtocolException("Write Var acknowledgement without its item's return code");
        }

        return data.Span[0];
    }
}
