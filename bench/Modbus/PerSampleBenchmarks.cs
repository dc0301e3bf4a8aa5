using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks.Modbus;

/// <summary>
/// CPU and allocated bytes per sample on the Modbus hot path: one FC3 read of 100 holding registers (100 UInt16 tags,
/// every value changed since the last poll so that nothing is filtered), decoded, through the driver writer (change
/// filter, counters, the live-tag observer) into the pipeline's bounded channel, drained after each poll. The peer is
/// an in-memory Modbus TCP server behind the real <see cref="ModbusTcpTransport"/>, so no socket time is measured.
/// Baseline (same run): the path as it was before the rebuild (an array per read, one writer call per sample under
/// a lock with an Interlocked counter, a ConcurrentDictionary write per sample in the live-tag table), kept here as
/// <see cref="LegacyPath"/>.
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Disposed in GlobalCleanup, as BenchmarkDotNet calls it.")]
public class PerSampleBenchmarks
{
    public const int Registers = 100;

    private LegacyPath _legacy = null!;
    private ModbusDriver _driver = null!;
    private ModbusDriver _bareDriver = null!;
    private ISampleWriter _writer = null!;
    private ISampleWriter _writerWithoutObservers = null!;
    private ChannelReader<Sample> _readerWithoutObservers = null!;
    private ChannelReader<Sample> _reader = null!;
    private GatewayMetrics _metrics = null!;

    [GlobalSetup]
    public void Setup()
    {
        _legacy = new LegacyPath(new ModbusClient(InMemoryPeer.Transport()), Tags());
        _metrics = new GatewayMetrics(TimeProvider.System);
        var pipeline = new SamplePipeline(_metrics);
        pipeline.Observe(new LiveTags().Update);
        _writer = pipeline.CreateWriter("bench");
        _reader = pipeline.Reader;
        _driver = BuildDriver(new ModbusClient(InMemoryPeer.Transport()));
        _bareDriver = BuildDriver(new ModbusClient(InMemoryPeer.Transport()));
        var bare = new SamplePipeline(_metrics);
        _writerWithoutObservers = bare.CreateWriter("bench-bare");
        _readerWithoutObservers = bare.Reader;
    }

    [GlobalCleanup]
    public void Cleanup() => _metrics.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Registers, Description = "before: array per read, writer call per sample, ConcurrentDictionary live tags")]
    public async Task Legacy() => await _legacy.PollAsync();

    [Benchmark(OperationsPerInvoke = Registers, Description = "now: ModbusDriver poll, reused buffers, one batch per read")]
    public async Task Current()
    {
        await _driver.PollAllOnceAsync(_writer, CancellationToken.None);
        while (_reader.TryRead(out _))
        {
        }
    }

    [Benchmark(OperationsPerInvoke = Registers, Description = "now, part: read and decode only (a writer that drops)")]
    public async Task DecodeOnly() => await _bareDriver.PollAllOnceAsync(NullWriter.Instance, CancellationToken.None);

    [Benchmark(OperationsPerInvoke = Registers, Description = "now, part: read, decode, filter and channel (no observer)")]
    public async Task WithoutObservers()
    {
        await _bareDriver.PollAllOnceAsync(_writerWithoutObservers, CancellationToken.None);
        while (_readerWithoutObservers.TryRead(out _))
        {
        }
    }

    private sealed class NullWriter : ISampleWriter
    {
        public static readonly NullWriter Instance = new();

        public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteBatchAsync(ReadOnlyMemory<Sample> samples, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    private static TagInfo[] Tags() => [.. Enumerable.Range(0, Registers).Select(i => new TagInfo("m", $"r{i}"))];

    internal static ModbusDriver BuildDriver(ModbusClient client)
    {
        var json = new StringBuilder("""{ "d": { "name": "bench", "type": "modbus-tcp", "host": "plc", "machine": "m", "tags": [""");
        for (var i = 0; i < Registers; i++)
        {
            json.Append(i == 0 ? "" : ",").Append($$"""{ "name": "r{{i}}", "address": "holding:{{i}}" }""");
        }

        json.Append("] } }");
        var section = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json.ToString()))).Build().GetSection("d");
        var config = section.Get<DriverConfig>()!;
        var problems = new List<ConfigProblem>();
        var plan = ModbusDriverFactory.Resolve(config, section, "d", problems);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }

        return new ModbusDriver(config.Name, plan, client, new DriverContext(TimeProvider.System, NullLoggerFactory.Instance));
    }
}

/// <summary>The per-sample path as it was at da6db5c, reproduced for the baseline.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Lives as long as the benchmark process.")]
internal sealed class LegacyPath(ModbusClient client, TagInfo[] tags)
{
    private readonly Channel<Sample> _channel = Channel.CreateBounded<Sample>(new BoundedChannelOptions(65_536) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly ChangeFilter _filter = new();
    private readonly Lock _lock = new();
    private readonly List<Action<Sample>> _observers = [];
    private readonly ConcurrentDictionary<TagInfo, Sample> _live = new();
    private readonly SemaphoreSlim _writerGate = new(1, 1);
    private readonly IReadOnlyList<int> _items = [.. Enumerable.Range(0, tags.Length)];
    private readonly ModbusValueFormat _format = new(ModbusDataType.UInt16);
    private long _read;

    public async Task PollAsync()
    {
        if (_observers.Count == 0)
        {
            _observers.Add(s => _live[s.Tag] = s);
        }

        var registers = await client.ReadRegistersAsync(1, ModbusTable.HoldingRegister, 0, (ushort)tags.Length, TimeSpan.FromSeconds(1), CancellationToken.None);
        var now = TimeProvider.System.GetUtcNow();
        await _writerGate.WaitAsync();
        try
        {
            foreach (var index in _items)
            {
                var raw = ModbusValueCodec.Decode(registers.AsSpan(index, 1), _format);
                await WriteAsync(Sample.Good(tags[index], now, now, ModbusValueCodec.Scale(raw, 1, 0)));
            }
        }
        finally
        {
            _writerGate.Release();
        }

        while (_channel.Reader.TryRead(out _))
        {
        }
    }

    private ValueTask WriteAsync(Sample sample)
    {
        Interlocked.Increment(ref _read);
        bool pass;
        lock (_lock)
        {
            pass = _filter.ShouldPass(sample);
        }

        if (!pass)
        {
            return ValueTask.CompletedTask;
        }

        foreach (var observer in _observers)
        {
            observer(sample);
        }

        return _channel.Writer.TryWrite(sample) ? ValueTask.CompletedTask : _channel.Writer.WriteAsync(sample);
    }
}

/// <summary>
/// An in-memory Modbus TCP server for FC3: every request is answered at once (synchronously) with registers whose
/// values all change from one request to the next.
/// </summary>
internal sealed class InMemoryPeer : Stream
{
    private readonly byte[] _response = new byte[7 + 2 + 250];
    private int _length;
    private int _position;
    private ushort _round;

    public static ModbusTcpTransport Transport() =>
        new(_ => ValueTask.FromResult<Stream>(new InMemoryPeer()), "in-memory", TimeProvider.System);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Answer(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Write(byte[] buffer, int offset, int count) => Answer(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _length - _position);
        _response.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    private void Answer(ReadOnlySpan<byte> request)
    {
        // MBAP (transaction, protocol, length, unit), then FC3, start, count.
        var count = BinaryPrimitives.ReadUInt16BigEndian(request[10..]);
        request[..4].CopyTo(_response);
        BinaryPrimitives.WriteUInt16BigEndian(_response.AsSpan(4), (ushort)(3 + (2 * count)));
        _response[6] = request[6];
        _response[7] = 3;
        _response[8] = (byte)(2 * count);
        _round++;
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_response.AsSpan(9 + (2 * i)), (ushort)(_round + i));
        }

        _length = 9 + (2 * count);
        _position = 0;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
