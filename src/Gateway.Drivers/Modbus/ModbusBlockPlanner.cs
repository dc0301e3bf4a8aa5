namespace Gateway.Drivers.Modbus;

/// <summary>A span of one table: wire start address and count (registers or bits).</summary>
public readonly record struct ModbusRange(ModbusTable Table, int Start, int Count)
{
    public int End => Start + Count;
}

/// <summary>One read request covering several items; <see cref="Items"/> are indices into the planned list.</summary>
public sealed record ModbusReadBlock(ModbusTable Table, int Start, int Count, IReadOnlyList<int> Items);

/// <summary>
/// Coalesces items into as few requests as the limits allow: at most 125 registers or 2000 bits per request, and at
/// most <c>maxGap</c> unused addresses bridged between two items (reading unused registers costs bytes, and some
/// devices refuse addresses they do not map).
/// </summary>
public static class ModbusBlockPlanner
{
    public static List<ModbusReadBlock> Plan(IReadOnlyList<ModbusRange> items, int maxGap)
    {
        var blocks = new List<ModbusReadBlock>();
        var order = Enumerable.Range(0, items.Count)
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
            var limit = item.Table.MaxReadCount();
            var fits = current.Count > 0
                && item.Table == table
                && item.Start - end <= maxGap
                && Math.Max(end, item.End) - start <= limit;
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
