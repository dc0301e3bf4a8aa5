using Gateway.Drivers;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Pipeline;

/// <summary>The drivers' writer into the pipeline: filters, counts, observers, batches, back-pressure.</summary>
public sealed class SamplePipelineTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(s_now);

    private static Sample Good(TagInfo tag, long value) => Sample.Good(tag, s_now, s_now, SampleValue.FromInteger(value));

    [Fact]
    public async Task WriteBatchAsync_PassesChangesInOrderFiltersRepeatsAndCountsEveryRead()
    {
        using var metrics = new GatewayMetrics(_time);
        var pipeline = new SamplePipeline(metrics);
        var live = new LiveTags();
        pipeline.Observe(live.Update);
        var writer = pipeline.CreateWriter("press");
        var a = new TagInfo("press", "a");
        var b = new TagInfo("press", "b");

        await writer.WriteBatchAsync(new[] { Good(a, 1), Good(b, 1) }, CancellationToken.None);
        await writer.WriteBatchAsync(new[] { Good(a, 1), Good(b, 2) }, CancellationToken.None);

        var queued = new List<Sample>();
        while (pipeline.Reader.TryRead(out var sample))
        {
            queued.Add(sample);
        }

        Assert.Equal(["press/a=1", "press/b=1", "press/b=2"], queued.Select(s => $"{s.Tag.Key}={s.Value}"));
        Assert.Equal(4, metrics.Driver("press").SamplesRead);
        Assert.Contains("gateway_samples_filtered_total 1", metrics.RenderPrometheus(0), StringComparison.Ordinal);
        Assert.Equal(["press/a=1", "press/b=2"], live.Snapshot().Select(s => $"{s.Tag.Key}={s.Value}"));
    }

    [Fact]
    public async Task WriteBatchAsync_WhenTheChannelIsFull_WaitsAndDeliversEverySampleInOrder()
    {
        using var metrics = new GatewayMetrics(_time);
        var pipeline = new SamplePipeline(metrics);
        var writer = pipeline.CreateWriter("fast");
        var tag = new TagInfo("m", "counter");
        var batch = Enumerable.Range(0, SamplePipeline.Capacity + 1000).Select(i => Good(tag, i)).ToArray();

        var write = writer.WriteBatchAsync(batch, CancellationToken.None).AsTask();
        var blocked = !write.IsCompleted;
        var read = new List<long>();
        while (read.Count < batch.Length)
        {
            read.Add((await pipeline.Reader.ReadAsync()).Value.AsInteger);
        }

        await write;
        Assert.True(blocked, "the writer waited for room (back-pressure, not loss)");
        Assert.Equal(Enumerable.Range(0, batch.Length).Select(i => (long)i), read);
    }

    [Fact]
    public async Task ObserveBatches_SeesEachDriverBatchOnce_WithOnlyThePassingSamplesInOrder_AndInternalSamplesAlone()
    {
        using var metrics = new GatewayMetrics(_time);
        var pipeline = new SamplePipeline(metrics);
        var batches = new List<string>();
        var single = new List<string>();
        pipeline.ObserveBatches(samples => batches.Add(string.Join(",", samples.ToArray().Select(s => $"{s.Tag.Key}={s.Value}"))));
        pipeline.Observe(s => single.Add($"{s.Tag.Key}={s.Value}"));
        var writer = pipeline.CreateWriter("press");
        var a = new TagInfo("press", "a");
        var b = new TagInfo("press", "b");

        await writer.WriteBatchAsync(new[] { Good(a, 1), Good(b, 1) }, CancellationToken.None);
        await writer.WriteBatchAsync(new[] { Good(a, 1), Good(b, 2), Good(a, 3) }, CancellationToken.None);
        await writer.WriteBatchAsync(new[] { Good(a, 3) }, CancellationToken.None); // filtered whole: no call
        await pipeline.WriteInternalAsync(Good(new TagInfo("oee", "availability"), 90), CancellationToken.None);

        Assert.Equal(["press/a=1,press/b=1", "press/b=2,press/a=3", "oee/availability=90"], batches);
        Assert.Equal(["press/a=1", "press/b=1", "press/b=2", "press/a=3", "oee/availability=90"], single);
    }

    [Fact]
    public async Task WriteBatchAsync_WhenTheChannelFillsMidBatch_ObserversSeeTheBatchOnce_AndTheReaderGetsItAllInOrder()
    {
        using var metrics = new GatewayMetrics(_time);
        var pipeline = new SamplePipeline(metrics);
        var observed = 0;
        var calls = 0;
        pipeline.ObserveBatches(samples => { observed += samples.Length; calls++; });
        var writer = pipeline.CreateWriter("fast");
        var tag = new TagInfo("m", "counter");
        await writer.WriteBatchAsync(Enumerable.Range(0, SamplePipeline.Capacity - 10).Select(i => Good(tag, i)).ToArray(), CancellationToken.None);

        // 10 places left: the batch of 50 (with repeats the filter drops) waits for the reader after its first 10.
        var batch = Enumerable.Range(SamplePipeline.Capacity - 10, 40).SelectMany(i => new[] { Good(tag, i), Good(tag, i) }).ToArray();
        var write = writer.WriteBatchAsync(batch, CancellationToken.None).AsTask();
        Assert.False(write.IsCompleted);
        var read = new List<long>();
        while (read.Count < SamplePipeline.Capacity + 30)
        {
            read.Add((await pipeline.Reader.ReadAsync()).Value.AsInteger);
        }

        await write;
        Assert.Equal(Enumerable.Range(0, SamplePipeline.Capacity + 30).Select(i => (long)i), read);
        Assert.Equal(SamplePipeline.Capacity + 30, observed);
        Assert.Equal(2, calls);
        Assert.Contains("gateway_samples_filtered_total 40", metrics.RenderPrometheus(0), StringComparison.Ordinal);
    }

    [Fact]
    public void ReportPollOverrun_IsCountedPerDriverOnMetrics()
    {
        using var metrics = new GatewayMetrics(_time);
        var pipeline = new SamplePipeline(metrics);
        var writer = pipeline.CreateWriter("press-plc");

        writer.ReportPollOverrun();
        writer.ReportPollOverrun();

        Assert.Equal(2, metrics.Driver("press-plc").PollOverruns);
        Assert.Contains("gateway_driver_poll_overruns_total{driver=\"press-plc\"} 2", metrics.RenderPrometheus(0), StringComparison.Ordinal);
    }

    [Fact]
    public void LiveTags_ManyUpdatesOfOneTag_KeepOnlyTheLast()
    {
        var live = new LiveTags();
        var tag = new TagInfo("m", "t");

        for (var i = 0; i < 1000; i++)
        {
            live.Update(Good(tag, i));
        }

        Assert.Equal(1, live.Count);
        Assert.Equal(999, Assert.Single(live.Snapshot()).Value.AsInteger);
    }

    [Fact]
    public void LiveTags_ARemovedTag_LeavesTheView_AndComesBackWithItsNextSample()
    {
        var live = new LiveTags();
        var kept = new TagInfo("m", "kept");
        var removed = new TagInfo("m", "removed");
        live.Update(Good(kept, 1));
        live.Update(Good(removed, 2));
        live.Update(Good(removed, 3)); // the second update goes through the index cache

        live.Remove([removed]);
        Assert.Equal(["m/kept"], live.Snapshot().Select(s => s.Tag.Key));

        // A reload brings the tag back as a new TagInfo of the same key: its samples show again, the latest one.
        var back = new TagInfo("m", "removed");
        live.Update(Good(back, 4));
        live.Update(Good(back, 5));
        Assert.Equal([1L, 5L], live.Snapshot().Select(s => s.Value.AsInteger));
    }

    [Fact]
    public void LiveTags_ConcurrentUpdatesOfManyTags_KeepEachTagsLastSample()
    {
        var live = new LiveTags();
        var tags = Enumerable.Range(0, 600).Select(i => new TagInfo("m", $"c{i}")).ToArray();

        Parallel.For(0, 4, worker =>
        {
            for (var round = 0; round < 50; round++)
            {
                foreach (var tag in tags)
                {
                    live.Update(Good(tag, round * 10 + worker));
                }
            }
        });

        Assert.Equal(tags.Length, live.Count);
        // Each tag's last sample is one of the last round's (490-493): nothing lost, nothing torn.
        Assert.All(live.Snapshot(), s => Assert.InRange(s.Value.AsInteger, 490, 493));
    }
}
