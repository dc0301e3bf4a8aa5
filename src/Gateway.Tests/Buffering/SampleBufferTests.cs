using Gateway.Buffering;
using Gateway.Drivers;
using Gateway.Observability;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Buffering;

public sealed class SampleBufferTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gw-buffer-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 6, 0, 0, TimeSpan.Zero));
    private readonly TagInfo _counter = new("press", "total-count", "parts");
    private readonly TagInfo _state = new("press", "state");
    private readonly TagInfo _temperature = new("press", "temperature", "degC");

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void ReadOldest_ReturnsSamplesInAppendOrder_WithEveryFieldIntact()
    {
        using var buffer = Create("order.db", 1 << 20, out _);
        var samples = new List<Sample>
        {
            Sample.Good(_counter, _time.GetUtcNow(), _time.GetUtcNow().AddMilliseconds(5), SampleValue.FromInteger(long.MaxValue - 1)),
            Sample.Good(_state, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromString("down: jam ✓")),
            new(_temperature, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromDouble(-12.375), Quality.Uncertain, 0x40920000),
            Sample.Bad(_temperature, _time.GetUtcNow().AddSeconds(1), 0x80310000),
            Sample.Good(new TagInfo("press", "running"), _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromBoolean(true)),
        };

        buffer.Append(samples);
        var read = new List<BufferedSample>();
        buffer.ReadOldest(0, 100, read);

        Assert.Equal(samples, read.Select(r => r.Sample));
        Assert.Equal(read.Select(r => r.Id).Order(), read.Select(r => r.Id));
        Assert.Equal(5, buffer.Count);
    }

    [Fact]
    public void Acknowledge_DeletesWhatTheSinkDelivered_AndItReadsOnFromItsCursor()
    {
        using var buffer = Create("ack.db", 1 << 20, out _);
        buffer.Append(Counters(0, 10));
        var read = new List<BufferedSample>();
        buffer.ReadOldest(0, 4, read);

        buffer.Acknowledge(SampleBuffer.DefaultSink, read[3].Id);
        var left = new List<BufferedSample>();
        buffer.ReadOldest(buffer.CursorOf(SampleBuffer.DefaultSink), 100, left);

        Assert.Equal([4L, 5, 6, 7, 8, 9], left.Select(r => r.Sample.Value.AsInteger));
        Assert.Equal(6, buffer.Count);
    }

    [Fact]
    public void Acknowledge_WithTwoSinks_KeepsASampleUntilBothDeliveredIt()
    {
        using var buffer = new SampleBuffer(PathOf("two.db"), 1 << 20, ["mqtt-uns", "influx"], new GatewayMetrics(_time), NullLogger<SampleBuffer>.Instance);
        buffer.Append(Counters(0, 10));
        var read = new List<BufferedSample>();
        buffer.ReadOldest(0, 10, read);

        buffer.Acknowledge("mqtt-uns", read[9].Id);
        Assert.Equal(10, buffer.Count);
        buffer.Acknowledge("influx", read[4].Id);
        Assert.Equal(5, buffer.Count);
        var forInflux = new List<BufferedSample>();
        buffer.ReadOldest(buffer.CursorOf("influx"), 100, forInflux);
        var forUns = new List<BufferedSample>();
        buffer.ReadOldest(buffer.CursorOf("mqtt-uns"), 100, forUns);

        Assert.Equal([5L, 6, 7, 8, 9], forInflux.Select(r => r.Sample.Value.AsInteger));
        Assert.Empty(forUns);
    }

    [Fact]
    public void Reopen_AfterDispose_ResumesWithTheUnacknowledgedSamples()
    {
        var path = PathOf("resume.db");
        using (var buffer = Create(path, 1 << 20, out _))
        {
            buffer.Append(Counters(0, 100));
            var read = new List<BufferedSample>();
            buffer.ReadOldest(0, 40, read);
            buffer.Acknowledge(SampleBuffer.DefaultSink, read[^1].Id);
        }

        using var reopened = Create(path, 1 << 20, out var metrics);
        var left = new List<BufferedSample>();
        reopened.ReadOldest(reopened.CursorOf(SampleBuffer.DefaultSink), 1000, left);

        Assert.Equal(Enumerable.Range(40, 60).Select(i => (long)i), left.Select(r => r.Sample.Value.AsInteger));
        Assert.Equal(60, reopened.Count);
        Assert.Equal(60, metrics.BufferSamples);
        // New samples after a restart still come after the old ones.
        reopened.Append(Counters(100, 1));
        left.Clear();
        reopened.ReadOldest(0, 1000, left);
        Assert.Equal(100, left[^1].Sample.Value.AsInteger);
    }

    [Fact]
    public void Append_OverQuota_DropsTheOldest_AndCountsThem()
    {
        // Whole batches are dropped: five batches of 30 samples (values of one varint width: batches of one size), room for three and a bit.
        long batchBytes;
        using (var probe = Create("probe.db", 1 << 20, out _))
        {
            probe.Append(Counters(1000, 30));
            batchBytes = probe.Bytes;
        }

        var maxBytes = (3 * batchBytes) + (batchBytes / 2);
        using var buffer = Create("quota.db", maxBytes, out var metrics);

        long dropped = 0;
        for (var i = 0; i < 5; i++)
        {
            dropped += buffer.Append(Counters(1000 + (i * 30), 30));
        }

        Assert.Equal(60, dropped);
        Assert.Equal(60, metrics.SamplesDropped);
        Assert.True(buffer.Bytes <= maxBytes);
        var left = new List<BufferedSample>();
        buffer.ReadOldest(0, 1000, left);
        Assert.Equal(Enumerable.Range(1060, 90).Select(i => (long)i), left.Select(r => r.Sample.Value.AsInteger));
    }

    [Fact]
    public void Append_CountsTheEncodedSizeAgainstTheQuota_StringsAsTheirUtf8Bytes()
    {
        using var buffer = Create("strings.db", 1 << 20, out var metrics);
        buffer.Append([Sample.Good(_state, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromString("x"))]);
        var small = buffer.Bytes;

        buffer.Append([Sample.Good(_state, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromString(new string('é', 1000)))]);

        // 'é' is two bytes in UTF-8; the length prefix grows from one byte to two.
        Assert.Equal((2 * small) - 1 + 2000 + 1, buffer.Bytes);
        Assert.Equal(buffer.Bytes, metrics.BufferBytes);
    }

    [Fact]
    public void Metrics_ReportTheAgeOfTheOldestSample()
    {
        using var buffer = Create("age.db", 1 << 20, out var metrics);
        buffer.Append(Counters(0, 3));

        _time.Advance(TimeSpan.FromSeconds(42));

        Assert.Equal(TimeSpan.FromSeconds(42), metrics.OldestSampleAge);
    }

    private List<Sample> Counters(int from, int count) =>
        Enumerable.Range(from, count).Select(i => Sample.Good(_counter, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(i))).ToList();

    private SampleBuffer Create(string name, long maxBytes, out GatewayMetrics metrics)
    {
        metrics = new GatewayMetrics(_time);
        return new SampleBuffer(Path.IsPathRooted(name) ? name : PathOf(name), maxBytes, metrics, NullLogger<SampleBuffer>.Instance);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
