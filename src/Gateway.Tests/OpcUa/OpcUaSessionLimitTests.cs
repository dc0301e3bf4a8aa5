using System.Diagnostics;
using Gateway.Cli;
using Gateway.Tests.Infrastructure;
using Xunit;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// <c>gateway opcua subscribe</c> as a real process against a node-opcua server that allows one session (as small PLCs
/// do): while it runs, another client is refused with BadTooManySessions (exit 3); a SIGTERM closes its session on the
/// server, so that the next client gets the one session at once instead of after the session timeout.
/// </summary>
public sealed class OpcUaSessionLimitTests
{
    private static Process StartSubscribe(string url)
    {
        var info = new ProcessStartInfo("dotnet", [GatewayProcess.GatewayDll, "opcua", "subscribe", url, "ns=1;s=Machine1.Temperature", "--interval", "100"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return Process.Start(info)!;
    }

    private static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        await kill.WaitForExitAsync();
    }

    [Fact]
    public async Task Subscribe_SigTerm_ClosesItsSessionSoTheNextClientIsAcceptedAtOnce()
    {
        await using var server = await NodeOpcUaServer.StartAsync("--max-sessions", "1");
        using var subscribe = StartSubscribe(server.Url);
        var stderr = subscribe.StandardError.ReadToEndAsync();
        try
        {
            // The first value means the session (the only one the server allows) is active.
            using var first = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var line = await subscribe.StandardOutput.ReadLineAsync(first.Token);
            Assert.True(line is not null && line.Contains("Machine1.Temperature =", StringComparison.Ordinal), $"first line: {line}; stderr: {(subscribe.HasExited ? await stderr : "")}");
            _ = subscribe.StandardOutput.ReadToEndAsync();

            var (refusedExit, _, refusedError) = await GatewayProcess.RunVerbAsync("opcua", "read", server.Url, "i=2259");
            Assert.Equal(ExitCodes.PeerUnreachable, refusedExit);
            Assert.Contains("BadTooManySessions", refusedError, StringComparison.Ordinal);

            await SignalAsync(subscribe, "TERM");
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await subscribe.WaitForExitAsync(exit.Token);

            var (exitCode, stdout, error) = await GatewayProcess.RunVerbAsync("opcua", "read", server.Url, "i=2259");
            Assert.True(exitCode == ExitCodes.Success, $"read after SIGTERM exited {exitCode}: {error}; subscribe's stderr: {await stderr}");
            Assert.Contains("i=2259", stdout, StringComparison.Ordinal);
        }
        finally
        {
            if (!subscribe.HasExited)
            {
                subscribe.Kill();
            }
        }
    }
}
