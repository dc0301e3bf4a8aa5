using System.Net;
using System.Net.Sockets;
using Gateway.Northbound.Mqtt;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Northbound;

/// <summary>
/// The probe that ends the reconnect backoff's wait when the broker's port accepts again: the gateway must be back
/// within a fraction of a second of the broker, so that samples read meanwhile still reach it within 1 s.
/// </summary>
public sealed class ReconnectProbeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Probe_WhenThePortAccepts_CancelsTheWaitWithinAQuarterSecondOfItsStart()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var time = new FakeTimeProvider();
        using var attempt = new CancellationTokenSource();
        await using var probe = new ReconnectProbe(attempt, time, NullLogger.Instance, "mqtt");

        probe.Start("127.0.0.1", port);
        time.Advance(TimeSpan.FromMilliseconds(250));

        Assert.True(await Until(() => attempt.IsCancellationRequested), "the probe did not end the wait after 250 ms of an open port");
        Assert.True(probe.Fired);
    }

    [Fact]
    public async Task Probe_WhileThePortRefuses_KeepsTheWait_AndEndsItOnceTheBrokerIsBack()
    {
        var port = PortAllocator.FreeTcpPort();
        var time = new FakeTimeProvider();
        using var attempt = new CancellationTokenSource();
        await using var probe = new ReconnectProbe(attempt, time, NullLogger.Instance, "mqtt");

        probe.Start("127.0.0.1", port);
        for (var i = 0; i < 8; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Delay(50); // the refused connect completes on a real socket
        }

        Assert.False(attempt.IsCancellationRequested, "a refused port ended the wait");
        Assert.False(probe.Fired);

        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        var fired = await Until(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            return attempt.IsCancellationRequested;
        });

        Assert.True(fired, "the probe did not notice the broker's port accepting again");
        Assert.True(probe.Fired);
    }

    [Fact]
    public async Task Stop_EndsTheProbing_WithoutCancellingTheWait()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var time = new FakeTimeProvider();
        using var attempt = new CancellationTokenSource();
        var probe = new ReconnectProbe(attempt, time, NullLogger.Instance, "mqtt");

        probe.Start("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        probe.Stop();
        await probe.DisposeAsync();
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.False(attempt.IsCancellationRequested);
        Assert.False(probe.Fired);
    }

    private static async Task<bool> Until(Func<bool> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < Patience)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return condition();
    }
}
