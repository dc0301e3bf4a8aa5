using System.ComponentModel.DataAnnotations;

namespace Gateway.Drivers.Modbus;

/// <summary>Driver-level keys of <c>modbus-tcp</c> and <c>modbus-rtu</c> drivers.</summary>
public sealed class ModbusSettings
{
    /// <summary>modbus-tcp: the PLC or gateway host name or address.</summary>
    public string? Host { get; set; }

    /// <summary>modbus-tcp: the TCP port; 502 by default.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 502;

    /// <summary>modbus-tcp: send RTU frames (with CRC, no MBAP header) over the TCP connection, for serial-to-Ethernet converters.</summary>
    public bool RtuOverTcp { get; set; }

    /// <summary>modbus-rtu: the serial device, for example <c>/dev/ttyUSB0</c>.</summary>
    public string? SerialPort { get; set; }

    /// <summary>modbus-rtu: line speed in baud; 19200 by default (the specification's default).</summary>
    [Range(300, 4_000_000)]
    public int Baud { get; set; } = 19200;

    /// <summary>modbus-rtu: <c>none</c>, <c>even</c> (the specification's default) or <c>odd</c>.</summary>
    public string Parity { get; set; } = "even";

    /// <summary>modbus-rtu: 7 or 8 data bits; 8 by default (RTU needs 8).</summary>
    [Range(7, 8)]
    public int DataBits { get; set; } = 8;

    /// <summary>modbus-rtu: 1 or 2 stop bits; 1 by default (the specification asks for 2 when there is no parity).</summary>
    [Range(1, 2)]
    public int StopBits { get; set; } = 1;

    /// <summary>The unit id of the device when <see cref="Devices"/> is empty; 1 by default.</summary>
    [Range(0, 255)]
    public int UnitId { get; set; } = 1;

    /// <summary>How long to wait for a response, in milliseconds; 1000 by default. Devices may set their own.</summary>
    [Range(10, 60_000)]
    public int TimeoutMs { get; set; } = 1000;

    /// <summary>
    /// 0 when tag addresses are the wire addresses (holding:0 is the first register); 1 when they count from 1 as many
    /// register maps do (holding:1, the "40001" register, is wire address 0). 0 by default.
    /// </summary>
    [Range(0, 1)]
    public int AddressBase { get; set; }

    /// <summary>Unused registers (or bits) a request may span to join two tags into one request; 10 by default.</summary>
    [Range(0, 2000)]
    public int MaxGap { get; set; } = 10;

    /// <summary>
    /// Most registers one FC3/FC4 request may read; 125 (the specification's limit) by default. Many devices accept
    /// only 16, 32 or 64 and refuse more with exception 3 or 2. Devices may set their own.
    /// </summary>
    [Range(1, ModbusLimits.MaxReadRegisters)]
    public int MaxRegistersPerRequest { get; set; } = ModbusLimits.MaxReadRegisters;

    /// <summary>Most coils or discrete inputs one FC1/FC2 request may read; 2000 (the specification's limit) by default. Devices may set their own.</summary>
    [Range(1, ModbusLimits.MaxReadBits)]
    public int MaxBitsPerRequest { get; set; } = ModbusLimits.MaxReadBits;

    /// <summary>Interval of the implicit <c>default</c> poll group, in milliseconds; 1000 by default.</summary>
    [Range(1, 86_400_000)]
    public int IntervalMs { get; set; } = 1000;

    /// <summary>Named poll groups with their own intervals; a tag chooses one with <c>pollGroup</c>.</summary>
    public List<PollGroupSettings> PollGroups { get; set; } = [];

    /// <summary>Several units on one line or behind one gateway, each with its own timeout; a tag chooses one with <c>device</c>.</summary>
    public List<ModbusDeviceSettings> Devices { get; set; } = [];

    /// <summary>First retry delay after a device stops answering, in milliseconds (exponential with jitter); 500 by default.</summary>
    [Range(1, 3_600_000)]
    public int BackoffMinMs { get; set; } = 500;

    /// <summary>Longest retry delay, in milliseconds; 30000 by default.</summary>
    [Range(1, 3_600_000)]
    public int BackoffMaxMs { get; set; } = 30_000;
}

/// <summary>One unit (slave) on the line or behind the gateway.</summary>
public sealed class ModbusDeviceSettings
{
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]+$", ErrorMessage = "may contain only letters, digits, '_', '.' and '-'")]
    public string Name { get; set; } = "";

    /// <summary>The unit id, 1 to 247 on a serial line.</summary>
    [Range(0, 255)]
    public int UnitId { get; set; } = 1;

    /// <summary>This device's response timeout in milliseconds; the driver's <c>timeoutMs</c> when absent.</summary>
    [Range(10, 60_000)]
    public int? TimeoutMs { get; set; }

    /// <summary>This device's request limit in registers (1-125); the driver's <c>maxRegistersPerRequest</c> when absent.</summary>
    [Range(1, ModbusLimits.MaxReadRegisters)]
    public int? MaxRegistersPerRequest { get; set; }

    /// <summary>This device's request limit in bits (1-2000); the driver's <c>maxBitsPerRequest</c> when absent.</summary>
    [Range(1, ModbusLimits.MaxReadBits)]
    public int? MaxBitsPerRequest { get; set; }
}

/// <summary>Tag-level keys of Modbus tags, beyond the common ones.</summary>
public sealed class ModbusTagSettings
{
    /// <summary>Byte order of multi-register values: ABCD (default), CDAB, BADC or DCBA.</summary>
    public string? Order { get; set; }

    /// <summary>Strings: length in characters (two per register).</summary>
    public int? Length { get; set; }

    /// <summary>The poll group; <c>default</c> (the driver's <c>intervalMs</c>) when absent.</summary>
    public string? PollGroup { get; set; }

    /// <summary>The device (from <c>devices</c>); the driver's <c>unitId</c> when absent.</summary>
    public string? Device { get; set; }
}
