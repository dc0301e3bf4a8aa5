using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Deploy;

/// <summary>The gateway as systemd runs it (Type=notify, WatchdogSec=, journald), with a real notify socket.</summary>
public sealed class SystemdServiceTests
{
    [Theory]
    [InlineData("4242", null, null, true)]
    [InlineData("4243", "abc", "/run/systemd/notify", false)]
    [InlineData(null, "abc", "/run/systemd/notify", true)]
    [InlineData(null, null, "/run/systemd/notify", false)]
    [InlineData(null, "abc", null, false)]
    public void IsStartedBySystemd_TrustsSystemdExecPidOrInvocationIdWithNotifySocket(string? execPid, string? invocationId, string? notifySocket, bool expected)
    {
        var environment = new Dictionary<string, string?> { ["SYSTEMD_EXEC_PID"] = execPid, ["INVOCATION_ID"] = invocationId, ["NOTIFY_SOCKET"] = notifySocket };

        Assert.Equal(expected, SystemdIntegration.IsStartedBySystemd(name => environment.GetValueOrDefault(name), 4242));
    }

    [Fact]
    public async Task Run_UnderSystemdNotify_SendsReadyWatchdogAndStoppingAndLogsJournalPriorities()
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", 1000);
        config.Root["mqtt"]!["port"] = PortAllocator.FreeTcpPort();
        var socketPath = Path.Combine(config.Directory, "notify.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        var info = new ProcessStartInfo("dotnet", [GatewayProcess.GatewayDll, "run", "--config", config.Write()])
        {
            WorkingDirectory = config.Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["NOTIFY_SOCKET"] = socketPath;
        info.Environment["INVOCATION_ID"] = Guid.NewGuid().ToString("N");
        info.Environment["WATCHDOG_USEC"] = "2000000";
        info.Environment.Remove("Logging__Console__FormatterName");

        using var process = Process.Start(info)!;
        var stdout = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (stdout) { stdout.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var messages = new List<string>();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var buffer = new byte[512];
            while (!(messages.Contains("READY=1") && messages.Count(m => m == "WATCHDOG=1") >= 2))
            {
                var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                messages.Add(Encoding.ASCII.GetString(buffer, 0, received));
            }

            // systemctl stop: SIGTERM.
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(timeout.Token);
            }

            while (!messages.Contains("STOPPING=1"))
            {
                var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                messages.Add(Encoding.ASCII.GetString(buffer, 0, received));
            }

            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        Assert.Equal(0, process.ExitCode);
        string output;
        lock (stdout)
        {
            output = stdout.ToString();
        }

        // The systemd console formatter: "<6>" is informational for journald, one line per entry.
        Assert.Contains("<6>Microsoft.Hosting.Lifetime", output, StringComparison.Ordinal);
        Assert.DoesNotContain("info: ", output, StringComparison.Ordinal);
    }
}
