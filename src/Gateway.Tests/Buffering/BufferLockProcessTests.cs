using System.Diagnostics;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;

namespace Gateway.Tests.Buffering;

/// <summary>Issue 13: two gateways started on one buffer shared it silently. The second is now refused.</summary>
[Collection(nameof(ProcessTests))]
public sealed class BufferLockProcessTests
{
    [Fact]
    public async Task SecondGateway_OnTheSameBuffer_ExitsAtStart_WithOneLineNamingTheFirstsPid()
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 100);
        config.Root["mqtt"]!["port"] = PortAllocator.FreeTcpPort();
        await using var first = new GatewayProcess(config.Write(), config.HttpPort);
        await first.StartAsync();
        var owner = (await ReadWithoutLockingAsync(config.BufferPath + ".lock")).Trim();

        using var second = new TestConfig().WithSimulatedMachine("m1", cycleMs: 100);
        second.Root["buffer"]!["path"] = config.BufferPath;
        second.Root["mqtt"]!["port"] = PortAllocator.FreeTcpPort();
        second.Write();
        var (exitCode, stdout, stderr) = await GatewayProcess.RunVerbInAsync(second.Directory, null, "run", "--config", second.FilePath);

        Assert.Equal(1, exitCode);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"gateway: cannot start: the buffer {config.BufferPath} is in use by another gateway (PID {owner}); stop it or give this one its own buffer.path", line);
        Assert.False(first.HasExited);
        Assert.True(int.Parse(owner, System.Globalization.CultureInfo.InvariantCulture) > 0);

        // Once the first is gone (even by kill -9, the kernel drops the lock), the buffer is free again.
        await first.KillAsync();
        await using var third = new GatewayProcess(config.FilePath, config.HttpPort);
        await third.StartAsync();
        Assert.False(third.HasExited);
    }

    /// <summary>cat does not take the flock .NET's file APIs would ask for (which the owner's exclusive lock refuses).</summary>
    private static async Task<string> ReadWithoutLockingAsync(string path)
    {
        using var cat = Process.Start(new ProcessStartInfo("cat", [path]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var text = await cat.StandardOutput.ReadToEndAsync();
        await cat.WaitForExitAsync();
        return text;
    }
}
