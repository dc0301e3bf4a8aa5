using System.Text.Json.Nodes;
using Gateway.Cli;
using Gateway.Discovery;
using Gateway.Drivers.Modbus;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.OpcUa;

namespace Gateway.Tests.Cli;

/// <summary>Issue 16: the tags[] fragments of <c>--emit-tags</c>.</summary>
public sealed class TagEmitterTests(NodeOpcUaServerFixture fixture) : IClassFixture<NodeOpcUaServerFixture>
{
    private static OpcUaBrowser.TreeNode Node(string id, string name, string nodeClass, string? type = null, params OpcUaBrowser.TreeNode[] children) =>
        new(id, name, nodeClass, type, [.. children]);

    [Fact]
    public void OpcUa_ProposesPathAndNameFromTheBrowsePath_TypeFromTheDataType_AndSkipsStandardNodesAndProperties()
    {
        var tree = Node("i=85", "Objects", "Object", null,
            Node("i=2253", "Server", "Object", null, Node("i=2256", "ServerStatus", "Variable", "ServerStatusDataType")),
            Node("ns=1;s=Line", "1:Line 1", "Object", null,
                Node("ns=1;s=Line.Speed", "1:Speed", "Variable", "Double", Node("ns=1;s=Line.Speed.EURange", "EURange", "Variable", "Range")),
                Node("ns=1;s=Line.Count", "1:Part Count", "Variable", "UInt32"),
                Node("ns=1;s=Line.When", "1:When", "Variable", "DateTime")));

        var tags = TagEmitter.OpcUa(tree);

        Assert.Equal(["line-1/speed", "line-1/part-count", "line-1/when"], tags.Select(t => t["path"]!.GetValue<string>()));
        Assert.Equal("line-1.speed", tags[0]["name"]!.GetValue<string>());
        Assert.Equal("ns=1;s=Line.Speed", tags[0]["address"]!.GetValue<string>());
        Assert.Equal("float64", tags[0]["type"]!.GetValue<string>());
        Assert.Equal("uint32", tags[1]["type"]!.GetValue<string>());
        Assert.Null(tags[2]["type"]); // DateTime: no tag type names it, the driver reads it as it comes
    }

    [Fact]
    public void OpcUa_TwoNodesWithTheSamePath_GetDistinctPaths()
    {
        var tree = Node("i=85", "Objects", "Object", null,
            Node("ns=1;s=A", "1:Temp", "Variable", "Double"),
            Node("ns=2;s=A", "2:Temp", "Variable", "Double"));

        var tags = TagEmitter.OpcUa(tree);

        Assert.Equal(["temp", "temp-2"], tags.Select(t => t["path"]!.GetValue<string>()));
    }

    [Fact]
    public void Modbus_MultiRegisterValue_CarriesItsOrder_And16BitValuesDoNot()
    {
        var pair = TagEmitter.Modbus(ModbusTable.InputRegister, 10, ModbusDataType.Float32, ModbusWordOrder.DCBA);
        var single = TagEmitter.Modbus(ModbusTable.HoldingRegister, 3, ModbusDataType.Int16, ModbusWordOrder.CDAB);

        Assert.Equal("input:10", pair["address"]!.GetValue<string>());
        Assert.Equal("DCBA", pair["order"]!.GetValue<string>());
        Assert.Null(single["order"]);
        Assert.Equal("holding-3", single["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpcUaBrowseEmitTags_AgainstNodeOpcUa_PrintsAFragmentThatCheckConfigAccepts()
    {
        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("opcua", "browse", fixture.Server.Url, "--node", "/Objects/1:Machine1", "--depth", "2", "--emit-tags");

        Assert.True(exit == 0, stderr);
        var tags = JsonNode.Parse(stdout)!.AsArray();
        var temperature = tags.Single(t => t!["address"]!.GetValue<string>() == "ns=1;s=Machine1.Temperature")!;
        Assert.Equal("temperature", temperature["path"]!.GetValue<string>());
        Assert.Equal("float64", temperature["type"]!.GetValue<string>());
        Assert.Equal("uint32", tags.Single(t => t!["address"]!.GetValue<string>() == "ns=1;s=Machine1.PartCount")!["type"]!.GetValue<string>());

        using var config = new TestConfig();
        config.Root["drivers"]!.AsArray().Add(new JsonObject { ["name"] = "ua", ["type"] = "opcua", ["endpointUrl"] = fixture.Server.Url, ["machine"] = "machine1", ["tags"] = tags.DeepClone() });
        var (checkExit, _, checkErrors) = await GatewayProcess.RunVerbAsync("check-config", config.Write());
        Assert.True(checkExit == 0, checkErrors);
    }
}
