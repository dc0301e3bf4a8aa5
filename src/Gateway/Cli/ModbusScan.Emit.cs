using System.Text.Json.Nodes;
using Gateway.Discovery;
using Gateway.Drivers.Modbus;

namespace Gateway.Cli;

/// <summary><c>modbus scan --emit-tags</c>: the scanned ranges as a tags[] fragment.</summary>
internal static partial class ModbusScan
{
    /// <summary>The fragment: every address of the ranges in the chosen reading, or only the picked ones.</summary>
    private static string? Emit(ScanOptions options, List<ScannedRange> scans, out string fragment)
    {
        fragment = "";
        var tags = new List<JsonObject>();
        var order = ModbusWordOrder.ABCD;
        if (options.Order is not null && !ModbusValueFormat.TryParseOrder(options.Order, out order))
        {
            return $"--order must be ABCD, CDAB, BADC or DCBA, got '{options.Order}'";
        }

        if (options.Pick is { Length: > 0 } picks)
        {
            foreach (var pick in picks.SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            {
                var parts = pick.Split('=', 2);
                if (!ModbusAddress.TryParse(parts[0], out var address, out var reason) || address.HasBit)
                {
                    return $"--pick '{pick}': {reason}";
                }

                var spec = parts.Length > 1 ? parts[1].Split(':') : [];
                var type = address.Table.IsBitTable() ? ModbusDataType.Bool : ModbusDataType.UInt16;
                var pickOrder = order;
                if (spec.Length > 0 && !ModbusValueFormat.TryParseType(spec[0], out type))
                {
                    return $"--pick '{pick}': unknown type '{spec[0]}'";
                }

                if (spec.Length > 1 && !ModbusValueFormat.TryParseOrder(spec[1], out pickOrder))
                {
                    return $"--pick '{pick}': unknown order '{spec[1]}'";
                }

                tags.Add(TagEmitter.Modbus(address.Table, address.Address, type, pickOrder));
            }

            fragment = TagEmitter.ToJson(tags);
            return null;
        }

        var registerType = ModbusDataType.UInt16;
        if (options.Type is not null && (!ModbusValueFormat.TryParseType(options.Type, out registerType) || registerType is ModbusDataType.String or ModbusDataType.Bool))
        {
            return $"--type must be int16, uint16, int32, uint32, int64, uint64, float32 or float64, got '{options.Type}'";
        }

        foreach (var scan in scans)
        {
            var type = scan.Range.Table.IsBitTable() ? ModbusDataType.Bool : registerType;
            var width = new ModbusValueFormat(type, order).RegisterCount;
            for (var address = scan.Range.First; address + width - 1 <= scan.Range.Last; address += width)
            {
                // Only values read whole: a hole inside a pair leaves the pair out.
                if (Enumerable.Range(address, width).All(scan.Values.ContainsKey))
                {
                    tags.Add(TagEmitter.Modbus(scan.Range.Table, address, type, order));
                }
            }
        }

        fragment = TagEmitter.ToJson(tags);
        return null;
    }
}
