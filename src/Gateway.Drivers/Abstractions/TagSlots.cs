using System.Runtime.CompilerServices;

namespace Gateway.Drivers;

/// <summary>
/// Per-tag state by <see cref="TagInfo.Index"/>, for the code every sample goes through (the change filter, the live
/// table, the dashboard): a lookup is two array reads, where a dictionary hashed and compared a tag per sample (those
/// lookups were 9 % of the gateway's CPU at 100k samples/s). Keyed like a dictionary with the tag's
/// <see cref="TagInfo.Key"/> (two tags of one key share a slot). The slots come in pages of
/// <see cref="PageSize"/>, made when a tag of the page is first set, so a consumer of a few tags with high indices
/// holds a page, not an array as long as every index the process has given out. One writer at a time (the owner
/// serialises); <see cref="TryGetValue"/> may run beside it without a lock and then sees a slot before or after the
/// write, or being made (found, with the default value): a reader that may race a writer checks for the default.
/// </summary>
public sealed class TagSlots<T>
{
    /// <summary>Slots per page.</summary>
    public const int PageSize = 256;

    private const int PageShift = 8;

    private Page?[] _pages = [];

    /// <summary>Tags with a value.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// A reference to the value of <paramref name="tag"/>'s key, made (default) if there is none yet:
    /// <paramref name="exists"/> says which.
    /// </summary>
    public ref T GetValueRefOrAddDefault(TagInfo tag, out bool exists)
    {
        var page = PageFor(tag.Index);
        var slot = tag.Index & (PageSize - 1);
        exists = page.Used[slot];
        if (!exists)
        {
            page.Used[slot] = true;
            Count++;
        }

        return ref page.Values[slot];
    }

    /// <summary>The value of <paramref name="tag"/>'s key, if there is one.</summary>
    public bool TryGetValue(TagInfo tag, out T value)
    {
        var pages = _pages;
        var index = tag.Index;
        if ((uint)(index >> PageShift) < (uint)pages.Length && pages[index >> PageShift] is { } page && page.Used[index & (PageSize - 1)])
        {
            value = page.Values[index & (PageSize - 1)];
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Forgets the value of <paramref name="tag"/>'s key; false when there was none.</summary>
    public bool Remove(TagInfo tag)
    {
        var index = tag.Index;
        if ((uint)(index >> PageShift) >= (uint)_pages.Length || _pages[index >> PageShift] is not { } page || !page.Used[index & (PageSize - 1)])
        {
            return false;
        }

        page.Used[index & (PageSize - 1)] = false;
        page.Values[index & (PageSize - 1)] = default!;
        Count--;
        return true;
    }

    /// <summary>Every value, in index order.</summary>
    public IEnumerable<T> Values
    {
        get
        {
            foreach (var page in _pages)
            {
                if (page is null)
                {
                    continue;
                }

                for (var i = 0; i < PageSize; i++)
                {
                    if (page.Used[i])
                    {
                        yield return page.Values[i];
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Page PageFor(int index)
    {
        var number = index >> PageShift;
        var pages = _pages;
        return (uint)number < (uint)pages.Length && pages[number] is { } page ? page : AddPage(number);
    }

    private Page AddPage(int number)
    {
        if (number >= _pages.Length)
        {
            Array.Resize(ref _pages, Math.Max(number + 1, _pages.Length * 2));
        }

        return _pages[number] ??= new Page();
    }

    private sealed class Page
    {
        public readonly T[] Values = new T[PageSize];
        public readonly bool[] Used = new bool[PageSize];
    }
}
