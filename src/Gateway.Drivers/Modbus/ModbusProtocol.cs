namespace Gateway.Drivers.Modbus;

/// <summary>The public function codes this client and server speak (Modbus Application Protocol v1.1b3, §6).</summary>
public enum ModbusFunctionCode : byte
{
    ReadCoils = 1,
    ReadDiscreteInputs = 2,
    ReadHoldingRegisters = 3,
    ReadInputRegisters = 4,
    WriteSingleCoil = 5,
    WriteSingleRegister = 6,
    WriteMultipleCoils = 15,
    WriteMultipleRegisters = 16,
}

/// <summary>The four data tables of the Modbus data model; the value is the function code that reads the table.</summary>
public enum ModbusTable : byte
{
    /// <summary>Read/write single bits (FC1, FC5, FC15).</summary>
    Coil = 1,

    /// <summary>Read-only single bits (FC2).</summary>
    DiscreteInput = 2,

    /// <summary>Read/write 16-bit registers (FC3, FC6, FC16).</summary>
    HoldingRegister = 3,

    /// <summary>Read-only 16-bit registers (FC4).</summary>
    InputRegister = 4,
}

/// <summary>Exception codes of an exception response (§7).</summary>
public enum ModbusExceptionCode : byte
{
    IllegalFunction = 1,
    IllegalDataAddress = 2,
    IllegalDataValue = 3,
    ServerDeviceFailure = 4,
    Acknowledge = 5,
    ServerDeviceBusy = 6,
    MemoryParityError = 8,
    GatewayPathUnavailable = 0x0A,
    GatewayTargetDeviceFailedToRespond = 0x0B,
}

/// <summary>Limits from the specification.</summary>
public static class ModbusLimits
{
    /// <summary>Bits per FC1/FC2 request.</summary>
    public const int MaxReadBits = 2000;

    /// <summary>Registers per FC3/FC4 request.</summary>
    public const int MaxReadRegisters = 125;

    /// <summary>Coils per FC15 request.</summary>
    public const int MaxWriteBits = 1968;

    /// <summary>Registers per FC16 request.</summary>
    public const int MaxWriteRegisters = 123;

    /// <summary>Bytes in a PDU (function code included).</summary>
    public const int MaxPduLength = 253;

    /// <summary>Highest unicast unit id on a serial line.</summary>
    public const int MaxUnitId = 247;

    public static bool IsBitTable(this ModbusTable table) => table is ModbusTable.Coil or ModbusTable.DiscreteInput;

    public static int MaxReadCount(this ModbusTable table) => table.IsBitTable() ? MaxReadBits : MaxReadRegisters;
}

/// <summary>The server answered with an exception response: the request reached the device and was refused.</summary>
public sealed class ModbusException : Exception
{
    public ModbusException()
    {
    }

    public ModbusException(string message)
        : base(message)
    {
    }

    public ModbusException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ModbusException(ModbusFunctionCode functionCode, byte code)
        : base($"Modbus exception {code} ({Name(code)}) for function {(byte)functionCode} ({functionCode})")
    {
        FunctionCode = functionCode;
        Code = (ModbusExceptionCode)code;
    }

    /// <summary>The function code of the refused request.</summary>
    public ModbusFunctionCode FunctionCode { get; }

    /// <summary>The exception code the device returned.</summary>
    public ModbusExceptionCode Code { get; }

    /// <summary>The specification's name of the code, for example <c>illegal data address</c>.</summary>
    public string CodeName => Name((byte)Code);

    public static string Name(byte code) => code switch
    {
        1 => "illegal function",
        2 => "illegal data address",
        3 => "illegal data value",
        4 => "server device failure",
        5 => "acknowledge",
        6 => "server device busy",
        8 => "memory parity error",
        0x0A => "gateway path unavailable",
        0x0B => "gateway target device failed to respond",
        _ => "unknown exception code",
    };
}

/// <summary>A response that breaks the protocol (wrong length, wrong function code, bad MBAP header): the connection cannot be trusted.</summary>
public sealed class ModbusProtocolException : IOException
{
    public ModbusProtocolException()
    {
    }

    public ModbusProtocolException(string message)
        : base(message)
    {
    }

    public ModbusProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The transport could not reach the device (connection refused, host unreachable, port missing).</summary>
public sealed class ModbusConnectionException : IOException
{
    public ModbusConnectionException()
    {
    }

    public ModbusConnectionException(string message)
        : base(message)
    {
    }

    public ModbusConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>CRC-16/MODBUS: polynomial 0xA001 (reflected 0x8005), initial value 0xFFFF, sent low byte first.</summary>
public static class ModbusCrc
{
    private static readonly ushort[] s_table = BuildTable();

    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        ushort crc = 0xFFFF;
        foreach (var b in data)
        {
            crc = (ushort)((crc >> 8) ^ s_table[(crc ^ b) & 0xFF]);
        }

        return crc;
    }

    /// <summary>True when the last two bytes are the CRC of the bytes before them.</summary>
    public static bool Check(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 3)
        {
            return false;
        }

        var crc = Compute(frame[..^2]);
        return frame[^2] == (byte)crc && frame[^1] == (byte)(crc >> 8);
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ushort)i;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (ushort)((crc >> 1) ^ 0xA001) : (ushort)(crc >> 1);
            }

            table[i] = crc;
        }

        return table;
    }
}
