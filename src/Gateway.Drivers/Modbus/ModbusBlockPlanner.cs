namespace Gateway.Drivers.Modbus;

/// <summary>A span of one table: wire start address and count (registers or bits).</summary>
public readonly record struct ModbusRange(ModbusTable Table, int Start, int Count)
{
    public int End => Start + Count;
}

/// <summary>One read request covering several items; <see cref="Items"/> are indices into the planned list.</summary>
public sealed record ModbusReadBlock(ModbusTable Table, int Start, int Count, IReadOnlyList<int> Items);

/// <summary>
/// Coalesces items into as few requests as the limits allow: at most <c>maxRegisters</c> registers or
/// <c>maxBits</c> bits per request (125 and 2000 in the specification; many devices accept fewer), and at most
/// <c>maxGap</c> unused addresses bridged between two items (reading unused registers costs bytes, and some devices
/// refuse addresses they do not map).
/// </summary>
public static class ModbusBlockPlanner
{
    public static List<ModbusReadBlock> Plan(IReadOnlyList<ModbusRange> items, int maxGap) =>
        Plan(items, maxGap, ModbusLimits.MaxReadRegisters, ModbusLimits.MaxReadBits);

    /// <summary>
    /// Plans the requests of <paramref name="items"/>. An item larger than the limit (which configuration validation
    /// refuses) still gets a request of its own rather than being dropped.
    /// </summary>
    public static List<ModbusReadBlock> Plan(IReadOnlyList<ModbusRange> items, int maxGap, int maxRegisters, int maxBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRegisters, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBits, 1);
        return PlanIndices(items, Enumerable.Range(0, items.Count), maxGap, table => table.IsBitTable() ? Math.Min(maxBits, ModbusLimits.MaxReadBits) : Math.Min(maxRegisters, ModbusLimits.MaxReadRegisters));
    }

    /// <summary>
    /// Splits a block the device refused (exception 2 or 3) into two blocks, each covering about half of its distinct
    /// ranges, so that repeated refusals isolate the addresses that are really bad in a few steps while the good ones
    /// stay coalesced. Empty when the block holds a single range (nothing left to split: those items are bad).
    /// </summary>
    public static List<ModbusReadBlock> Split(ModbusReadBlock block, IReadOnlyList<ModbusRange> items)
    {
        var groups = block.Items
            .GroupBy(i => (items[i].Start, items[i].Count))
            .OrderBy(g => g.Key.Start)
            .ThenByDescending(g => g.Key.Count)
            .ToList();
        if (groups.Count < 2)
        {
            return [];
        }

        var half = groups.Count / 2;
        return [Cover(block.Table, groups.Take(half)), Cover(block.Table, groups.Skip(half))];

        ModbusReadBlock Cover(ModbusTable table, IEnumerable<IGrouping<(int Start, int Count), int>> part)
        {
            var indices = part.SelectMany(g => g).ToList();
            var start = indices.Min(i => items[i].Start);
            var end = indices.Max(i => items[i].End);
            return new ModbusReadBlock(table, start, end - start, indices);
        }
    }

    private static List<ModbusReadBlock> PlanIndices(IReadOnlyList<ModbusRange> items, IEnumerable<int> indices, int maxGap, Func<ModbusTable, int> limitOf)
    {
        var blocks = new List<ModbusReadBlock>();
        var order = indices
            .OrderBy(i => items[i].Table)
            .ThenBy(i => items[i].Start)
            .ThenByDescending(i => items[i].Count)
            .ToList();
        var current = new List<int>();
        ModbusTable table = default;
        int start = 0, end = 0;
        foreach (var index in order)
        {
            var item = items[index];
            var fits = current.Count > 0
                && item.Table == table
                && item.Start - end <= maxGap
                && Math.Max(end, item.End) - start <= limitOf(item.Table);
            if (!fits)
            {
                Flush();
                table = item.Table;
                start = item.Start;
                end = item.End;
            }

            current.Add(index);
            end = Math.Max(end, item.End);
        }

        Flush();
        return blocks;

        void Flush()
        {
            if (current.Count > 0)
            {
                blocks.Add(new ModbusReadBlock(table, start, end - start, [.. current]));
                current.Clear();
            }
        }
    }
}
