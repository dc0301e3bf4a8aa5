namespace Gateway.Buffering;

/// <summary>
/// What one sink has acknowledged: everything up to <see cref="Floor"/>, plus sorted, disjoint, non-adjacent
/// ranges above it (acknowledgements that arrived out of order). Not thread-safe (the buffer's lock guards it).
/// </summary>
internal sealed class SequenceRangeSet
{
    private readonly List<SequenceRange> _ranges = [];

    public SequenceRangeSet(long floor) => Floor = floor;

    /// <summary>A set without a floor (leases: ranges come and go, nothing is folded into a prefix).</summary>
    public static SequenceRangeSet WithoutFloor() => new(long.MinValue);

    /// <summary>Every sequence number up to this one is in the set.</summary>
    public long Floor { get; private set; }

    /// <summary>The ranges above <see cref="Floor"/> + 1.</summary>
    public IReadOnlyList<SequenceRange> Ranges => _ranges;

    public bool Contains(long sequence)
    {
        if (sequence <= Floor)
        {
            return true;
        }

        var index = IndexAtOrAfter(sequence);
        return index < _ranges.Count && _ranges[index].First <= sequence;
    }

    /// <summary>True when every number of <paramref name="first"/>..<paramref name="last"/> is in the set.</summary>
    public bool ContainsAll(long first, long last)
    {
        if (last <= Floor)
        {
            return true;
        }

        first = Math.Max(first, Floor + 1);
        var index = IndexAtOrAfter(first);
        return index < _ranges.Count && _ranges[index].First <= first && _ranges[index].Last >= last;
    }

    /// <summary>True when some number of <paramref name="first"/>..<paramref name="last"/> is in the set.</summary>
    public bool Overlaps(long first, long last)
    {
        if (first <= Floor)
        {
            return true;
        }

        var index = IndexAtOrAfter(first);
        return index < _ranges.Count && _ranges[index].First <= last;
    }

    /// <summary>Adds a range, merging it with its neighbours and into the floor when it touches it.</summary>
    public void Add(SequenceRange range)
    {
        var first = Math.Max(range.First, Floor + 1);
        var last = range.Last;
        if (last < first)
        {
            return;
        }

        // The first range that ends at or after first - 1 (it may touch or overlap the new one).
        var index = IndexAtOrAfter(first - 1);
        var end = index;
        while (end < _ranges.Count && _ranges[end].First <= last + 1)
        {
            first = Math.Min(first, _ranges[end].First);
            last = Math.Max(last, _ranges[end].Last);
            end++;
        }

        _ranges.RemoveRange(index, end - index);
        if (first == Floor + 1)
        {
            Floor = last;
        }
        else
        {
            _ranges.Insert(index, new SequenceRange(first, last));
        }
    }

    /// <summary>Removes a range (used for leases, which never have a floor).</summary>
    public void Remove(SequenceRange range)
    {
        var index = IndexAtOrAfter(range.First);
        while (index < _ranges.Count && _ranges[index].First <= range.Last)
        {
            var current = _ranges[index];
            _ranges.RemoveAt(index);
            if (current.Last > range.Last)
            {
                _ranges.Insert(index, new SequenceRange(range.Last + 1, current.Last));
            }

            if (current.First < range.First)
            {
                _ranges.Insert(index, new SequenceRange(current.First, range.First - 1));
                index++;
            }
        }
    }

    public void Clear() => _ranges.Clear();

    /// <summary>Appends to <paramref name="into"/> the parts of <paramref name="first"/>..<paramref name="last"/> that are in the set.</summary>
    public void Intersect(long first, long last, List<SequenceRange> into)
    {
        if (first <= Floor)
        {
            into.Add(new SequenceRange(first, Math.Min(last, Floor)));
            first = Floor + 1;
        }

        for (var i = IndexAtOrAfter(first); i < _ranges.Count && _ranges[i].First <= last; i++)
        {
            into.Add(new SequenceRange(Math.Max(first, _ranges[i].First), Math.Min(last, _ranges[i].Last)));
        }
    }

    /// <summary>The index of the first range whose end is at or after <paramref name="sequence"/>.</summary>
    private int IndexAtOrAfter(long sequence)
    {
        int low = 0, high = _ranges.Count;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (_ranges[middle].Last < sequence)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
