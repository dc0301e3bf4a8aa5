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
}
