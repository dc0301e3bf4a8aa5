using System.Diagnostics;

namespace Gateway.Tests.Deploy;

/// <summary>Runs alone: a self-contained publish takes both cores for a while and would slow timing-sensitive integration tests.</summary>
[CollectionDefinition(nameof(Arm64CheckTests), DisableParallelization = true)]
public sealed class Arm64CheckCollection;

/// <summary>
/// The linux-arm64 self-contained build starts and validates configurations under qemu-user
/// (tests/arm64/check.sh; test.sh installs qemu-user-static and the arm64 cross libraries). Takes a minute or more.
/// </summary>
[Collection(nameof(Arm64CheckTests))]
public sealed class Arm64CheckTests
{
    [Fact]
    public async Task Arm64Build_UnderQemu_CheckConfigExitsZeroOnGoodAndTwoOnBad()
    {
        var repository = FindRepository();
        var info = new ProcessStartInfo("bash", [Path.Combine(repository, "tests", "arm64", "check.sh")])
        {
            WorkingDirectory = repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("arm64 check: OK", output, StringComparison.Ordinal);
    }

    private static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the repository (Gateway.sln) is not above " + AppContext.BaseDirectory);
    }
}
