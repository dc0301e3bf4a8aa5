using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Gateway.Buffering;
using Gateway.Drivers;
using Gateway.Observability;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks.Buffer;

/// <summary>
/// A line of 1000 tags (integers, doubles, float32s and booleans, as Modbus and OPC UA drivers produce them), flushed
/// 1000 samples at a time (100 ms at 10k samples/s). Each benchmark moves <see cref="Samples"/> samples, declared as
/// as many operations, so "Mean" is the time per sample and "Allocated" the bytes per sample. Ratios are per category
/// (append, read, acknowledge) against the row-per-sample baseline.
/// </summary>
#pragma warning disable CA1001 // BenchmarkDotNet disposes through [GlobalCleanup], not IDisposable
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class BufferBenchmarks
#pragma warning restore CA1001
{
    public const int Samples = 100_000;
    private const int FlushSize = 1000;
    private const int ReadSize = 5000;
    private const int SmallRead = 100;
    private const string Sink = SampleBuffer.DefaultSink;

    private readonly List<BufferedSample> _read = new(ReadSize);
    private List<Sample>[] _flushes = [];
    private string _directory = "";
    private GatewayMetrics _metrics = null!;
    private RowSampleBuffer? _row;
    private SampleBuffer? _batch;
    private int _generation;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _directory = Directory.CreateTempSubdirectory("gw-bench-buffer-").FullName;
        _metrics = new GatewayMetrics(TimeProvider.System);
        var tags = Enumerable.Range(0, 1000).Select(i => new TagInfo($"machine-{i / 100}", $"tag-{i:D4}", i % 4 == 1 ? "degC" : null)).ToArray();
        var t0 = new DateTimeOffset(2026, 5, 1, 6, 0, 0, TimeSpan.Zero);
        _flushes = new List<Sample>[Samples / FlushSize];
        for (var f = 0; f < _flushes.Length; f++)
        {
            var flush = new List<Sample>(FlushSize);
            for (var i = 0; i < FlushSize; i++)
            {
                var n = (f * FlushSize) + i;
                var tag = tags[n % tags.Length];
                var at = t0.AddTicks(n * 1000L);
                var value = (n % 4) switch
                {
                    0 => SampleValue.FromInteger(n % 65536),
                    1 => SampleValue.FromDouble(20 + ((n % 1000) / 37.0)),
                    2 => SampleValue.FromFloat(1.5f + (n % 100)),
                    _ => SampleValue.FromBoolean(n % 8 == 3),
                };
                flush.Add(Sample.Good(tag, at, at.AddMilliseconds(2), value));
            }

            _flushes[f] = flush;
        }
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _row?.Dispose();
        _batch?.Dispose();
        _metrics.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    // ---- append: 100 flushes of 1000 samples into an empty buffer ----

    // Both start with their tags table filled (one flush of every tag, then acknowledged): the steady state, not the
    // one-off insertion of 1000 tags.
    [IterationSetup(Targets = [nameof(AppendRows)])]
    public void EmptyRows()
    {
        _row = NewRow();
        _row.Append(_flushes[0]);
        _row.Acknowledge(Sink, FlushSize);
    }

    [IterationSetup(Targets = [nameof(AppendBatches)])]
    public void EmptyBatches()
    {
        _batch = NewBatch();
        _batch.Append(_flushes[0]);
        _batch.Acknowledge(Sink, new SequenceRange(1, FlushSize));
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Samples), BenchmarkCategory("append")]
    public void AppendRows()
    {
        foreach (var flush in _flushes)
        {
            _row!.Append(flush);
        }
    }

    [Benchmark(OperationsPerInvoke = Samples), BenchmarkCategory("append")]
    public void AppendBatches()
    {
        foreach (var flush in _flushes)
        {
            _batch!.Append(flush);
        }
    }

    // ---- read: the whole backlog, 5000 at a time, as a publisher drains it (nothing acknowledged) ----

    [IterationSetup(Targets = [nameof(ReadRows), nameof(AcknowledgeRows)])]
    public void FullRows()
    {
        _row = NewRow();
        foreach (var flush in _flushes)
        {
            _row.Append(flush);
        }
    }

    [IterationSetup(Targets = [nameof(ReadBatches), nameof(AcknowledgeBatches)])]
    public void FullBatches()
    {
        _batch = NewBatch();
        foreach (var flush in _flushes)
        {
            _batch.Append(flush);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Samples), BenchmarkCategory("read")]
    public long ReadRows()
    {
        long after = 0;
        while (true)
        {
            _read.Clear();
            if (_row!.ReadOldest(after, ReadSize, _read) == 0)
            {
                return after;
            }

            after = _read[^1].Id;
        }
    }

    [Benchmark(OperationsPerInvoke = Samples), BenchmarkCategory("read")]
    public long ReadBatches()
    {
        long after = 0;
        while (true)
        {
            _read.Clear();
            if (_batch!.Read(Sink, after, long.MaxValue, ReadSize, _read) == 0)
            {
                _batch.ReleaseLeases(Sink);
                return after;
            }

            after = _read[^1].Id;
        }
    }

    // ---- read-live: the same backlog 100 at a time, as a live lane reads what each flush brought ----

    [IterationSetup(Targets = [nameof(ReadRowsInSmallSteps)])]
    public void FullRowsForSmallSteps() => FullRows();

    [IterationSetup(Targets = [nameof(ReadBatchesInSmallSteps)])]
    public void FullBatchesForSmallSteps() => FullBatches();

    [Benchmark(Baseline = true, OperationsPerInvoke = Samples), BenchmarkCategory("read-live")]
    public long ReadRowsInSmallSteps()
    {
        long after = 0;
        while (true)
        {
            _read.Clear();
            if (_row!.ReadOldest(after, SmallRead, _read) == 0)
            {
                return after;
            }

            after = _read[^1].Id;
        }
    }

    [Benchmark(OperationsPerInvoke = Samples), BenchmarkCategory("read-live")]
    public long ReadBatchesInSmallSteps()
    {
        long after = 0;
        while (true)
        {
            _read.Clear();
            if (_batch!.Read(Sink, after, long.MaxValue, SmallRead, _read) == 0)
            {
                _batch.ReleaseLeases(Sink);
                return after;
            }

            after = _read[^1].Id;
        }
    }

    // ---- acknowledge: the whole backlog, in steps of 5000 (deletes what was delivered) ----

    [Benchmark(Baseline = true, OperationsPerInvoke = Samples), BenchmarkCategory("acknowledge")]
    public void AcknowledgeRows()
    {
        for (long upTo = ReadSize; upTo <= Samples; upTo += ReadSize)
        {
            _row!.Acknowledge(Sink, upTo);
        }
    }

    [Benchmark(OperationsPerInvoke = Samples), BenchmarkCategory("acknowledge")]
    public void AcknowledgeBatches()
    {
        for (long upTo = ReadSize; upTo <= Samples; upTo += ReadSize)
        {
            _batch!.Acknowledge(Sink, new SequenceRange(upTo - ReadSize + 1, upTo));
        }
    }

    // ---- drain-small: 100,000 batches of one sample each (a slow line flushing one sample at a time), drained 5000 at
    // a time: read then acknowledge, which deletes the batches from the front of the index ----

    private const int SmallBatches = 100_000;
    private string _smallTemplate = "";

    [GlobalSetup(Targets = [nameof(DrainSmallBatches)])]
    public void SmallBatchesTemplate()
    {
        GlobalSetup();
        _smallTemplate = Path.Combine(_directory, "small-template.db");
        var one = new List<Sample>(1);
        using (var template = new SampleBuffer(_smallTemplate, 1L << 40, [Sink], _metrics, NullLogger<SampleBuffer>.Instance))
        {
            for (var i = 0; i < SmallBatches; i++)
            {
                one.Clear();
                one.Add(_flushes[i / FlushSize][i % FlushSize]);
                template.Append(one);
            }
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    [IterationSetup(Targets = [nameof(DrainSmallBatches)])]
    public void SmallBatchesCopy()
    {
        _batch?.Dispose();
        var path = NextPath();
        File.Copy(_smallTemplate, path);
        _batch = new SampleBuffer(path, 1L << 40, [Sink], _metrics, NullLogger<SampleBuffer>.Instance);
    }

    [Benchmark(OperationsPerInvoke = SmallBatches), BenchmarkCategory("drain-small")]
    public long DrainSmallBatches()
    {
        long after = 0;
        while (true)
        {
            _read.Clear();
            if (_batch!.Read(Sink, after, long.MaxValue, ReadSize, _read) == 0)
            {
                return after;
            }

            _batch.Acknowledge(Sink, new SequenceRange(_read[0].Id, _read[^1].Id));
            after = _read[^1].Id;
        }
    }

    private RowSampleBuffer NewRow()
    {
        _row?.Dispose();
        return new RowSampleBuffer(NextPath(), 1L << 40, [Sink], _metrics, NullLogger.Instance);
    }

    private SampleBuffer NewBatch()
    {
        _batch?.Dispose();
        return new SampleBuffer(NextPath(), 1L << 40, [Sink], _metrics, NullLogger<SampleBuffer>.Instance);
    }

    private string NextPath() => Path.Combine(_directory, $"buffer-{_generation++}.db");
}
