using System.Globalization;
using System.Text;
using Gateway.Discovery;
using Gateway.Drivers.Modbus;

namespace Gateway.Cli;

/// <summary>The table of <c>modbus scan</c>: one line per address that answered.</summary>
internal static class ModbusScanTable
{
    /// <summary>
    /// Bits as <c>coil:3 = 1</c>; registers as <c>holding:183  0x41B0  u16=16816  i16=16816</c>, then, when the next
    /// address was read too, the pair from here as float32 and int32 in each word order.
    /// </summary>
    public static async Task WriteAsync(ScannedRange scan, IReadOnlyList<ModbusWordOrder> orders, TextWriter output)
    {
        var table = ModbusAddress.TableName(scan.Range.Table);
        await output.WriteLineAsync($"# {table}:{scan.Range.First}-{scan.Range.Last}: {scan.Values.Count} read, {scan.Holes.Sum(h => h.Last - h.First + 1)} refused");
        if (scan.Range.Table.IsBitTable())
        {
            foreach (var (address, value) in scan.Values)
            {
                await output.WriteLineAsync($"{table}:{address} = {value}");
            }

            return;
        }

        var line = new StringBuilder(200);
        var pair = new ushort[2];
        foreach (var (address, value) in scan.Values)
        {
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"{table}:{address}  0x{value:X4}  u16={value}  i16={(short)value}");
            if (scan.Values.TryGetValue(address + 1, out var next))
            {
                pair[0] = value;
                pair[1] = next;
                line.Append("  f32");
                foreach (var order in orders)
                {
                    line.Append(' ').Append(order).Append('=').Append(ModbusValueCodec.Decode(pair, new ModbusValueFormat(ModbusDataType.Float32, order)).ToString());
                }

                line.Append("  i32");
                foreach (var order in orders)
                {
                    line.Append(' ').Append(order).Append('=').Append(ModbusValueCodec.Decode(pair, new ModbusValueFormat(ModbusDataType.Int32, order)).ToString());
                }
            }

            await output.WriteLineAsync(line.ToString());
        }
    }
}
