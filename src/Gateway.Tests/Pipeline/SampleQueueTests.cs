using System.Threading.Channels;
using Gateway.Drivers;
using Gateway.Pipeline;

namespace Gateway.Tests.Pipeline;

/// <summary>The pipeline's queue: order across the ring's end, back-pressure, one reader's wait, completion.</summary>
public sealed class SampleQueueTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);
    private static readonly TagInfo s_tag = new("m", "counter");

    private static Sample[] Samples(int from, int count) =>
        Enumerable.Range(from, count).Select(i => Sample.Good(s_tag, s_now, s_now, SampleValue.FromInteger(i))).ToArray();

    private static long[] Values(IEnumerable<Sample> samples) => samples.Select(s => s.Value.AsInteger).ToArray();

    private static long[] Range(int from, int count) => Enumerable.Range(from, count).Select(i => (long)i).ToArray();

    [Fact]
    public void TryWrite_AndDrainTo_KeepTheOrder_AcrossTheEndOfTheRing()
    {
        var queue = new SampleQueue(8);
        var batch = new List<Sample>();

        Assert.Equal(6, queue.TryWrite(Samples(0, 6)));
        Assert.True(queue.TryRead(out var first));
        Assert.True(queue.TryRead(out var second));
        Assert.Equal(4, queue.TryWrite(Samples(6, 4))); // wraps: slots 6, 7, 0, 1
        Assert.Equal(0, queue.TryWrite(Samples(10, 1))); // full
        Assert.Equal(8, queue.Count);

        Assert.Equal(8, queue.DrainTo(batch));
        Assert.Equal(Range(0, 2), Values([first, second]));
        Assert.Equal(Range(2, 8), Values(batch));
        Assert.Equal(0, queue.Count);

        // After a drain the ring starts over: a batch longer than what is left before its end still comes out whole.
        batch.Clear();
        Assert.Equal(8, queue.TryWrite(Samples(20, 9)));
        Assert.Equal(8, queue.DrainTo(batch));
        Assert.Equal(Range(20, 8), Values(batch));
    }

    [Fact]
    public void TheRing_GrowsWhileWrapped_UpToTheCapacity_KeepingTheOrder()
    {
        var queue = new SampleQueue(1024);
        var read = new List<Sample>();
        Assert.Equal(200, queue.TryWrite(Samples(0, 200)));
        for (var i = 0; i < 150; i++)
        {
            Assert.True(queue.TryRead(out var sample));
            read.Add(sample);
        }

        Assert.Equal(200, queue.TryWrite(Samples(200, 200))); // wraps around the first ring
        Assert.Equal(100, queue.TryWrite(Samples(400, 100))); // grows while wrapped
        Assert.Equal(674, queue.TryWrite(Samples(500, 700))); // grows to the capacity, and no further
        Assert.Equal(1024, queue.Count);

        Assert.Equal(1024, queue.DrainTo(read));
        Assert.Equal(Range(0, 1174), Values(read));
    }

    [Fact]
    public async Task WriteAsync_WhenFull_WaitsUntilHalfIsFree_ThenDeliversTheRestInOrder()
    {
        var queue = new SampleQueue(8);
        var write = queue.WriteAsync(Samples(0, 20), CancellationToken.None).AsTask();
        Assert.False(write.IsCompleted);
        Assert.Equal(8, queue.Count);

        // Reading one at a time: no room is offered before half the ring is free (the writer is not woken per sample).
        var read = new List<Sample>();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(queue.TryRead(out var sample));
            read.Add(sample);
        }

        await Task.Delay(50);
        Assert.Equal(5, queue.Count);

        while (read.Count < 20)
        {
            Assert.True(await queue.WaitToReadAsync());
            queue.DrainTo(read);
        }

        await write;
        Assert.Equal(Range(0, 20), Values(read));
    }

    [Fact]
    public async Task WaitToReadAsync_CompletesOnTheNextWrite_AndIsCancellable()
    {
        var queue = new SampleQueue(8);
        using var cancel = new CancellationTokenSource();
        var cancelled = queue.WaitToReadAsync(cancel.Token).AsTask();
        Assert.False(cancelled.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        var wait = queue.WaitToReadAsync().AsTask();
        Assert.False(wait.IsCompleted);
        queue.TryWrite(Samples(0, 1));
        Assert.True(await wait);
        Assert.True(await queue.WaitToReadAsync()); // something queued: at once
    }

    [Fact]
    public async Task Complete_TheReaderGetsWhatIsQueued_ThenFalse_AndWritersAreRefused()
    {
        var queue = new SampleQueue(4);
        queue.TryWrite(Samples(0, 4));
        var blocked = queue.WriteAsync(Samples(4, 1), CancellationToken.None).AsTask();
        Assert.False(blocked.IsCompleted);

        Assert.True(queue.Complete());
        await Assert.ThrowsAsync<ChannelClosedException>(() => blocked);
        Assert.Equal(0, queue.TryWrite(Samples(9, 1)));
        Assert.False(queue.Completion.IsCompleted);

        var read = new List<Sample>();
        Assert.True(await queue.WaitToReadAsync());
        Assert.Equal(4, queue.DrainTo(read));
        Assert.Equal(Range(0, 4), Values(read));
        Assert.False(await queue.WaitToReadAsync());
        await queue.Completion;
        Assert.False(queue.Complete());
    }

    [Fact]
    public async Task AsAChannelReader_ReadAsyncYieldsEachSampleInOrder()
    {
        var queue = new SampleQueue(16);
        ChannelReader<Sample> reader = queue;
        queue.TryWrite(Samples(0, 3));

        var read = new List<Sample>();
        for (var i = 0; i < 3; i++)
        {
            read.Add(await reader.ReadAsync());
        }

        Assert.Equal(Range(0, 3), Values(read));
        Assert.False(reader.TryRead(out _));
        Assert.True(reader.CanCount);
    }

    [Fact]
    public void DrainTo_KeepsNoReferenceToTheSamplesItGaveAway()
    {
        var queue = new SampleQueue(4);
        var tag = WriteOneTagged(queue);
        var drained = new List<Sample>();
        Assert.Equal(1, queue.DrainTo(drained));
        drained.Clear(); // what the reader does with them is its business: only the ring is under test

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.False(tag.IsAlive, "the ring still holds the drained sample's tag");
    }

    [Fact]
    public void Capacity_MustBeAPowerOfTwo() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SampleQueue(1000));

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference WriteOneTagged(SampleQueue queue)
    {
        var tag = new TagInfo("gone", Guid.NewGuid().ToString("N"));
        queue.TryWrite([Sample.Good(tag, s_now, s_now, SampleValue.FromInteger(1))]);
        return new WeakReference(tag);
    }
}
