using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound.Mqtt;
using Gateway.Northbound.Uns;
using Gateway.Observability;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;

// CPU per sample of the MQTT output (UNS format, publish window, drainer) against a local mosquitto, and a baseline
// measured in the same run: a bare MQTTnet client publishing the same messages with the same window, QoS 1.
// "output live, coalescing channel" is the gateway's own path (PUBLISH encoded into the channel, PUBACKs taken out of
// the read stream: CoalescingChannel.TryPublish); "MQTTnet's own channel" goes through MQTTnet's PublishAsync.
// The buffer is an in-memory ISampleLog, so SQLite is not in these figures (bench/Buffer measures it).
// CPU is this process's (user + system) from the runtime, plus mosquitto's from /proc.
// Usage: dotnet run -c Release --project bench/Northbound [-- --samples 1000000]
var samples = args.Length > 1 && args[0] == "--samples" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
var work = Directory.CreateTempSubdirectory("gw-bench-north-").FullName;
var port = FreePort();
File.WriteAllText(Path.Combine(work, "mosquitto.conf"), $"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 0\nuser root\n");
using var broker = Process.Start(new ProcessStartInfo(File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto", ["-c", Path.Combine(work, "mosquitto.conf")]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
await WaitPort(port);
try
{
    var tags = Enumerable.Range(0, 1000).Select(i => new TagInfo("load", $"tag-{i:D5}", "1")).ToArray();
    Console.WriteLine($"mosquitto on 127.0.0.1:{port}; {Environment.ProcessorCount} cores; {samples:N0} samples per case, 1000 tags, QoS 1, window 200");

    await BareAsync(port, tags, samples / 10, broker.Id, null); // warm-up
    var bare = await BareAsync(port, tags, samples, broker.Id, null);
    Report("baseline  bare MQTTnet publish, prebuilt   ", bare, bare);
    var bareCoalesced = await BareAsync(port, tags, samples, broker.Id, new CoalescingAdapterFactory());
    Report("          same, coalescing channel         ", bareCoalesced, bare);

    var livePlain = await OutputAsync(port, tags, samples, broker.Id, backlog: false, new MQTTnet.Implementations.MqttClientAdapterFactory());
    Report("output    live, MQTTnet's own channel      ", livePlain, bare);
    var live = await OutputAsync(port, tags, samples, broker.Id, backlog: false, null);
    Report("output    live, coalescing channel         ", live, bare);

    var history = await OutputAsync(port, tags, samples, broker.Id, backlog: true, null);
    Report("output    history lane (JSON arrays)       ", history, bare);
}
finally
{
    broker.Kill();
    Directory.Delete(work, true);
}

static void Report(string name, Result result, Result baseline) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}: {result.PerSecond,9:N0} samples/s, {result.CpuPerMillion,5:F1} CPU-s/1M here + {result.BrokerCpuPerMillion,4:F1} in mosquitto, {result.AllocatedPerSample,5:F0} B allocated/sample; ratio to baseline: speed {result.PerSecond / baseline.PerSecond:P0}, CPU {result.CpuPerMillion / baseline.CpuPerMillion:P0}"));

static async Task<Result> BareAsync(int port, TagInfo[] tags, int count, int brokerPid, MQTTnet.Adapter.IMqttClientAdapterFactory? adapters)
{
    using var client = adapters is null ? new MqttClientFactory().CreateMqttClient() : new MqttClientFactory().CreateMqttClient(adapters);
    await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("bench-bare").WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
    var messages = Enumerable.Range(0, Math.Min(count, 10_000)).Select(i => new MqttApplicationMessageBuilder()
        .WithTopic($"acme/lyon/assembly/line-1/load/{tags[i % tags.Length].Path}")
        .WithPayload(Encoding.UTF8.GetBytes($"{{\"value\":{i % 100000 / 100.0},\"timestamp\":\"2026-11-26T10:00:00.123Z\",\"quality\":\"Good\",\"unit\":\"1\"}}"))
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build()).ToArray();
    var inflight = new Queue<Task<MqttClientPublishResult>>(200);
    var measure = Measure.Start(brokerPid);
    for (var i = 0; i < count; i++)
    {
        if (inflight.Count == 200)
        {
            await inflight.Dequeue();
        }

        inflight.Enqueue(client.PublishAsync(messages[i % messages.Length]));
    }

    while (inflight.Count > 0)
    {
        await inflight.Dequeue();
    }

    var result = measure.Stop(count);
    await client.DisconnectAsync();
    return result;
}

static async Task<Result> OutputAsync(int port, TagInfo[] tags, int count, int brokerPid, bool backlog, MQTTnet.Adapter.IMqttClientAdapterFactory? adapters)
{
    var config = new GatewayConfig
    {
        Gateway = new GatewayIdentity { Id = "bench", Enterprise = "acme", Site = "lyon", Area = "assembly", Line = "line-1" },
        Mqtt = new MqttOptions { Host = "127.0.0.1", Port = port, MaxInflight = 200, ClientId = "bench-output-" + Guid.NewGuid().ToString("N")[..6] },
    };
    var log = new BenchLog(count, tags);
    if (backlog)
    {
        log.AppendUpTo(count);
    }

    var signal = new BufferSignal();
    using var metrics = new GatewayMetrics(TimeProvider.System);
    using var format = new UnsFormat(config);
    using var output = new MqttOutput(format, config, log, signal, metrics, TimeProvider.System, NullLogger.Instance, adapters);
    var measure = Measure.Start(brokerPid);
    await output.StartAsync(CancellationToken.None);
    var appended = backlog ? count : 0;
    while (log.AcknowledgedCount < count)
    {
        if (appended < count)
        {
            // The buffer writer hands over what the drivers read every flush; here as fast as the output takes it.
            appended = Math.Min(count, appended + 2000);
            log.AppendUpTo(appended);
            signal.Notify();
            await Task.Yield();
            while (appended - log.AcknowledgedCount > 20_000)
            {
                await Task.Delay(1);
            }
        }
        else
        {
            await Task.Delay(1);
        }
    }

    var result = measure.Stop(count);
    await output.StopAsync(CancellationToken.None);
    return result;
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static async Task WaitPort(int port)
{
    for (var i = 0; i < 100; i++)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return;
        }
        catch (SocketException)
        {
            await Task.Delay(50);
        }
    }

    throw new InvalidOperationException("mosquitto did not start");
}

internal readonly record struct Result(double PerSecond, double CpuPerMillion, double BrokerCpuPerMillion, double AllocatedPerSample);

internal sealed class Measure
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly double _brokerCpu;
    private readonly long _allocated = GC.GetTotalAllocatedBytes(precise: false);
    private readonly int _brokerPid;

    private Measure(int brokerPid)
    {
        _brokerPid = brokerPid;
        _brokerCpu = BrokerCpuSeconds(brokerPid);
    }

    public static Measure Start(int brokerPid) => new(brokerPid);

    public Result Stop(int count)
    {
        var elapsed = _watch.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - _cpu).TotalSeconds;
        var broker = BrokerCpuSeconds(_brokerPid) - _brokerCpu;
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - _allocated;
        return new Result(count / elapsed, cpu * 1e6 / count, broker * 1e6 / count, (double)allocated / count);
    }

    private static double BrokerCpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}

/// <summary>An in-memory ISampleLog: samples 1..n of 1000 tags, acknowledged in ranges.</summary>
internal sealed class BenchLog(int capacity, TagInfo[] tags) : ISampleLog
{
    private readonly Lock _lock = new();
    private readonly Sample[] _samples = new Sample[capacity + 1];
    private readonly SortedDictionary<long, long> _acked = [];
    private long _last;
    private long _floor;
    private long _acknowledged;

    public long AcknowledgedCount => Volatile.Read(ref _acknowledged);

    public void AppendUpTo(long last)
    {
        lock (_lock)
        {
            var now = DateTimeOffset.UnixEpoch.AddYears(56);
            for (var i = _last + 1; i <= last; i++)
            {
                _samples[i] = Sample.Good(tags[i % tags.Length], now, now, SampleValue.FromDouble(i % 100000 / 100.0));
            }

            _last = last;
        }
    }

    public long LastSequence
    {
        get
        {
            lock (_lock)
            {
                return _last;
            }
        }
    }

    public long Count => _last - AcknowledgedCount;

    public int Read(string sink, long afterSequence, long throughSequence, int max, List<BufferedSample> into)
    {
        lock (_lock)
        {
            var read = 0;
            for (var i = Math.Max(afterSequence, _floor) + 1; i <= Math.Min(throughSequence, _last) && read < max; i++)
            {
                into.Add(new BufferedSample(i, _samples[i]));
                read++;
            }

            return read;
        }
    }

    public void Acknowledge(string sink, SequenceRange range)
    {
        lock (_lock)
        {
            _acked[range.First] = range.Last;
            Interlocked.Add(ref _acknowledged, range.Count);
            while (_acked.Count > 0 && _acked.First() is var first && first.Key <= _floor + 1)
            {
                _floor = Math.Max(_floor, first.Value);
                _acked.Remove(first.Key);
            }
        }
    }

    public IReadOnlyList<SequenceRange> Acknowledged(string sink) => [];

    public long CursorOf(string sink)
    {
        lock (_lock)
        {
            return _floor;
        }
    }

    public void ReleaseLeases(string sink)
    {
    }

    public DateTimeOffset? OldestUnacknowledged(string sink) => null;
}
