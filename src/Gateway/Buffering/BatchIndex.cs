using Gateway.Drivers;
using System.Runtime.InteropServices;

namespace Gateway.Buffering;

/// <summary>One stored batch: consecutive sequence numbers First..Last (a struct: millions of them at low rates).</summary>
internal struct BatchInfo(long first, long last, int bytes, long oldestTicks)
{
    public readonly long First = first;

    public readonly long Last = last;

    public readonly int Bytes = bytes;

    public readonly long OldestTicks = oldestTicks;

    /// <summary>How many of its samples every sink has acknowledged.</summary>
    public long CommonAcked;

    public readonly int Count => (int)(Last - First + 1);
}

/// <summary>
/// The stored batches in sequence order. Removing from the front (every delivery and every drop) moves a head
/// offset; the array is compacted once the removed part is the bigger half, so each batch is moved O(1) times.
/// </summary>
internal sealed class BatchList
{
    private readonly List<BatchInfo> _items = [];
    private int _head;

    public int Count => _items.Count - _head;

    /// <summary>A reference into the list: valid until its next Add or RemoveRange.</summary>
    public ref BatchInfo this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            return ref CollectionsMarshal.AsSpan(_items)[_head + index];
        }
    }

    public void Add(BatchInfo batch) => _items.Add(batch);

    public void RemoveRange(int index, int count)
    {
        if (index > 0)
        {
            _items.RemoveRange(_head + index, count);
            return;
        }

        _head += count;
        if (_head == _items.Count)
        {
            _items.Clear();
            _head = 0;
        }
        else if (_head >= 1024 && _head > Count)
        {
            _items.RemoveRange(0, _head);
            _head = 0;
        }
    }
}

/// <summary>Tags as the tags table keys them: machine, path and unit.</summary>
internal sealed class TagRowComparer : IEqualityComparer<TagInfo>
{
    public static readonly TagRowComparer Instance = new();

    public bool Equals(TagInfo? x, TagInfo? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && x.Equals(y) && string.Equals(x.Unit, y.Unit, StringComparison.Ordinal));

    public int GetHashCode(TagInfo obj) => obj.GetHashCode();
}
