using Gateway.Drivers.Modbus;

namespace Gateway.Discovery;

/// <summary>
/// The link a one-off Modbus session opens (<c>modbus read</c>, <c>write</c>, <c>scan</c>, and the commissioning
/// page's scan): a serial line when a device is given, else an RTU-over-TCP converter or Modbus TCP.
/// </summary>
internal static class ModbusLink
{
    /// <summary>What a scan reads when no range is given (wire addresses).</summary>
    public const string DefaultScanRanges = "holding:0-199,input:0-99,coil:0-63,discrete:0-63";

    public static IModbusTransport Open(string host, int port, bool rtuOverTcp, string? serialDevice, int baud, string parity)
    {
        if (serialDevice is not null)
        {
            var line = new SerialPortLine(serialDevice, baud, ModbusDriverFactory.ParseParity(parity));
            return new ModbusRtuTransport(line, serialDevice, baud, TimeProvider.System, bitsPerCharacter: line.BitsPerCharacter);
        }

        return rtuOverTcp
            ? new ModbusRtuTransport(new TcpSerialLine(host, port), $"{host}:{port}", 0, TimeProvider.System)
            : new ModbusTcpTransport(host, port, TimeProvider.System);
    }
}
