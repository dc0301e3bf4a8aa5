using System.Buffers.Binary;

namespace Gateway.Drivers.Modbus;

/// <summary>The outcome of checking a response PDU against its request.</summary>
public enum ModbusResponseStatus
{
    /// <summary>A well-formed normal response to the request.</summary>
    Ok,

    /// <summary>A well-formed exception response; the code is in the second byte.</summary>
    Exception,

    /// <summary>Anything else: the caller must not use the data.</summary>
    Malformed,
}

/// <summary>
/// Protocol data units: request encoding and response checking, shared by every transport (TCP, RTU, RTU over TCP)
/// and by the server. Nothing here throws on bad input from the wire: decoders return a status.
/// </summary>
public static class ModbusPdu
{
    /// <summary>Encodes FC1-FC4: function, start address, quantity. Returns 5.</summary>
    public static int WriteReadRequest(Span<byte> pdu, ModbusTable table, ushort start, ushort count)
    {
        pdu[0] = (byte)table;
        BinaryPrimitives.WriteUInt16BigEndian(pdu[1..], start);
        BinaryPrimitives.WriteUInt16BigEndian(pdu[3..], count);
        return 5;
    }

    /// <summary>Encodes FC5: 0xFF00 for on, 0x0000 for off. Returns 5.</summary>
    public static int WriteSingleCoilRequest(Span<byte> pdu, ushort address, bool value)
    {
        pdu[0] = (byte)ModbusFunctionCode.WriteSingleCoil;
        BinaryPrimitives.WriteUInt16BigEndian(pdu[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(pdu[3..], value ? (ushort)0xFF00 : (ushort)0x0000);
        return 5;
    }

    /// <summary>Encodes FC6. Returns 5.</summary>
    public static int WriteSingleRegisterRequest(Span<byte> pdu, ushort address, ushort value)
    {
        pdu[0] = (byte)ModbusFunctionCode.WriteSingleRegister;
        BinaryPrimitives.WriteUInt16BigEndian(pdu[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(pdu[3..], value);
        return 5;
    }

    /// <summary>Encodes FC15 (1 to 1968 coils, least significant bit first). Returns the PDU length.</summary>
    public static int WriteMultipleCoilsRequest(Span<byte> pdu, ushort address, ReadOnlySpan<bool> values)
    {
        if (values.Length is < 1 or > ModbusLimits.MaxWriteBits)
        {
            throw new ArgumentOutOfRangeException(nameof(values), values.Length, $"FC15 writes 1 to {ModbusLimits.MaxWriteBits} coils");
        }

        var byteCount = (values.Length + 7) / 8;
        pdu[0] = (byte)ModbusFunctionCode.WriteMultipleCoils;
        BinaryPrimitives.WriteUInt16BigEndian(pdu[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(pdu[3..], (ushort)values.Length);
        pdu[5] = (byte)byteCount;
        PackBits(values, pdu.Slice(6, byteCount));
        return 6 + byteCount;
    }

    /// <summary>Encodes FC16 (1 to 123 registers). Returns the PDU length.</summary>
    public static int WriteMultipleRegistersRequest(Span<byte> pdu, ushort address, ReadOnlySpan<ushort> values)
    {
        if (values.Length is < 1 or > ModbusLimits.MaxWriteRegisters)
        {
            throw new ArgumentOutOfRangeException(nameof(values), values.Length, $"FC16 writes 1 to {ModbusLimits.MaxWriteRegisters} registers");
        }

        pdu[0] = (byte)ModbusFunctionCode.WriteMultipleRegisters;
        BinaryPrimitives.WriteUInt16BigEndian(pdu[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(pdu[3..], (ushort)values.Length);
        pdu[5] = (byte)(values.Length * 2);
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(pdu[(6 + (2 * i))..], values[i]);
        }

        return 6 + (2 * values.Length);
    }

    /// <summary>
    /// Checks <paramref name="response"/> against <paramref name="request"/>: function code, byte count and length,
    /// and for writes the echoed address, value or quantity. Never throws.
    /// </summary>
    public static ModbusResponseStatus CheckResponse(ReadOnlySpan<byte> request, ReadOnlySpan<byte> response, out byte exceptionCode, out string? problem)
    {
        exceptionCode = 0;
        problem = null;
        if (request.Length < 5)
        {
            problem = "request too short";
            return ModbusResponseStatus.Malformed;
        }

        if (response.Length == 0)
        {
            problem = "empty response";
            return ModbusResponseStatus.Malformed;
        }

        var function = request[0];
        if (response[0] == (function | 0x80))
        {
            if (response.Length != 2)
            {
                problem = $"exception response of {response.Length} bytes, expected 2";
                return ModbusResponseStatus.Malformed;
            }

            exceptionCode = response[1];
            return ModbusResponseStatus.Exception;
        }

        if (response[0] != function)
        {
            problem = $"function code {response[0]} in a response to function {function}";
            return ModbusResponseStatus.Malformed;
        }

        var quantity = BinaryPrimitives.ReadUInt16BigEndian(request[3..]);
        switch (function)
        {
            case 1 or 2:
            case 3 or 4:
                {
                    var expectedBytes = function <= 2 ? (quantity + 7) / 8 : quantity * 2;
                    if (response.Length < 2 || response[1] != expectedBytes || response.Length != 2 + expectedBytes)
                    {
                        problem = $"read response of {response.Length} bytes (byte count {(response.Length > 1 ? response[1] : -1)}), expected byte count {expectedBytes}";
                        return ModbusResponseStatus.Malformed;
                    }

                    return ModbusResponseStatus.Ok;
                }

            case 5 or 6 or 15 or 16:
                if (response.Length != 5 || !response[1..5].SequenceEqual(request[1..5]))
                {
                    problem = "write response does not echo the request";
                    return ModbusResponseStatus.Malformed;
                }

                return ModbusResponseStatus.Ok;
            default:
                problem = $"function code {function} is not supported";
                return ModbusResponseStatus.Malformed;
        }
    }

    /// <summary>
    /// The length of a response PDU once its first bytes are known (RTU has no length field):
    /// 0 when more bytes are needed, -1 when the function code is unknown.
    /// </summary>
    public static int ResponseLength(ReadOnlySpan<byte> head)
    {
        if (head.Length < 1)
        {
            return 0;
        }

        var function = head[0];
        if ((function & 0x80) != 0)
        {
            return 2;
        }

        switch (function)
        {
            case 1 or 2 or 3 or 4:
                return head.Length < 2 ? 0 : 2 + head[1];
            case 5 or 6 or 15 or 16:
                return 5;
            default:
                return -1;
        }
    }

    /// <summary>The length of a request PDU once its first bytes are known (for the RTU server side): 0 = need more, -1 = unknown.</summary>
    public static int RequestLength(ReadOnlySpan<byte> head)
    {
        if (head.Length < 1)
        {
            return 0;
        }

        switch (head[0])
        {
            case 1 or 2 or 3 or 4 or 5 or 6:
                return 5;
            case 15 or 16:
                return head.Length < 6 ? 0 : 6 + head[5];
            default:
                return -1;
        }
    }

    /// <summary>Unpacks <paramref name="values"/>.Length bits, least significant bit of the first byte first.</summary>
    public static void UnpackBits(ReadOnlySpan<byte> packed, Span<bool> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (packed[i >> 3] & (1 << (i & 7))) != 0;
        }
    }

    public static void PackBits(ReadOnlySpan<bool> values, Span<byte> packed)
    {
        packed.Clear();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i])
            {
                packed[i >> 3] |= (byte)(1 << (i & 7));
            }
        }
    }

    /// <summary>Reads big-endian registers from a read response's data.</summary>
    public static void ReadRegisters(ReadOnlySpan<byte> data, Span<ushort> registers)
    {
        for (var i = 0; i < registers.Length; i++)
        {
            registers[i] = BinaryPrimitives.ReadUInt16BigEndian(data[(2 * i)..]);
        }
    }
}

/// <summary>The 7-byte MBAP header of Modbus TCP: transaction id, protocol id (0), length (unit id + PDU), unit id.</summary>
public readonly record struct MbapHeader(ushort TransactionId, ushort ProtocolId, ushort Length, byte UnitId)
{
    public const int Size = 7;

    /// <summary>The PDU length the header announces.</summary>
    public int PduLength => Length - 1;

    /// <summary>True for protocol 0 and a length that fits a PDU (2 to 254: unit id plus 1 to 253 bytes).</summary>
    public bool IsValid => ProtocolId == 0 && Length >= 2 && Length <= ModbusLimits.MaxPduLength + 1;

    public static MbapHeader Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt16BigEndian(bytes),
        BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]),
        BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]),
        bytes[6]);

    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt16BigEndian(bytes, TransactionId);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], ProtocolId);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[4..], Length);
        bytes[6] = UnitId;
    }
}
