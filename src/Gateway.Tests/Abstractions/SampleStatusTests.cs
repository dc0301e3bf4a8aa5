using Gateway.Drivers;

namespace Gateway.Tests.Abstractions;

public sealed class SampleStatusTests
{
    [Fact]
    public void Describe_KnownCode_GivesNameAndHexCode()
    {
        Assert.Equal("BadSensorFailure (0x808C0000)", SampleStatus.Describe(SampleStatus.BadSensorFailure));
    }

    [Fact]
    public void Name_IgnoresTheInfoBits_AndFallsBackToHexForUnknownCodes()
    {
        Assert.Equal("BadNoCommunication", SampleStatus.Name(SampleStatus.BadNoCommunication | 0x0400));
        Assert.Equal("0x80FF0000", SampleStatus.Name(0x80FF0000));
        Assert.Equal("0x80FF0000", SampleStatus.Describe(0x80FF0000));
    }

    [Fact]
    public void DriverStatusCodes_AreTheTablesCodes()
    {
        Assert.Equal(SampleStatus.BadSensorFailure, Gateway.Drivers.Gpio.AnalogSignal.BadSensorFailure);
        Assert.Equal(SampleStatus.BadDeviceFailure, Gateway.Drivers.Modbus.ModbusStatusCodes.BadDeviceFailure);
        Assert.Equal(0x808C0000u, SampleStatus.BadSensorFailure);
        Assert.Equal(SampleStatus.BadNotFound, Gateway.Drivers.S7.S7StatusCodes.BadNotFound);
        Assert.Equal(SampleStatus.BadDataEncodingInvalid, Gateway.Drivers.S7.S7StatusCodes.BadDataEncodingInvalid);
    }

    [Fact]
    public void TheCodesS7Emits_HaveTheirNames()
    {
        Assert.Equal("BadNotFound (0x803E0000)", SampleStatus.Describe(Gateway.Drivers.S7.S7StatusCodes.BadNotFound));
        Assert.Equal("BadDataEncodingInvalid", SampleStatus.Name(Gateway.Drivers.S7.S7StatusCodes.BadDataEncodingInvalid));
    }

    [Fact]
    public void Describe_IsCachedPerCode_WithTheInfoBitsInTheText()
    {
        Assert.Same(SampleStatus.Describe(SampleStatus.BadTimeout), SampleStatus.Describe(SampleStatus.BadTimeout));
        Assert.Equal("BadTimeout (0x800A0400)", SampleStatus.Describe(SampleStatus.BadTimeout | 0x0400));
        Assert.Equal("BadTimeout (0x800A0000)", SampleStatus.Describe(SampleStatus.BadTimeout));
    }
}
