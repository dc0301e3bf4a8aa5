using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Buffering;

/// <summary>The writer between the pipeline and the disk, on a fake clock: group commit (a burst once the pipeline is quiet, a stream at the interval), nothing lost on stop.</summary>
public sealed class BufferWriterServiceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gw-writer-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 6, 0, 0, TimeSpan.Zero));
    private readonly GatewayMetrics _metrics;
    private readonly SamplePipeline _pipeline;
    private readonly SampleBuffer _buffer;
    private readonly BufferSignal _signal = new();
    private readonly SemaphoreSlim _wake;
    private readonly BufferWriterService _writer;
    private readonly TagInfo _tag = new("press", "count");

    public BufferWriterServiceTests()
    {
        _metrics = new GatewayMetrics(_time);
        _pipeline = new SamplePipeline(_metrics);
        _buffer = new SampleBuffer(Path.Combine(_directory, "buffer.db"), 1 << 20, [SampleBuffer.DefaultSink], _metrics, _time, NullLogger<SampleBuffer>.Instance);
        _wake = _signal.Subscribe();
        var config = new GatewayConfig { Buffer = new BufferOptions { FlushIntervalMs = 100 } };
        _writer = new BufferWriterService(_pipeline, _buffer, _signal, _metrics, Options.Create(config), _time, NullLogger<BufferWriterService>.Instance);
    }

    [Fact]
    public async Task Flush_WritesWhatArrivedWithinTheInterval_ThenWakesThePublishers()
    {
        await _writer.StartAsync(CancellationToken.None);
        for (var i = 0; i < 500; i++)
        {
            await _pipeline.WriteInternalAsync(Sample.Good(_tag, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(i)), CancellationToken.None);
        }

        // Nothing reaches the disk before the writer's clock has moved (the quiet time has not passed).
        Assert.False(await _wake.WaitAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(0, _buffer.Count);

        await AdvanceUntilWokenAsync();

        AssertBufferHoldsInOrder(500);
        Assert.Equal(500, _metrics.SamplesBuffered);
        await _writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Flush_APollsBurst_IsWrittenOnceThePipelineIsQuiet_NotAnIntervalLater()
    {
        await _writer.StartAsync(CancellationToken.None);
        var start = _time.GetTimestamp();
        for (var i = 0; i < 100; i++)
        {
            await _pipeline.WriteInternalAsync(Sample.Good(_tag, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(i)), CancellationToken.None);
        }

        // One fake millisecond at a time, letting the writer run between the steps.
        while (!await _wake.WaitAsync(TimeSpan.FromMilliseconds(50)))
        {
            Assert.True(_time.GetElapsedTime(start) < TimeSpan.FromSeconds(1), "the writer never flushed");
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // Written after the quiet time (2 ms on the fake clock, a little more if the writer was slow to start its
        // wait), far from the 100 ms flush interval a fixed schedule would wait.
        var waited = _time.GetElapsedTime(start);
        Assert.InRange(waited, BufferWriterService.QuietTime, TimeSpan.FromMilliseconds(50));
        Assert.Equal(100, _buffer.Count);
        await _writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Flush_ASteadyStream_IsWrittenAtTheFlushIntervalAtTheLatest()
    {
        await _writer.StartAsync(CancellationToken.None);
        var start = _time.GetTimestamp();
        var written = 0;

        // A sample every fake millisecond: the pipeline is never quiet for 2 ms, so the batch grows until it is one
        // flush interval (100 ms) old.
        while (_time.GetElapsedTime(start) < TimeSpan.FromMilliseconds(99))
        {
            await _pipeline.WriteInternalAsync(Sample.Good(_tag, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(written++)), CancellationToken.None);
            Assert.False(await _wake.WaitAsync(TimeSpan.Zero), $"written {_time.GetElapsedTime(start).TotalMilliseconds} ms after the first sample of a steady stream");
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        await AdvanceUntilWokenAsync();
        Assert.Equal(written, _buffer.Count);
        var read = new List<BufferedSample>();
        _buffer.Read(SampleBuffer.DefaultSink, 0, long.MaxValue, 1000, read);
        Assert.Equal(Enumerable.Range(0, written).Select(i => (long)i), read.Select(r => r.Sample.Value.AsInteger));
        await _writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Flush_APollsBurst_IsWrittenWhenItsLastPollEnds_WithoutTheClockMoving()
    {
        await _writer.StartAsync(CancellationToken.None);
        var driver = _pipeline.CreateWriter("press-plc");

        // Two poll groups due together: the first one's samples are in while the second still reads.
        driver.PollStarted();
        driver.PollStarted();
        await driver.WriteBatchAsync(Samples(0, 100), CancellationToken.None);
        driver.PollEnded();

        // Far past the quiet time, the burst is not over yet: nothing is written.
        _time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.False(await _wake.WaitAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(0, _buffer.Count);

        // The last poll ends: written at once, no timer on the fake clock needed.
        await driver.WriteBatchAsync(Samples(100, 100), CancellationToken.None);
        driver.PollEnded();

        Assert.True(await _wake.WaitAsync(TimeSpan.FromSeconds(10)), "the end of the burst did not write it");
        AssertBufferHoldsInOrder(200);
        await _writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Flush_ABurstThatNeverEnds_IsStillWrittenWithinTheFlushInterval()
    {
        await _writer.StartAsync(CancellationToken.None);
        var driver = _pipeline.CreateWriter("press-plc");
        driver.PollStarted(); // a poll that hangs (a device that stopped answering mid-burst)
        var start = _time.GetTimestamp();
        await driver.WriteBatchAsync(Samples(0, 50), CancellationToken.None);

        while (!await _wake.WaitAsync(TimeSpan.FromMilliseconds(50)))
        {
            Assert.True(_time.GetElapsedTime(start) <= TimeSpan.FromMilliseconds(200), "the writer never flushed");
            _time.Advance(TimeSpan.FromMilliseconds(5));
        }

        // Not before the interval (the poll was still under way), and not much after it.
        Assert.InRange(_time.GetElapsedTime(start), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(150));
        Assert.Equal(50, _buffer.Count);
        await _writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Flush_SamplesFromOutsideAPoll_WaitForTheQuietTime_EvenWhenNoPollIsUnderWay()
    {
        await _writer.StartAsync(CancellationToken.None);
        var driver = _pipeline.CreateWriter("opcua"); // a subscription: it never brackets its samples
        await driver.WriteBatchAsync(Samples(0, 10), CancellationToken.None);

        Assert.False(await _wake.WaitAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(0, _buffer.Count);

        await AdvanceUntilWokenAsync();
        Assert.Equal(10, _buffer.Count);
        await _writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Stop_WhileAPollIsUnderWay_WritesWhatIsInThePipeline()
    {
        await _writer.StartAsync(CancellationToken.None);
        var driver = _pipeline.CreateWriter("press-plc");
        driver.PollStarted();
        await driver.WriteBatchAsync(Samples(0, 30), CancellationToken.None);
        await Task.Delay(50); // let the writer's loop reach its wait for the burst's end

        await _writer.StopAsync(CancellationToken.None);

        Assert.Equal(30, _buffer.Count);
    }

    private Sample[] Samples(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => Sample.Good(new TagInfo("press", $"r{i}"), _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(i)))];

    [Fact]
    public async Task Stop_WritesWhatIsStillInThePipeline()
    {
        await _writer.StartAsync(CancellationToken.None);
        for (var i = 0; i < 42; i++)
        {
            await _pipeline.WriteInternalAsync(Sample.Good(_tag, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(i)), CancellationToken.None);
        }

        await _writer.StopAsync(CancellationToken.None);

        Assert.Equal(42, _buffer.Count);
    }

    [Fact]
    public async Task Stop_WhileTheDiskFails_GivesUpWhenItsTokenFires_InsteadOfRetryingForever()
    {
        // The writer's clock never moves: without the token, the loop's last flush and StopAsync's would wait
        // (for each other, and for a retry a second later) until systemd killed the process.
        await _writer.StartAsync(CancellationToken.None);
        for (var i = 0; i < 42; i++)
        {
            await _pipeline.WriteInternalAsync(Sample.Good(_tag, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(i)), CancellationToken.None);
        }

        BreakTheDisk();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var stop = _writer.StopAsync(timeout.Token);

        Assert.Same(stop, await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(20))));
        await stop;
        Assert.Equal(0, _buffer.Count);
    }

    [Fact]
    public async Task Stop_BeforeTheLoopRan_WhileTheDiskFails_GivesUpWhenItsTokenFires()
    {
        for (var i = 0; i < 42; i++)
        {
            await _pipeline.WriteInternalAsync(Sample.Good(_tag, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(i)), CancellationToken.None);
        }

        BreakTheDisk();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var stop = _writer.StopAsync(timeout.Token);

        Assert.Same(stop, await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(20))));
        await stop;
    }

    /// <summary>Every append fails from now on, with the SqliteException a failing disk gives.</summary>
    private void BreakTheDisk()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "buffer.db")};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "ALTER TABLE batches RENAME TO gone";
        command.ExecuteNonQuery();
    }

    /// <summary>The writer's delay starts on its own thread: advance the fake clock until it has flushed.</summary>
    private async Task AdvanceUntilWokenAsync()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            if (await _wake.WaitAsync(TimeSpan.FromMilliseconds(50)))
            {
                return;
            }
        }

        Assert.Fail("the writer never flushed");
    }

    public void Dispose()
    {
        _writer.Dispose();
        _buffer.Dispose();
        _wake.Dispose();
        _metrics.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The buffer holds samples 0 .. count-1 exactly, in order.</summary>
    private void AssertBufferHoldsInOrder(int count)
    {
        Assert.Equal(count, _buffer.Count);
        var read = new List<BufferedSample>();
        _buffer.Read(SampleBuffer.DefaultSink, 0, long.MaxValue, 1000, read);
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), read.Select(r => r.Sample.Value.AsInteger));
    }
}
