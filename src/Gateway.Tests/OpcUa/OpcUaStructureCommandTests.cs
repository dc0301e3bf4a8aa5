using Gateway.Cli;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// <c>gateway opcua read</c> and <c>subscribe</c> print node-opcua's custom structures decoded, as the same JSON object
/// as UNS, with the type's name: from the DataTypeDefinition, and from the DataTypeDictionary of a server without it.
/// </summary>
public sealed class OpcUaStructureCommandTests
{
    private const string Fixed = "\"Torque\":-1234,\"Label\":\"Motor 1\",\"Running\":true,\"Mode\":2,\"Position\":{\"X\":1.5,\"Y\":-2.25},\"Profile\":[0.1,22.1,-0.5],\"Note\":\"checked\"}";

    [Fact]
    public async Task Read_Structures_PrintsTheJsonObjectsWithTheTypeName()
    {
        await using var server = await NodeOpcUaServer.StartAsync("--big", "10");

        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("opcua", "read", server.Url, "ns=1;s=Structures.Position", "ns=1;s=Structures.Motor", "ns=1;s=Structures.Motors");

        Assert.True(exit == ExitCodes.Success, stderr);
        Assert.Contains("ns=1;s=Structures.Position = {\"X\":3,\"Y\":4} (Position) Good", stdout, StringComparison.Ordinal);
        Assert.Matches("ns=1;s=Structures.Motor = \\{\"Speed\":[0-9.]+," + System.Text.RegularExpressions.Regex.Escape(Fixed) + " \\(MotorData\\) Good", stdout);
        Assert.Contains("\"Label\":\"Motor 3\",", stdout, StringComparison.Ordinal);
        Assert.Contains("}] (MotorData[]) Good", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("ExtensionObject(", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subscribe_StructureOfAServerWithoutDataTypeDefinition_PrintsItDecodedFromTheDictionary()
    {
        await using var server = await NodeOpcUaServer.StartAsync("--big", "10", "--legacy-structures");

        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("opcua", "subscribe", server.Url, "ns=1;s=Structures.Motor", "--interval", "200", "--count", "1");

        Assert.True(exit == ExitCodes.Success, stderr);
        Assert.Matches("ns=1;s=Structures.Motor = \\{\"Speed\":[0-9.]+," + System.Text.RegularExpressions.Regex.Escape(Fixed) + " \\(MotorData\\) Good", stdout);
    }
}
