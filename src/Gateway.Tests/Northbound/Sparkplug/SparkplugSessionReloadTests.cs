using Gateway.Drivers;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Sparkplug.Protobuf;
using Gateway.Tests.OpcUa;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Northbound.Sparkplug;

/// <summary>Issue 16: after a reload the session follows the new tag set; only the devices whose metrics changed are born again.</summary>
public sealed class SparkplugSessionReloadTests : IDisposable
{
    private static readonly TagInfo s_speed = new("press", "speed", "rpm");
    private static readonly TagInfo s_temperature = new("press", "temperature", "degC");
    private static readonly TagInfo s_counter = new("oven", "counter");
    private static readonly TagInfo s_pressure = new("press", "pressure", "bar");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 6, 0, 0, TimeSpan.Zero));
    private readonly ListLoggerProvider _log = new();
    private readonly List<SparkplugMessage> _out = [];
    private long _sequence;

    public void Dispose()
    {
        _log.Dispose();
        foreach (var message in _out)
        {
            message.Dispose();
        }
    }

    /// <summary>A session born with both devices alive (every tag read once).</summary>
    private SparkplugSession Born()
    {
        var session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw" }, _time, _log.CreateLogger("test"));
        session.Begin(1, long.MaxValue, [s_speed, s_temperature, s_counter], null, _out);
        Add(session, s_speed, SampleValue.FromDouble(1200));
        Add(session, s_temperature, SampleValue.FromDouble(80.5));
        Add(session, s_counter, SampleValue.FromInteger(42));
        session.Flush(_out);
        Assert.Equal(2, Take().Count(m => m.Message.Type == SparkplugMessageType.DeviceBirth));
        return session;
    }

    private long Add(SparkplugSession session, TagInfo tag, SampleValue value)
    {
        var sequence = ++_sequence;
        session.Add(new Sample(tag, _time.GetUtcNow(), _time.GetUtcNow(), value, Quality.Good, 0), sequence, historical: false, _out);
        return sequence;
    }

    private List<(SparkplugMessage Message, Payload Payload)> Take()
    {
        var taken = _out.Select(m => (m, m.Type == SparkplugMessageType.None ? new Payload() : Payload.Parser.ParseFrom(m.Payload.Span))).ToList();
        _out.Clear();
        return taken;
    }

    [Fact]
    public void Retag_TagRemoved_OnlyItsDeviceIsBornAgain_WithoutIt()
    {
        var session = Born();

        var born = session.Retag([s_speed, s_counter], _out);

        var (message, payload) = Assert.Single(Take());
        Assert.Equal(1, born);
        Assert.Equal(SparkplugMessageType.DeviceBirth, message.Type);
        Assert.Equal("spBv1.0/lyon/DBIRTH/gw/press", message.Topic);
        Assert.Equal(["speed"], payload.Metrics.Select(m => m.Name));
        Assert.Equal(1200, payload.Metrics[0].DoubleValue);
    }

    [Fact]
    public void Retag_TagAdded_ItsDeviceBirthAnnouncesIt_AndItsDataUsesTheNewAlias()
    {
        var session = Born();

        session.Retag([s_speed, s_temperature, s_counter, s_pressure], _out);
        var (_, birth) = Assert.Single(Take());
        Add(session, s_pressure, SampleValue.FromDouble(3.5));
        session.Flush(_out);

        Assert.Equal(["pressure", "speed", "temperature"], birth.Metrics.Select(m => m.Name));
        var (data, payload) = Assert.Single(Take());
        Assert.Equal(SparkplugMessageType.DeviceData, data.Type);
        Assert.Equal(birth.Metrics.Single(m => m.Name == "pressure").Alias, Assert.Single(payload.Metrics).Alias);
    }

    [Fact]
    public void Retag_UnitChanged_TheTagIsAnnouncedWithTheNewUnit()
    {
        var session = Born();

        session.Retag([s_speed, new TagInfo("press", "temperature", "degF"), s_counter], _out);

        var (_, birth) = Assert.Single(Take());
        var temperature = birth.Metrics.Single(m => m.Name == "temperature");
        Assert.Equal("degF", temperature.Properties.Values[temperature.Properties.Keys.IndexOf("engUnit")].StringValue);
    }

    [Fact]
    public void Retag_EveryTagOfADeviceRemoved_SendsItsDeath_AndTheOtherDeviceNothing()
    {
        var session = Born();

        session.Retag([s_speed, s_temperature], _out);

        var (message, _) = Assert.Single(Take());
        Assert.Equal(SparkplugMessageType.DeviceDeath, message.Type);
        Assert.Equal("spBv1.0/lyon/DDEATH/gw/oven", message.Topic);
    }

    [Fact]
    public void Retag_SameTags_SendsNothing()
    {
        var session = Born();

        Assert.Equal(0, session.Retag([s_counter, s_speed, s_temperature], _out));

        Assert.Empty(_out);
    }

    [Fact]
    public void Retag_WhileABirthWaits_SendsTheHeldSamplesFirst()
    {
        var session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw" }, _time, _log.CreateLogger("test"));
        session.Begin(1, long.MaxValue, [s_speed, s_temperature], null, _out);
        Take();
        var held = Add(session, s_speed, SampleValue.FromDouble(900));
        session.Flush(_out);
        Assert.Empty(_out); // temperature not read yet: the birth waits, the sample is held

        session.Retag([s_speed], _out);

        var messages = Take();
        Assert.Contains(messages, m => m.Message.Type == SparkplugMessageType.DeviceBirth && m.Message.Samples.Any(r => r.First <= held && held <= r.Last));
    }
}
