using Gateway.Buffering;
using Gateway.Northbound.Delivery;
using Gateway.Observability;

namespace Gateway.Tests.Northbound;

public sealed class BufferDrainerTests
{
    private const string Sink = "mqtt-uns";

    [Fact]
    public void Restart_SplitsTheLog_OlderSamplesAreHistory_NewerOnesLive()
    {
        var log = new InMemorySampleLog();
        log.Append(10);
        var drainer = new BufferDrainer(log, new SinkCounters(Sink));
        drainer.Restart();
        log.Append(3, firstValue: 100);

        var live = new List<BufferedSample>();
        var history = new List<BufferedSample>();
        drainer.ReadLive(100, live);
        drainer.ReadHistory(100, history);

        Assert.Equal([11L, 12, 13], live.Select(s => s.Id));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), history.Select(s => s.Id));
        Assert.True(drainer.HistoryDone);
    }

    [Fact]
    public void ReadLive_DoesNotReadTheSameSampleTwice_WithinAConnection()
    {
        var log = new InMemorySampleLog();
        var drainer = new BufferDrainer(log, new SinkCounters(Sink));
        drainer.Restart();
        log.Append(5);
        var batch = new List<BufferedSample>();

        Assert.Equal(3, drainer.ReadLive(3, batch));
        Assert.Equal(2, drainer.ReadLive(3, batch));
        Assert.Equal(0, drainer.ReadLive(3, batch));
        Assert.Equal([1L, 2, 3, 4, 5], batch.Select(s => s.Id));
    }

    [Fact]
    public void ReadHistory_InBatches_IsOldestFirst_AndStopsAtTheLiveBoundary()
    {
        var log = new InMemorySampleLog();
        log.Append(7);
        var drainer = new BufferDrainer(log, new SinkCounters(Sink));
        drainer.Restart();
        log.Append(2);
        var batch = new List<BufferedSample>();

        drainer.ReadHistory(4, batch);
        Assert.False(drainer.HistoryDone);
        drainer.ReadHistory(4, batch);

        Assert.Equal([1L, 2, 3, 4, 5, 6, 7], batch.Select(s => s.Id));
        Assert.True(drainer.HistoryDone);
    }

    [Fact]
    public void Flush_AcknowledgesMergedRangesPerLane_NotAcrossLanes()
    {
        var log = new InMemorySampleLog();
        log.Append(4);
        var drainer = new BufferDrainer(log, new SinkCounters(Sink));
        drainer.Restart();
        log.Append(2);

        drainer.Delivered(DeliveryLane.Live, new SequenceRange(5, 5), 1);
        drainer.Delivered(DeliveryLane.History, new SequenceRange(1, 2), 2);
        drainer.Delivered(DeliveryLane.Live, new SequenceRange(6, 6), 1);
        drainer.Delivered(DeliveryLane.History, new SequenceRange(3, 4), 2);
        Assert.Empty(log.AcknowledgeCalls);

        Assert.Equal(6, drainer.Flush());

        Assert.Equal([(Sink, new SequenceRange(5, 6)), (Sink, new SequenceRange(1, 4))], log.AcknowledgeCalls);
        Assert.True(log.AllAcknowledged(Sink));
        Assert.Equal(2, drainer.AcknowledgedSamples - drainer.AcknowledgedHistorySamples);
    }

    [Fact]
    public void Delivered_WithoutARange_IsNotAcknowledgedUntilTheRangeCompletes()
    {
        var log = new InMemorySampleLog();
        var drainer = new BufferDrainer(log, new SinkCounters(Sink));
        drainer.Restart();
        log.Append(6);

        drainer.Delivered(DeliveryLane.Live, null, 3);
        Assert.Equal(0, drainer.Flush());
        Assert.Empty(log.AcknowledgeCalls);

        drainer.Delivered(DeliveryLane.Live, new SequenceRange(1, 6), 3);
        Assert.Equal(6, drainer.Flush());
        Assert.Equal([(Sink, new SequenceRange(1, 6))], log.AcknowledgeCalls);
    }

    [Fact]
    public void Restart_AfterALostConnection_ReadsTheUnacknowledgedAgain_AsHistory()
    {
        var log = new InMemorySampleLog();
        var drainer = new BufferDrainer(log, new SinkCounters(Sink));
        drainer.Restart();
        log.Append(5);
        var batch = new List<BufferedSample>();
        drainer.ReadLive(5, batch);
        drainer.Delivered(DeliveryLane.Live, new SequenceRange(1, 2), 2);
        Assert.Equal(5, log.LeasedCount(Sink));

        drainer.Restart(); // the connection was lost with 3, 4, 5 in flight
        batch.Clear();
        drainer.ReadHistory(100, batch);

        Assert.Equal([3L, 4, 5], batch.Select(s => s.Id));
        Assert.Equal(0, drainer.ReadLive(100, []));
    }

    [Fact]
    public void Restart_SkipsWhatThisSinkAlreadyAcknowledged_AboveItsCursor()
    {
        var log = new InMemorySampleLog();
        log.Append(10);
        log.Acknowledge(Sink, new SequenceRange(4, 8));
        var drainer = new BufferDrainer(log, new SinkCounters(Sink));
        drainer.Restart();
        var batch = new List<BufferedSample>();

        drainer.ReadHistory(100, batch);

        Assert.Equal([1L, 2, 3, 9, 10], batch.Select(s => s.Id));
    }

    [Fact]
    public void Flush_CountsWhatItAcknowledges_OnTheSinksCounters_HistoryApart()
    {
        var log = new InMemorySampleLog();
        log.Append(4);
        var counters = new SinkCounters(Sink);
        var drainer = new BufferDrainer(log, counters);
        drainer.Restart();
        log.Append(2);

        drainer.Delivered(DeliveryLane.History, new SequenceRange(1, 4), 4);
        drainer.Delivered(DeliveryLane.Live, new SequenceRange(5, 5), 1);
        drainer.Flush();
        drainer.Delivered(DeliveryLane.Live, new SequenceRange(6, 6), 1);
        drainer.Restart(); // flushes what is pending: it is counted too

        Assert.Equal(6, counters.Published);
        Assert.Equal(4, counters.HistoryPublished);
    }
}
