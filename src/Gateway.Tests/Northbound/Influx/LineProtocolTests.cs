using System.Text;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound.Influx;

namespace Gateway.Tests.Northbound.Influx;

public sealed class LineProtocolTests
{
    private static readonly DateTimeOffset s_t = new(2026, 12, 3, 6, 0, 0, 123, TimeSpan.Zero);

    [Fact]
    public void Append_AnArray_IsAStringFieldWithItsJson()
    {
        var protocol = new LineProtocol(new GatewayIdentity { Id = "gw", Enterprise = "acme", Site = "lyon", Area = "a", Line = "l" });
        var line = new StringBuilder();

        Assert.True(protocol.Append(line, Sample.Good(new TagInfo("press", "profile"), s_t, s_t, SampleValue.FromArray(SampleArray.Of([0.1f, 22.1f])))));

        Assert.Equal("press,enterprise=acme,site=lyon,area=a,line=l profile=\"[0.1,22.1]\" 1796277600123000000", line.ToString());
    }

    [Fact]
    public void Append_AStructure_IsAStringFieldWithItsJsonEscaped()
    {
        var protocol = new LineProtocol(new GatewayIdentity { Id = "gw", Enterprise = "acme", Site = "lyon", Area = "a", Line = "l" });
        var line = new StringBuilder();
        var motor = new SampleStructure("MotorData", ["Name", "Speed"], [SampleValue.FromString("M1"), SampleValue.FromFloat(22.1f)]);

        Assert.True(protocol.Append(line, Sample.Good(new TagInfo("press", "motor"), s_t, s_t, SampleValue.FromStructure(motor))));

        Assert.Equal("press,enterprise=acme,site=lyon,area=a,line=l motor=\"{\\\"Name\\\":\\\"M1\\\",\\\"Speed\\\":22.1}\" 1796277600123000000", line.ToString());
    }
}
