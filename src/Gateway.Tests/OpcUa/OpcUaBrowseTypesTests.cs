using Gateway.Cli;
using Gateway.Discovery;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.OpcUa;

/// <summary><c>opcua browse</c> marks arrays with their dimensions (a matrix without ArrayDimensions as [,]) and structures, against node-opcua.</summary>
public sealed class OpcUaBrowseTypesTests(NodeOpcUaServerFixture fixture) : IClassFixture<NodeOpcUaServerFixture>
{
    [Fact]
    public async Task Browse_ArraysFolder_PrintsTheElementTypeWithTheArrayDimensions()
    {
        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("opcua", "browse", fixture.Server.Url, "--node", "/Objects/1:Arrays", "--depth", "1");

        Assert.True(exit == 0, stderr);
        Assert.Contains("ns=1;s=Arrays.Float1000  1:Float1000  Variable  Float[1000]", stdout, StringComparison.Ordinal);
        Assert.Contains("ns=1;s=Arrays.Int32x10  1:Int32x10  Variable  Int32[10]", stdout, StringComparison.Ordinal);
        Assert.Contains("ns=1;s=Arrays.Boolean8  1:Boolean8  Variable  Boolean[8]", stdout, StringComparison.Ordinal);
        Assert.Contains("ns=1;s=Arrays.String3  1:String3  Variable  String[3]", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Browse_TypesFolder_MarksArraysMatricesAndStructures()
    {
        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("opcua", "browse", fixture.Server.Url, "--node", "/Objects/1:Types", "--depth", "1");

        Assert.True(exit == 0, stderr);
        Assert.Contains("1:Double  Variable  Double\n", stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("1:DoubleArray  Variable  Double[]", stdout, StringComparison.Ordinal);
        Assert.Contains("1:DoubleMatrix  Variable  Double[,]", stdout, StringComparison.Ordinal);
        Assert.Contains("1:ExtensionObject  Variable  Structure", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Browse_StructuresFolder_MarksTheCustomStructureDataTypes()
    {
        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("opcua", "browse", fixture.Server.Url, "--node", "/Objects/1:Structures", "--depth", "1");

        Assert.True(exit == 0, stderr);
        Assert.Contains("ns=1;s=Structures.Motor  1:Motor  Variable  2:MotorData (structure)", stdout, StringComparison.Ordinal);
        Assert.Contains("ns=1;s=Structures.Position  1:Position  Variable  2:Position (structure)", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, null, "")]
    [InlineData(1, null, "[]")]
    [InlineData(1, new uint[] { 1000 }, "[1000]")]
    [InlineData(2, new uint[] { 2, 3 }, "[2,3]")]
    [InlineData(2, null, "[,]")]
    [InlineData(1, new uint[] { 0 }, "[]")]
    [InlineData(-2, null, "[…]")]
    public void ArrayMark_ValueRankAndDimensions(int valueRank, uint[]? dimensions, string expected)
    {
        Assert.Equal(expected, OpcUaBrowser.ArrayMark(valueRank, dimensions));
    }
}
