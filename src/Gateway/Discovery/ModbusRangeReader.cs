using Gateway.Drivers.Modbus;

namespace Gateway.Discovery;

/// <summary>One table range, wire addresses, inclusive.</summary>
public sealed record ScanRange(ModbusTable Table, int First, int Last);

/// <summary>What a range held: the value at each address that answered (registers as ushort, bits as 0/1), and the holes.</summary>
public sealed record ScannedRange(ScanRange Range, SortedDictionary<int, ushort> Values, List<(int First, int Last, ModbusExceptionCode Code)> Holes);

/// <summary>
/// Reads a unit's ranges in blocks, tolerant of holes: a block refused with exception 2 (or 3) is split in two until
/// the holes are single addresses, so a map with gaps is read whole. Shared by <c>modbus scan</c> and the
/// commissioning page's scan.
/// </summary>
public static class ModbusRangeReader
{
    /// <summary>Reads a range in blocks; a block refused with exception 2 or 3 is split in halves down to single addresses.</summary>
    public static async Task<ScannedRange> ReadRangeAsync(ModbusClient client, byte unit, ScanRange range, int block, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var scanned = new ScannedRange(range, [], []);
        for (var first = range.First; first <= range.Last; first += block)
        {
            await ReadBlockAsync(client, unit, range.Table, first, Math.Min(block, range.Last - first + 1), timeout, scanned, cancellationToken);
        }

        // Adjacent single holes become one line.
        var holes = scanned.Holes.OrderBy(h => h.First).ToList();
        scanned.Holes.Clear();
        foreach (var hole in holes)
        {
            if (scanned.Holes.Count > 0 && scanned.Holes[^1].Last + 1 == hole.First && scanned.Holes[^1].Code == hole.Code)
            {
                scanned.Holes[^1] = (scanned.Holes[^1].First, hole.Last, hole.Code);
            }
            else
            {
                scanned.Holes.Add(hole);
            }
        }

        return scanned;
    }

    private static async Task ReadBlockAsync(ModbusClient client, byte unit, ModbusTable table, int first, int count, TimeSpan timeout, ScannedRange scanned, CancellationToken cancellationToken)
    {
        try
        {
            if (table.IsBitTable())
            {
                var bits = await client.ReadBitsAsync(unit, table, (ushort)first, (ushort)count, timeout, cancellationToken);
                for (var i = 0; i < bits.Length; i++)
                {
                    scanned.Values[first + i] = bits[i] ? (ushort)1 : (ushort)0;
                }
            }
            else
            {
                var registers = await client.ReadRegistersAsync(unit, table, (ushort)first, (ushort)count, timeout, cancellationToken);
                for (var i = 0; i < registers.Length; i++)
                {
                    scanned.Values[first + i] = registers[i];
                }
            }
        }
        catch (ModbusException ex) when (ex.Code is ModbusExceptionCode.IllegalDataAddress or ModbusExceptionCode.IllegalDataValue)
        {
            if (count == 1)
            {
                scanned.Holes.Add((first, first, ex.Code));
                return;
            }

            var half = count / 2;
            await ReadBlockAsync(client, unit, table, first, half, timeout, scanned, cancellationToken);
            await ReadBlockAsync(client, unit, table, first + half, count - half, timeout, scanned, cancellationToken);
        }
        catch (ModbusException ex)
        {
            // Another refusal (illegal function: no such table; device failure): the whole block is a hole.
            scanned.Holes.Add((first, first + count - 1, ex.Code));
        }
    }

    /// <summary>
    /// Parses <c>TABLE:FIRST-LAST,...</c> (TABLE holding, input, coil or discrete; wire addresses 0-65535) into
    /// <paramref name="ranges"/>; the problem (without the option's name) when the text is not that.
    /// </summary>
    public static string? ParseRanges(string text, List<ScanRange> ranges)
    {
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var at = item.IndexOf(':', StringComparison.Ordinal);
            if (at < 0 || !ModbusAddress.TryParseTable(item[..at], out var table) || !TryRange(item[(at + 1)..], out var first, out var last) || last > 65535)
            {
                return $"'{item}' must be TABLE:FIRST-LAST (TABLE holding, input, coil or discrete; addresses 0-65535)";
            }

            ranges.Add(new ScanRange(table, first, last));
        }

        return ranges.Count == 0 ? "is empty" : null;
    }

    /// <summary><c>FIRST-LAST</c> or a single <c>N</c>, non-negative, with LAST at least FIRST.</summary>
    public static bool TryRange(string text, out int first, out int last)
    {
        last = -1;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var ok = int.TryParse(dash < 0 ? text : text[..dash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out first);
        last = first;
        ok &= dash < 0 || int.TryParse(text[(dash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out last);
        return ok && last >= first;
    }
}
