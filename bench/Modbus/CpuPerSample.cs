using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Benchmarks.Modbus;

/// <summary>
/// CPU seconds per million samples of the modbus-tcp driver over a real loopback socket, the Modbus server being the
/// gateway's <c>simulate</c> verb in its own process (so only the driver's side is measured, from /proc via
/// <see cref="Process.TotalProcessorTime"/>). Baseline in the same run: a bare client reading the same 100-register
/// blocks in a loop and decoding them (socket, framing and decode only). Then the real driver, built by its factory,
/// 10 devices x 100 holding registers, through the real pipeline writer (change filter, counters, live-tag table) into
/// the bounded channel, drained every 100 ms by a reader task as the buffer writer does. Both run once unmeasured first (JIT).
/// </summary>
internal static class CpuPerSample
{
    public static async Task<int> RunAsync(string gatewayDll, double seconds, int intervalMs, int devices = 10)
    {
        var port = FreePort();
        using var server = Process.Start(new ProcessStartInfo("dotnet", [gatewayDll, "simulate", "--modbus", $"127.0.0.1:{port}", "--interval", "100"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        try
        {
            await WaitPortAsync(port);
            Console.WriteLine($"Modbus server: gateway simulate on 127.0.0.1:{port} (own process); {Environment.ProcessorCount} CPU(s); {seconds:0.#} s per run");
            // Warm-up (JIT, tiering, connections) of both paths, unmeasured: otherwise the JIT's CPU is charged to the samples.
            await BareClientAsync(port, 2);
            await DriverAsync(port, 3, intervalMs, devices);
            var baseline = await BareClientAsync(port, seconds);
            Print("baseline: bare client, read + decode, 100 registers per request", baseline, baseline);
            var driver = await DriverAsync(port, seconds, intervalMs, devices);
            Print($"driver: {devices} devices x 100 registers, intervalMs {intervalMs}, pipeline writer", driver, baseline);
            return 0;
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    private static void Print(string name, Result r, Result baseline) =>
        Console.WriteLine($"{name,-70} {r.SamplesPerSecond,9:N0} samples/s  {r.CpuSecondsPerMillion,6:0.00} CPU-s/1M  {r.BytesPerSample,6:0.0} B/sample  x{r.CpuSecondsPerMillion / baseline.CpuSecondsPerMillion:0.00} CPU of baseline{(r.Overruns is { } o ? $"  overruns {o}" : "")}");

    private static async Task<Result> BareClientAsync(int port, double seconds)
    {
        await using var client = new ModbusClient(new ModbusTcpTransport("127.0.0.1", port, TimeProvider.System));
        var format = new ModbusValueFormat(ModbusDataType.UInt16);
        double checksum = 0;
        long samples = 0;
        var before = Measure();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            for (byte unit = 1; unit <= 10; unit++)
            {
                var registers = await client.ReadHoldingRegistersAsync(unit, 1000, 100, TimeSpan.FromSeconds(2), CancellationToken.None);
                for (var i = 0; i < registers.Length; i++)
                {
                    checksum += ModbusValueCodec.Decode(registers.AsSpan(i, 1), format).AsDouble;
                }

                samples += registers.Length;
            }
        }

        GC.KeepAlive(checksum);
        return Result.Of(before, Measure(), watch.Elapsed, samples, null);
    }

    private static async Task<Result> DriverAsync(int port, double seconds, int intervalMs, int devices)
    {
        var keys = new Dictionary<string, string?>
        {
            ["d:name"] = "bench",
            ["d:type"] = "modbus-tcp",
            ["d:host"] = "127.0.0.1",
            ["d:port"] = port.ToString(CultureInfo.InvariantCulture),
            ["d:intervalMs"] = intervalMs.ToString(CultureInfo.InvariantCulture),
        };
        var t = 0;
        for (var u = 1; u <= devices; u++)
        {
            keys[$"d:devices:{u - 1}:name"] = $"u{u}";
            keys[$"d:devices:{u - 1}:unitId"] = u.ToString(CultureInfo.InvariantCulture);
            for (var i = 0; i < 100; i++, t++)
            {
                keys[$"d:tags:{t}:name"] = $"u{u}-r{i}";
                keys[$"d:tags:{t}:machine"] = $"u{u}";
                keys[$"d:tags:{t}:path"] = $"r{i}";
                keys[$"d:tags:{t}:address"] = $"holding:{1000 + i}";
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

        using var metrics = new GatewayMetrics(TimeProvider.System);
        var pipeline = new SamplePipeline(metrics);
        pipeline.Observe(new LiveTags().Update);
        var writer = pipeline.CreateWriter("bench");
        using var stop = new CancellationTokenSource();
        var drain = Task.Run(async () =>
        {
            long read = 0;
            // As the buffer writer does: wake on data, wait one flush interval (100 ms), drain. A reader taking every
            // sample as it comes would contend for the channel's lock with the driver on each one.
            while (await pipeline.Reader.WaitToReadAsync())
            {
                await Task.Delay(100);
                while (pipeline.Reader.TryRead(out _))
                {
                    read++;
                }
            }

            return read;
        });

        await using var driver = factory.Create(config, section, new DriverContext(TimeProvider.System, NullLoggerFactory.Instance));
        var before = Measure();
        var watch = Stopwatch.StartNew();
        stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        await driver.RunAsync(writer, stop.Token);
        var elapsed = watch.Elapsed;
        var after = Measure();
        pipeline.Complete();
        await drain;
        var counters = metrics.Driver("bench");
        var overruns = typeof(DriverCounters).GetProperty("PollOverruns")?.GetValue(counters) is long o ? o : (long?)null;
        return Result.Of(before, after, elapsed, counters.SamplesRead, overruns);
    }

    private static (TimeSpan Cpu, long Allocated) Measure()
    {
        using var process = Process.GetCurrentProcess();
        return (process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitPortAsync(int port)
    {
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"simulate did not listen on {port}");
    }

    private sealed record Result(double SamplesPerSecond, double CpuSecondsPerMillion, double BytesPerSample, long? Overruns)
    {
        public static Result Of((TimeSpan Cpu, long Allocated) before, (TimeSpan Cpu, long Allocated) after, TimeSpan elapsed, long samples, long? overruns) =>
            new(samples / elapsed.TotalSeconds, (after.Cpu - before.Cpu).TotalSeconds * 1e6 / Math.Max(1, samples), (after.Allocated - before.Allocated) / (double)Math.Max(1, samples), overruns);
    }
}
