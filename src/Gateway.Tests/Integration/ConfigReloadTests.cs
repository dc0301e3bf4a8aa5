using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;
using Gateway.Tests.Northbound;

namespace Gateway.Tests.Integration;

/// <summary>
/// Issue 16, hot reload, end to end: the real gateway process, a real mosquitto and an independent subscriber,
/// pymodbus as the PLC of a second driver. A reload keeps the process (same PID), restarts only what changed and
/// loses no sample of the drivers that keep running.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed partial class ConfigReloadTests(PymodbusTcpFixture plc) : IClassFixture<PymodbusTcpFixture>
{
    private const string Line = "acme/lyon/assembly/line-1/";
    private const string CounterTopic = Line + "m1/total-count";
    private static readonly Dictionary<string, string> s_header = new() { ["X-Gateway-Request"] = "test" };

    [Fact]
    public async Task Sighup_ModbusDriverChanged_RestartsOnlyIt_NewTagArrives_SimulatedCounterHasNoGap_SamePid()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200);
        var modbus = ModbusDriver();
        modbus["tags"]!.AsArray().Add(new JsonObject { ["name"] = "pressure", ["address"] = "holding:1", ["type"] = "uint16", ["unit"] = "bar" });
        config.Root["drivers"]!.AsArray().Add(modbus);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        var pid = gateway.Pid;
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 10 && m.Any(x => x.Topic == Line + "press/counter"), TimeSpan.FromSeconds(30), "both drivers publishing");

        modbus["tags"]!.AsArray().Add(new JsonObject { ["name"] = "temperature", ["address"] = "holding:1", ["type"] = "uint16", ["scale"] = 0.1, ["unit"] = "degC" });
        config.Write();
        var reloadedAt = DateTimeOffset.UtcNow;
        await gateway.SignalAsync("HUP");

        await Eventually.LogAsync(gateway, "Config reload from SIGHUP");
        await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Line + "press/temperature"), TimeSpan.FromSeconds(30), "the added tag at the broker");
        await collector.WaitUntilAsync(m => Unique(m).Count(x => x.Topic == CounterTopic && Time(x) > reloadedAt.AddSeconds(2)) >= 5, TimeSpan.FromSeconds(30), "counter samples well after the reload");

        Assert.False(gateway.HasExited);
        Assert.Equal(pid, gateway.Pid);
        Assert.Contains("drivers restarted: plc; added: none; removed: none", gateway.Output, StringComparison.Ordinal);
        Assert.Equal(2, Count(gateway.Output, "Modbus driver plc started"));
        Assert.Equal(1, Count(gateway.Output, "Simulated driver sim started"));
        var counter = Unique(collector.Messages).Where(m => m.Topic == CounterTopic).ToList();
        Assert.Contains(counter, m => Time(m) < reloadedAt);
        AssertIncrementsByOne([.. counter.Select(m => m.LongValue).Order()]);
        var temperature = collector.Messages.First(m => m.Topic == Line + "press/temperature").Json;
        Assert.InRange(temperature.GetProperty("value").GetDouble(), 20, 25); // HR1 is temperature x 10 (200..250)
    }

    [Fact]
    public async Task Sighup_SparkplugTagRemoved_OnlyItsDeviceIsBornAgainWithoutIt_AsTahuDecodesIt()
    {
        // Births are QoS 0 (Sparkplug 3.0): let the broker queue them for the subscriber.
        await using var broker = new Mosquitto("queue_qos0_messages true");
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "spBv1.0/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200);
        config.Root["mqtt"]!["format"] = "sparkplugb";
        var modbus = ModbusDriver();
        modbus["tags"]!.AsArray().Add(new JsonObject { ["name"] = "pressure", ["address"] = "holding:1", ["type"] = "uint16", ["unit"] = "bar" });
        config.Root["drivers"]!.AsArray().Add(modbus);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        var pid = gateway.Pid;
        const string Node = "spBv1.0/lyon/{0}/gw-test";
        var pressBirth = string.Format(CultureInfo.InvariantCulture, Node, "DBIRTH") + "/press";
        var machineData = string.Format(CultureInfo.InvariantCulture, Node, "DDATA") + "/m1";
        await collector.WaitUntilAsync(m => m.Any(x => x.Topic == pressBirth) && m.Count(x => x.Topic == machineData) > 3, TimeSpan.FromSeconds(30), "births and data");

        modbus["tags"]!.AsArray().RemoveAt(1);
        config.Write();
        await gateway.SignalAsync("HUP");
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == pressBirth) >= 2, TimeSpan.FromSeconds(30), "a second DBIRTH of press");
        var reborn = collector.Messages.Count;
        await collector.WaitUntilAsync(m => m.Skip(reborn).Count(x => x.Topic == machineData) > 3, TimeSpan.FromSeconds(30), "m1 data after the reload");

        var decoded = await SparkplugTests.DecodeWithTahuAsync(collector.Messages);
        Assert.Equal(pid, gateway.Pid);
        Assert.Equal(1, decoded.Count(m => m.Type == "NBIRTH"));
        Assert.Equal(1, decoded.Count(m => m.Type == "DBIRTH" && m.Device == "m1"));
        var last = decoded.Last(m => m.Type == "DBIRTH" && m.Device == "press");
        Assert.Equal(2, decoded.First(m => m.Type == "DBIRTH" && m.Device == "press").Metrics.Count());
        Assert.Equal(["counter"], last.Metrics.Select(m => m.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task HttpReload_FileRefused_400ListsEveryProblemWithItsJsonPath_AndTheRunningConfigKeepsPublishing()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 5, TimeSpan.FromSeconds(30), "counter samples");

        var driver = config.Root["drivers"]![0]!;
        driver["intervalMz"] = 100;
        driver["machines"]![0]!["idealCycleMs"] = "fast";
        config.Write();
        var (status, body) = await gateway.PostAsync("/api/config/reload", s_header);
        var refusedAt = DateTimeOffset.UtcNow;

        Assert.Equal(400, status);
        var answer = JsonDocument.Parse(body).RootElement;
        Assert.Equal("refused", answer.GetProperty("result").GetString());
        var paths = answer.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("path").GetString()).ToList();
        Assert.Contains("drivers[0].intervalMz", paths);
        Assert.Contains("drivers[0].machines[0].idealCycleMs", paths);
        Assert.Contains("refused, the running configuration is kept; 2 problem(s): drivers[0].", gateway.Output, StringComparison.Ordinal);
        await collector.WaitUntilAsync(m => Unique(m).Count(x => x.Topic == CounterTopic && Time(x) > refusedAt) >= 5, TimeSpan.FromSeconds(30), "counter samples after the refusal");
        Assert.Equal(1, Count(gateway.Output, "Simulated driver sim started"));
        Assert.Contains("gateway_config_reloads_total{result=\"refused\"} 1", await gateway.GetAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpReload_WithoutTheRequestHeader_OrFromAnotherOrigin_Is403_AndNothingIsReloaded()
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 100, intervalMs: 200);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        config.Root["drivers"]![0]!["intervalMs"] = 300;
        config.Write();

        var (bare, bareBody) = await gateway.PostAsync("/api/config/reload");
        var (crossSite, _) = await gateway.PostAsync("/api/config/reload", new Dictionary<string, string>(s_header) { ["Origin"] = "http://evil.example" });
        var (allowed, _) = await gateway.PostAsync("/api/config/reload", s_header);

        Assert.Equal(403, bare);
        Assert.Contains("X-Gateway-Request", bareBody, StringComparison.Ordinal);
        Assert.Equal(403, crossSite);
        Assert.Equal(200, allowed);
        Assert.Equal(1, Count(gateway.Output, "Config reload from"));
    }

    [Fact]
    public async Task HttpReload_WithAPasswordFile_NeedsTheBearerOrLogin_AndTheAuditLineSaysHow()
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 100, intervalMs: 200);
        var passwordFile = Path.Combine(config.Directory, "dashboard.password");
        await File.WriteAllTextAsync(passwordFile, "s3cret-reload\n");
        config.Root["http"]!["passwordFile"] = passwordFile;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        var (anonymous, _) = await gateway.PostAsync("/api/config/reload", s_header);
        var (wrong, _) = await gateway.PostAsync("/api/config/reload", new Dictionary<string, string> { ["Authorization"] = "Bearer nope" });
        var (bearer, body) = await gateway.PostAsync("/api/config/reload", new Dictionary<string, string> { ["Authorization"] = "Bearer s3cret-reload" });

        Assert.Equal(401, anonymous);
        Assert.Equal(401, wrong);
        Assert.True(bearer == 200, body);
        Assert.Equal("unchanged", JsonDocument.Parse(body).RootElement.GetProperty("result").GetString());
        Assert.Contains("Config reload from http 127.0.0.1 (bearer)", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-reload", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReloadUnderLoad_DriversChangedAddedAndRemovedTenTimes_EveryBufferedSampleIsDelivered_AndRemovedTagsLeaveTheLiveView()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port).WithSimulatedMachine("m1", cycleMs: 20, intervalMs: 20, stopAfterSeconds: 20);
        var drivers = config.Root["drivers"]!.AsArray();
        drivers.Add(Simulated("sim2", "m2", 100));
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        var started = System.Diagnostics.Stopwatch.StartNew();
        await gateway.StartAsync();
        await collector.WaitUntilAsync(m => m.Count(x => x.Topic == CounterTopic) >= 20 && m.Any(x => x.Topic.StartsWith(Line + "m2/", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "both drivers publishing");

        for (var i = 0; i < 10; i++)
        {
            var expected = "restarted";
            if (i == 4)
            {
                drivers.Add(Simulated("sim3", "m3", 100));
                expected = "added";
            }
            else if (i == 9)
            {
                drivers.RemoveAt(2);
                drivers.RemoveAt(1);
                expected = "removed";
            }
            else
            {
                drivers[1]!["intervalMs"] = 110 + (10 * i);
            }

            config.Write();
            var (status, body) = await gateway.PostAsync("/api/config/reload", s_header);
            Assert.True(status == 200, body);
            Assert.NotEmpty(JsonDocument.Parse(body).RootElement.GetProperty(expected).EnumerateArray());
            await Task.Delay(300);
        }

        Assert.DoesNotContain("\"machine\":\"m2\"", await gateway.GetAsync("/api/tags"), StringComparison.Ordinal);
        Assert.DoesNotContain("\"machine\":\"m3\"", await gateway.GetAsync("/api/tags"), StringComparison.Ordinal);
        Assert.Contains(collector.Messages, m => m.Topic.StartsWith(Line + "m3/", StringComparison.Ordinal));

        // m1 stops producing 20 s after its start: then the buffer empties, and every sample it took reached the subscriber.
        var left = TimeSpan.FromSeconds(23) - started.Elapsed;
        await Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(3));
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(30));
        var buffered = await gateway.MetricAsync("gateway_samples_buffered_total");
        Assert.Equal(buffered, await gateway.MetricAsync("gateway_samples_published_total{sink=\"mqtt-uns\"}"));
        Assert.Equal(0, await gateway.MetricAsync("gateway_buffer_dropped_samples_total"));
        // A restarted simulated driver publishes its constant tags again with the same source timestamp: those of the
        // restarted machines (m2, m3) are counted as received (QoS 1 may add a duplicate), m1's (never restarted) as
        // distinct samples; every one of them was acknowledged by the broker (buffered = published above).
        await collector.WaitUntilAsync(m => Delivered(m) >= buffered, TimeSpan.FromSeconds(30), $"{buffered} samples");
        AssertIncrementsByOne([.. Unique(collector.Messages).Where(m => m.Topic == CounterTopic).Select(m => m.LongValue).Order()]);
        Assert.Equal(1, Count(gateway.Output, "Simulated driver sim started"));
        Assert.Contains("gateway_config_reloads_total{result=\"applied\"} 10", await gateway.GetAsync("/metrics"), StringComparison.Ordinal);
    }

    private JsonObject ModbusDriver() => new()
    {
        ["name"] = "plc",
        ["type"] = "modbus-tcp",
        ["host"] = "127.0.0.1",
        ["port"] = plc.Port,
        ["machine"] = "press",
        ["intervalMs"] = 200,
        ["tags"] = new JsonArray(new JsonObject { ["name"] = "counter", ["address"] = "holding:0", ["type"] = "uint16" }),
    };

    private static JsonObject Simulated(string name, string machine, int intervalMs) => new()
    {
        ["name"] = name,
        ["type"] = "simulated",
        ["seed"] = 3,
        ["intervalMs"] = intervalMs,
        ["machines"] = new JsonArray(new JsonObject { ["name"] = machine, ["idealCycleMs"] = 200, ["alwaysRunning"] = true }),
    };

    private static int Delivered(IReadOnlyList<Received> messages)
    {
        static bool Restarted(Received m) => m.Topic.StartsWith(Line + "m2/", StringComparison.Ordinal) || m.Topic.StartsWith(Line + "m3/", StringComparison.Ordinal);
        return Unique(messages).Count(m => !Restarted(m)) + UnsHistory.Flatten(messages).Count(m => Restarted(m.Sample));
    }

    private static int Count(string text, string what) => Regex.Count(text, Regex.Escape(what));

    private static DateTimeOffset Time(Received message) => DateTimeOffset.Parse(message.Timestamp, CultureInfo.InvariantCulture);

    /// <summary>First occurrence of each distinct sample, live or in a history array (QoS 1 may deliver twice).</summary>
    private static List<Received> Unique(IEnumerable<Received> messages) => [.. UnsHistory.Unique(messages).Select(m => m.Sample)];

    private static void AssertIncrementsByOne(List<long> values)
    {
        Assert.NotEmpty(values);
        for (var i = 1; i < values.Count; i++)
        {
            Assert.True(values[i] == values[i - 1] + 1, $"counter went from {values[i - 1]} to {values[i]} at position {i} of {values.Count}");
        }
    }
}
