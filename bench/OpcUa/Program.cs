using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;

// OPC UA benchmark: the gateway's client against node-opcua 2.186.4, with node-opcua's own client as the baseline
// measured in the same run on the same server.
// usage: dotnet run -c Release --project bench/OpcUa -- [ITEMS] [SECONDS]
var items = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
var peer = FindPeerDirectory();
var port = FreePort();
using var server = StartNode(peer, "server.mjs", port.ToString(CultureInfo.InvariantCulture), "--load", items.ToString(CultureInfo.InvariantCulture), "--big", "0");
AppDomain.CurrentDomain.ProcessExit += (_, _) => StopServer(server);
AppDomain.CurrentDomain.UnhandledException += (_, _) => StopServer(server);
await WaitForPortAsync(port);
var url = $"opc.tcp://127.0.0.1:{port}";
Console.WriteLine($"node-opcua server pid {server.Id} on {url}, {items} items changing at 1 Hz, {seconds} s per measurement, {Environment.ProcessorCount} CPUs");

// The gateway's client.
var notifications = 0L;
await using (var client = new UaClient(new UaClientOptions { EndpointUrl = url, RequestTimeout = TimeSpan.FromSeconds(120) }))
{
    await client.ConnectAsync(CancellationToken.None);
    var create = Stopwatch.StartNew();
    var subscription = await client.CreateSubscriptionAsync(1000, (_, _) => Interlocked.Increment(ref notifications), CancellationToken.None, keepAliveCount: 10, lifetimeCount: 100);
    var monitored = Enumerable.Range(0, items).Select(i => new MonitoredItem(new NodeId(1, $"Load.Item{i:D5}"), 1000, 1)).ToArray();
    await client.AddMonitoredItemsAsync(subscription, monitored, CancellationToken.None);
    create.Stop();
    var bad = monitored.Count(m => m.Status.IsBad);
    await Task.Delay(3000); // initial values
    var (ours, theirs, n, elapsed) = await MeasureAsync(server, seconds, () => Interlocked.Read(ref notifications));
    Console.WriteLine($"gateway client   : create {items} monitored items {create.Elapsed.TotalMilliseconds,8:F0} ms ({bad} refused); {n / elapsed,8:F0} notifications/s; CPU client {ours / elapsed / 10,5:F1} %, server {theirs / elapsed / 10,5:F1} %");
    await client.CloseAsync(CancellationToken.None);
}

// Baseline: node-opcua's client on the same server.
var serverCpu0 = ProcessCpuMs(server);
var watch = Stopwatch.StartNew();
using (var baseline = StartNode(peer, "bench-client.mjs", url, items.ToString(CultureInfo.InvariantCulture), seconds.ToString(CultureInfo.InvariantCulture)))
{
    string? line;
    do
    {
        line = await baseline.StandardOutput.ReadLineAsync(); // node-opcua prints warnings before the JSON line
    }
    while (line is not null && !line.StartsWith('{'));
    await baseline.WaitForExitAsync();
    var serverCpu = ProcessCpuMs(server) - serverCpu0;
    using var json = JsonDocument.Parse(line ?? "{}");
    var root = json.RootElement;
    var elapsed = root.GetProperty("seconds").GetDouble();
    Console.WriteLine($"node-opcua client: create {items} monitored items {root.GetProperty("createMs").GetDouble(),8:F0} ms; {root.GetProperty("notifications").GetDouble() / elapsed,8:F0} notifications/s; CPU client {root.GetProperty("cpuMs").GetDouble() / elapsed / 10,5:F1} %, server {serverCpu / watch.Elapsed.TotalSeconds / 10,5:F1} % (server share over the whole baseline run)");
}

StopServer(server);
return 0;

static void StopServer(Process server)
{
    try
    {
        server.Kill(entireProcessTree: true);
    }
    catch (InvalidOperationException)
    {
        // already stopped
    }
}

static async Task<(double OursMs, double TheirsMs, long Notifications, double Seconds)> MeasureAsync(Process server, int seconds, Func<long> count)
{
    var me = Process.GetCurrentProcess();
    var cpu0 = me.TotalProcessorTime;
    var server0 = ProcessCpuMs(server);
    var n0 = count();
    var watch = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(seconds));
    var elapsed = watch.Elapsed.TotalSeconds;
    me.Refresh();
    return ((me.TotalProcessorTime - cpu0).TotalMilliseconds, ProcessCpuMs(server) - server0, count() - n0, elapsed);
}

// utime + stime of a process from /proc (clock ticks of 10 ms).
static double ProcessCpuMs(Process process)
{
    var stat = File.ReadAllText($"/proc/{process.Id}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
}

static Process StartNode(string directory, params string[] arguments)
{
    var info = new ProcessStartInfo("node") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in arguments)
    {
        info.ArgumentList.Add(argument);
    }

    var process = Process.Start(info)!;
    process.ErrorDataReceived += (_, _) => { };
    process.BeginErrorReadLine();
    return process;
}

static async Task WaitForPortAsync(int port)
{
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed < TimeSpan.FromSeconds(120))
    {
        try
        {
            using var probe = new TcpClient();
            await probe.ConnectAsync(IPAddress.Loopback, port);
            return;
        }
        catch (SocketException)
        {
            await Task.Delay(200);
        }
    }

    throw new TimeoutException("node-opcua did not start");
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static string FindPeerDirectory()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "tests", "peers", "opcua", "server.mjs")))
    {
        directory = directory.Parent;
    }

    return directory is null ? throw new InvalidOperationException("tests/peers/opcua not found") : Path.Combine(directory.FullName, "tests", "peers", "opcua");
}
