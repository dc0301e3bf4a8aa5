using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Integration;

/// <summary>The InfluxDB output against Debian's influxd 1.x, rows read back through /query.</summary>
[Collection(nameof(ProcessTests))]
public sealed class InfluxTests
{
    private const string Published = "gateway_samples_published_total{sink=\"influx\"}";

    [Fact]
    public async Task Influx1_EverySampleIsWritten_AndReadsBackThroughQuery()
    {
        await using var influx = new InfluxServer();
        await influx.StartAsync();
        await influx.CreateDatabaseAsync("plant");
        using var config = Config(influx, stopAfterSeconds: 3);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await WaitForLogAsync(gateway, SimulatorStopped);
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(30));
        var buffered = await gateway.MetricAsync("gateway_samples_buffered_total");

        Assert.Equal(buffered, await gateway.MetricAsync(Published));
        var counters = await influx.SelectAsync("plant", "SELECT \"total-count\" FROM \"m1\" WHERE \"line\" = 'line-1' AND \"site\" = 'lyon'");
        Assert.True(counters.Count > 40, $"{counters.Count} counter rows");
        var values = counters.Select(row => InfluxServer.Long(row[1])).ToList();
        Assert.Equal(Enumerable.Range((int)values[0], values.Count).Select(v => (long)v), values);
        var temperatures = await influx.SelectAsync("plant", "SELECT \"temperature\", \"unit\" FROM \"m1\" WHERE \"temperature\" > -100");
        Assert.NotEmpty(temperatures);
        Assert.Equal("degC", temperatures[0][2].GetString());
        var everything = await influx.SelectAsync("plant", "SELECT * FROM \"m1\"");
        var fields = everything.Sum(row => row.Skip(1).Count(v => v.ValueKind is System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False));
        Assert.True(fields > 0);
    }

    [Fact]
    public async Task Influx1_Unavailable_KeepsSamplesBuffered_ThenDeliversThem()
    {
        await using var influx = new InfluxServer();
        using var config = Config(influx, stopAfterSeconds: 3);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await WaitForLogAsync(gateway, SimulatorStopped);
        var waiting = await gateway.MetricAsync("gateway_buffer_samples");
        Assert.True(waiting > 40, $"{waiting} samples buffered");
        Assert.Equal(0, await gateway.MetricAsync(Published));
        Assert.Contains("InfluxDB " + influx.Url + " (database plant) unavailable", gateway.Output, StringComparison.Ordinal);

        await influx.StartAsync();
        await influx.CreateDatabaseAsync("plant");

        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(60));
        var buffered = await gateway.MetricAsync("gateway_samples_buffered_total");
        Assert.Equal(buffered, await gateway.MetricAsync(Published));
        var counters = await influx.SelectAsync("plant", "SELECT \"total-count\" FROM \"m1\"");
        var values = counters.Select(row => InfluxServer.Long(row[1])).ToList();
        Assert.Equal(Enumerable.Range((int)values[0], values.Count).Select(v => (long)v), values);
    }

    [Fact]
    public async Task Influx1_TypeConflict_400_DropsOnlyTheRefusedLines_CountsAndLogsThem()
    {
        await using var influx = new InfluxServer();
        await influx.StartAsync();
        await influx.CreateDatabaseAsync("plant");
        // reject-count already exists as a string field in this week's shard: every integer written to it is refused (400).
        var now = (DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        await influx.WriteAsync("plant", $"m1,enterprise=acme,site=lyon,area=assembly,line=line-1,unit=parts reject-count=\"text\" {now - 60_000_000_000}");
        using var config = Config(influx, stopAfterSeconds: 3, rejectPermille: 200);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await WaitForLogAsync(gateway, SimulatorStopped);
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(60));

        var dropped = await gateway.MetricAsync("gateway_publish_failures_total{sink=\"influx\"}");
        Assert.True(dropped > 0, "no line was refused");
        var logged = gateway.Output.Split('\n').Count(l => l.Contains("refused a line for good", StringComparison.Ordinal));
        Assert.Equal(dropped, logged);
        Assert.Contains("reject-count=", gateway.Output, StringComparison.Ordinal);
        var counters = await influx.SelectAsync("plant", "SELECT \"total-count\" FROM \"m1\"");
        var values = counters.Select(row => InfluxServer.Long(row[1])).ToList();
        Assert.True(values.Count > 40);
        Assert.Equal(Enumerable.Range((int)values[0], values.Count).Select(v => (long)v), values);
    }

    [Fact]
    public async Task Influx1_AuthEnabled_MissingDatabase_IsExplained_AndTheSamplesWaitForIt()
    {
        await using var influx = new InfluxServer("auth-enabled = true");
        await influx.StartAsync();
        await influx.CreateAdminAsync("admin", "admin-pass");
        await influx.ExecuteAsync("CREATE USER \"writer\" WITH PASSWORD 'writer-pass'");
        using var config = Config(influx, stopAfterSeconds: 4);
        var passwordFile = Path.Combine(config.Directory, "influx.password");
        await File.WriteAllTextAsync(passwordFile, "writer-pass\n");
        config.Root["influx"]!["username"] = "writer";
        config.Root["influx"]!["passwordFile"] = passwordFile;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await WaitForLogAsync(gateway, "database not found: \\\"plant\\\"\"} - create it (CREATE DATABASE \"plant\")");
        await influx.CreateDatabaseAsync("plant");
        await WaitForLogAsync(gateway, "user 'writer' may not write to this database: GRANT WRITE ON \"plant\" TO \"writer\"");
        await influx.ExecuteAsync("GRANT WRITE ON \"plant\" TO \"writer\"");
        // All of the run must be in the buffer before "empty buffer" means "everything delivered".
        await WaitForLogAsync(gateway, SimulatorStopped);

        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(60));
        Assert.Equal(await gateway.MetricAsync("gateway_samples_buffered_total"), await gateway.MetricAsync(Published));
        Assert.DoesNotContain("writer-pass", gateway.Output, StringComparison.Ordinal);
        var counters = await influx.SelectAsync("plant", "SELECT \"total-count\" FROM \"m1\"");
        var values = counters.Select(row => InfluxServer.Long(row[1])).ToList();
        Assert.True(values.Count > 40, $"{values.Count} counter rows");
        Assert.Equal(Enumerable.Range((int)values[0], values.Count).Select(v => (long)v), values);
    }

    [Fact]
    public async Task Influx1_BacklogOverTheServersMaxBodySize_IsWrittenInSmallerRequests()
    {
        // 8 kB: about 80 lines; the backlog of an outage is bigger than that in one request (413).
        await using var influx = new InfluxServer("max-body-size = 8000");
        using var config = Config(influx, stopAfterSeconds: 6);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 150, TimeSpan.FromSeconds(60));
        await influx.StartAsync();
        await influx.CreateDatabaseAsync("plant");
        // All of the run must be in the buffer before "empty buffer" means "everything delivered" (else a sample read
        // between the two metric reads below counts as buffered and not yet published).
        await WaitForLogAsync(gateway, SimulatorStopped);

        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, TimeSpan.FromSeconds(60));

        Assert.Equal(await gateway.MetricAsync("gateway_samples_buffered_total"), await gateway.MetricAsync(Published));
        Assert.Equal(0, await gateway.MetricAsync("gateway_publish_failures_total{sink=\"influx\"}"));
        var counters = await influx.SelectAsync("plant", "SELECT \"total-count\" FROM \"m1\"");
        var values = counters.Select(row => InfluxServer.Long(row[1])).ToList();
        Assert.True(values.Count > 40, $"{values.Count} counter rows");
        Assert.Equal(Enumerable.Range((int)values[0], values.Count).Select(v => (long)v), values);
    }

    /// <summary>The simulator's log line once it reached stopAfterSeconds: no sample comes after it.</summary>
    private const string SimulatorStopped = "reached stopAfterSeconds";

    private static Task WaitForLogAsync(GatewayProcess gateway, string text) =>
        Eventually.LogAsync(gateway, text);

    private static TestConfig Config(InfluxServer influx, double stopAfterSeconds, int rejectPermille = 0)
    {
        var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200, rejectPermille: rejectPermille, stopAfterSeconds: stopAfterSeconds);
        // Only InfluxDB consumes the buffer here: a Sparkplug-only MQTT sink to an absent broker would hold it.
        config.Root["mqtt"]!["format"] = "uns";
        config.Root["mqtt"]!["port"] = PortAllocator.FreeTcpPort();
        config.Root["influx"] = new JsonObject { ["url"] = influx.Url, ["version"] = 1, ["database"] = "plant", ["maxRetryDelayMs"] = 1000 };
        return config;
    }
}
