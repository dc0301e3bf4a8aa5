using Gateway.Drivers;
using Gateway.Drivers.S7;
using Xunit;

namespace Gateway.Tests.S7;

/// <summary>S7comm frames, addresses, values and the read planner, without a peer.</summary>
public sealed class S7ProtocolTests
{
    [Fact]
    public void ConnectionRequest_Rack0Slot2_IsTheCotpRequestOfAnS7300()
    {
        var buffer = new byte[64];

        var length = S7Wire.WriteConnectionRequest(buffer, 0x0100, S7Wire.RemoteTsap(0, 2));

        Assert.Equal(
            new byte[] { 0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC0, 0x01, 0x0A, 0xC1, 0x02, 0x01, 0x00, 0xC2, 0x02, 0x01, 0x02 },
            buffer[..length]);
    }

    [Fact]
    public void RemoteTsap_Rack1Slot3_PutsTheRackInBits5To7()
    {
        Assert.Equal(0x0123, S7Wire.RemoteTsap(1, 3));
    }

    [Fact]
    public void ReadRequest_Db1Dbw4_EncodesTheAnyPointerInBits()
    {
        var buffer = new byte[64];

        var length = S7Wire.WriteReadRequest(buffer, 1, [new S7Item(S7Area.DataBlock, 1, 4, 2)]);

        Assert.Equal(
            new byte[] { 0x32, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0E, 0x00, 0x00, 0x04, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x02, 0x00, 0x01, 0x84, 0x00, 0x00, 0x20 },
            buffer[..length]);
    }

    [Fact]
    public void WriteRequest_Bit_UsesBitTransportAndTheBitAddress()
    {
        var buffer = new byte[64];

        var length = S7Wire.WriteWriteRequest(buffer, 7, new S7Item(S7Area.Merkers, 0, 10, 1, 3), [0x01]);

        Assert.Equal(
            new byte[] { 0x32, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x0E, 0x00, 0x05, 0x05, 0x01, 0x12, 0x0A, 0x10, 0x01, 0x00, 0x01, 0x00, 0x00, 0x83, 0x00, 0x00, 0x53, 0x00, 0x03, 0x00, 0x01, 0x01 },
            buffer[..length]);
    }

    [Fact]
    public void ParseReadResponse_OddItemThenAnother_SkipsTheFillByte()
    {
        S7Item[] items = [new(S7Area.DataBlock, 1, 0, 1), new(S7Area.DataBlock, 1, 10, 2)];
        byte[] job = [0x32, 0x01, 0, 0, 0x00, 0x09, 0, 0, 0, 0, 0x04, 2];
        var pdu = ScriptedPlc.Ack(job, 0, [0x04, 2], [0xFF, 0x04, 0x00, 0x08, 0xAB, 0x00, 0xFF, 0x04, 0x00, 0x10, 0x12, 0x34]);
        var first = new byte[1];
        var second = new byte[2];
        var codes = new byte[2];

        S7Wire.ParseReadResponse(pdu, 9, items, codes, [first, second]);

        Assert.Equal([0xFF, 0xFF], codes);
        Assert.Equal([0xAB], first);
        Assert.Equal([0x12, 0x34], second);
    }

    [Fact]
    public void ParseAck_HeaderError8104_ThrowsNamingPutGet()
    {
        byte[] job = [0x32, 0x01, 0, 0, 0x00, 0x02, 0, 0, 0, 0, 0x04, 1];
        var pdu = ScriptedPlc.Ack(job, 0x8104, [0x04, 0], []);

        var error = Assert.Throws<S7Exception>(() => S7Wire.ParseAck(pdu, 2, S7Wire.FunctionReadVar));

        Assert.Equal(S7StatusCodes.BadNotSupported, error.StatusCode);
        Assert.Contains("Permit access with PUT/GET", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseAck_OtherPduReference_IsAProtocolError()
    {
        byte[] job = [0x32, 0x01, 0, 0, 0x00, 0x02, 0, 0, 0, 0, 0x04, 1];
        var pdu = ScriptedPlc.Ack(job, 0, [0x04, 0], []);

        Assert.Throws<S7ProtocolException>(() => S7Wire.ParseAck(pdu, 3, S7Wire.FunctionReadVar));
    }

    [Theory]
    [InlineData("DB1.DBX0.0", S7Area.DataBlock, 1, 0, 0, S7AddressWidth.Bit)]
    [InlineData("db12.dbw4", S7Area.DataBlock, 12, 4, -1, S7AddressWidth.Word)]
    [InlineData("DB1.DBD6", S7Area.DataBlock, 1, 6, -1, S7AddressWidth.DoubleWord)]
    [InlineData("DB1.DBB2", S7Area.DataBlock, 1, 2, -1, S7AddressWidth.Byte)]
    [InlineData("DB1.STRING10.20", S7Area.DataBlock, 1, 10, -1, S7AddressWidth.String)]
    [InlineData("M10.1", S7Area.Merkers, 0, 10, 1, S7AddressWidth.Bit)]
    [InlineData("MW20", S7Area.Merkers, 0, 20, -1, S7AddressWidth.Word)]
    [InlineData("MD24", S7Area.Merkers, 0, 24, -1, S7AddressWidth.DoubleWord)]
    [InlineData("E0.0", S7Area.Inputs, 0, 0, 0, S7AddressWidth.Bit)]
    [InlineData("IW64", S7Area.Inputs, 0, 64, -1, S7AddressWidth.Word)]
    [InlineData("A0.1", S7Area.Outputs, 0, 0, 1, S7AddressWidth.Bit)]
    [InlineData("QW80", S7Area.Outputs, 0, 80, -1, S7AddressWidth.Word)]
    [InlineData("T5", S7Area.Timers, 0, 5, -1, S7AddressWidth.Timer)]
    [InlineData("Z3", S7Area.Counters, 0, 3, -1, S7AddressWidth.Counter)]
    public void TryParse_EngineersNotation_GivesAreaOffsetAndWidth(string text, S7Area area, int db, int start, int bit, S7AddressWidth width)
    {
        Assert.True(S7Address.TryParse(text, out var address, out var error), error);

        Assert.Equal((area, db, start, bit, width), (address.Area, address.DbNumber, address.Start, address.Bit, address.Width));
    }

    [Theory]
    [InlineData("DB1.DBW", "is not an S7 address")]
    [InlineData("DB0.DBW2", "DB numbers run from 1")]
    [InlineData("DB1.DBX0.8", "bits run from 0 to 7")]
    [InlineData("DB1.DBX4", "names no bit")]
    [InlineData("M10", "names no bit")]
    [InlineData("DB1.STRING10", "ends with its declared length")]
    [InlineData("MW20.1", "only bit addresses")]
    [InlineData("40001", "is not an S7 address")]
    public void TryParse_MalformedAddress_SaysWhyWithTheRightForm(string text, string reason)
    {
        Assert.False(S7Address.TryParse(text, out _, out var error));

        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MalformedAddress_IsReportedAtItsJsonPathWithExamples()
    {
        var problems = S7DriverBuilder.Problems(S7DriverBuilder.Json(102, [("ok", "DB1.DBW0", null), ("bad", "DB1.DBW", null)]));

        var problem = Assert.Single(problems);
        Assert.Equal("drivers[0].tags[1].address", problem.Path);
        Assert.Contains("DB1.DBX0.0", problem.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DB1.DBW4", "real", "DB1.DBD4")]
    [InlineData("DB1.DBD4", "int", "DB1.DBW4")]
    [InlineData("DB1.DBX0.0", "int", "DB1.DBW0")]
    [InlineData("DB1.DBB4", "string", "DB1.STRING4.20")]
    [InlineData("MW4", "bool", "M4.0")]
    public void Validate_TypeThatDoesNotFitTheAddress_SuggestsTheAddressItNeeds(string address, string type, string suggestion)
    {
        var problems = S7DriverBuilder.Problems(S7DriverBuilder.Json(102, [("t", address, type)]));

        var problem = Assert.Single(problems);
        Assert.Equal("drivers[0].tags[0].type", problem.Path);
        Assert.Contains(suggestion, problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownType_ListsTheTypes()
    {
        var problem = Assert.Single(S7DriverBuilder.Problems(S7DriverBuilder.Json(102, [("t", "DB1.DBD0", "float32")])));

        Assert.Equal("drivers[0].tags[0].type", problem.Path);
        Assert.Contains("date_and_time", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NeitherSlotNorTsaps_AsksForTheSlot()
    {
        var json = S7DriverBuilder.Json(102, [("t", "MW0", null)]).Replace(",\"slot\":1", "", StringComparison.Ordinal);

        var problem = Assert.Single(S7DriverBuilder.Problems(json));

        Assert.Equal("drivers[0].slot", problem.Path);
    }

    [Fact]
    public void Validate_TsapPairForLogo_IsAccepted()
    {
        var json = S7DriverBuilder.Json(102, [("t", "MW0", null)]).Replace(",\"slot\":1", ",\"localTsap\":\"01.00\",\"remoteTsap\":\"0x0200\"", StringComparison.Ordinal);

        Assert.Empty(S7DriverBuilder.Problems(json));
    }

    [Fact]
    public void Validate_WritableInput_IsRefused()
    {
        var json = S7DriverBuilder.Json(102, [("t", "IW0", null)]).Replace("\"address\":\"IW0\"", "\"address\":\"IW0\",\"writable\":true", StringComparison.Ordinal);

        Assert.Equal("drivers[0].tags[0].writable", Assert.Single(S7DriverBuilder.Problems(json)).Path);
    }

    [Fact]
    public void Plan_500WordsIn3Dbs_NeedsThreeRequestsWithPdu480()
    {
        var ranges = Enumerable.Range(0, 500).Select(i => new S7Range(S7Area.DataBlock, 1 + (i % 3), 2 * (i / 3), 2)).ToList();

        var plan = S7ReadPlanner.Plan(ranges, 16, 480);

        Assert.Equal(3, plan.Blocks.Count);
        Assert.Equal(3, plan.Requests.Count);
    }

    [Fact]
    public void Plan_ThirtyDistantTags_SplitsAtTwentyItemsPerRequest()
    {
        var ranges = Enumerable.Range(0, 30).Select(i => new S7Range(S7Area.DataBlock, 1, 100 * i, 2)).ToList();

        var plan = S7ReadPlanner.Plan(ranges, 16, 960);

        Assert.Equal([20, 10], plan.Requests.Select(r => r.Items.Length));
    }

    [Fact]
    public void Plan_EveryRequest_FitsTheNegotiatedPduBothWays()
    {
        var random = new Random(15);
        var ranges = Enumerable.Range(0, 400).Select(_ => new S7Range(S7Area.DataBlock, random.Next(1, 5), random.Next(0, 3000), random.Next(1, 300))).ToList();

        foreach (var pdu in new[] { 240, 480, 960 })
        {
            var plan = S7ReadPlanner.Plan(ranges, 16, pdu);

            Assert.All(plan.Requests, r =>
            {
                Assert.InRange(r.Items.Length, 1, 20);
                Assert.True(S7Wire.ReadRequestSize(r.Items.Length) <= pdu);
                Assert.True(S7Wire.ReadResponseSize(r.Items) <= pdu);
            });
            Assert.Equal(plan.Blocks.Sum(b => b.Range.Length), plan.Requests.Sum(r => r.Items.Sum(i => i.Count)));
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x20, 0x10 }, S7DataType.Timer, "10000")]
    [InlineData(new byte[] { 0x01, 0x23 }, S7DataType.Timer, "1230")]
    [InlineData(new byte[] { 0x00, 0x42 }, S7DataType.Counter, "42")]
    [InlineData(new byte[] { 0x41, 0xB0, 0xCC, 0xCD }, S7DataType.Real, "22.1")]
    [InlineData(new byte[] { 0x99, 0x12, 0x31, 0x23, 0x59, 0x59, 0x99, 0x91 }, S7DataType.DateAndTime, "1999-12-31T23:59:59.999")]
    [InlineData(new byte[] { 0x04, 0x02, 0x4F, 0x4B, 0x00, 0x00 }, S7DataType.String, "OK")]
    public void TryDecode_BytesAsTheCpuStoresThem_GiveTheValue(byte[] bytes, S7DataType type, string expected)
    {
        Assert.True(S7Values.TryDecode(bytes, type, -1, out var value, out _));

        Assert.Equal(expected, value.ToString());
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x4A }, S7DataType.Counter)]
    [InlineData(new byte[] { 0x04, 0x05, 0x41, 0x42, 0x43, 0x44 }, S7DataType.String)]
    [InlineData(new byte[] { 0x24, 0x13, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 }, S7DataType.DateAndTime)]
    public void TryDecode_InvalidEncoding_IsBadDataEncodingInvalid(byte[] bytes, S7DataType type)
    {
        Assert.False(S7Values.TryDecode(bytes, type, -1, out _, out var status));

        Assert.Equal(S7StatusCodes.BadDataEncodingInvalid, status);
    }

    [Fact]
    public void Encode_StringLongerThanDeclared_IsRefused()
    {
        var bytes = new byte[6];

        Assert.Throws<ArgumentException>(() => S7Values.Encode(SampleValue.FromString("TOO LONG"), S7DataType.String, 4, 1, 0, bytes));
    }
}

/// <summary>The driver and client against a scripted CPU: refusals that snap7 cannot produce.</summary>
public sealed class S7ScriptedTests
{
    private const string OneTag = """{"name":"plc","type":"s7","machine":"press","host":"scripted","rack":0,"slot":1,"timeoutMs":500,"tags":[{"name":"speed","address":"DB1.DBW0","type":"int"},{"name":"count","address":"MW2"}]}""";

    [Fact]
    public async Task Poll_PutGetNotPermitted_TurnsTagsBadNotSupportedOnceAndSaysWhatToTick()
    {
        var plc = new ScriptedPlc { OnJob = job => ScriptedPlc.Ack(job, S7Errors.HeaderFunctionNotAvailable, [0x04, 0], []) };
        await using var driver = S7DriverBuilder.Build(OneTag, connect: plc.Connect);
        var samples = new S7Samples();

        await driver.PollAllOnceAsync(samples, CancellationToken.None);
        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        Assert.Equal(2, samples.Snapshot().Count);
        Assert.All(samples.Snapshot(), s => Assert.Equal(S7StatusCodes.BadNotSupported, s.StatusCode));
        Assert.Contains("PUT/GET", driver.LastError, StringComparison.Ordinal);
        Assert.Equal(1, plc.Connections);
    }

    [Fact]
    public async Task Poll_AccessDeniedItem_IsBadUserAccessDenied()
    {
        var plc = new ScriptedPlc { OnJob = job => ScriptedPlc.ReadRefused(job, S7Errors.ItemAccessDenied) };
        await using var driver = S7DriverBuilder.Build(OneTag, connect: plc.Connect);
        var samples = new S7Samples();

        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        Assert.All(samples.Snapshot(), s => Assert.Equal(S7StatusCodes.BadUserAccessDenied, s.StatusCode));
        Assert.Contains("Protection & Security", driver.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_CpuRefusesTheTsap_SaysToCheckRackAndSlot()
    {
        var plc = new ScriptedPlc { AcceptConnection = false };
        await using var client = new S7Client(new S7IsoTransport(plc.Connect, "scripted", 0x0100, S7Wire.RemoteTsap(0, 5)), TimeProvider.System);

        var error = await Assert.ThrowsAsync<S7ConnectionException>(async () => await client.ConnectAsync(TimeSpan.FromSeconds(2), CancellationToken.None));

        Assert.Contains("check rack and slot", error.Message, StringComparison.Ordinal);
        Assert.Equal(S7StatusCodes.BadNotConnected, S7StatusCodes.For(error));
    }

    [Fact]
    public async Task Read_SilentCpu_TimesOutAndReconnectsForTheNextJob()
    {
        var plc = new ScriptedPlc();
        await using var client = new S7Client(new S7IsoTransport(plc.Connect, "scripted", 0x0100, 0x0101), TimeProvider.System);
        S7Item[] items = [new(S7Area.DataBlock, 1, 0, 2)];

        await Assert.ThrowsAsync<TimeoutException>(async () => await client.ReadAsync(items, [new byte[2]], new byte[1], TimeSpan.FromMilliseconds(100), CancellationToken.None));
        await Assert.ThrowsAsync<TimeoutException>(async () => await client.ReadAsync(items, [new byte[2]], new byte[1], TimeSpan.FromMilliseconds(100), CancellationToken.None));

        Assert.Equal(2, plc.Connections);
    }

    [Fact]
    public async Task Poll_FilledAnswer_DecodesEveryTagOfTheBlock()
    {
        var plc = new ScriptedPlc { PduSize = 240, OnJob = job => ScriptedPlc.ReadFilled(job, 0x01) };
        await using var driver = S7DriverBuilder.Build(OneTag, connect: plc.Connect);
        var samples = new S7Samples();

        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        Assert.Equal("257", samples.Last("speed").Value.ToString());
        Assert.Equal("257", samples.Last("count").Value.ToString());
        Assert.Equal(240, driver.PduSize);
    }
}
