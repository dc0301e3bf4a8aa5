using System.Text;
using System.Text.Json;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound;
using Gateway.Northbound.Delivery;
using Gateway.Northbound.Mqtt;
using Gateway.Northbound.Uns;
using MQTTnet;

namespace Gateway.Tests.Northbound;

public sealed class UnsFormatTests
{
    private static readonly DateTimeOffset s_t = new(2026, 11, 26, 10, 0, 0, 123, TimeSpan.Zero);
    private static readonly TagInfo s_temperature = new("press-1", "spindle/temperature", "degC");
    private static readonly TagInfo s_count = new("press-1", "count");

    private static GatewayConfig Config() => new()
    {
        Gateway = new GatewayIdentity { Id = "gw1", Enterprise = "acme", Site = "lyon", Area = "assembly", Line = "line-1" },
        Mqtt = new MqttOptions { TopicPrefix = "uns" },
    };

    private static MqttOutputContext Context(GatewayConfig config, long maximumPacketSize = MqttBrokerLimits.ProtocolMaximumPacketSize) =>
        new(config, UnsFormat.Name, () => { })
        {
            Limits = MqttBrokerLimits.None with { MaximumPacketSize = maximumPacketSize },
        };

    private static string Payload(OutgoingMessages.Outgoing message) => Encoding.UTF8.GetString(message.Payload);

    private static List<OutgoingMessages.Outgoing> Drain(OutgoingMessages output)
    {
        var all = new List<OutgoingMessages.Outgoing>();
        while (output.TryTake(out var item))
        {
            all.Add(item);
        }

        return all;
    }

    private static BufferedSample Item(long id, TagInfo tag, SampleValue value) => new(id, Sample.Good(tag, s_t, s_t, value));

    [Fact]
    public void LiveSample_GoesToItsTagTopic_WithTheDesignPayload_AndCompletesItsOwnSequence()
    {
        var config = Config();
        using var format = new UnsFormat(config);
        var output = new OutgoingMessages();

        format.Encode([Item(42, s_temperature, SampleValue.FromDouble(23.4))], DeliveryLane.Live, Context(config), output);

        var message = Assert.Single(Drain(output));
        Assert.Equal("uns/acme/lyon/assembly/line-1/press-1/spindle/temperature", message.Topic);
        Assert.Equal("""{"value":23.4,"timestamp":"2026-11-26T10:00:00.123Z","quality":"Good","unit":"degC"}""", Payload(message));
        Assert.Equal(new SequenceRange(42, 42), message.Completes);
        Assert.Equal(1, message.Samples);
    }

    [Theory]
    [InlineData(22.1f, "22.1")]
    [InlineData(0.1f, "0.1")]
    [InlineData(-1.5e-7f, "-1.5E-07")]
    [InlineData(3.4028235e38f, "3.4028235E+38")]
    public void Float_IsWrittenAsTheShortestFloat32Text(float value, string expected)
    {
        var config = Config();
        using var format = new UnsFormat(config);
        var output = new OutgoingMessages();

        format.Encode([Item(1, s_temperature, SampleValue.FromFloat(value))], DeliveryLane.Live, Context(config), output);

        using var json = JsonDocument.Parse(Payload(Drain(output)[0]));
        Assert.Equal(expected, json.RootElement.GetProperty("value").GetRawText());
        Assert.Equal(value, json.RootElement.GetProperty("value").GetSingle());
    }

    [Fact]
    public void UnsignedInteger_AboveLongMaxValue_IsExact()
    {
        var config = Config();
        using var format = new UnsFormat(config);
        var output = new OutgoingMessages();

        format.Encode([Item(1, s_count, SampleValue.FromUnsignedInteger(ulong.MaxValue))], DeliveryLane.Live, Context(config), output);

        Assert.Contains("\"value\":18446744073709551615,", Payload(Drain(output)[0]), StringComparison.Ordinal);
    }

    [Fact]
    public void NonFiniteValues_AreNull()
    {
        var config = Config();
        using var format = new UnsFormat(config);
        var output = new OutgoingMessages();

        format.Encode([Item(1, s_temperature, SampleValue.FromFloat(float.NaN)), Item(2, s_temperature, SampleValue.FromDouble(double.PositiveInfinity))], DeliveryLane.Live, Context(config), output);

        Assert.All(Drain(output), m => Assert.StartsWith("{\"value\":null,", Payload(m), StringComparison.Ordinal));
    }

    [Fact]
    public void History_GoesAsOneArrayOnTheHistoryTopic_InBufferOrder_NeverOnALiveTopic()
    {
        var config = Config();
        using var format = new UnsFormat(config);
        var output = new OutgoingMessages();
        var samples = Enumerable.Range(1, 6).Select(i => Item(i, i % 2 == 0 ? s_count : s_temperature, SampleValue.FromInteger(i))).ToList();

        format.Encode(samples, DeliveryLane.History, Context(config), output);

        var message = Assert.Single(Drain(output));
        Assert.Equal("uns/acme/lyon/assembly/line-1/_gateway/gw1/history", message.Topic);
        Assert.Equal(new SequenceRange(1, 6), message.Completes);
        Assert.Equal(6, message.Samples);
        using var json = JsonDocument.Parse(Payload(message));
        var elements = json.RootElement.EnumerateArray().ToList();
        Assert.Equal([1L, 2, 3, 4, 5, 6], elements.Select(e => e.GetProperty("value").GetInt64()));
        Assert.Equal("uns/acme/lyon/assembly/line-1/press-1/count", elements[1].GetProperty("topic").GetString());
        Assert.Equal("""{"topic":"uns/acme/lyon/assembly/line-1/press-1/spindle/temperature","value":1,"timestamp":"2026-11-26T10:00:00.123Z","quality":"Good","unit":"degC"}""", elements[0].GetRawText());
    }

    [Fact]
    public void History_IsSplitUnderTheBrokersMaximumPacketSize_EachMessageCompletingItsOwnRun()
    {
        var config = Config();
        using var format = new UnsFormat(config);
        var output = new OutgoingMessages();
        var samples = Enumerable.Range(1, 200).Select(i => Item(i, s_temperature, SampleValue.FromInteger(i))).ToList();

        format.Encode(samples, DeliveryLane.History, Context(config, maximumPacketSize: 2048), output);

        var messages = Drain(output);
        Assert.True(messages.Count > 10, $"{messages.Count} messages");
        Assert.All(messages, m => Assert.True(MqttBrokerLimits.PublishPacketSize(m.Topic, m.Length, m.QualityOfServiceLevel, mqtt5: true) <= 2048, $"{m.Length} bytes"));
        Assert.Equal(200, messages.Sum(m => m.Samples));
        var next = 1L;
        foreach (var message in messages)
        {
            Assert.Equal(next, message.Completes!.Value.First);
            next = message.Completes.Value.Last + 1;
        }

        Assert.Equal(201, next);
    }

    [Fact]
    public void History_ALargeSampleThatWouldGoOverTheLimit_StartsTheNextMessage_NoMessageIsOverTheLimit()
    {
        var config = Config();
        using var format = new UnsFormat(config);
        var output = new OutgoingMessages();
        // Two small samples (far under three quarters of the limit), then one that fits a message alone but not with them.
        var large = new string('x', 1700);
        List<BufferedSample> samples = [Item(1, s_count, SampleValue.FromInteger(1)), Item(2, s_count, SampleValue.FromInteger(2)), Item(3, s_temperature, SampleValue.FromString(large)), Item(4, s_count, SampleValue.FromInteger(4))];

        format.Encode(samples, DeliveryLane.History, Context(config, maximumPacketSize: 2048), output);

        var messages = Drain(output);
        Assert.All(messages, m => Assert.True(MqttBrokerLimits.PublishPacketSize(m.Topic, m.Length, m.QualityOfServiceLevel, mqtt5: true) <= 2048, $"{m.Length} bytes"));
        Assert.Equal([new SequenceRange(1, 2), new SequenceRange(3, 3), new SequenceRange(4, 4)], messages.Select(m => m.Completes!.Value));
        Assert.Equal([2, 1, 1], messages.Select(m => m.Samples));
        using var first = JsonDocument.Parse(Payload(messages[0]));
        Assert.Equal([1L, 2], first.RootElement.EnumerateArray().Select(e => e.GetProperty("value").GetInt64()));
        using var second = JsonDocument.Parse(Payload(messages[1]));
        Assert.Equal(large, Assert.Single(second.RootElement.EnumerateArray().ToList()).GetProperty("value").GetString());
    }

    [Fact]
    public void HistoryDrained_RepublishesTheNewestBacklogValueLive_OnlyForTagsWithoutALiveSample()
    {
        var config = Config();
        using var format = new UnsFormat(config);
        var context = Context(config);
        var output = new OutgoingMessages();
        format.Encode([Item(10, s_count, SampleValue.FromInteger(7))], DeliveryLane.Live, context, output);
        format.Encode([Item(1, s_temperature, SampleValue.FromInteger(1)), Item(2, s_count, SampleValue.FromInteger(5)), Item(3, s_temperature, SampleValue.FromInteger(3))], DeliveryLane.History, context, output);
        Drain(output);

        format.OnHistoryDrained(context, output);

        var catchUp = Assert.Single(Drain(output));
        Assert.Equal("uns/acme/lyon/assembly/line-1/press-1/spindle/temperature", catchUp.Topic);
        Assert.StartsWith("{\"value\":3,", Payload(catchUp), StringComparison.Ordinal);
        Assert.Null(catchUp.Completes);
        Assert.Equal(0, catchUp.Samples);
    }

    [Fact]
    public void LivePayload_InTheSteadyState_AllocatesNothingButTheMessage()
    {
        var config = Config();
        using var format = new UnsFormat(config);
        var context = Context(config);
        var output = new OutgoingMessages();
        var batch = Enumerable.Range(1, 1000).Select(i => Item(i, s_temperature, SampleValue.FromDouble(i * 0.1))).ToList();
        void Round()
        {
            format.Encode(batch, DeliveryLane.Live, context, output);
            while (output.TryTake(out var item))
            {
                Gateway.Northbound.Delivery.PayloadPool.Shared.Return(item.RentedPayload!);
            }
        }

        Round();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Round();
        var perSample = (GC.GetAllocatedBytesForCurrentThread() - before) / 1000.0;

        // What remains is MQTTnet's message object (about 150 bytes); the topic, the payload and its JSON writer are reused.
        Assert.True(perSample < 200, $"{perSample:F0} bytes allocated per sample");
    }
}
