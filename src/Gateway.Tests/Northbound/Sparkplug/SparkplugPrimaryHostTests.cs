using System.Text;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound.Mqtt;
using Gateway.Northbound.Sparkplug;
using Gateway.Observability;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;
using MQTTnet.Packets;

namespace Gateway.Tests.Northbound.Sparkplug;

/// <summary>
/// Sparkplug 3.0 primary host application, as the edge node follows it: the STATE JSON, stale timestamps, and the
/// format holding the data (no NBIRTH, nothing read) until the host says online.
/// </summary>
public sealed class SparkplugPrimaryHostTests : IDisposable
{
    private static readonly DateTimeOffset s_t = new(2026, 12, 3, 7, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("spark-host-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] State(bool online, long timestamp) =>
        Encoding.UTF8.GetBytes($"{{\"online\":{(online ? "true" : "false")},\"timestamp\":{timestamp}}}");

    [Fact]
    public void Observe_OnlineThenOffline_ReportsEachChange()
    {
        var host = new PrimaryHostState("scada");

        Assert.Equal("spBv1.0/STATE/scada", host.Topic);
        Assert.False(host.Online);
        Assert.Equal(PrimaryHostChange.CameOnline, host.Observe(State(true, 1000)));
        Assert.Equal(PrimaryHostChange.Unchanged, host.Observe(State(true, 1000)));
        Assert.Equal(PrimaryHostChange.WentOffline, host.Observe(State(false, 2000)));
        Assert.False(host.Online);
        Assert.Equal(2000, host.Timestamp);
    }

    [Fact]
    public void Observe_TimestampOlderThanOneSeen_IsIgnored()
    {
        var host = new PrimaryHostState("scada");
        host.Observe(State(false, 5000));

        Assert.Equal(PrimaryHostChange.Stale, host.Observe(State(true, 4999)));
        Assert.False(host.Online);
        Assert.Equal(5000, host.Timestamp);
    }

    [Fact]
    public void Observe_WillWithTheTimestampOfItsOnlineMessage_TakesTheHostOffline()
    {
        // A Sparkplug 3.0 host's will carries the timestamp of the online STATE it published at the same connection.
        var host = new PrimaryHostState("scada");
        host.Observe(State(true, 7000));

        Assert.Equal(PrimaryHostChange.WentOffline, host.Observe(State(false, 7000)));
    }

    [Theory]
    [InlineData("ONLINE")]
    [InlineData("{\"online\":true}")]
    [InlineData("{\"timestamp\":1}")]
    [InlineData("{\"online\":\"yes\",\"timestamp\":1}")]
    [InlineData("{\"online\":true,\"timestamp\":1.5}")]
    [InlineData("")]
    public void Observe_NotTheSparkplug3Json_IsMalformedAndChangesNothing(string payload)
    {
        var host = new PrimaryHostState("scada");

        Assert.Equal(PrimaryHostChange.Malformed, host.Observe(Encoding.UTF8.GetBytes(payload)));
        Assert.False(host.Online);
        Assert.Null(host.Timestamp);
    }

    [Fact]
    public void Observe_OtherMembers_AreSkipped()
    {
        var host = new PrimaryHostState("scada");

        Assert.Equal(PrimaryHostChange.CameOnline, host.Observe("{\"extra\":{\"a\":[1,2]},\"online\":true,\"timestamp\":3}"u8));
    }

    [Fact]
    public void Forget_NewConnection_NeedsOnlineAgainButKeepsTheNewestTimestamp()
    {
        var host = new PrimaryHostState("scada");
        host.Observe(State(true, 9000));

        host.Forget();

        Assert.False(host.Online);
        Assert.Equal(PrimaryHostChange.Stale, host.Observe(State(true, 8000)));
        Assert.Equal(PrimaryHostChange.CameOnline, host.Observe(State(true, 9000)));
    }

    private (SparkplugFormat Format, MqttOutputContext Context, GatewayMetrics Metrics, Func<int> Wakes) Format()
    {
        var config = new GatewayConfig
        {
            Gateway = new GatewayIdentity { Id = "gw", Enterprise = "acme", Site = "lyon", Area = "a", Line = "l" },
            Buffer = new BufferOptions { Path = Path.Combine(_directory, "buffer.db") },
            Mqtt = new MqttOptions { Sparkplug = new SparkplugOptions { PrimaryHostId = "scada" } },
        };
        var time = new FakeTimeProvider(s_t);
        var metrics = new GatewayMetrics(time);
        var format = new SparkplugFormat(config, new EmptyCatalog(), null, time, NullLogger.Instance, metrics);
        var wakes = 0;
        var context = new MqttOutputContext(config, SparkplugFormat.Name, () => wakes++);
        return (format, context, metrics, () => wakes);
    }

    private static MqttApplicationMessageReceivedEventArgs Received(string topic, byte[] payload) =>
        new(
            "gw-spb",
            new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).Build(),
            new MqttPublishPacket(),
            (_, _) => Task.CompletedTask);

    [Fact]
    public async Task BeforeRead_HostNeverSaidOnline_HoldsTheDataWithoutABirth()
    {
        var (format, context, metrics, _) = Format();
        using var _ = metrics;

        Assert.False(await format.BeforeReadAsync(context, CancellationToken.None));
        Assert.False(format.SessionBegun);
        Assert.Equal(false, metrics.PrimaryHostOnline("scada"));
        Assert.Contains("gateway_sparkplug_primary_host_online{host=\"scada\"} 0", metrics.RenderPrometheus(0), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnMessage_RetainedOfflineState_KeepsHoldingTheData()
    {
        var (format, context, metrics, wakes) = Format();
        using var _ = metrics;

        await format.OnMessageAsync(context, Received("spBv1.0/STATE/scada", State(false, 1000)));

        Assert.False(await format.BeforeReadAsync(context, CancellationToken.None));
        Assert.False(format.SessionBegun);
        Assert.Equal(0, wakes());
    }

    [Fact]
    public async Task OnMessage_HostComesOnline_ShowsOnMetricsAndWakesTheOutput()
    {
        var (format, context, metrics, wakes) = Format();
        using var _ = metrics;

        await format.OnMessageAsync(context, Received("spBv1.0/STATE/scada", State(true, 1000)));

        Assert.True(format.PrimaryHost!.Online);
        Assert.Equal(true, metrics.PrimaryHostOnline("scada"));
        Assert.Contains("gateway_sparkplug_primary_host_online{host=\"scada\"} 1", metrics.RenderPrometheus(0), StringComparison.Ordinal);
        Assert.Equal(1, wakes());
    }

    [Fact]
    public async Task OnMessage_StaleOnlineState_NeitherReleasesTheDataNorWakes()
    {
        var (format, context, metrics, wakes) = Format();
        using var _ = metrics;
        await format.OnMessageAsync(context, Received("spBv1.0/STATE/scada", State(false, 2000)));

        await format.OnMessageAsync(context, Received("spBv1.0/STATE/scada", State(true, 1500)));

        Assert.False(format.PrimaryHost!.Online);
        Assert.Equal(false, metrics.PrimaryHostOnline("scada"));
        Assert.False(await format.BeforeReadAsync(context, CancellationToken.None));
        Assert.Equal(0, wakes());
    }

    [Fact]
    public async Task OnMessage_StateOfAnotherHost_IsNotTaken()
    {
        var (format, context, metrics, _) = Format();
        using var _ = metrics;

        await format.OnMessageAsync(context, Received("spBv1.0/STATE/other", State(true, 1000)));

        Assert.False(format.PrimaryHost!.Online);
    }

    private sealed class EmptyCatalog : IDriverCatalog
    {
        public IReadOnlyList<IDriver> Drivers => [];
    }
}
