using System.Buffers;
using Gateway.Northbound.Delivery;
using Gateway.Northbound.Mqtt;
using MQTTnet.Protocol;

namespace Gateway.Tests.Northbound.Mqtt;

/// <summary>The write side of <see cref="CoalescingChannel"/>: own packets only between two of MQTTnet's.</summary>
public sealed class CoalescingChannelWriteTests
{
    private static readonly byte[] PingReq = [0xC0, 0];

    private static byte[] Publish(string topic, int payloadLength, MqttQualityOfServiceLevel qos, ushort id)
    {
        var payload = Enumerable.Range(0, payloadLength).Select(i => (byte)i).ToArray();
        var packet = new byte[PublishPacket.Size(topic, payloadLength, qos, true, out _)];
        PublishPacket.Write(packet, topic, payload, qos, id, true);
        return packet;
    }

    private static async Task<(CoalescingChannel Channel, ScriptedChannel Socket)> ConnectedAsync()
    {
        var socket = new ScriptedChannel();
        var channel = new CoalescingChannel(socket, mqtt5: true);
        await channel.ConnectAsync(CancellationToken.None);
        return (channel, socket);
    }

    [Fact]
    public async Task AnMqttnetPacketWrittenInTwoParts_SplitAtEveryByte_IsNeverInterleavedWithOurs()
    {
        // MQTTnet's own QoS 1 PUBLISH (identifier 1, its status message say), 300 bytes of payload: a two-byte length.
        var theirs = Publish("gw/status", 300, MqttQualityOfServiceLevel.AtLeastOnce, 1);
        for (var split = 1; split < theirs.Length; split++)
        {
            var (channel, socket) = await ConnectedAsync();

            await channel.WriteAsync(new ReadOnlySequence<byte>(theirs, 0, split), isEndOfPacket: false, CancellationToken.None);
            Assert.True(channel.TryPublish("data/t", "{\"v\":1}"u8, MqttQualityOfServiceLevel.AtLeastOnce, out var id));
            await channel.WriteAsync(new ReadOnlySequence<byte>(theirs, split, theirs.Length - split), isEndOfPacket: true, CancellationToken.None);
            await channel.WriteAsync(new ReadOnlySequence<byte>(PingReq), isEndOfPacket: true, CancellationToken.None);

            var expected = (byte[])[.. theirs, .. OursWith(id), .. PingReq];
            Assert.Equal(expected, await socket.SentAsync(expected.Length));
            Assert.Equal(PublishAcknowledgements.FirstPacketIdentifier, id);
            channel.Dispose();
        }
    }

    private static byte[] OursWith(ushort id)
    {
        var packet = new byte[PublishPacket.Size("data/t", 7, MqttQualityOfServiceLevel.AtLeastOnce, true, out _)];
        PublishPacket.Write(packet, "data/t", "{\"v\":1}"u8, MqttQualityOfServiceLevel.AtLeastOnce, id, true);
        return packet;
    }

    [Fact]
    public async Task AHeaderWrittenByteByByte_StillHoldsOursUntilThePacketEnds()
    {
        var theirs = Publish("gw/status", 200, MqttQualityOfServiceLevel.AtMostOnce, 0);
        var (channel, socket) = await ConnectedAsync();

        await channel.WriteAsync(new ReadOnlySequence<byte>(theirs, 0, 1), false, CancellationToken.None);
        Assert.True(channel.TryPublish("data/t", "{\"v\":1}"u8, MqttQualityOfServiceLevel.AtLeastOnce, out var first));
        await channel.WriteAsync(new ReadOnlySequence<byte>(theirs, 1, 1), false, CancellationToken.None);
        Assert.True(channel.TryPublish("data/t", "{\"v\":1}"u8, MqttQualityOfServiceLevel.AtLeastOnce, out var second));
        await channel.WriteAsync(new ReadOnlySequence<byte>(theirs, 2, theirs.Length - 2), true, CancellationToken.None);

        var expected = (byte[])[.. theirs, .. OursWith(first), .. OursWith(second)];
        Assert.Equal(expected, await socket.SentAsync(expected.Length));
        channel.Dispose();
    }

    [Fact]
    public async Task OursBetweenMqttnetsPackets_GoOutAtOnce_InTheOrderWritten()
    {
        var (channel, socket) = await ConnectedAsync();

        Assert.True(channel.TryPublish("data/t", "{\"v\":1}"u8, MqttQualityOfServiceLevel.AtLeastOnce, out var first));
        await channel.WriteAsync(new ReadOnlySequence<byte>(PingReq), true, CancellationToken.None);
        Assert.True(channel.TryPublish("data/t", "{\"v\":1}"u8, MqttQualityOfServiceLevel.AtLeastOnce, out var second));

        var expected = (byte[])[.. OursWith(first), .. PingReq, .. OursWith(second)];
        Assert.Equal(expected, await socket.SentAsync(expected.Length));
        Assert.Equal(first + 1, second);
        channel.Dispose();
    }

    [Fact]
    public async Task Qos0_TakesNoIdentifier()
    {
        var (channel, _) = await ConnectedAsync();

        Assert.True(channel.TryPublish("data/t", "x"u8, MqttQualityOfServiceLevel.AtMostOnce, out var id));

        Assert.Equal(0, id);
        Assert.False(channel.Acknowledgements.InUse);
        channel.Dispose();
    }

    [Fact]
    public async Task MqttnetNumberingAPacketInOurRange_WhileOursAreInUse_FailsTheConnection()
    {
        var (channel, _) = await ConnectedAsync();
        Assert.True(channel.TryPublish("data/t", "x"u8, MqttQualityOfServiceLevel.AtLeastOnce, out _));
        byte[] subscribe = [0x82, 8, 0x9C, 0x40, 0, 3, (byte)'a', (byte)'/', (byte)'b', 1]; // SUBSCRIBE, identifier 40000

        await Assert.ThrowsAsync<IOException>(() => channel.WriteAsync(new ReadOnlySequence<byte>(subscribe), true, CancellationToken.None));
        Assert.Throws<IOException>(() => channel.TryPublish("data/t", "x"u8, MqttQualityOfServiceLevel.AtLeastOnce, out _));
        channel.Dispose();
    }

    [Fact]
    public async Task MqttnetsOwnLowIdentifiers_PassUnhindered()
    {
        var (channel, socket) = await ConnectedAsync();
        Assert.True(channel.TryPublish("data/t", "{\"v\":1}"u8, MqttQualityOfServiceLevel.AtLeastOnce, out var ours));
        byte[] subscribe = [0x82, 8, 0x00, 0x05, 0, 3, (byte)'a', (byte)'/', (byte)'b', 1];

        await channel.WriteAsync(new ReadOnlySequence<byte>(subscribe), true, CancellationToken.None);

        var expected = (byte[])[.. OursWith(ours), .. subscribe];
        Assert.Equal(expected, await socket.SentAsync(expected.Length));
        channel.Dispose();
    }

    [Fact]
    public void Qos2_IsLeftToMqttnet()
    {
        var channel = new CoalescingChannel(new ScriptedChannel(), mqtt5: true);

        Assert.Throws<ArgumentOutOfRangeException>(() => channel.TryPublish("t", "x"u8, MqttQualityOfServiceLevel.ExactlyOnce, out _));
    }

    [Fact]
    public void EveryConnection_GetsAChannelOfItsOwn_WhoseIdentifiersStartAfresh()
    {
        var factory = new CoalescingAdapterFactory();
        var options = new MQTTnet.MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", 1883).WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build();
        using var first = factory.CreateClientAdapter(options, null!, MQTTnet.Diagnostics.Logger.MqttNetNullLogger.Instance);
        var firstChannel = factory.Latest!;
        firstChannel.Acknowledgements.Allocate();
        firstChannel.Acknowledgements.Allocate();

        using var second = factory.CreateClientAdapter(options, null!, MQTTnet.Diagnostics.Logger.MqttNetNullLogger.Instance);

        Assert.NotSame(firstChannel, factory.Latest);
        Assert.Equal(PublishAcknowledgements.FirstPacketIdentifier, factory.Latest!.Acknowledgements.Allocate());
    }
}
