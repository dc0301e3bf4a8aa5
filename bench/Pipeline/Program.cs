using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MQTTnet;
using MQTTnet.Protocol;

// End-to-end throughput of the gateway (simulated driver at full speed → SQLite buffer → mosquitto, QoS 1)
// against a baseline measured in the same run: a bare MQTTnet client publishing the same messages to the
// same broker with the same in-flight window. Then the RSS of the gateway with 1000 tags at 1 Hz.
// Usage: dotnet run -c Release --project bench/Pipeline [-- --seconds 15]
var seconds = args.Length > 1 && args[0] == "--seconds" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
var work = Directory.CreateTempSubdirectory("gw-bench-").FullName;
var brokerPort = FreePort();
File.WriteAllText(Path.Combine(work, "mosquitto.conf"), $"listener {brokerPort} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 0\nuser root\n");
using var broker = Process.Start(new ProcessStartInfo(File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto", ["-c", Path.Combine(work, "mosquitto.conf")]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
await WaitPort(brokerPort);
const int Window = 200;
const string Published = "gateway_samples_published_total{sink=\"mqtt-uns\"}";
try
{
    Console.WriteLine($"mosquitto on 127.0.0.1:{brokerPort}; {Environment.ProcessorCount} cores; measuring {seconds} s each");

    // Baseline: a bare client, same topic shape, same payload shape, QoS 1, same in-flight window.
    var baseline = await BaselineAsync(brokerPort, TimeSpan.FromSeconds(seconds));
    Console.WriteLine($"baseline  bare MQTTnet QoS 1 publish      : {baseline,10:N0} msg/s");

    // The gateway at full speed: 1000 tags sampled every millisecond, back-pressured by the buffer.
    var gateway = await GatewayThroughputAsync(work, brokerPort, TimeSpan.FromSeconds(seconds));
    Console.WriteLine($"gateway   sim → buffer → mosquitto QoS 1  : {gateway.PublishedPerSecond,10:N0} samples/s (buffered {gateway.BufferedPerSecond:N0}/s, backlog at end {gateway.Backlog:N0})");
    Console.WriteLine($"ratio     gateway / baseline              : {gateway.PublishedPerSecond / baseline:P1}");

    var replay = await ReplayAsync(work);
    Console.WriteLine($"replay    backlog of {replay.Samples:N0} drained       : {replay.PerSecond,10:N0} samples/s ({replay.PerSecond / baseline:P1} of baseline)");

    var rss = await SteadyStateRssAsync(work, brokerPort);
    Console.WriteLine($"RSS       1000 tags at 1 Hz, steady state  : {rss.Median / 1024.0:N1} MiB (min {rss.Min / 1024.0:N1}, max {rss.Max / 1024.0:N1}; 10 readings over 20 s after 20 s warm-up)");
}
finally
{
    broker.Kill();
    Directory.Delete(work, true);
}

static async Task<double> BaselineAsync(int port, TimeSpan duration)
{
    using var client = new MqttClientFactory().CreateMqttClient();
    await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("bench-baseline").WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
    // A sliding window of QoS 1 publications, as the gateway keeps: at most Window waiting for their PUBACK.
    var inflight = new Queue<Task<MqttClientPublishResult>>(Window);
    long sent = 0;
    var watch = Stopwatch.StartNew();
    var i = 0;
    while (watch.Elapsed < duration)
    {
        while (inflight.Count < Window)
        {
            var payload = Encoding.UTF8.GetBytes($"{{\"value\":{i % 100000 / 100.0},\"timestamp\":\"2026-11-26T10:00:00.123Z\",\"quality\":\"Good\",\"unit\":\"1\"}}");
            inflight.Enqueue(client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"acme/lyon/assembly/line-1/load/tag-{i % 1000:D5}").WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build()));
            i++;
        }

        await inflight.Dequeue();
        sent++;
    }

    return sent / watch.Elapsed.TotalSeconds;
}

static async Task<(double PublishedPerSecond, double BufferedPerSecond, double Backlog)> GatewayThroughputAsync(string work, int brokerPort, TimeSpan duration)
{
    await using var gateway = await StartGatewayAsync(work, "throughput", brokerPort, intervalMs: 1, extraTags: 1000);
    await Task.Delay(TimeSpan.FromSeconds(3));
    var published0 = await gateway.MetricAsync(Published);
    var buffered0 = await gateway.MetricAsync("gateway_samples_buffered_total");
    var watch = Stopwatch.StartNew();
    await Task.Delay(duration);
    var published1 = await gateway.MetricAsync(Published);
    var buffered1 = await gateway.MetricAsync("gateway_samples_buffered_total");
    var elapsed = watch.Elapsed.TotalSeconds;
    var backlog = await gateway.MetricAsync("gateway_buffer_samples");
    return ((published1 - published0) / elapsed, (buffered1 - buffered0) / elapsed, backlog);
}

// A backlog built while the broker was down (the line producing at full speed for 5 s), then drained
// with nothing else running: the replay rate after an outage.
static async Task<(double Samples, double PerSecond)> ReplayAsync(string work)
{
    var port = FreePort();
    await using var gateway = await StartGatewayAsync(work, "replay", port, intervalMs: 1, extraTags: 1000, stopAfterSeconds: 5);
    await Task.Delay(TimeSpan.FromSeconds(8));
    var backlog = await gateway.MetricAsync("gateway_buffer_samples");
    File.WriteAllText(Path.Combine(work, "replay.conf"), $"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nuser root\n");
    using var broker = Process.Start(new ProcessStartInfo(File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto", ["-c", Path.Combine(work, "replay.conf")]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
    try
    {
        var watch = Stopwatch.StartNew();
        while (await gateway.MetricAsync("gateway_buffer_samples") > 0 && watch.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(100);
        }

        return (backlog, await gateway.MetricAsync(Published) / watch.Elapsed.TotalSeconds);
    }
    finally
    {
        broker.Kill();
    }
}

static async Task<(long Median, long Min, long Max)> SteadyStateRssAsync(string work, int brokerPort)
{
    await using var gateway = await StartGatewayAsync(work, "rss", brokerPort, intervalMs: 1000, extraTags: 1000);
    await Task.Delay(TimeSpan.FromSeconds(20));
    var readings = new List<long>();
    for (var i = 0; i < 10; i++)
    {
        readings.Add(gateway.RssKilobytes());
        await Task.Delay(TimeSpan.FromSeconds(2));
    }

    readings.Sort();
    return (readings[readings.Count / 2], readings[0], readings[^1]);
}

static async Task<GatewayUnderTest> StartGatewayAsync(string work, string name, int brokerPort, int intervalMs, int extraTags, double? stopAfterSeconds = null)
{
    var directory = Path.Combine(work, name);
    Directory.CreateDirectory(directory);
    var httpPort = FreePort();
    var config = new JsonObject
    {
        ["gateway"] = new JsonObject { ["id"] = "bench", ["enterprise"] = "acme", ["site"] = "lyon", ["area"] = "assembly", ["line"] = "line-1" },
        ["drivers"] = new JsonArray(new JsonObject { ["name"] = "load", ["type"] = "simulated", ["intervalMs"] = intervalMs, ["extraTags"] = extraTags, ["stopAfterSeconds"] = stopAfterSeconds }),
        ["buffer"] = new JsonObject { ["path"] = Path.Combine(directory, "buffer.db") },
        ["mqtt"] = new JsonObject { ["host"] = "127.0.0.1", ["port"] = brokerPort, ["clientId"] = "bench-" + name, ["maxInflight"] = Window },
        ["http"] = new JsonObject { ["urls"] = $"http://127.0.0.1:{httpPort}" },
    };
    var file = Path.Combine(directory, "gateway.json");
    File.WriteAllText(file, config.ToJsonString());
    var process = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "gateway.dll"), "run", "--config", file])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        WorkingDirectory = directory,
        Environment = { ["Logging__LogLevel__Default"] = "Warning" },
    })!;
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    var gateway = new GatewayUnderTest(process, httpPort);
    await WaitPort(httpPort);
    return gateway;
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static async Task WaitPort(int port)
{
    for (var i = 0; i < 300; i++)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return;
        }
        catch (SocketException)
        {
            await Task.Delay(100);
        }
    }

    throw new TimeoutException($"port {port} never opened");
}

internal sealed partial class GatewayUnderTest(Process process, int httpPort) : IAsyncDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };

    public async Task<double> MetricAsync(string name)
    {
        var text = await _http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var match = Regex.Match(text, "^" + Regex.Escape(name) + " (\\S+)$", RegexOptions.Multiline);
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public long RssKilobytes()
    {
        var line = File.ReadAllLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        _http.Dispose();
    }
}
