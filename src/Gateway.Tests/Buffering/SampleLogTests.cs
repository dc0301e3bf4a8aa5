using Gateway.Buffering;
using Gateway.Drivers;
using Gateway.Observability;
using Gateway.Tests.OpcUa;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Buffering;

/// <summary>The buffer through <see cref="ISampleLog"/>: range acknowledgements, several sinks, leases and the quota, restarts.</summary>
public sealed class SampleLogTests : IDisposable
{
    private const string Uns = "mqtt-uns";
    private const string Influx = "influx";
    private readonly string _directory = Directory.CreateTempSubdirectory("gw-samplelog-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 6, 0, 0, TimeSpan.Zero));
    private readonly TagInfo _counter = new("press", "total-count", "parts");
    private readonly List<GatewayMetrics> _metrics = [];

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void Read_SkipsWhatTheSinkAcknowledgedOutOfOrder_AndTheCursorIsTheContiguousPrefix()
    {
        using var buffer = Create("ranges.db", 1 << 20, [Uns], out _);
        buffer.Append(Counters(0, 10));
        buffer.Append(Counters(10, 10));

        buffer.Acknowledge(Uns, new SequenceRange(6, 8));
        buffer.Acknowledge(Uns, new SequenceRange(12, 15));
        Assert.Equal(0, buffer.CursorOf(Uns));
        Assert.Equal([new SequenceRange(6, 8), new SequenceRange(12, 15)], buffer.Acknowledged(Uns));

        var read = new List<BufferedSample>();
        buffer.Read(Uns, 0, long.MaxValue, 100, read);
        Assert.Equal([1L, 2, 3, 4, 5, 9, 10, 11, 16, 17, 18, 19, 20], read.Select(r => r.Id));
        Assert.Equal(read.Select(r => r.Id - 1), read.Select(r => r.Sample.Value.AsInteger));
        Assert.Equal(13, buffer.Count);

        buffer.Acknowledge(Uns, new SequenceRange(1, 5));
        Assert.Equal(8, buffer.CursorOf(Uns));
        buffer.Acknowledge(Uns, new SequenceRange(9, 11));
        Assert.Equal(15, buffer.CursorOf(Uns));
        Assert.Empty(buffer.Acknowledged(Uns));
        Assert.Equal(5, buffer.Count);
    }

    [Fact]
    public void Read_HonoursAfterThroughAndMax()
    {
        using var buffer = Create("window.db", 1 << 20, [Uns], out _);
        buffer.Append(Counters(0, 50));

        var read = new List<BufferedSample>();
        Assert.Equal(5, buffer.Read(Uns, 10, 30, 5, read));
        Assert.Equal([11L, 12, 13, 14, 15], read.Select(r => r.Id));
        read.Clear();
        Assert.Equal(3, buffer.Read(Uns, 27, 30, 100, read));
        Assert.Equal([28L, 29, 30], read.Select(r => r.Id));
    }

    [Fact]
    public void Read_InSmallSteps_ResumesWithinABatch_AndAReReadAfterReleaseStartsOver()
    {
        using var buffer = Create("steps.db", 1 << 20, [Uns, Influx], out _);
        var samples = Enumerable.Range(0, 1000).Select(i => i % 3 == 0
            ? Sample.Good(_counter, _time.GetUtcNow().AddMilliseconds(i), _time.GetUtcNow().AddMilliseconds(i), SampleValue.FromString($"s{i}"))
            : Sample.Good(_counter, _time.GetUtcNow().AddMilliseconds(-i), _time.GetUtcNow().AddMilliseconds(i), SampleValue.FromInteger(i))).ToList();
        buffer.Append(samples);
        buffer.Append(samples);

        // Two sinks interleaving reads of 7 at a time, each with its own position in the batch.
        var uns = new List<BufferedSample>();
        var influx = new List<BufferedSample>();
        while (buffer.Read(Uns, uns.Count == 0 ? 0 : uns[^1].Id, long.MaxValue, 7, uns) + buffer.Read(Influx, influx.Count == 0 ? 0 : influx[^1].Id, long.MaxValue, 13, influx) > 0)
        {
        }

        Assert.Equal(samples.Concat(samples), uns.Select(r => r.Sample));
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), uns.Select(r => r.Id));
        Assert.Equal(uns, influx);

        buffer.ReleaseLeases(Uns);
        var again = new List<BufferedSample>();
        buffer.Read(Uns, 500, 510, 100, again);
        Assert.Equal(uns[500..510], again);
    }

    [Fact]
    public void Read_TwoLanesOfOneSink_AtRandomWindows_AlwaysReturnExactlyTheSamplesAsked()
    {
        // A live lane and a history lane share the sink's reader: whatever the order of their reads, each read returns
        // exactly the unacknowledged samples of its window, as appended.
        using var buffer = Create("lanes.db", 1L << 30, [Uns], out _);
        var random = new Random(11);
        var all = new List<Sample>();
        for (var flush = 0; flush < 40; flush++)
        {
            var count = random.Next(1, 400);
            var samples = Enumerable.Range(all.Count, count).Select(i => Sample.Good(_counter, _time.GetUtcNow().AddMilliseconds(random.Next(-50, 50)), _time.GetUtcNow().AddMilliseconds(i % 7 == 0 ? -i : i), i % 5 == 0 ? SampleValue.FromString($"v{i}") : SampleValue.FromFloat(i / 10f))).ToList();
            buffer.Append(samples);
            all.AddRange(samples);
        }

        var acked = new HashSet<long>();
        for (var step = 0; step < 2000; step++)
        {
            var after = (long)random.Next(0, all.Count);
            var through = random.Next(3) == 0 ? long.MaxValue : after + random.Next(1, 800);
            var max = random.Next(1, 300);
            var read = new List<BufferedSample>();
            buffer.Read(Uns, after, through, max, read);

            var expected = Enumerable.Range(1, all.Count).Select(i => (long)i).Where(i => i > after && i <= through && !acked.Contains(i)).Take(max).ToList();
            Assert.Equal(expected, read.Select(r => r.Id));
            Assert.Equal(expected.Select(i => all[(int)i - 1]), read.Select(r => r.Sample));
            if (random.Next(4) == 0 && read.Count > 0)
            {
                var from = read[random.Next(read.Count)].Id;
                buffer.Acknowledge(Uns, new SequenceRange(from, from + random.Next(0, 20)));
                for (var i = from; i <= Math.Min(from + 19, all.Count); i++)
                {
                    if (buffer.Acknowledged(Uns).Any(r => r.Contains(i)) || i <= buffer.CursorOf(Uns))
                    {
                        acked.Add(i);
                    }
                }
            }

            if (random.Next(50) == 0)
            {
                buffer.ReleaseLeases(Uns);
            }
        }
    }

    [Fact]
    public void Acknowledge_WithSeveralSinks_DeletesABatchOnlyWhenEverySinkDeliveredAllOfIt()
    {
        using var buffer = Create("sinks.db", 1 << 20, [Uns, Influx], out var metrics);
        buffer.Append(Counters(0, 10));
        buffer.Append(Counters(10, 10));
        var bytes = buffer.Bytes;

        buffer.Acknowledge(Uns, new SequenceRange(1, 20));
        Assert.Equal(20, buffer.Count);
        Assert.Equal(bytes, buffer.Bytes);
        buffer.Acknowledge(Influx, new SequenceRange(11, 20));
        Assert.Equal(10, buffer.Count);
        Assert.True(buffer.Bytes < bytes, "the second batch, delivered by both, is still stored");
        Assert.Equal(10, metrics.BufferSamples);

        var forInflux = new List<BufferedSample>();
        buffer.Read(Influx, buffer.CursorOf(Influx), long.MaxValue, 100, forInflux);
        var forUns = new List<BufferedSample>();
        buffer.Read(Uns, buffer.CursorOf(Uns), long.MaxValue, 100, forUns);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), forInflux.Select(r => r.Id));
        Assert.Empty(forUns);
        Assert.Equal(20, buffer.CursorOf(Uns));

        buffer.Acknowledge(Influx, new SequenceRange(1, 10));
        Assert.Equal(0, buffer.Count);
        Assert.Equal(0, buffer.Bytes);
        Assert.Equal(20, buffer.CursorOf(Influx));
    }

    [Fact]
    public void Quota_NeverDropsABatchASinkHoldsLeased_AndDropsItOnceTheLeaseIsReleased()
    {
        var batchBytes = BatchBytes(30);
        using var buffer = Create("lease.db", 2 * batchBytes, [Uns], out var metrics);
        buffer.Append(Counters(1000, 30));
        var leased = new List<BufferedSample>();
        buffer.Read(Uns, 0, long.MaxValue, 100, leased);

        buffer.Append(Counters(1030, 30));
        var dropped = buffer.Append(Counters(1060, 30));

        // The oldest batch is leased: the quota takes the next one instead.
        Assert.Equal(30, dropped);
        var left = new List<BufferedSample>();
        buffer.ReadOldest(0, 1000, left);
        Assert.Equal(Enumerable.Range(1000, 30).Concat(Enumerable.Range(1060, 30)).Select(i => (long)i), left.Select(r => r.Sample.Value.AsInteger));

        buffer.ReleaseLeases(Uns);
        dropped = buffer.Append(Counters(1090, 30));
        Assert.Equal(30, dropped);
        left.Clear();
        buffer.ReadOldest(0, 1000, left);
        Assert.Equal(Enumerable.Range(1060, 60).Select(i => (long)i), left.Select(r => r.Sample.Value.AsInteger));
        Assert.Equal(60, metrics.SamplesDropped);
        Assert.Equal(60, buffer.CursorOf(Uns));
    }

    [Fact]
    public void Quota_DuringADrain_CountsExactlyWhatTheSinkWillMiss()
    {
        // Issue 13: the quota fired while the publisher had a read in flight, and the samples it then delivered
        // were counted as dropped too. Here every sample ends up either delivered or counted, never both.
        var batchBytes = BatchBytes(30);
        using var buffer = Create("drain.db", 3 * batchBytes, [Uns], out var metrics);
        var delivered = new HashSet<long>();
        var appended = 0;
        for (var round = 0; round < 12; round++)
        {
            buffer.Append(Counters(1000 + appended, 30));
            appended += 30;
            var inFlight = new List<BufferedSample>();
            buffer.Read(Uns, 0, long.MaxValue, 20, inFlight);
            // The broker is slow: two more flushes land (and the quota fires) before the PUBACKs come back.
            buffer.Append(Counters(1000 + appended, 30));
            appended += 30;
            buffer.Append(Counters(1000 + appended, 30));
            appended += 30;
            foreach (var sample in inFlight)
            {
                Assert.True(delivered.Add(sample.Sample.Value.AsInteger), $"{sample.Sample.Value.AsInteger} delivered twice");
            }

            // Half of what was read is acknowledged, the rest after reconnect: ranges, not a prefix.
            buffer.Acknowledge(Uns, new SequenceRange(inFlight[10].Id, inFlight[^1].Id));
            buffer.Acknowledge(Uns, new SequenceRange(inFlight[0].Id, inFlight[9].Id));
        }

        var rest = new List<BufferedSample>();
        while (buffer.Read(Uns, 0, long.MaxValue, 1000, rest) > 0)
        {
            foreach (var sample in rest)
            {
                Assert.True(delivered.Add(sample.Sample.Value.AsInteger));
            }

            buffer.Acknowledge(Uns, new SequenceRange(rest[0].Id, rest[^1].Id));
            rest.Clear();
        }

        Assert.True(metrics.SamplesDropped > 0, "the quota never fired");
        Assert.Equal(appended, delivered.Count + metrics.SamplesDropped);
        Assert.Equal(0, buffer.Count);
    }

    [Fact]
    public void Quota_DroppingAPartlyAcknowledgedBatch_CountsOnlyItsUnacknowledgedSamples()
    {
        var batchBytes = BatchBytes(30);
        using var buffer = Create("partial.db", batchBytes + (batchBytes / 2), [Uns, Influx], out var metrics);
        buffer.Append(Counters(1000, 30));
        buffer.Acknowledge(Uns, new SequenceRange(1, 30));
        buffer.Acknowledge(Influx, new SequenceRange(1, 10));

        var dropped = buffer.Append(Counters(1030, 30));

        Assert.Equal(20, dropped);
        Assert.Equal(20, metrics.SamplesDropped);
        Assert.Equal(30, buffer.CursorOf(Influx));
        Assert.Equal(30, buffer.Count);
    }

    [Fact]
    public void Read_ADamagedBatch_IsDroppedCountedAndLogged_AndReadingGoesOnWithTheNext()
    {
        var path = PathOf("damaged.db");
        using (var buffer = Create(path, 1 << 20, [Uns], out _))
        {
            buffer.Append(Counters(0, 10));
            buffer.Append(Counters(10, 10));
            buffer.Append(Counters(20, 10));
        }

        using (var connection = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            connection.Open();
            using var damage = connection.CreateCommand();
            // The second batch: a version byte no gateway wrote.
            damage.CommandText = "UPDATE batches SET data = X'09' || substr(data, 2) WHERE first_seq = 11";
            damage.ExecuteNonQuery();
        }

        var log = new ListLoggerProvider();
        var metrics = new GatewayMetrics(_time);
        _metrics.Add(metrics);
        using var reopened = new SampleBuffer(path, 1 << 20, [Uns], metrics, _time, new Logger<SampleBuffer>(new LoggerFactory([log])));
        var read = new List<BufferedSample>();
        reopened.Read(Uns, 0, long.MaxValue, 100, read);

        Assert.Equal(Enumerable.Range(1, 10).Concat(Enumerable.Range(21, 10)).Select(i => (long)i), read.Select(r => r.Id));
        Assert.Equal(10, metrics.SamplesDropped);
        Assert.Equal(20, reopened.Count);
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Error && l.Message.Contains("samples 11-20 is unreadable", StringComparison.Ordinal));
    }

    [Fact]
    public void SequenceNumbers_AreNeverReused_AfterTheBufferEmptiesAndTheProcessRestarts()
    {
        var path = PathOf("sequence.db");
        using (var buffer = Create(path, 1 << 20, [Uns], out _))
        {
            buffer.Append(Counters(0, 25));
            buffer.Acknowledge(Uns, new SequenceRange(1, 25));
            Assert.Equal(0, buffer.Count);
            Assert.Equal(25, buffer.LastSequence);
        }

        using var reopened = Create(path, 1 << 20, [Uns], out _);
        Assert.Equal(25, reopened.LastSequence);
        Assert.Equal(25, reopened.CursorOf(Uns));
        reopened.Append(Counters(25, 5));
        var read = new List<BufferedSample>();
        reopened.Read(Uns, reopened.CursorOf(Uns), long.MaxValue, 100, read);
        Assert.Equal([26L, 27, 28, 29, 30], read.Select(r => r.Id));
    }

    [Fact]
    public void Restart_KeepsOutOfOrderAcknowledgements_AndForgetsLeases()
    {
        var path = PathOf("restart.db");
        using (var buffer = Create(path, 1 << 20, [Uns], out _))
        {
            buffer.Append(Counters(0, 30));
            var read = new List<BufferedSample>();
            buffer.Read(Uns, 0, long.MaxValue, 30, read);
            buffer.Acknowledge(Uns, new SequenceRange(11, 20));
        }

        using var reopened = Create(path, 1 << 20, [Uns], out var metrics);
        Assert.Equal([new SequenceRange(11, 20)], reopened.Acknowledged(Uns));
        Assert.Equal(20, reopened.Count);
        Assert.Equal(20, metrics.BufferSamples);
        var again = new List<BufferedSample>();
        reopened.Read(Uns, 0, long.MaxValue, 100, again);
        Assert.Equal(Enumerable.Range(1, 10).Concat(Enumerable.Range(21, 10)).Select(i => (long)i), again.Select(r => r.Id));
    }

    [Fact]
    public void ASinkAddedLater_GetsWhatIsStillStored()
    {
        var path = PathOf("added.db");
        using (var buffer = Create(path, 1 << 20, [Uns], out _))
        {
            buffer.Append(Counters(0, 10));
            buffer.Append(Counters(10, 10));
            buffer.Acknowledge(Uns, new SequenceRange(1, 10));
        }

        using var reopened = Create(path, 1 << 20, [Uns, Influx], out _);
        Assert.Equal(10, reopened.CursorOf(Influx));
        var read = new List<BufferedSample>();
        reopened.Read(Influx, reopened.CursorOf(Influx), long.MaxValue, 100, read);
        Assert.Equal(Enumerable.Range(11, 10).Select(i => (long)i), read.Select(r => r.Id));
    }

    [Fact]
    public void OldestUnacknowledged_IsPerSink()
    {
        using var buffer = Create("oldest.db", 1 << 20, [Uns, Influx], out _);
        var first = _time.GetUtcNow();
        buffer.Append(Counters(0, 10));
        _time.Advance(TimeSpan.FromSeconds(5));
        buffer.Append(Counters(10, 10));

        buffer.Acknowledge(Uns, new SequenceRange(1, 10));

        Assert.Equal(first.AddSeconds(5), buffer.OldestUnacknowledged(Uns));
        Assert.Equal(first, buffer.OldestUnacknowledged(Influx));
        buffer.Acknowledge(Uns, new SequenceRange(11, 20));
        Assert.Null(buffer.OldestUnacknowledged(Uns));
    }

    [Fact]
    public void Append_BiggerThanOneRow_IsSplitIntoBatches_WithConsecutiveSequences()
    {
        using var buffer = Create("big.db", 1L << 30, [Uns], out _);
        var count = SampleBuffer.MaxSamplesPerBatch + 100;
        buffer.Append(Counters(0, count));

        var read = new List<BufferedSample>();
        buffer.Read(Uns, 0, long.MaxValue, int.MaxValue, read);
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), read.Select(r => r.Id));
    }

    [Fact]
    public void SecondBuffer_OnTheSameFile_IsRefused_NamingTheOwnerPid_UntilTheFirstIsDisposed()
    {
        var path = PathOf("locked.db");
        var first = Create(path, 1 << 20, [Uns], out _);

        var refused = Assert.Throws<BufferLockedException>(() => Create(path, 1 << 20, [Uns], out _));
        Assert.Equal(Environment.ProcessId, refused.OwnerPid);
        Assert.Contains($"PID {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);

        first.Dispose();
        using var second = Create(path, 1 << 20, [Uns], out _);
        Assert.Equal(0, second.Count);
    }

    [Fact]
    public void Quota_LogsWhenDroppingStarts_ThenOneSummaryAMinute_NotOneLinePerFlush()
    {
        var batchBytes = BatchBytes(30);
        var log = new ListLoggerProvider();
        var metrics = new GatewayMetrics(_time);
        _metrics.Add(metrics);
        using var buffer = new SampleBuffer(PathOf("log.db"), 2 * batchBytes, [Uns], metrics, _time, new Logger<SampleBuffer>(new LoggerFactory([log])));

        // Ten flushes a second for 150 s, the broker away: 1,500 flushes over the quota.
        for (var flush = 0; flush < 1500; flush++)
        {
            buffer.Append(Counters(1000, 30));
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        var warnings = log.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).ToList();
        Assert.Equal(3, warnings.Count);
        Assert.Contains("dropping the oldest samples", warnings[0], StringComparison.Ordinal);
        // 600 flushes a minute, each dropping one batch of 30.
        Assert.Contains("dropped 18000 samples in the last 60 s", warnings[1], StringComparison.Ordinal);
        Assert.Contains("dropped 18000 samples in the last 60 s", warnings[2], StringComparison.Ordinal);

        // The broker is back: the minute that was running is summed up, the next one drops nothing, and one line
        // says the buffer is under its quota again.
        buffer.Acknowledge(Uns, new SequenceRange(1, buffer.LastSequence));
        for (var flush = 0; flush < 1300; flush++)
        {
            buffer.Append(Counters(1000, 1));
            buffer.Acknowledge(Uns, new SequenceRange(1, buffer.LastSequence));
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.Single(log.Lines, l => l.Message.Contains("back under its quota", StringComparison.Ordinal));
        Assert.Equal(4, log.Lines.Count(l => l.Level == LogLevel.Warning));
        Assert.Equal((1500 - 2) * 30, metrics.SamplesDropped);
    }

    [Fact]
    public void Read_TwoLanesOfOneSink_EachKeepsItsBatchDecoded()
    {
        // A history lane reading the first five batches 30 at a time, interleaved with a live lane reading the
        // last batch 5 at a time: each batch is loaded and decoded from its start once, not on every read.
        using var buffer = Create("two-readers.db", 1L << 30, [Uns], out _);
        for (var flush = 0; flush < 10; flush++)
        {
            buffer.Append(Counters(flush * 100, 100));
        }

        var history = new List<BufferedSample>();
        var live = new List<BufferedSample>();
        for (var step = 0; step < 20; step++)
        {
            buffer.Read(Uns, history.Count == 0 ? 0 : history[^1].Id, 500, 30, history);
            buffer.Read(Uns, live.Count == 0 ? 900 : live[^1].Id, long.MaxValue, 5, live);
        }

        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), history.Select(r => r.Id));
        Assert.Equal(Enumerable.Range(901, 100).Select(i => (long)i), live.Select(r => r.Id));
        Assert.Equal(history.Select(r => r.Id - 1), history.Select(r => r.Sample.Value.AsInteger));
        Assert.Equal(live.Select(r => r.Id - 1), live.Select(r => r.Sample.Value.AsInteger));
        Assert.Equal(6, buffer.BatchLoads);
    }

    [Fact]
    public void Acknowledge_ManySmallBatches_OutOfOrder_DeletesExactlyTheDeliveredOnes()
    {
        // Thousands of one-sample batches (a slow line) delivered in ranges, some out of order: the index drops
        // them from the front and from the middle, and what is left reads back the same after a restart.
        var path = PathOf("small.db");
        var delivered = new HashSet<long>();
        using (var buffer = Create(path, 1L << 30, [Uns], out var metrics))
        {
            for (var i = 0; i < 3000; i++)
            {
                buffer.Append(Counters(i, 1));
            }

            var random = new Random(5);
            for (var step = 0; step < 300; step++)
            {
                var first = step < 150 ? (step * 15) + 1 : random.Next(1, 3000);
                var last = Math.Min(3000, first + random.Next(0, 12));
                buffer.Acknowledge(Uns, new SequenceRange(first, last));
                for (var id = first; id <= last; id++)
                {
                    delivered.Add(id);
                }
            }

            Assert.Equal(3000 - delivered.Count, buffer.Count);
            Assert.Equal(3000 - delivered.Count, metrics.BufferSamples);
            var left = new List<BufferedSample>();
            buffer.ReadOldest(0, 10_000, left);
            Assert.Equal(Enumerable.Range(1, 3000).Select(i => (long)i).Where(i => !delivered.Contains(i)), left.Select(r => r.Id));
        }

        using var reopened = Create(path, 1L << 30, [Uns], out _);
        var again = new List<BufferedSample>();
        reopened.Read(Uns, 0, long.MaxValue, 10_000, again);
        Assert.Equal(Enumerable.Range(1, 3000).Select(i => (long)i).Where(i => !delivered.Contains(i)), again.Select(r => r.Id));
        Assert.Equal(again.Select(r => r.Id - 1), again.Select(r => r.Sample.Value.AsInteger));
    }

    [Fact]
    public void Quota_LeavesTheRowsOfASinkNoLongerConfigured_AsTheyWere()
    {
        var batchBytes = BatchBytes(30);
        var path = PathOf("removed-sink.db");
        using (var buffer = Create(path, 1 << 20, [Uns, Influx], out _))
        {
            buffer.Append(Counters(1000, 30));
            buffer.Acknowledge(Influx, new SequenceRange(11, 15));
        }

        // Influx is taken out of the configuration; the quota then drops the first batch, twice over.
        using (var reopened = Create(path, 2 * batchBytes, [Uns], out var metrics))
        {
            reopened.Append(Counters(1030, 30));
            reopened.Append(Counters(1060, 30));
            reopened.Append(Counters(1090, 30));
            Assert.Equal(60, metrics.SamplesDropped);
            Assert.Equal(60, reopened.CursorOf(Uns));
        }

        Assert.Equal((0L, "11-15"), RowsOf(path, Influx));

        // Configured again, it owes what is still stored, as a sink whose rows had moved with every drop would.
        using var again = Create(path, 1 << 20, [Uns, Influx], out _);
        Assert.Equal(60, again.CursorOf(Influx));
        var read = new List<BufferedSample>();
        again.Read(Influx, again.CursorOf(Influx), long.MaxValue, 100, read);
        Assert.Equal(Enumerable.Range(61, 60).Select(i => (long)i), read.Select(r => r.Id));
    }

    [Fact]
    public void Append_ATagWhoseUnitChanged_ReadsBackWithItsNewUnit_AlsoAfterARestart()
    {
        // The tags table is keyed by (machine, path, unit); TagInfo's equality is machine/path only.
        var path = PathOf("unit.db");
        var celsius = new TagInfo("press", "temperature", "degC");
        var fahrenheit = new TagInfo("press", "temperature", "degF");
        using (var buffer = Create(path, 1 << 20, [Uns], out _))
        {
            buffer.Append([Sample.Good(celsius, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromDouble(20))]);
            buffer.Append([Sample.Good(fahrenheit, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromDouble(68))]);
            var read = new List<BufferedSample>();
            buffer.Read(Uns, 0, long.MaxValue, 100, read);
            Assert.Equal(["degC", "degF"], read.Select(r => r.Sample.Tag.Unit));
        }

        using var reopened = Create(path, 1 << 20, [Uns], out _);
        reopened.Append([Sample.Good(new TagInfo("press", "temperature", "degC"), _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromDouble(21))]);
        reopened.Append([Sample.Good(new TagInfo("press", "temperature", "degF"), _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromDouble(70))]);
        var all = new List<BufferedSample>();
        reopened.Read(Uns, 0, long.MaxValue, 100, all);
        Assert.Equal(["degC", "degF", "degC", "degF"], all.Select(r => r.Sample.Tag.Unit));
    }

    /// <summary>A sink's persisted cursor and acknowledged ranges, read from the file.</summary>
    private static (long Cursor, string Ranges) RowsOf(string path, string sink)
    {
        SqliteConnection.ClearAllPools();
        using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        using var cursor = connection.CreateCommand();
        cursor.CommandText = "SELECT acked FROM cursors WHERE sink = $sink";
        cursor.Parameters.AddWithValue("$sink", sink);
        var acked = (long)cursor.ExecuteScalar()!;
        using var ranges = connection.CreateCommand();
        ranges.CommandText = "SELECT group_concat(first || '-' || last, ',') FROM (SELECT first, last FROM ack_ranges WHERE sink = $sink ORDER BY first)";
        ranges.Parameters.AddWithValue("$sink", sink);
        return (acked, ranges.ExecuteScalar() as string ?? "");
    }

    /// <summary>The encoded size of a batch of <paramref name="count"/> counter samples with values of two varint bytes.</summary>
    private long BatchBytes(int count)
    {
        using var probe = Create($"probe-{Guid.NewGuid():N}.db", 1L << 30, [Uns], out _);
        probe.Append(Counters(1000, count));
        return probe.Bytes;
    }

    private List<Sample> Counters(int from, int count) =>
        Enumerable.Range(from, count).Select(i => Sample.Good(_counter, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(i))).ToList();

    private SampleBuffer Create(string name, long maxBytes, string[] sinks, out GatewayMetrics metrics)
    {
        metrics = new GatewayMetrics(_time);
        _metrics.Add(metrics);
        return new SampleBuffer(Path.IsPathRooted(name) ? name : PathOf(name), maxBytes, sinks, metrics, _time, NullLogger<SampleBuffer>.Instance);
    }

    public void Dispose()
    {
        foreach (var metrics in _metrics)
        {
            metrics.Dispose();
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
