using Gateway.Drivers;
using Gateway.Drivers.Modbus;

using Xunit;

namespace Gateway.Tests.Modbus;

/// <summary>PDU and frame encoding against the worked examples of the specifications.</summary>
public sealed class ModbusProtocolTests
{
    [Fact]
    public void Crc_OfReadHoldingRequest_IsC5CDLowByteFirst()
    {
        var crc = ModbusCrc.Compute([0x01, 0x03, 0x00, 0x00, 0x00, 0x0A]);

        Assert.Equal(0xCDC5, crc);
        Assert.True(ModbusCrc.Check([0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]));
    }

    [Fact]
    public void Crc_OfSerialLineSpecificationExample_Is1241()
    {
        // Modbus over Serial Line v1.02, appendix B: CRC of 0x02 0x07 is 0x1241, sent 0x41 then 0x12.
        Assert.Equal(0x1241, ModbusCrc.Compute([0x02, 0x07]));
        Assert.False(ModbusCrc.Check([0x02, 0x07, 0x12, 0x41]));
    }

    [Theory]
    [InlineData(ModbusTable.Coil, 19, 19, new byte[] { 0x01, 0x00, 0x13, 0x00, 0x13 })]
    [InlineData(ModbusTable.DiscreteInput, 196, 22, new byte[] { 0x02, 0x00, 0xC4, 0x00, 0x16 })]
    [InlineData(ModbusTable.HoldingRegister, 107, 3, new byte[] { 0x03, 0x00, 0x6B, 0x00, 0x03 })]
    [InlineData(ModbusTable.InputRegister, 8, 1, new byte[] { 0x04, 0x00, 0x08, 0x00, 0x01 })]
    public void ReadRequest_EncodesSpecificationExample(ModbusTable table, int start, int count, byte[] expected)
    {
        var pdu = new byte[5];

        ModbusPdu.WriteReadRequest(pdu, table, (ushort)start, (ushort)count);

        Assert.Equal(expected, pdu);
    }

    [Fact]
    public void WriteRequests_EncodeSpecificationExamples()
    {
        var pdu = new byte[32];
        Assert.Equal(5, ModbusPdu.WriteSingleCoilRequest(pdu, 172, true));
        Assert.Equal(new byte[] { 0x05, 0x00, 0xAC, 0xFF, 0x00 }, pdu[..5]);

        Assert.Equal(5, ModbusPdu.WriteSingleRegisterRequest(pdu, 1, 3));
        Assert.Equal(new byte[] { 0x06, 0x00, 0x01, 0x00, 0x03 }, pdu[..5]);

        bool[] coils = [true, false, true, true, false, false, true, true, true, false];
        Assert.Equal(8, ModbusPdu.WriteMultipleCoilsRequest(pdu, 19, coils));
        Assert.Equal(new byte[] { 0x0F, 0x00, 0x13, 0x00, 0x0A, 0x02, 0xCD, 0x01 }, pdu[..8]);

        Assert.Equal(10, ModbusPdu.WriteMultipleRegistersRequest(pdu, 1, [0x000A, 0x0102]));
        Assert.Equal(new byte[] { 0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02 }, pdu[..10]);
    }

    [Fact]
    public void CheckResponse_ReadCoilsExample_IsOkAndUnpacksLeastSignificantBitFirst()
    {
        byte[] request = [0x01, 0x00, 0x13, 0x00, 0x13];
        byte[] response = [0x01, 0x03, 0xCD, 0x6B, 0x05];

        var status = ModbusPdu.CheckResponse(request, response, out _, out _);
        var bits = new bool[19];
        ModbusPdu.UnpackBits(response.AsSpan(2), bits);

        Assert.Equal(ModbusResponseStatus.Ok, status);
        Assert.Equal([true, false, true, true, false, false, true, true], bits[..8]); // coils 20-27 from 0xCD
        Assert.Equal([true, false, true], bits[16..]); // coils 36-38 from 0x05
    }

    [Fact]
    public void CheckResponse_ExceptionResponse_ReturnsTheCode()
    {
        var status = ModbusPdu.CheckResponse([0x03, 0x00, 0xC8, 0x00, 0x01], [0x83, 0x02], out var code, out _);

        Assert.Equal(ModbusResponseStatus.Exception, status);
        Assert.Equal(2, code);
    }

    [Theory]
    [InlineData(new byte[] { 0x03, 0x04, 0x00, 0x01 })] // byte count says 4, only 2 follow
    [InlineData(new byte[] { 0x03, 0x02, 0x00, 0x01 })] // two registers asked, one returned
    [InlineData(new byte[] { 0x04, 0x04, 0x00, 0x01, 0x00, 0x02 })] // wrong function code
    [InlineData(new byte[] { 0x83 })] // exception without its code
    [InlineData(new byte[] { })]
    public void CheckResponse_WhenMalformed_SaysSoWithoutThrowing(byte[] response)
    {
        var status = ModbusPdu.CheckResponse([0x03, 0x00, 0x00, 0x00, 0x02], response, out _, out var problem);

        Assert.Equal(ModbusResponseStatus.Malformed, status);
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Fact]
    public void CheckResponse_WriteEchoingAnotherValue_IsMalformed()
    {
        var status = ModbusPdu.CheckResponse([0x06, 0x00, 0x01, 0x00, 0x03], [0x06, 0x00, 0x01, 0x00, 0x04], out _, out _);

        Assert.Equal(ModbusResponseStatus.Malformed, status);
    }

    [Fact]
    public void ModbusException_CarriesCodeAndSpecificationName()
    {
        var exception = new ModbusException(ModbusFunctionCode.ReadHoldingRegisters, 2);

        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, exception.Code);
        Assert.Equal("illegal data address", exception.CodeName);
        Assert.Contains("illegal data address", exception.Message, StringComparison.Ordinal);
        Assert.Equal("gateway target device failed to respond", ModbusException.Name(0x0B));
    }

    [Fact]
    public void MbapHeader_RoundTripsAndRejectsForeignProtocol()
    {
        var bytes = new byte[7];
        new MbapHeader(0x1234, 0, 6, 17).Write(bytes);

        Assert.Equal(new byte[] { 0x12, 0x34, 0x00, 0x00, 0x00, 0x06, 0x11 }, bytes);
        Assert.True(MbapHeader.Read(bytes).IsValid);
        Assert.False(new MbapHeader(1, 1, 6, 1).IsValid);
        Assert.False(new MbapHeader(1, 0, 300, 1).IsValid);
    }

    [Fact]
    public void SilentInterval_IsThreeAndAHalfCharactersUpTo19200AndFixedAbove()
    {
        Assert.Equal(TimeSpan.FromMicroseconds(1750), ModbusRtuTransport.SilentInterval(38400));
        Assert.Equal(TimeSpan.FromMicroseconds(1750), ModbusRtuTransport.SilentInterval(115200));
        Assert.Equal(3.5 * 11 / 9600, ModbusRtuTransport.SilentInterval(9600).TotalSeconds, 6);
        Assert.Equal(3.5 * 11 / 19200, ModbusRtuTransport.SilentInterval(19200).TotalSeconds, 6);
        Assert.Equal(TimeSpan.Zero, ModbusRtuTransport.SilentInterval(0));
    }

    [Fact]
    public void ResponseLength_FindsTheEndOfRtuFramesFromTheFunctionCode()
    {
        Assert.Equal(0, ModbusPdu.ResponseLength([0x03]));
        Assert.Equal(6, ModbusPdu.ResponseLength([0x03, 0x04]));
        Assert.Equal(5, ModbusPdu.ResponseLength([0x10]));
        Assert.Equal(2, ModbusPdu.ResponseLength([0x83]));
        Assert.Equal(-1, ModbusPdu.ResponseLength([0x2B]));
    }
}

/// <summary>Typed values, word orders, scale and offset.</summary>
public sealed class ModbusValueTests
{
    // 123.456f is 0x42F6E979.
    [Theory]
    [InlineData(ModbusWordOrder.ABCD, 0x42F6, 0xE979)]
    [InlineData(ModbusWordOrder.CDAB, 0xE979, 0x42F6)]
    [InlineData(ModbusWordOrder.BADC, 0xF642, 0x79E9)]
    [InlineData(ModbusWordOrder.DCBA, 0x79E9, 0xF642)]
    public void Float32_InEachWordOrder_DecodesKnownRegisters(ModbusWordOrder order, int first, int second)
    {
        var value = ModbusValueCodec.Decode([(ushort)first, (ushort)second], new ModbusValueFormat(ModbusDataType.Float32, order));

        Assert.Equal(SampleValue.FromFloat(123.456f), value);
    }

    // 22.1f is 0x41B0CCCD, 123.456f 0x42F6E979, -0.1f 0xBDCCCCCD.
    [Theory]
    [InlineData(ModbusWordOrder.ABCD, 0x41B0, 0xCCCD, "22.1")]
    [InlineData(ModbusWordOrder.CDAB, 0xCCCD, 0x41B0, "22.1")]
    [InlineData(ModbusWordOrder.ABCD, 0x42F6, 0xE979, "123.456")]
    [InlineData(ModbusWordOrder.CDAB, 0xE979, 0x42F6, "123.456")]
    [InlineData(ModbusWordOrder.ABCD, 0xBDCC, 0xCCCD, "-0.1")]
    [InlineData(ModbusWordOrder.CDAB, 0xCCCD, 0xBDCC, "-0.1")]
    public void Float32_DecodesAsAFloatSample_WhoseTextIsTheShortestFloat32Form(ModbusWordOrder order, int first, int second, string text)
    {
        var value = ModbusValueCodec.Decode([(ushort)first, (ushort)second], new ModbusValueFormat(ModbusDataType.Float32, order));

        Assert.Equal(SampleValueKind.Float, value.Kind);
        Assert.Equal(float.Parse(text, System.Globalization.CultureInfo.InvariantCulture), value.AsFloat);
        Assert.Equal(text, value.ToString());
    }

    [Fact]
    public void Float32_WithScaleOrOffset_IsAComputedDouble_AndWithoutThemStaysFloat()
    {
        var raw = ModbusValueCodec.Decode([0x41B0, 0xCCCD], new ModbusValueFormat(ModbusDataType.Float32));

        Assert.Equal(SampleValueKind.Float, ModbusValueCodec.Scale(raw, 1, 0).Kind);
        Assert.Equal(SampleValueKind.Double, ModbusValueCodec.Scale(raw, 10, 0).Kind);
        Assert.Equal(SampleValueKind.Double, ModbusValueCodec.Scale(raw, 1, -2).Kind);
        Assert.Equal(221.0, ModbusValueCodec.Scale(raw, 10, 0).AsDouble, 4);
    }

    [Fact]
    public void Float32_EncodedFromAFloatSample_GivesTheSameRegisters()
    {
        var registers = new ushort[2];

        ModbusValueCodec.Encode(SampleValue.FromFloat(22.1f), new ModbusValueFormat(ModbusDataType.Float32, ModbusWordOrder.CDAB), registers);

        Assert.Equal(new ushort[] { 0xCCCD, 0x41B0 }, registers);
    }

    public static TheoryData<ModbusDataType, ModbusWordOrder, object> RoundTrips()
    {
        var data = new TheoryData<ModbusDataType, ModbusWordOrder, object>();
        foreach (var order in Enum.GetValues<ModbusWordOrder>())
        {
            data.Add(ModbusDataType.Int16, order, -1234L);
            data.Add(ModbusDataType.UInt16, order, 54321L);
            data.Add(ModbusDataType.Int32, order, -123456789L);
            data.Add(ModbusDataType.UInt32, order, 3000000000L);
            data.Add(ModbusDataType.Int64, order, -1234567890123L);
            data.Add(ModbusDataType.Float32, order, 0.15625f);
            data.Add(ModbusDataType.UInt64, order, ulong.MaxValue);
            data.Add(ModbusDataType.Float64, order, -9876.54321);
            data.Add(ModbusDataType.String, order, "GATEWAY-01");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public void EncodeThenDecode_EveryTypeAndOrder_GivesTheValueBack(ModbusDataType type, ModbusWordOrder order, object expected)
    {
        var value = expected switch
        {
            long l => SampleValue.FromInteger(l),
            ulong u => SampleValue.FromUnsignedInteger(u),
            float f => SampleValue.FromFloat(f),
            double d => SampleValue.FromDouble(d),
            _ => SampleValue.FromString((string)expected),
        };
        var format = new ModbusValueFormat(type, order, 10);
        var registers = new ushort[format.RegisterCount];

        ModbusValueCodec.Encode(value, format, registers);
        var decoded = ModbusValueCodec.Decode(registers, format);

        Assert.Equal(value, decoded);
    }

    [Fact]
    public void Int64_InCdabOrder_ReversesWordsOnly()
    {
        var registers = new ushort[4];

        ModbusValueCodec.Encode(SampleValue.FromInteger(0x0102030405060708), new ModbusValueFormat(ModbusDataType.Int64, ModbusWordOrder.CDAB), registers);

        Assert.Equal(new ushort[] { 0x0708, 0x0506, 0x0304, 0x0102 }, registers);
    }

    [Fact]
    public void String_HighByteFirst_StopsAtNulAndTrimsSpaces()
    {
        var value = ModbusValueCodec.Decode([0x4F4B, 0x2020, 0x0000], new ModbusValueFormat(ModbusDataType.String, StringLength: 6));

        Assert.Equal("OK", value.AsString);
    }

    [Fact]
    public void Bool_FromBitInRegister_ReadsThatBitOnly()
    {
        var format = new ModbusValueFormat(ModbusDataType.Bool);

        Assert.True(ModbusValueCodec.Decode([0x800A], format, 3).AsBoolean);
        Assert.False(ModbusValueCodec.Decode([0x800A], format, 2).AsBoolean);
        Assert.True(ModbusValueCodec.Decode([0x800A], format, 15).AsBoolean);
    }

    [Fact]
    public void Scale_AppliesRawTimesScalePlusOffset_AndUnscaleInvertsIt()
    {
        var engineering = ModbusValueCodec.Scale(SampleValue.FromInteger(225), 0.1, -2.5);

        Assert.Equal(20.0, engineering.AsDouble, 9);
        Assert.Equal(225.0, ModbusValueCodec.Unscale(engineering, 0.1, -2.5).AsDouble, 9);
        Assert.Equal(SampleValueKind.Integer, ModbusValueCodec.Scale(SampleValue.FromInteger(7), 1, 0).Kind);
    }

    [Fact]
    public void Encode_ValueOutOfTypeRange_ThrowsArgumentOutOfRange()
    {
        var registers = new ushort[1];

        Assert.Throws<ArgumentOutOfRangeException>(() => ModbusValueCodec.Encode(SampleValue.FromInteger(70000), new ModbusValueFormat(ModbusDataType.UInt16), registers));
    }

    [Theory]
    [InlineData("holding:100", ModbusTable.HoldingRegister, 100, -1)]
    [InlineData("input:3", ModbusTable.InputRegister, 3, -1)]
    [InlineData("coil:5", ModbusTable.Coil, 5, -1)]
    [InlineData("discrete:7", ModbusTable.DiscreteInput, 7, -1)]
    [InlineData("holding:20.3", ModbusTable.HoldingRegister, 20, 3)]
    public void Address_Parses(string text, ModbusTable table, int address, int bit)
    {
        Assert.True(ModbusAddress.TryParse(text, out var parsed, out _));
        Assert.Equal(new ModbusAddress(table, address, bit), parsed);
    }

    [Theory]
    [InlineData("holding")]
    [InlineData("register:5")]
    [InlineData("coil:5.1")]
    [InlineData("holding:20.16")]
    [InlineData("holding:-1")]
    [InlineData("holding:70000")]
    public void Address_WhenInvalid_ExplainsWhy(string text)
    {
        Assert.False(ModbusAddress.TryParse(text, out _, out var error));
        Assert.Contains(text, error, StringComparison.Ordinal);
    }
}

/// <summary>Coalescing tags into requests.</summary>
public sealed class ModbusBlockPlannerTests
{
    [Fact]
    public void Plan_ThousandContiguousRegisters_NeedsEightRequests()
    {
        var items = Enumerable.Range(0, 1000).Select(i => new ModbusRange(ModbusTable.HoldingRegister, i, 1)).ToList();

        var blocks = ModbusBlockPlanner.Plan(items, maxGap: 10);

        Assert.Equal(8, blocks.Count);
        Assert.All(blocks, b => Assert.True(b.Count <= 125));
        Assert.Equal(1000, blocks.Sum(b => b.Items.Count));
    }

    [Fact]
    public void Plan_GapWiderThanMaxGap_StartsANewRequest()
    {
        var blocks = ModbusBlockPlanner.Plan([new(ModbusTable.HoldingRegister, 0, 2), new(ModbusTable.HoldingRegister, 12, 2), new(ModbusTable.HoldingRegister, 30, 1)], maxGap: 10);

        Assert.Equal(2, blocks.Count);
        Assert.Equal((0, 14), (blocks[0].Start, blocks[0].Count));
        Assert.Equal((30, 1), (blocks[1].Start, blocks[1].Count));
    }

    [Fact]
    public void Plan_Coils_PackUpTo2000PerRequestAndTablesNeverMix()
    {
        var items = Enumerable.Range(0, 4000).Select(i => new ModbusRange(ModbusTable.Coil, i, 1))
            .Append(new ModbusRange(ModbusTable.DiscreteInput, 0, 1))
            .ToList();

        var blocks = ModbusBlockPlanner.Plan(items, maxGap: 0);

        Assert.Equal(3, blocks.Count);
        Assert.Equal([2000, 2000, 1], blocks.Select(b => b.Count));
        Assert.Equal(ModbusTable.DiscreteInput, blocks[2].Table);
    }

    [Fact]
    public void Plan_BitsInTheSameRegister_ShareOneRead()
    {
        var blocks = ModbusBlockPlanner.Plan([new(ModbusTable.HoldingRegister, 20, 1), new(ModbusTable.HoldingRegister, 20, 1), new(ModbusTable.HoldingRegister, 21, 2)], maxGap: 0);

        var block = Assert.Single(blocks);
        Assert.Equal((20, 3), (block.Start, block.Count));
    }
}
