using System.Diagnostics;
using System.Globalization;
using System.Net;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Gateway.Drivers.Simulation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

// Modbus polling benchmark against the simulate server (in-process on a free loopback port, or --target HOST:PORT).
// 1000 holding registers spread over 10 devices (unit ids 1-10, 100 registers each in the load area), polled:
//   baseline   one request per register (a naive poller), measured in the same run;
//   coalesced  the driver's block planner (max 125 registers per request);
//   driver     the real modbus-tcp driver built by its factory, 10 devices, 10 ms poll interval.
// Plus the request count for 1000 contiguous registers on one unit (must be at most 8).
// `-- bdn [BenchmarkDotNet arguments]` runs the per-sample micro-benchmarks instead (PerSampleBenchmarks.cs).
if (args.Length > 0 && args[0] == "bdn")
{
    BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Gateway.Benchmarks.Modbus.PerSampleBenchmarks).Assembly).Run(args[1..]);
    return 0;
}

// `-- quick` runs the same two paths in a plain loop (alternating rounds): a sanity check of the BenchmarkDotNet figures.
if (args.Length > 0 && args[0] == "quick")
{
    var bench = new Gateway.Benchmarks.Modbus.PerSampleBenchmarks();
    bench.Setup();
    for (var round = 0; round < 3; round++)
    {
        foreach (var (name, run) in new (string, Func<Task>)[] { ("legacy", bench.Legacy), ("current", bench.Current), ("decode", bench.DecodeOnly), ("no-obs", bench.WithoutObservers) })
        {
            const int Polls = 20_000;
            var allocated = GC.GetTotalAllocatedBytes(true);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < Polls; i++)
            {
                await run();
            }

            var samples = Polls * (double)Gateway.Benchmarks.Modbus.PerSampleBenchmarks.Registers;
            Console.WriteLine($"{name,-8} {watch.Elapsed.TotalMilliseconds * 1e6 / samples,8:0.0} ns/sample wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1e6 / samples,8:0.0} ns/sample CPU, {(GC.GetTotalAllocatedBytes(true) - allocated) / samples,6:0.0} B/sample");
        }
    }

    bench.Cleanup();
    return 0;
}

var seconds = 5.0;
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
            Console.Error.WriteLine("usage: Gateway.Benchmarks.Modbus [--seconds S] [--target HOST:PORT]");
            return 2;
    }
}

const int Devices = 10;
const int RegistersPerDevice = 100;
var timeout = TimeSpan.FromSeconds(2);

SimulatedModbusServer? server = null;
string host;
int port;
if (target is null)
{
    server = new SimulatedModbusServer(new IPEndPoint(IPAddress.Loopback, 0), SimulatedModbusServer.DefaultLine(42, 100, 1), TimeProvider.System);
    await server.StartAsync(CancellationToken.None);
    host = "127.0.0.1";
    port = server.LocalEndPoint.Port;
}
else
{
    var colon = target.LastIndexOf(':');
    host = target[..colon];
    port = int.Parse(target[(colon + 1)..], CultureInfo.InvariantCulture);
}

Console.WriteLine($"Modbus benchmark against the simulate server at {host}:{port}; {Devices} devices x {RegistersPerDevice} holding registers; {seconds:0.#} s per run; {Environment.ProcessorCount} CPU(s)");

// Contiguous block plan.
var contiguous = ModbusBlockPlanner.Plan([.. Enumerable.Range(0, 1000).Select(i => new ModbusRange(ModbusTable.HoldingRegister, SimulatedModbusServer.LoadBase + i, 1))], maxGap: 10);
Console.WriteLine($"1000 contiguous holding registers: {contiguous.Count} requests per poll (limit 8)");

var ranges = Enumerable.Range(0, RegistersPerDevice).Select(i => new ModbusRange(ModbusTable.HoldingRegister, SimulatedModbusServer.LoadBase + i, 1)).ToList();
var plan = ModbusBlockPlanner.Plan(ranges, maxGap: 10);
var naive = ranges.Select((r, i) => new ModbusReadBlock(r.Table, r.Start, r.Count, [i])).ToList();

var baseline = await MeasureAsync("baseline (one request per register)", naive);
var coalesced = await MeasureAsync("coalesced (block planner)", plan);
var contiguousRun = await MeasureContiguousAsync();
var driver = await MeasureDriverAsync();

Console.WriteLine();
Console.WriteLine($"| run | requests/cycle | polls/s (cycles of 1000 registers) | samples/s | vs baseline |");
Console.WriteLine($"| --- | ---: | ---: | ---: | ---: |");
Row(baseline);
Row(coalesced);
Row(contiguousRun);
Row(driver);
if (server is not null)
{
    await server.DisposeAsync();
}

return contiguous.Count <= 8 ? 0 : 1;

void Row(Result r) => Console.WriteLine($"| {r.Name} | {r.RequestsPerCycle:0.#} | {r.CyclesPerSecond:0.0} | {r.SamplesPerSecond:0} | x{r.SamplesPerSecond / baseline.SamplesPerSecond:0.0} |");

async Task<Result> MeasureAsync(string name, List<ModbusReadBlock> blocks)
{
    await using var client = new ModbusClient(new ModbusTcpTransport(host, port, TimeProvider.System));
    var format = new ModbusValueFormat(ModbusDataType.UInt16);
    long samples = 0, cycles = 0;
    double checksum = 0;
    var stopwatch = Stopwatch.StartNew();
    while (stopwatch.Elapsed.TotalSeconds < seconds)
    {
        for (byte unit = 1; unit <= Devices; unit++)
        {
            foreach (var block in blocks)
            {
                var registers = await client.ReadHoldingRegistersAsync(unit, (ushort)block.Start, (ushort)block.Count, timeout, CancellationToken.None);
                foreach (var item in block.Items)
                {
                    checksum += ModbusValueCodec.Decode(registers.AsSpan(ranges[item].Start - block.Start, 1), format).AsDouble;
                    samples++;
                }
            }
        }

        cycles++;
    }

    var elapsed = stopwatch.Elapsed.TotalSeconds;
    GC.KeepAlive(checksum);
    var result = new Result(name, blocks.Count * Devices, cycles / elapsed, samples / elapsed);
    Console.WriteLine($"{name}: {cycles} cycles, {client.RequestCount} requests in {elapsed:0.00} s");
    return result;
}

async Task<Result> MeasureContiguousAsync()
{
    await using var client = new ModbusClient(new ModbusTcpTransport(host, port, TimeProvider.System));
    var all = Enumerable.Range(0, 1000).Select(i => new ModbusRange(ModbusTable.HoldingRegister, SimulatedModbusServer.LoadBase + i, 1)).ToList();
    long cycles = 0;
    var stopwatch = Stopwatch.StartNew();
    while (stopwatch.Elapsed.TotalSeconds < seconds)
    {
        foreach (var block in contiguous)
        {
            await client.ReadHoldingRegistersAsync(1, (ushort)block.Start, (ushort)block.Count, timeout, CancellationToken.None);
        }

        cycles++;
    }

    var elapsed = stopwatch.Elapsed.TotalSeconds;
    return new Result("contiguous 1000 on one unit", contiguous.Count, cycles / elapsed, cycles * all.Count / elapsed);
}

async Task<Result> MeasureDriverAsync()
{
    // Flattened configuration keys, as the JSON file would give them.
    var keys = new Dictionary<string, string?>
    {
        ["d:name"] = "bench",
        ["d:type"] = "modbus-tcp",
        ["d:host"] = host,
        ["d:port"] = port.ToString(CultureInfo.InvariantCulture),
        ["d:intervalMs"] = "10",
    };
    var t = 0;
    for (var u = 1; u <= Devices; u++)
    {
        keys[$"d:devices:{u - 1}:name"] = $"u{u}";
        keys[$"d:devices:{u - 1}:unitId"] = u.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < RegistersPerDevice; i++, t++)
        {
            keys[$"d:tags:{t}:name"] = $"u{u}-r{i}";
            keys[$"d:tags:{t}:machine"] = $"u{u}";
            keys[$"d:tags:{t}:path"] = $"r{i}";
            keys[$"d:tags:{t}:address"] = $"holding:{SimulatedModbusServer.LoadBase + i}";
            keys[$"d:tags:{t}:device"] = $"u{u}";
        }
    }

    var section = new ConfigurationBuilder().AddInMemoryCollection(keys).Build().GetSection("d");
    var config = section.Get<DriverConfig>()!;
    var factory = new ModbusDriverFactory();
    var problems = factory.Validate(config, section, "d").ToList();
    if (problems.Count > 0)
    {
        throw new InvalidOperationException(string.Join("; ", problems));
    }

    await using var driver = (ModbusDriver)factory.Create(config, section, new DriverContext(TimeProvider.System, NullLoggerFactory.Instance));
    var writer = new CountingWriter();
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    var stopwatch = Stopwatch.StartNew();
    await driver.RunAsync(writer, stop.Token);
    var elapsed = stopwatch.Elapsed.TotalSeconds;
    var samples = writer.Count;
    Console.WriteLine($"driver (10 ms interval): {samples} samples, {driver.RequestCount} requests, {writer.Bad} bad in {elapsed:0.00} s");
    return new Result("driver, 10 devices, 10 ms interval", driver.RequestCount / (samples / 1000.0), samples / 1000.0 / elapsed, samples / elapsed);
}

internal sealed record Result(string Name, double RequestsPerCycle, double CyclesPerSecond, double SamplesPerSecond);

internal sealed class CountingWriter : ISampleWriter
{
    private long _count;
    private long _bad;

    public long Count => Interlocked.Read(ref _count);

    public long Bad => Interlocked.Read(ref _bad);

    public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        if (sample.Quality == Quality.Bad)
        {
            Interlocked.Increment(ref _bad);
        }

        return ValueTask.CompletedTask;
    }
}
