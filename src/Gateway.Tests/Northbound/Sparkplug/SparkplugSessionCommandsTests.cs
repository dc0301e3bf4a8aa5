using Gateway.Drivers;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Sparkplug.Protobuf;
using Gateway.Tests.OpcUa;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Northbound.Sparkplug;

/// <summary>DCMD metrics as writes: by name or alias, the value decoded by the metric's datatype.</summary>
public sealed class SparkplugSessionCommandsTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 6, 0, 0, TimeSpan.Zero));
    private readonly ListLoggerProvider _log = new();
    private readonly List<SparkplugMessage> _out = [];
    private readonly List<SparkplugWriteRequest> _writes = [];

    private static readonly TagInfo s_speed = new("press", "speed", "rpm");
    private static readonly TagInfo s_counter = new("oven", "counter");

    public void Dispose()
    {
        _log.Dispose();
        foreach (var message in _out)
        {
            message.Dispose();
        }
    }

    private SparkplugSession Born()
    {
        var session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw" }, _time, _log.CreateLogger("test"));
        session.WriteRequested = _writes.Add;
        session.Begin(7, long.MaxValue, [s_speed, s_counter], null, _out);
        foreach (var tag in new[] { s_speed, s_counter })
        {
            session.Add(new Sample(tag, _time.GetUtcNow(), _time.GetUtcNow(), SampleValue.FromInteger(1), Quality.Good, 0), 1, false, _out);
        }

        session.Flush(_out, force: true);
        return session;
    }

    private ulong AliasOf(string device, string name) => _out
        .Where(m => m.Type == SparkplugMessageType.DeviceBirth && m.Topic!.EndsWith("/" + device, StringComparison.Ordinal))
        .SelectMany(m => Payload.Parser.ParseFrom(m.Payload.Span).Metrics)
        .Single(m => m.Name == name).Alias;

    private static byte[] Command(params Payload.Types.Metric[] metrics)
    {
        var payload = new Payload { Timestamp = 1 };
        payload.Metrics.AddRange(metrics);
        return payload.ToByteArray();
    }

    [Fact]
    public void DeviceCommand_ByNameAndByAlias_IsAWriteOfTheDeviceTag()
    {
        var session = Born();
        var alias = AliasOf("press", "speed");

        Assert.False(session.HandleCommand("spBv1.0/lyon/DCMD/gw/press", Command(new Payload.Types.Metric { Name = "speed", Datatype = (uint)DataType.UInt16, IntValue = 1200 })));
        Assert.False(session.HandleCommand("spBv1.0/lyon/DCMD/gw/press", Command(new Payload.Types.Metric { Alias = alias, Datatype = (uint)DataType.Double, DoubleValue = 12.5 })));

        Assert.Equal(2, _writes.Count);
        Assert.Equal(("press/speed", "spBv1.0/lyon/DCMD/gw/press", 1200L, (string?)null), (_writes[0].TagKey, _writes[0].Topic, _writes[0].Value.AsInteger, _writes[0].Problem));
        Assert.Equal("press/speed", _writes[1].TagKey);
        Assert.Equal(12.5, _writes[1].Value.AsDouble);
        Assert.Null(_writes[1].Problem);
    }

    [Fact]
    public void DeviceCommand_WithTheAliasOfAnotherDevice_IsAWriteWithAProblem()
    {
        var session = Born();

        session.HandleCommand("spBv1.0/lyon/DCMD/gw/press", Command(new Payload.Types.Metric { Alias = AliasOf("oven", "counter"), Datatype = (uint)DataType.Int32, IntValue = 3 }));

        var write = Assert.Single(_writes);
        Assert.Contains("not one of device 'press'", write.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DataType.Int8, 0xFFFFFF80u, -128L)]
    [InlineData(DataType.Int16, 0xFFFFFB2Eu, -1234L)]
    [InlineData(DataType.Int32, 0xF8A432EBu, -123456789L)]
    [InlineData(DataType.UInt32, 3000000000u, 3000000000L)]
    public void DecodeValue_SignedIntegersAreTwosComplementInIntValue(DataType type, uint wire, long expected)
    {
        Assert.True(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)type, IntValue = wire }, out var value, out _));
        Assert.Equal(expected, value.AsInteger);
    }

    [Fact]
    public void DecodeValue_EachDatatypeFromItsField()
    {
        Assert.True(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)DataType.Int64, LongValue = unchecked((ulong)-5L) }, out var int64, out _));
        Assert.Equal(-5, int64.AsInteger);
        Assert.True(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)DataType.UInt32, LongValue = 3000000000 }, out var tahuUInt32, out _)); // Tahu JS: UInt32 in long_value
        Assert.Equal(3000000000, tahuUInt32.AsInteger);
        Assert.True(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)DataType.UInt64, LongValue = ulong.MaxValue }, out var uint64, out _));
        Assert.Equal(ulong.MaxValue, uint64.AsUnsignedInteger);
        Assert.True(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)DataType.Float, FloatValue = 22.5f }, out var single, out _));
        Assert.Equal(22.5, single.AsDouble);
        Assert.True(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)DataType.Boolean, BooleanValue = true }, out var boolean, out _));
        Assert.True(boolean.AsBoolean);
        Assert.True(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)DataType.String, StringValue = "R-42" }, out var text, out _));
        Assert.Equal("R-42", text.AsString);
    }

    [Fact]
    public void DecodeValue_AValueInTheWrongFieldOrNone_IsAProblem()
    {
        Assert.False(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)DataType.Double, IntValue = 3 }, out _, out var wrongField));
        Assert.Contains("double_value", wrongField, StringComparison.Ordinal);
        Assert.False(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)DataType.Int32 }, out _, out var none));
        Assert.NotEmpty(none);
        Assert.False(SparkplugSession.TryDecodeValue(new Payload.Types.Metric { Datatype = (uint)DataType.DateTime, LongValue = 5 }, out _, out var dateTime));
        Assert.Contains("cannot be written", dateTime, StringComparison.Ordinal);
    }

    [Fact]
    public void NodeCommand_OtherThanRebirth_IsRefusedWithOneLogLineAndNoWrite()
    {
        var session = Born();

        session.HandleCommand("spBv1.0/lyon/NCMD/gw", Command(new Payload.Types.Metric { Name = "Node Control/Reboot", Datatype = (uint)DataType.Boolean, BooleanValue = true }));
        session.HandleCommand("spBv1.0/lyon/NCMD/gw", Command(new Payload.Types.Metric { Name = "Node Control/Reboot", Datatype = (uint)DataType.Boolean, BooleanValue = true }));

        Assert.Empty(_writes);
        Assert.Single(_log.Lines, l => l.Message.Contains("NCMD for metric 'Node Control/Reboot' refused", StringComparison.Ordinal));
    }
}
