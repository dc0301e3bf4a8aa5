using BenchmarkDotNet.Attributes;
using Gateway.Drivers;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Sparkplug.Protobuf;
using Google.Protobuf;

namespace Gateway.Benchmarks.Sparkplug;

/// <summary>
/// Encoding DDATA: <see cref="BatchSamples"/> samples per operation (so every figure is per sample), split into
/// messages of <see cref="MetricsPerMessage"/> metrics. Baseline: Google.Protobuf message objects built per sample and
/// serialised with ToByteArray (what the old SparkplugPublisher did); against it, the hand-written writer into
/// pooled buffers, and the whole SparkplugSession (tag lookup, aliases, seq, per-device DDATA, sample ranges).
/// Values cycle through Double, Float, Integer and Boolean.
/// </summary>
[MemoryDiagnoser]
public class SparkplugEncodingBenchmarks
{
    public const int BatchSamples = 500;

    private readonly Sample[] _samples = new Sample[BatchSamples];
    private readonly SparkplugPayloadWriter _writer = new();
    private readonly List<SparkplugMessage> _messages = [];
    private SparkplugSession _session = null!;
    private long _sequence;

    [Params(1, 10, 100, 500)]
    public int MetricsPerMessage { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var time = new DateTimeOffset(2026, 12, 3, 6, 0, 0, TimeSpan.Zero);
        var tags = Enumerable.Range(0, 100).Select(i => new TagInfo("press", $"register/{i}", "bar")).ToArray();
        for (var i = 0; i < BatchSamples; i++)
        {
            var value = (i % 4) switch
            {
                0 => SampleValue.FromDouble(i * 0.1),
                1 => SampleValue.FromFloat(i * 0.1f),
                2 => SampleValue.FromInteger(i * 1000),
                _ => SampleValue.FromBoolean(i % 8 == 3),
            };
            _samples[i] = Sample.Good(tags[i % tags.Length], time.AddMilliseconds(i), time.AddMilliseconds(i), value);
        }

        // The datatype of a tag never changes within the benchmark: tag i % 100 always gets kind i % 4.
        _session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw", MaxMetricsPerMessage = MetricsPerMessage }, TimeProvider.System);
        _session.Begin(0, long.MaxValue, tags, null, _messages);
        Session(); // the births
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BatchSamples)]
    public long GoogleProtobuf()
    {
        long bytes = 0;
        Payload? payload = null;
        ulong seq = 0;
        for (var i = 0; i < _samples.Length; i++)
        {
            ref readonly var sample = ref _samples[i];
            payload ??= new Payload { Timestamp = 1_764_741_600_000 };
            var metric = new Payload.Types.Metric { Alias = (ulong)(i % 100) + 2, Timestamp = (ulong)sample.SourceTimestamp.ToUnixTimeMilliseconds() };
            switch (sample.Value.Kind)
            {
                case SampleValueKind.Double: metric.DoubleValue = sample.Value.AsDouble; break;
                case SampleValueKind.Float: metric.FloatValue = sample.Value.AsFloat; break;
                case SampleValueKind.Integer: metric.LongValue = unchecked((ulong)sample.Value.AsInteger); break;
                default: metric.BooleanValue = sample.Value.AsBoolean; break;
            }

            payload.Metrics.Add(metric);
            if (payload.Metrics.Count == MetricsPerMessage || i == _samples.Length - 1)
            {
                payload.Seq = ++seq % 256;
                bytes += payload.ToByteArray().Length;
                payload = null;
            }
        }

        return bytes;
    }

    [Benchmark(OperationsPerInvoke = BatchSamples)]
    public long Writer()
    {
        long bytes = 0;
        ulong seq = 0;
        for (var i = 0; i < _samples.Length; i++)
        {
            ref readonly var sample = ref _samples[i];
            if (_writer.MetricCount == 0)
            {
                _writer.Begin(1_764_741_600_000);
            }

            _writer.WriteDataMetric((ulong)(i % 100) + 2, (ulong)sample.SourceTimestamp.ToUnixTimeMilliseconds(), sample.Value, sample.Quality, historical: false);
            if (_writer.MetricCount == MetricsPerMessage || i == _samples.Length - 1)
            {
                using var payload = _writer.Finish(++seq % 256);
                bytes += payload.Length;
            }
        }

        return bytes;
    }

    [Benchmark(OperationsPerInvoke = BatchSamples)]
    public long Session()
    {
        long bytes = 0;
        for (var i = 0; i < _samples.Length; i++)
        {
            _session.Add(_samples[i], ++_sequence, historical: false, _messages);
        }

        _session.Flush(_messages, force: true);
        foreach (var message in _messages)
        {
            bytes += message.Payload.Length;
            message.Dispose();
        }

        _messages.Clear();
        return bytes;
    }
}
