using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound;
using Gateway.Northbound.Delivery;
using Gateway.Northbound.Mqtt;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Sparkplug.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Northbound.Sparkplug;

/// <summary>
/// The Sparkplug format as MqttOutput drives it: which run of buffer samples each message completes (the output
/// acknowledges exactly those once the broker acknowledged the message and all before it), and the lanes.
/// </summary>
public sealed class SparkplugFormatTests : IDisposable
{
    private static readonly DateTimeOffset s_t = new(2026, 12, 3, 6, 0, 0, TimeSpan.Zero);
    private static readonly TagInfo s_pressSpeed = new("press", "speed");
    private static readonly TagInfo s_pressTemperature = new("press", "temperature");
    private static readonly TagInfo s_ovenCounter = new("oven", "counter");

    private readonly string _directory = Directory.CreateTempSubdirectory("spark-format-").FullName;
    private readonly GatewayConfig _config;
    private readonly SparkplugFormat _format;
    private readonly MqttOutputContext _context;

    public SparkplugFormatTests()
    {
        _config = new GatewayConfig
        {
            Gateway = new GatewayIdentity { Id = "gw", Enterprise = "acme", Site = "lyon", Area = "a", Line = "l" },
            Buffer = new BufferOptions { Path = Path.Combine(_directory, "buffer.db") },
            Mqtt = new MqttOptions { Sparkplug = new SparkplugOptions { MaxMetricsPerMessage = 2 } },
        };
        _format = new SparkplugFormat(_config, new Catalog(), null, new FakeTimeProvider(s_t), NullLogger.Instance);
        _context = new MqttOutputContext(_config, SparkplugFormat.Name, () => { });
        var births = new List<SparkplugMessage>();
        _format.Session.Begin(0, long.MaxValue, [], null, births);
        Encode(DeliveryLane.Live, Item(1, s_pressSpeed, 1), Item(2, s_pressTemperature, 1), Item(3, s_ovenCounter, 1));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static BufferedSample Item(long id, TagInfo tag, long value, Quality quality = Quality.Good) =>
        new(id, new Sample(tag, s_t, s_t, quality == Quality.Bad ? SampleValue.None : SampleValue.FromInteger(value), quality));

    private List<OutgoingMessages.Outgoing> Encode(DeliveryLane lane, params BufferedSample[] samples)
    {
        var output = new OutgoingMessages();
        _format.Encode(samples, lane, _context, output);
        var all = new List<OutgoingMessages.Outgoing>();
        while (output.TryTake(out var item))
        {
            all.Add(item);
        }

        return all;
    }

    [Fact]
    public void Encode_InterleavedDevices_EachMessageCompletesTheBatchPrefixItHasDeliveredInFull()
    {
        var messages = Encode(
            DeliveryLane.Live,
            Item(10, s_pressSpeed, 2), Item(11, s_ovenCounter, 2), Item(12, s_pressTemperature, 2),
            Item(13, s_pressSpeed, 3), Item(14, s_ovenCounter, 3));

        // press: DDATA {10, 12} (full at 2 metrics) then {13}; oven: {11, 14}, sent at the end.
        Assert.Equal(["spBv1.0/lyon/DDATA/gw/press", "spBv1.0/lyon/DDATA/gw/press", "spBv1.0/lyon/DDATA/gw/oven"], messages.Select(m => m.Topic));
        Assert.Equal([new SequenceRange(10, 10), (SequenceRange?)null, new SequenceRange(11, 14)], messages.Select(m => m.Completes));
        Assert.Equal(5, messages.Sum(m => m.Samples));
        Assert.All(messages, m => Assert.NotNull(m.RentedPayload));
    }

    [Fact]
    public void Encode_HistoryLane_FlagsEveryMetricHistorical()
    {
        var messages = Encode(DeliveryLane.History, Item(20, s_pressSpeed, 5), Item(21, s_pressTemperature, 6));
        var payload = Payload.Parser.ParseFrom(Assert.Single(messages).Payload);
        Assert.All(payload.Metrics, m => Assert.True(m.IsHistorical));
        Assert.Equal(new SequenceRange(20, 21), messages[0].Completes);
    }

    [Fact]
    public void Encode_BadValuesOfADeadMachineWithoutAMessage_AreCompletedByTheLanesNextMessage()
    {
        var dying = Encode(DeliveryLane.Live, Item(30, s_ovenCounter, 0, Quality.Bad));
        Assert.Equal("spBv1.0/lyon/DDEATH/gw/oven", Assert.Single(dying).Topic);
        Assert.Equal(new SequenceRange(30, 30), dying[0].Completes);

        Assert.Empty(Encode(DeliveryLane.Live, Item(31, s_ovenCounter, 0, Quality.Bad)));

        var next = Encode(DeliveryLane.Live, Item(32, s_pressSpeed, 7));
        Assert.Equal(new SequenceRange(31, 32), Assert.Single(next).Completes);
    }

    [Fact]
    public void Encode_BadValuesOfADeadMachine_AreCountedAsPublished_ByTheMessageThatCompletesThem()
    {
        var dying = Encode(DeliveryLane.Live, Item(30, s_ovenCounter, 0, Quality.Bad));
        Assert.Equal(1, Assert.Single(dying).Samples);

        // Same batch as a message: that message counts them (gateway_samples_published_total).
        var mixed = Encode(DeliveryLane.Live, Item(31, s_ovenCounter, 0, Quality.Bad), Item(32, s_pressSpeed, 7));
        Assert.Equal(new SequenceRange(31, 32), Assert.Single(mixed).Completes);
        Assert.Equal(2, mixed[0].Samples);

        // A batch without a message: the lane's next message counts them with its own.
        Assert.Empty(Encode(DeliveryLane.Live, Item(33, s_ovenCounter, 0, Quality.Bad), Item(34, s_ovenCounter, 0, Quality.Bad)));
        Assert.Empty(Encode(DeliveryLane.Live, Item(35, s_ovenCounter, 0, Quality.Bad)));
        var next = Encode(DeliveryLane.Live, Item(36, s_pressSpeed, 8));
        Assert.Equal(new SequenceRange(33, 36), Assert.Single(next).Completes);
        Assert.Equal(4, next[0].Samples);
    }

    [Fact]
    public void Encode_AReturningMachine_IsBornInTheSameCall_CarryingItsSamples()
    {
        Encode(DeliveryLane.Live, Item(40, s_ovenCounter, 0, Quality.Bad));
        var messages = Encode(DeliveryLane.Live, Item(41, s_ovenCounter, 9));
        var birth = Assert.Single(messages);
        Assert.Equal("spBv1.0/lyon/DBIRTH/gw/oven", birth.Topic);
        Assert.Equal(new SequenceRange(41, 41), birth.Completes);
        Assert.Equal(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce, birth.QualityOfServiceLevel);
    }

    private sealed class Catalog : IDriverCatalog
    {
        public IReadOnlyList<IDriver> Drivers => [];
    }
}
