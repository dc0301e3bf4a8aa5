using System.Diagnostics.Metrics;
using System.Globalization;
using Gateway.Observability;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Observability;

public sealed class GatewayMetricsTests
{
    [Fact]
    public void RenderPrometheus_IncludesDriverFamilyCounters_WithTheirLabels()
    {
        using var metrics = new GatewayMetrics(new FakeTimeProvider());
        using var meter = new Meter("Gateway.Drivers.TestFamily");
        var requests = meter.CreateCounter<long>("gateway_testfamily_requests_total", description: "Requests of the test family");

        requests.Add(2, new KeyValuePair<string, object?>("driver", "plc-1"));
        requests.Add(1, new KeyValuePair<string, object?>("driver", "plc-1"));
        requests.Add(5, new KeyValuePair<string, object?>("driver", "plc \"2\""));
        var text = metrics.RenderPrometheus(1024);

        Assert.Contains("# TYPE gateway_testfamily_requests_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("# HELP gateway_testfamily_requests_total Requests of the test family\n", text, StringComparison.Ordinal);
        Assert.Contains("gateway_testfamily_requests_total{driver=\"plc-1\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("gateway_testfamily_requests_total{driver=\"plc \\\"2\\\"\"} 5\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderPrometheus_DriverConnected_IsReadFromTheProbeAtTheScrape_UntilSetExplicitly()
    {
        using var metrics = new GatewayMetrics(new FakeTimeProvider());
        var reachable = false;
        var counters = metrics.Driver("press-plc");
        counters.ConnectedFrom(() => reachable);

        Assert.Contains("gateway_driver_connected{driver=\"press-plc\"} 0\n", metrics.RenderPrometheus(1024), StringComparison.Ordinal);
        reachable = true; // no timer has run: the scrape asks the driver
        Assert.Contains("gateway_driver_connected{driver=\"press-plc\"} 1\n", metrics.RenderPrometheus(1024), StringComparison.Ordinal);

        counters.Connected = false; // the driver stopped: the probe is dropped
        Assert.Contains("gateway_driver_connected{driver=\"press-plc\"} 0\n", metrics.RenderPrometheus(1024), StringComparison.Ordinal);
    }

    [Fact]
    public void RenderPrometheus_PerSinkCounters_AreLabelled()
    {
        using var metrics = new GatewayMetrics(new FakeTimeProvider());
        metrics.Sink("mqtt-uns").AddPublished(7);
        metrics.Sink("influx").AddFailures(2);
        metrics.Sink("mqtt-uns").ConnectedChanged(true);

        var text = metrics.RenderPrometheus(1024);

        Assert.Contains("gateway_samples_published_total{sink=\"mqtt-uns\"} 7\n", text, StringComparison.Ordinal);
        Assert.Contains("gateway_publish_failures_total{sink=\"influx\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("gateway_mqtt_connected 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderPrometheus_ProcessMemoryAndCpu_AreTheKernelsFigures()
    {
        using var metrics = new GatewayMetrics(new FakeTimeProvider());
        var cpuBefore = Environment.CpuUsage.TotalTime.TotalSeconds;
        var text = metrics.RenderPrometheus(1024);

        // VmRSS of /proc/self/status (kB), read independently of statm: the two agree within what a scrape allocates.
        var vmRss = ProcStatus.Kb("VmRSS") * 1024;
        var resident = Value(text, "process_resident_memory_bytes");
        Assert.InRange(resident, vmRss * 0.9, vmRss * 1.1);
        Assert.Contains("# TYPE process_resident_memory_bytes gauge\n", text, StringComparison.Ordinal);

        var cpu = Value(text, "process_cpu_seconds_total");
        Assert.True(cpu >= cpuBefore && cpu > 0, $"cpu {cpu} before {cpuBefore}");
        Assert.Contains("# TYPE process_cpu_seconds_total counter\n", text, StringComparison.Ordinal);

        Assert.Equal(GC.CollectionCount(0), Value(text, "gateway_gc_collections_total{generation=\"0\"}"), 0);
        Assert.True(Value(text, "gateway_gc_heap_bytes") > 0);
        // The test host has no gen0 cap of its own: the metric says what the GC applies, not what the gateway asks for
        // (tests/aot/smoke.sh checks the compiled-in cap of the native build).
        Assert.Equal(GC.GetConfigurationVariables().TryGetValue("GCGen0MaxBudget", out var cap) ? Convert.ToDouble(cap, CultureInfo.InvariantCulture) : 0, Value(text, "gateway_gc_gen0_budget_max_bytes"));
    }

    private static double Value(string text, string series)
    {
        var line = text.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
