using Gateway.Cli;
using Xunit;

namespace Gateway.Tests.S7;

/// <summary><c>gateway s7 read</c> against the snap7 server.</summary>
public sealed class S7CommandTests(Snap7Fixture peer) : IClassFixture<Snap7Fixture>
{
    private static async Task<(int Exit, string Output, string Error)> ReadAsync(S7Commands.ReadOptions options)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await S7Commands.ReadAsync(options, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Read_SeveralAddresses_PrintsOneLineEachInTheGivenOrder()
    {
        var (exit, output, error) = await ReadAsync(new S7Commands.ReadOptions([$"127.0.0.1:{peer.Port}", "DB1.DBD14", "DB1.DBX0.0", "DB1.STRING26.20", "MW20", "T0"], Slot: 1, Type: null));

        Assert.True(exit == 0, error);
        Assert.Equal(
            ["DB1.DBD14 dword = 1102105805", "DB1.DBX0.0 bool = 1", "DB1.STRING26.20 string = Hello S7", "MW20 word = 4242", "T0 timer = 10000"],
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Read_WithType_ReadsEveryAddressAsThatType()
    {
        var (exit, output, _) = await ReadAsync(new S7Commands.ReadOptions([$"127.0.0.1:{peer.Port}", "DB1.DBD14", "MD24"], Slot: 1, Type: "real"));

        Assert.Equal(0, exit);
        Assert.Equal(["DB1.DBD14 real = 22.1", "MD24 real = 1.5"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Read_MissingDb_Exits1AndSaysWhatToChange()
    {
        var (exit, _, error) = await ReadAsync(new S7Commands.ReadOptions([$"127.0.0.1:{peer.Port}", "DB42.DBW0"], Slot: 1));

        Assert.Equal(1, exit);
        Assert.Contains("BadNotFound", error, StringComparison.Ordinal);
        Assert.Contains("Optimized block access", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_NothingListening_Exits3()
    {
        var port = Infrastructure.PortAllocator.FreeTcpPort();

        var (exit, _, error) = await ReadAsync(new S7Commands.ReadOptions([$"127.0.0.1:{port}", "MW0"], Slot: 1, TimeoutMs: 1000));

        Assert.Equal(3, exit);
        Assert.Contains($"127.0.0.1:{port}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_MalformedAddress_Exits2WithTheForms()
    {
        var (exit, _, error) = await ReadAsync(new S7Commands.ReadOptions([$"127.0.0.1:{peer.Port}", "DB1.W4"], Slot: 1));

        Assert.Equal(2, exit);
        Assert.Contains("DB1.DBW4", error, StringComparison.Ordinal);
    }
}
