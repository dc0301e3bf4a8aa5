using Gateway.Drivers;

namespace Gateway.Tests.Abstractions;

public sealed class TagSlotsTests
{
    [Fact]
    public void TagInfoIndex_IsOnePerKey_AndDistinctAcrossKeys()
    {
        var first = new TagInfo("press", $"slots/{Guid.NewGuid():N}");
        var again = new TagInfo(first.Machine, first.Path, unit: "bar", deadband: 0.5); // a reload's tag of the same key
        var other = new TagInfo("press", $"slots/{Guid.NewGuid():N}");

        Assert.Equal(first.Index, again.Index);
        Assert.NotEqual(first.Index, other.Index);
        Assert.True(first.Index >= 0 && other.Index >= 0);
    }

    [Fact]
    public void GetValueRefOrAddDefault_AddsOnce_WritesInPlace_AndTwoTagsOfOneKeyShareTheSlot()
    {
        var slots = new TagSlots<int>();
        var tag = new TagInfo("m", $"a/{Guid.NewGuid():N}");

        ref var value = ref slots.GetValueRefOrAddDefault(tag, out var exists);
        Assert.False(exists);
        Assert.Equal(0, value);
        value = 41;
        slots.GetValueRefOrAddDefault(tag, out exists)++;
        Assert.True(exists);

        Assert.True(slots.TryGetValue(new TagInfo(tag.Machine, tag.Path), out var read));
        Assert.Equal(42, read);
        Assert.Equal(1, slots.Count);
    }

    [Fact]
    public void TagsOnSeveralPages_AreKeptApart_ListedInIndexOrder_AndRemovable()
    {
        var slots = new TagSlots<string>();
        // Enough tags to span more than two pages, made in order: their indices increase.
        var tags = Enumerable.Range(0, 2 * TagSlots<string>.PageSize + 10).Select(i => new TagInfo("m", $"p{i}/{Guid.NewGuid():N}")).ToArray();
        foreach (var tag in tags)
        {
            slots.GetValueRefOrAddDefault(tag, out _) = tag.Key;
        }

        Assert.Equal(tags.Length, slots.Count);
        Assert.Equal(tags.Select(t => t.Key), slots.Values);
        Assert.All(tags, t => Assert.Equal(t.Key, slots.TryGetValue(t, out var v) ? v : null));

        Assert.True(slots.Remove(tags[3]));
        Assert.False(slots.Remove(tags[3]));
        Assert.False(slots.TryGetValue(tags[3], out _));
        Assert.Equal(tags.Length - 1, slots.Count);
        Assert.DoesNotContain(tags[3].Key, slots.Values);

        // Removed, then set again: a fresh default, not the old value.
        Assert.Null(slots.GetValueRefOrAddDefault(tags[3], out var exists));
        Assert.False(exists);
    }

    [Fact]
    public void ATagNeverSet_IsNotFound_EvenOnAPageThatExists()
    {
        var slots = new TagSlots<double>();
        var set = new TagInfo("m", $"set/{Guid.NewGuid():N}");
        var unset = new TagInfo("m", $"unset/{Guid.NewGuid():N}"); // the next index: most likely the same page
        slots.GetValueRefOrAddDefault(set, out _) = 1.5;

        Assert.False(slots.TryGetValue(unset, out _));
        Assert.False(slots.Remove(unset));
        Assert.Equal(1, slots.Count);
    }
}
