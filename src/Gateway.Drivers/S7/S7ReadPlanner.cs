namespace Gateway.Drivers.S7;

/// <summary>What one tag reads: bytes of an area or DB (timers and counters: their numbers, two bytes each).</summary>
/// <param name="Area">The area.</param>
/// <param name="DbNumber">The DB number; 0 outside data blocks.</param>
/// <param name="Start">The first byte, or the first timer or counter.</param>
/// <param name="Length">Bytes, or timers or counters.</param>
public readonly record struct S7Range(S7Area Area, int DbNumber, int Start, int Length)
{
    public int End => Start + Length;

    /// <summary>Bytes per unit of <see cref="Start"/> and <see cref="Length"/>: 2 for timers and counters, else 1.</summary>
    public int UnitBytes => Area is S7Area.Timers or S7Area.Counters ? 2 : 1;
}

/// <summary>Neighbouring tags of one area or DB read as one range; its bytes are decoded once every part was read.</summary>
public sealed class S7Block
{
    public S7Block(S7Range range, int[] tags)
    {
        Range = range;
        Tags = tags;
        Buffer = new byte[range.Length * range.UnitBytes];
    }

    public S7Range Range { get; }

    /// <summary>The indices of the tags the block serves.</summary>
    public int[] Tags { get; }

    /// <summary>The block's bytes, filled by the requests of a cycle.</summary>
    public byte[] Buffer { get; }

    /// <summary>The first item return code other than success in this cycle; 0xFF when every part was read.</summary>
    public byte ReturnCode { get; set; } = S7Wire.ItemSuccess;

    /// <summary>Set when the CPU refused a whole job that carried part of this block in this cycle.</summary>
    public S7Exception? JobError { get; set; }
}

/// <summary>One Read Var job: its items, and for each the block and the offset (in units) its data goes to.</summary>
public sealed class S7ReadRequest
{
    public S7ReadRequest(S7Item[] items, S7Block[] blocks, int[] offsets)
    {
        Items = items;
        Blocks = blocks;
        Offsets = offsets;
        ReturnCodes = new byte[items.Length];
        Destinations = new Memory<byte>[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var unit = blocks[i].Range.UnitBytes;
            Destinations[i] = blocks[i].Buffer.AsMemory(offsets[i] * unit, items[i].DataBytes);
        }
    }

    public S7Item[] Items { get; }

    public S7Block[] Blocks { get; }

    public int[] Offsets { get; }

    public byte[] ReturnCodes { get; }

    public Memory<byte>[] Destinations { get; }
}

/// <summary>The blocks and requests of one poll cycle.</summary>
public sealed record S7ReadPlan(IReadOnlyList<S7Block> Blocks, IReadOnlyList<S7ReadRequest> Requests);

/// <summary>
/// Plans a poll cycle as the Modbus planner does: tags of one area or DB whose ranges are at most <c>maxGap</c> bytes
/// apart are read as one block (no longer than one response item can carry), and the blocks are packed into as few
/// Read Var jobs as the negotiated PDU size allows, both ways (request items of 12 bytes, response items of 4 bytes
/// plus data, padded to even) and at most 20 items per job. A tag longer than one item (a long string in a small PDU)
/// is read in parts. Tags in <c>alone</c> (a block that the CPU refused as out of range) get a block of their own.
/// </summary>
public static class S7ReadPlanner
{
    public static S7ReadPlan Plan(IReadOnlyList<S7Range> ranges, int maxGap, int pduSize, IReadOnlySet<int>? alone = null)
    {
        var maxBytes = S7Wire.MaxReadBytes(pduSize);
        var blocks = new List<S7Block>();
        foreach (var group in Enumerable.Range(0, ranges.Count).GroupBy(i => (ranges[i].Area, ranges[i].DbNumber)).OrderBy(g => g.Key.Area).ThenBy(g => g.Key.DbNumber))
        {
            var ordered = group.OrderBy(i => ranges[i].Start).ThenBy(i => ranges[i].Length).ToList();
            var members = new List<int>();
            S7Range current = default;
            foreach (var index in ordered)
            {
                var range = ranges[index];
                var unitBytes = range.UnitBytes;
                var isolated = alone is not null && (alone.Contains(index) || (members.Count > 0 && alone.Contains(members[0])));
                if (members.Count > 0 && !isolated
                    && range.Start <= current.End + (maxGap / unitBytes)
                    && (Math.Max(current.End, range.End) - current.Start) * unitBytes <= maxBytes)
                {
                    current = current with { Length = Math.Max(current.End, range.End) - current.Start };
                    members.Add(index);
                    continue;
                }

                if (members.Count > 0)
                {
                    blocks.Add(new S7Block(current, [.. members]));
                }

                members = [index];
                current = range;
            }

            if (members.Count > 0)
            {
                blocks.Add(new S7Block(current, [.. members]));
            }
        }

        return new S7ReadPlan(blocks, Pack(blocks, pduSize));
    }

    private static List<S7ReadRequest> Pack(List<S7Block> blocks, int pduSize)
    {
        var maxItems = Math.Min(S7Wire.MaxItemsPerRequest, (pduSize - S7Wire.JobHeaderSize - 2) / S7Wire.RequestItemSize);
        var requests = new List<S7ReadRequest>();
        var items = new List<S7Item>();
        var targets = new List<S7Block>();
        var offsets = new List<int>();
        var responseSize = S7Wire.AckHeaderSize + 2;

        void Flush()
        {
            if (items.Count > 0)
            {
                requests.Add(new S7ReadRequest([.. items], [.. targets], [.. offsets]));
                items.Clear();
                targets.Clear();
                offsets.Clear();
                responseSize = S7Wire.AckHeaderSize + 2;
            }
        }

        foreach (var block in blocks)
        {
            var range = block.Range;
            var unitBytes = range.UnitBytes;
            var done = 0;
            while (done < range.Length)
            {
                // The previous item gets a fill byte when it is odd and no longer the last.
                var fill = items.Count > 0 && items[^1].DataBytes % 2 != 0 ? 1 : 0;
                var room = (pduSize - responseSize - fill - S7Wire.DataItemHeaderSize) / unitBytes;
                var remaining = range.Length - done;
                if (items.Count >= maxItems || room <= 0 || (room < remaining && remaining * unitBytes <= S7Wire.MaxReadBytes(pduSize)))
                {
                    // Full, or the block fits a job of its own: a value is not torn across two jobs when avoidable.
                    if (items.Count == 0)
                    {
                        throw new InvalidOperationException($"a PDU of {pduSize} bytes cannot carry one item");
                    }

                    Flush();
                    continue;
                }

                var count = Math.Min(room, remaining);
                var item = new S7Item(range.Area, range.DbNumber, range.Start + done, count);
                responseSize += fill + S7Wire.DataItemHeaderSize + item.DataBytes;
                items.Add(item);
                targets.Add(block);
                offsets.Add(done);
                done += count;
            }
        }

        Flush();
        return requests;
    }
}
