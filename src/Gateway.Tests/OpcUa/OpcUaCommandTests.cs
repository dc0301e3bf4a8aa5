using System.CommandLine;
using Gateway.Cli;
using Xunit;

namespace Gateway.Tests.OpcUa;

public sealed class OpcUaCommandTests(NodeOpcUaServerFixture fixture) : IClassFixture<NodeOpcUaServerFixture>
{
    private static Task<int> RunAsync(params string[] args)
    {
        var root = new RootCommand("test");
        foreach (var command in CliCommands.Extra())
        {
            root.Subcommands.Add(command);
        }

        return CliRunner.InvokeAsync(root, args);
    }

    [Theory]
    [InlineData("Basic128Rsa15", "SignAndEncrypt")]
    [InlineData("None", "Sign")]
    [InlineData("Basic256Sha256", "None")]
    public async Task Read_UnknownPolicyOrInconsistentMode_IsAUsageError(string policy, string mode)
    {
        var exit = await RunAsync("opcua", "read", fixture.Server.Url, "i=2259", "--security", policy, "--mode", mode);

        Assert.Equal(ExitCodes.UsageOrConfiguration, exit);
    }

    [Fact]
    public async Task Read_UserWithoutPasswordFile_IsAUsageError()
    {
        var exit = await RunAsync("opcua", "read", fixture.Server.Url, "i=2259", "--user", "gwuser");

        Assert.Equal(ExitCodes.UsageOrConfiguration, exit);
    }

    [Fact]
    public async Task Read_NobodyListening_ExitsPeerUnreachable()
    {
        var exit = await RunAsync("opcua", "read", "opc.tcp://127.0.0.1:1", "i=2259");

        Assert.Equal(ExitCodes.PeerUnreachable, exit);
    }

    [Fact]
    public async Task Read_WrongPassword_ExitsPeerRefused()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "wrong\n");
        try
        {
            var exit = await RunAsync("opcua", "read", fixture.Server.Url, "i=2259", "--user", "gwuser", "--password-file", file);

            Assert.Equal(ExitCodes.PeerUnreachable, exit);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ReadBrowseSubscribe_AgainstServer_Succeed()
    {
        var read = await RunAsync("opcua", "read", fixture.Server.Url, "ns=1;s=Machine1.Temperature", "/Objects/1:Machine1/1:State", "ns=1;i=1001");
        var browse = await RunAsync("opcua", "browse", fixture.Server.Url, "--node", "/Objects/1:Machine1", "--depth", "1", "--json");
        var subscribe = await RunAsync("opcua", "subscribe", fixture.Server.Url, "ns=1;s=Machine1.Temperature", "--interval", "100", "--count", "3");

        Assert.Equal(ExitCodes.Success, read);
        Assert.Equal(ExitCodes.Success, browse);
        Assert.Equal(ExitCodes.Success, subscribe);
    }

    [Fact]
    public async Task Read_UnknownNode_ExitsRuntimeFailure()
    {
        var exit = await RunAsync("opcua", "read", fixture.Server.Url, "ns=1;s=Does.Not.Exist");

        Assert.Equal(ExitCodes.RuntimeFailure, exit);
    }
}
