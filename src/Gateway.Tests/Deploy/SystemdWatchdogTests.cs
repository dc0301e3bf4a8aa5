using System.Net.Sockets;
using System.Text;
using Gateway.Hosting;
using Gateway.Tests.Gpio;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Deploy;

/// <summary>The systemd lifetime sends READY=1 but never WATCHDOG=1: the gateway feeds the watchdog itself.</summary>
public sealed class SystemdWatchdogTests
{
    private sealed class RecordingNotifier : ISystemdNotifier
    {
        public List<string> States { get; } = [];

        public bool IsEnabled => true;

        public void Notify(ServiceState state)
        {
            lock (States)
            {
                States.Add(state.ToString());
            }
        }

        public int Count
        {
            get
            {
                lock (States)
                {
                    return States.Count;
                }
            }
        }
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("0", null, null)]
    [InlineData("30000000", null, 15.0)]
    [InlineData("30000000", "SELF", 15.0)]
    [InlineData("30000000", "1", null)]
    public void KeepAliveInterval_IsHalfOfWatchdogUsecForThisProcessOnly(string? usec, string? pid, double? expectedSeconds)
    {
        var environment = new Dictionary<string, string?> { ["WATCHDOG_USEC"] = usec, ["WATCHDOG_PID"] = pid == "SELF" ? Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) : pid };

        var interval = SystemdWatchdog.KeepAliveInterval(name => environment.GetValueOrDefault(name), Environment.ProcessId);

        Assert.Equal(expectedSeconds, interval?.TotalSeconds);
    }

    [Fact]
    public async Task Watchdog_WithWatchdogUsec_SendsWatchdogOneEveryHalfPeriod()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var notifier = new RecordingNotifier();
        var environment = new Dictionary<string, string?> { ["WATCHDOG_USEC"] = "10000000" };
        using var watchdog = new SystemdWatchdog(time, NullLogger<SystemdWatchdog>.Instance, name => environment.GetValueOrDefault(name), () => notifier);

        await watchdog.StartAsync(CancellationToken.None);
        await PiTestKit.UntilAsync(() => notifier.Count >= 5, time, TimeSpan.FromSeconds(5), "five keep-alives");
        await watchdog.StopAsync(CancellationToken.None);

        Assert.All(notifier.States, s => Assert.Equal("WATCHDOG=1", s));
    }

    private sealed class FailingNotifier : ISystemdNotifier
    {
        public int Attempts;

        public bool IsEnabled => true;

        public void Notify(ServiceState state)
        {
            Interlocked.Increment(ref Attempts);
            throw new SocketException((int)SocketError.ConnectionRefused);
        }
    }

    [Fact]
    public async Task Watchdog_NotifySocketFails_KeepsTryingWithoutStoppingTheHost()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var notifier = new FailingNotifier();
        var environment = new Dictionary<string, string?> { ["WATCHDOG_USEC"] = "2000000" };
        using var watchdog = new SystemdWatchdog(time, NullLogger<SystemdWatchdog>.Instance, name => environment.GetValueOrDefault(name), () => notifier);

        await watchdog.StartAsync(CancellationToken.None);
        await PiTestKit.UntilAsync(() => Volatile.Read(ref notifier.Attempts) >= 3, time, TimeSpan.FromSeconds(1), "retries");

        Assert.False(watchdog.ExecuteTask!.IsFaulted);
        await watchdog.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Watchdog_WithoutWatchdogUsec_SendsNothing()
    {
        var time = new FakeTimeProvider(PiTestKit.Start);
        var notifier = new RecordingNotifier();
        using var watchdog = new SystemdWatchdog(time, NullLogger<SystemdWatchdog>.Instance, _ => null, () => notifier);

        await watchdog.StartAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(5));
        await watchdog.StopAsync(CancellationToken.None);

        Assert.Equal(0, notifier.Count);
    }

    [Fact]
    public async Task Watchdog_RealNotifySocket_ReceivesWatchdogDatagram()
    {
        // The notifier of Microsoft.Extensions.Hosting.Systemd, over a real AF_UNIX datagram socket as systemd listens.
        var path = Path.Combine(Path.GetTempPath(), $"gw-notify-{Guid.NewGuid():N}.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var environment = new Dictionary<string, string?> { ["WATCHDOG_USEC"] = "2000000", ["NOTIFY_SOCKET"] = path };
        var previous = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", path);
        try
        {
            using var watchdog = new SystemdWatchdog(TimeProvider.System, NullLogger<SystemdWatchdog>.Instance, name => environment.GetValueOrDefault(name), () => new SystemdNotifier());
            await watchdog.StartAsync(CancellationToken.None);
            var buffer = new byte[256];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            await watchdog.StopAsync(CancellationToken.None);

            Assert.Equal("WATCHDOG=1", Encoding.ASCII.GetString(buffer, 0, received));
        }
        finally
        {
            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", previous);
            File.Delete(path);
        }
    }
}
