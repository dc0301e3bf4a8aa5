using System.Diagnostics;

namespace Gateway.Tests.Deploy;

/// <summary>
/// <c>deploy/install.sh --dry-run</c>: prints every step and changes nothing. Run with the target paths under a temporary
/// root (<c>GATEWAY_INSTALL_ROOT</c>) and every command that changes a system replaced by a stub that records its call,
/// so that a broken dry run shows up as recorded calls or files, never as changes to this machine.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class InstallScriptTests : IDisposable
{
    private static readonly string[] s_changingCommands =
        ["groupadd", "useradd", "usermod", "udevadm", "systemctl", "runuser", "install", "chown", "chmod", "dotnet", "cp", "mv", "rm", "ln", "mkdir"];

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("gw-install-");

    [Fact]
    public async Task DryRun_PrintsEveryStep_AndChangesNothing()
    {
        var (exitCode, stdout, stderr, calls, targetRoot) = await RunAsync("--dry-run", "--config", "agro-food-packaging", "--arch", "arm64");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Empty(calls);
        Assert.Empty(Directory.EnumerateFileSystemEntries(targetRoot));
        Assert.StartsWith("install.sh --dry-run: nothing is changed", stdout, StringComparison.Ordinal);
        Assert.Contains("would run: dotnet publish ", stdout, StringComparison.Ordinal);
        Assert.Contains("-r linux-arm64 --self-contained", stdout, StringComparison.Ordinal);
        // A machine that already has a 'gateway' user would be given the groups instead.
        Assert.True(stdout.Contains("would run: useradd --system --user-group", StringComparison.Ordinal) || stdout.Contains("would run: usermod --append --groups gpio,i2c,dialout gateway", StringComparison.Ordinal), stdout);
        Assert.Contains($"would write {targetRoot}/etc/udev/rules.d/60-gateway-devices.rules:", stdout, StringComparison.Ordinal);
        Assert.Contains($"config/examples/agro-food-packaging.json {targetRoot}/etc/gateway/gateway.json", stdout, StringComparison.Ordinal);
        Assert.Contains($"would run: install -m 0644 {RepositoryRoot()}/deploy/systemd/gateway.service {targetRoot}/etc/systemd/system/gateway.service", stdout, StringComparison.Ordinal);
        Assert.EndsWith("Dry run: nothing was changed.\n", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRun_UnknownConfig_FailsWithExit2_BeforeAnyStep()
    {
        var (exitCode, stdout, stderr, calls, _) = await RunAsync("--dry-run", "--config", "no-such-sector", "--arch", "x64");

        Assert.Equal(2, exitCode);
        Assert.Contains("install.sh: no configuration 'no-such-sector'; examples:", stderr, StringComparison.Ordinal);
        // Only the publish (printed) comes before the configuration is resolved: no user, file or unit step.
        Assert.DoesNotContain("would run: useradd", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("would run: install", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("would write", stdout, StringComparison.Ordinal);
        Assert.Empty(calls);
    }

    public void Dispose() => _work.Delete(recursive: true);

    private async Task<(int ExitCode, string Stdout, string Stderr, string[] Calls, string TargetRoot)> RunAsync(params string[] args)
    {
        var stubs = _work.CreateSubdirectory("stubs").FullName;
        var targetRoot = _work.CreateSubdirectory("root").FullName;
        var callLog = Path.Combine(_work.FullName, "calls");
        foreach (var command in s_changingCommands)
        {
            var stub = Path.Combine(stubs, command);
            await File.WriteAllTextAsync(stub, $"#!/bin/sh\necho \"{command} $*\" >> '{callLog}'\n");
            File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var info = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "deploy", "install.sh"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["PATH"] = stubs + ":" + Environment.GetEnvironmentVariable("PATH");
        info.Environment["GATEWAY_INSTALL_ROOT"] = targetRoot;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var calls = File.Exists(callLog) ? await File.ReadAllLinesAsync(callLog) : [];
        return (process.ExitCode, await stdout, await stderr, calls, targetRoot);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}
