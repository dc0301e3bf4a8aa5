using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Microsoft.Extensions.Time.Testing;

using Xunit;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Modbus;

/// <summary>The block planner: coalescing within the device's request limits, and splitting refused blocks.</summary>
public sealed class ModbusPlannerTests
{
    private static ModbusRange Holding(int start, int count = 1) => new(ModbusTable.HoldingRegister, start, count);

    private static ModbusRange Coil(int start) => new(ModbusTable.Coil, start, 1);

    [Fact]
    public void Plan_WithRegisterLimit_NoBlockIsLongerThanTheLimit()
    {
        // 60 float32 values back to back: 120 registers, one request at the specification's limit.
        var items = Enumerable.Range(0, 60).Select(i => Holding(2 * i, 2)).ToList();

        var blocks = ModbusBlockPlanner.Plan(items, maxGap: 10, maxRegisters: 32, maxBits: 2000);

        Assert.All(blocks, b => Assert.InRange(b.Count, 1, 32));
        Assert.Equal(4, blocks.Count); // 32 + 32 + 32 + 24 registers, no value cut in two
        Assert.Equal(Enumerable.Range(0, 60), blocks.SelectMany(b => b.Items).Order());
        Assert.All(blocks, b => Assert.All(b.Items, i => Assert.InRange(items[i].Start, b.Start, b.Start + b.Count - items[i].Count)));
    }

    [Fact]
    public void Plan_WithBitLimit_SplitsCoilsAtTheLimit()
    {
        var items = Enumerable.Range(0, 100).Select(Coil).ToList();

        var blocks = ModbusBlockPlanner.Plan(items, maxGap: 10, maxRegisters: 125, maxBits: 16);

        Assert.Equal([16, 16, 16, 16, 16, 16, 4], blocks.Select(b => b.Count));
    }

    [Fact]
    public void Plan_DefaultLimits_AreTheSpecifications()
    {
        var items = Enumerable.Range(0, 130).Select(i => Holding(i)).Concat(Enumerable.Range(0, 2001).Select(Coil)).ToList();

        var blocks = ModbusBlockPlanner.Plan(items, maxGap: 10);

        Assert.Equal([(ModbusTable.Coil, 2000), (ModbusTable.Coil, 1), (ModbusTable.HoldingRegister, 125), (ModbusTable.HoldingRegister, 5)], blocks.Select(b => (b.Table, b.Count)));
    }

    [Fact]
    public void Plan_ItemLongerThanTheLimit_StillGetsARequestOfItsOwn()
    {
        var items = new List<ModbusRange> { Holding(0), Holding(1, 20), Holding(21) };

        var blocks = ModbusBlockPlanner.Plan(items, maxGap: 10, maxRegisters: 16, maxBits: 2000);

        Assert.Equal([(0, 1), (1, 20), (21, 1)], blocks.Select(b => (b.Start, b.Count)));
    }

    [Fact]
    public void Split_RefusedBlock_GivesTwoHalvesCoveringEveryItem()
    {
        var items = new List<ModbusRange> { Holding(0), Holding(5, 2), Holding(10), Holding(20, 4) };
        var block = Assert.Single(ModbusBlockPlanner.Plan(items, maxGap: 10));

        var parts = ModbusBlockPlanner.Split(block, items);

        Assert.Equal([(0, 7), (10, 14)], parts.Select(p => (p.Start, p.Count)));
        Assert.Equal([0, 1, 2, 3], parts.SelectMany(p => p.Items).Order());
    }

    [Fact]
    public void Split_BlockOfOneRange_CannotBeSplit()
    {
        // Two bits of one register: the same range twice, nothing smaller to try.
        var items = new List<ModbusRange> { Holding(20), Holding(20) };
        var block = Assert.Single(ModbusBlockPlanner.Plan(items, maxGap: 10));

        var parts = ModbusBlockPlanner.Split(block, items);

        Assert.Empty(parts);
    }

    [Fact]
    public void Split_Repeatedly_IsolatesTheOneBadAddressWithFewRequests()
    {
        // 40 tags, one register each; the device does not map address 23. Split only the blocks that contain it.
        var items = Enumerable.Range(0, 40).Select(i => Holding(i)).ToList();
        var blocks = ModbusBlockPlanner.Plan(items, maxGap: 10);
        var refusals = 0;
        for (var b = 0; b < blocks.Count; b++)
        {
            if (blocks[b].Start <= 23 && blocks[b].Start + blocks[b].Count > 23)
            {
                var parts = ModbusBlockPlanner.Split(blocks[b], items);
                if (parts.Count == 0)
                {
                    continue;
                }

                refusals++;
                blocks.RemoveAt(b);
                blocks.InsertRange(b, parts);
                b--;
            }
        }

        var bad = Assert.Single(blocks, b => b.Start <= 23 && b.Start + b.Count > 23);
        Assert.Equal((23, 1), (bad.Start, bad.Count));
        Assert.InRange(refusals, 1, 6); // log2(40), not one request per tag
        Assert.InRange(blocks.Count, 2, 8);
        Assert.Equal(Enumerable.Range(0, 40), blocks.SelectMany(b => b.Items).Order());
    }
}

/// <summary>Typed values beyond the signed 64-bit range.</summary>
public sealed class ModbusUInt64Tests
{
    private static SampleValue Decode(ulong value, ModbusWordOrder order = ModbusWordOrder.ABCD)
    {
        var registers = new ushort[4];
        ModbusValueCodec.FromBigEndianBytes(BitConverter.GetBytes(value).Reverse().ToArray(), order, registers);
        return ModbusValueCodec.Decode(registers, new ModbusValueFormat(ModbusDataType.UInt64, order));
    }

    [Theory]
    [InlineData(ModbusWordOrder.ABCD)]
    [InlineData(ModbusWordOrder.CDAB)]
    [InlineData(ModbusWordOrder.BADC)]
    [InlineData(ModbusWordOrder.DCBA)]
    public void Decode_UInt64Max_IsTheExactUnsignedInteger(ModbusWordOrder order)
    {
        var value = Decode(18446744073709551615UL, order);

        Assert.Equal(SampleValueKind.UnsignedInteger, value.Kind);
        Assert.Equal(18446744073709551615UL, value.AsUnsignedInteger);
        Assert.Equal("18446744073709551615", value.ToString());
    }

    [Fact]
    public void Decode_UInt64AboveInt64Max_IsExactNotTheNearestDouble()
    {
        // 2^64 - 6 has no double of its own (the nearest is 2^64): the sample keeps every digit.
        var value = Decode(18446744073709551610UL, ModbusWordOrder.CDAB);

        Assert.Equal(SampleValue.FromUnsignedInteger(18446744073709551610UL), value);
    }

    [Fact]
    public void Decode_UInt64WithinInt64_IsStillTheUnsignedKind()
    {
        var value = Decode(9223372036854775807UL, ModbusWordOrder.DCBA);

        Assert.Equal(SampleValueKind.UnsignedInteger, value.Kind);
        Assert.Equal(long.MaxValue, value.AsInteger);
    }

    [Fact]
    public void Encode_UInt64FromAnUnsignedSample_RoundTripsTheMaximum()
    {
        var format = new ModbusValueFormat(ModbusDataType.UInt64, ModbusWordOrder.CDAB);
        var registers = new ushort[4];

        ModbusValueCodec.Encode(SampleValue.FromUnsignedInteger(ulong.MaxValue), format, registers);

        Assert.Equal(SampleValue.FromUnsignedInteger(ulong.MaxValue), ModbusValueCodec.Decode(registers, format));
    }

    [Fact]
    public void Encode_Int64FromAnUnsignedSampleAboveInt64Max_IsRefusedNotSaturated()
    {
        var registers = new ushort[4];

        Assert.Throws<ArgumentOutOfRangeException>(() => ModbusValueCodec.Encode(SampleValue.FromUnsignedInteger(ulong.MaxValue), new ModbusValueFormat(ModbusDataType.Int64), registers));
    }

    [Fact]
    public void Scale_OnAUInt64_GivesAComputedDouble()
    {
        var engineering = ModbusValueCodec.Scale(SampleValue.FromUnsignedInteger(1000), 0.5, 1);

        Assert.Equal(SampleValue.FromDouble(501), engineering);
    }

    [Theory]
    [InlineData(ModbusWordOrder.ABCD)]
    [InlineData(ModbusWordOrder.CDAB)]
    [InlineData(ModbusWordOrder.BADC)]
    [InlineData(ModbusWordOrder.DCBA)]
    public void DecodeUInt64_IsExactInEveryOrder(ModbusWordOrder order)
    {
        var registers = new ushort[4];
        ModbusValueCodec.FromBigEndianBytes(BitConverter.GetBytes(18446744073709551610UL).Reverse().ToArray(), order, registers);

        Assert.Equal(18446744073709551610UL, ModbusValueCodec.DecodeUInt64(registers, order));
    }

    [Fact]
    public void Encode_UInt64_RoundTripsAndRefusesNegatives()
    {
        var format = new ModbusValueFormat(ModbusDataType.UInt64);
        var registers = new ushort[4];

        ModbusValueCodec.Encode(SampleValue.FromDouble(1e19), format, registers);

        Assert.Equal(10000000000000000000UL, ModbusValueCodec.DecodeUInt64(registers, ModbusWordOrder.ABCD));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModbusValueCodec.Encode(SampleValue.FromInteger(-1), format, registers));
    }

    [Fact]
    public void Encode_Int64FromADoubleOfTwoToThe63_IsRefusedNotWrapped()
    {
        var registers = new ushort[4];

        Assert.Throws<ArgumentOutOfRangeException>(() => ModbusValueCodec.Encode(SampleValue.FromDouble(9223372036854775808.0), new ModbusValueFormat(ModbusDataType.Int64), registers));
    }
}

/// <summary>RTU has no transaction id: a late answer must never become the answer to the next request.</summary>
public sealed class ModbusRtuLateAnswerTests
{
    [Fact]
    public async Task Read_AfterTimeout_ALateAnswerIsDiscardedAndTheNextRequestGetsItsOwn()
    {
        var time = new FakeTimeProvider();
        var line = new FakeSerialLine(_ => []);
        await using var client = new ModbusClient(new ModbusRtuTransport(line, "fake", 0, time));

        var first = client.ReadHoldingRegistersAsync(1, 0, 1, TimeSpan.FromSeconds(1), CancellationToken.None);
        await WaitForAsync(() => line.Written.Count == 1);
        time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<TimeoutException>(() => first);

        var second = client.ReadHoldingRegistersAsync(1, 100, 1, TimeSpan.FromSeconds(1), CancellationToken.None);
        line.Enqueue(FakeSerialLine.Frame(1, 0x03, 0x02, 0x00, 111)); // the slow device's answer to the first request
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitForAsync(() => line.Written.Count == 2);
        line.Enqueue(FakeSerialLine.Frame(1, 0x03, 0x02, 0x00, 222));
        var registers = await second;

        Assert.Equal(new ushort[] { 222 }, registers);
    }

    private static Task WaitForAsync(Func<bool> condition) =>
        Eventually.TrueAsync(condition, "condition", TimeSpan.FromSeconds(10));
}
