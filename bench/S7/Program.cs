using System.Diagnostics;
using System.Globalization;
using Gateway.Drivers;
using Gateway.Drivers.S7;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

// S7 polling benchmark against snap7's server (tests/peers/s7/server.js, started here on a free loopback port, or
// --target HOST:PORT). 500 word tags across 3 DBs (DB2, DB3, DB4: 167, 167 and 166 consecutive words), read:
//   baseline   one Read Var job per tag (a naive poller), measured in the same run;
//   planned    the driver's planner (S7ReadPlanner) at PDU 240, 480 and 960: ranges packed into as few jobs as fit;
//   driver     the real s7 driver built by its factory, polling every 1 ms, at PDU 480.
// Reports requests per cycle, cycles per second and the ratio to the baseline.
var seconds = 3.0;
string? target = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seconds":
            seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--target":
            target = args[++i];
            break;
        default:
            Console.Error.WriteLine("usage: dotnet run -c Release --project bench/S7 [-- --seconds S] [--target HOST:PORT]");
            return 2;
    }
}

Process? server = null;
string host = "127.0.0.1";
int port;
if (target is null)
{
    port = FreePort();
    server = StartServer(port);
}
else
{
    var colon = target.LastIndexOf(':');
    host = colon > 0 ? target[..colon] : target;
    port = colon > 0 ? int.Parse(target[(colon + 1)..], CultureInfo.InvariantCulture) : 102;
}

try
{
    var ranges = new List<S7Range>();
    foreach (var (db, count) in new[] { (2, 167), (3, 167), (4, 166) })
    {
        for (var k = 0; k < count; k++)
        {
            ranges.Add(new S7Range(S7Area.DataBlock, db, 2 * k, 2));
        }
    }

    Console.WriteLine($"S7 benchmark: {ranges.Count} word tags in 3 DBs, snap7 server at {host}:{port}, {seconds:0.#} s per measurement");
    var timeout = TimeSpan.FromSeconds(2);

    // Baseline: one job per tag.
    await using (var client = NewClient(host, port, 480))
    {
        await client.ConnectAsync(timeout, CancellationToken.None);
        var buffers = ranges.Select(_ => new byte[2]).ToArray();
        var codes = new byte[1];
        var (cycles, requests, elapsed) = await MeasureAsync(client, seconds, async () =>
        {
            for (var i = 0; i < ranges.Count; i++)
            {
                var r = ranges[i];
                await client.ReadAsync([new S7Item(r.Area, r.DbNumber, r.Start, r.Length)], [buffers[i]], codes, timeout, CancellationToken.None);
            }
        });
        Report("baseline (1 job per tag)", cycles, requests, elapsed, null);
        s_baseline = (requests / (double)cycles, cycles / elapsed.TotalSeconds);
    }

    foreach (var pdu in new[] { 240, 480, 960 })
    {
        await using var client = NewClient(host, port, pdu);
        var granted = await client.ConnectAsync(timeout, CancellationToken.None);
        var plan = S7ReadPlanner.Plan(ranges, 16, granted);
        var (cycles, requests, elapsed) = await MeasureAsync(client, seconds, async () =>
        {
            foreach (var job in plan.Requests)
            {
                await client.ReadAsync(job.Items, job.Destinations, job.ReturnCodes, timeout, CancellationToken.None);
            }
        });
        Report($"planned, PDU {granted}", cycles, requests, elapsed, plan.Blocks.Count);
    }

    // The real driver, built by its factory from a configuration, polling as fast as it can.
    {
        var tags = string.Join(",", ranges.Select((r, i) => $"{{\"name\":\"t{i}\",\"address\":\"DB{r.DbNumber}.DBW{r.Start}\"}}"));
        var json = $"{{\"d\":{{\"name\":\"bench\",\"type\":\"s7\",\"host\":\"{host}\",\"port\":{port},\"rack\":0,\"slot\":1,\"intervalMs\":1,\"tags\":[{tags}]}}}}";
        var section = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build().GetSection("d");
        var config = section.Get<DriverConfig>()!;
        var factory = new S7DriverFactory();
        var problems = factory.Validate(config, section, "drivers[0]").ToList();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }

        await using var driver = (S7Driver)factory.Create(config, section, new DriverContext(TimeProvider.System, NullLoggerFactory.Instance));
        var writer = new CountingWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var watch = Stopwatch.StartNew();
        await driver.RunAsync(writer, stop.Token);
        var elapsed = watch.Elapsed;
        var cycles = writer.Samples / ranges.Count;
        Report("driver, PDU 480", cycles, driver.RequestCount, elapsed, null);
    }
}
finally
{
    if (server is { HasExited: false })
    {
        server.Kill(entireProcessTree: true);
        server.WaitForExit();
    }

    server?.Dispose();
}

return 0;

static S7Client NewClient(string host, int port, int pdu) => new(new S7IsoTransport(host, port, S7DriverFactory.DefaultLocalTsap, S7Wire.RemoteTsap(0, 1)), TimeProvider.System, pdu);

static async Task<(long Cycles, long Requests, TimeSpan Elapsed)> MeasureAsync(S7Client client, double seconds, Func<Task> cycle)
{
    await cycle(); // warm-up
    var before = client.RequestCount;
    var cycles = 0L;
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        await cycle();
        cycles++;
    }

    return (cycles, client.RequestCount - before, watch.Elapsed);
}

static void Report(string name, long cycles, long requests, TimeSpan elapsed, int? ranges)
{
    var perCycle = requests / (double)Math.Max(1, cycles);
    var rate = cycles / elapsed.TotalSeconds;
    var ratio = s_baseline is { } b ? $"  requests {b.RequestsPerCycle / perCycle:0.0}x fewer, cycles {rate / b.CyclesPerSecond:0.0}x faster than the baseline" : "";
    Console.WriteLine($"{name,-26} {perCycle,7:0.##} requests/cycle{(ranges is null ? "" : $" ({ranges} ranges)"),-12} {rate,8:0.0} cycles/s {1000 / rate,8:0.00} ms/cycle{ratio}");
}

static int FreePort()
{
    using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
}

static Process StartServer(int port)
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "tests", "peers", "s7", "server.js")))
    {
        directory = directory.Parent;
    }

    var peer = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("tests/peers/s7 not found"), "tests", "peers", "s7");
    if (!Directory.Exists(Path.Combine(peer, "node_modules")))
    {
        throw new InvalidOperationException($"run 'npm ci' in {peer} first (test.sh does)");
    }

    var info = new ProcessStartInfo("node") { WorkingDirectory = peer, RedirectStandardOutput = true };
    info.ArgumentList.Add("server.js");
    info.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
    var process = Process.Start(info)!;
    var line = process.StandardOutput.ReadLine();
    if (line is null || !line.StartsWith("listening", StringComparison.Ordinal))
    {
        throw new InvalidOperationException($"the snap7 server did not start: {line}");
    }

    return process;
}

internal static partial class Program
{
    private static (double RequestsPerCycle, double CyclesPerSecond)? s_baseline;
}

internal sealed class CountingWriter : ISampleWriter
{
    public long Samples;

    public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
    {
        Samples++;
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteBatchAsync(ReadOnlyMemory<Sample> samples, CancellationToken cancellationToken)
    {
        Samples += samples.Length;
        return ValueTask.CompletedTask;
    }
}
