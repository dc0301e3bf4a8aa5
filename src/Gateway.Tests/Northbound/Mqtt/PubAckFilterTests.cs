using Gateway.Northbound.Mqtt;

namespace Gateway.Tests.Northbound.Mqtt;

/// <summary>The read side of <see cref="CoalescingChannel"/>: own PUBACKs out, everything else to MQTTnet unchanged.</summary>
public sealed class PubAckFilterTests
{
    private static readonly byte[] SubAck = [0x90, 3, 0x00, 0x01, 0x00];
    private static readonly byte[] OwnPubAck311 = [0x40, 2, 0x80, 0x00];                                                  // 32768, success
    private static readonly byte[] MqttnetPubAck = [0x40, 2, 0x00, 0x02];                                                 // MQTTnet's own identifier 2
    private static readonly byte[] OwnRefusalWithReasonString = [0x40, 9, 0x80, 0x01, 0x87, 5, 0x1F, 0, 2, (byte)'n', (byte)'o']; // 32769, 0x87 Not authorized
    private static readonly byte[] OwnPubAckReasonOnly = [0x40, 3, 0x80, 0x02, 0x10];                                     // 32770, 0x10 No matching subscribers
    private static readonly byte[] PingResp = [0xD0, 0];
    private static readonly byte[] UnknownInOurRange = [0x40, 2, 0x90, 0x00];                                             // 36864: not in flight
    private static readonly byte[] InboundPublish = InboundQos0("cmd/x", 200);

    private static byte[] InboundQos0(string topic, int payloadLength)
    {
        var payload = new byte[payloadLength];
        Random.Shared.NextBytes(payload);
        var size = PublishPacket.Size(topic, payloadLength, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce, false, out _);
        var packet = new byte[size];
        PublishPacket.Write(packet, topic, payload, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce, 0, false);
        return packet;
    }

    private static byte[] Stream => [.. SubAck, .. OwnPubAck311, .. MqttnetPubAck, .. InboundPublish, .. OwnRefusalWithReasonString, .. PingResp, .. OwnPubAckReasonOnly, .. UnknownInOurRange];

    private static byte[] ForMqttnet => [.. SubAck, .. MqttnetPubAck, .. InboundPublish, .. PingResp, .. UnknownInOurRange];

    private static (CoalescingChannel Channel, ushort[] Ids) Channel(IEnumerable<byte[]> reads, int inFlight = 3)
    {
        var channel = new CoalescingChannel(new ScriptedChannel(reads), mqtt5: true);
        var ids = Enumerable.Range(0, inFlight).Select(_ => channel.Acknowledgements.Allocate()).ToArray();
        return (channel, ids);
    }

    /// <summary>Reads as MQTTnet does, in small and large requests, until the connection closes.</summary>
    private static async Task<byte[]> ReadAllAsync(CoalescingChannel channel)
    {
        var all = new List<byte>();
        var buffer = new byte[70_000];
        int[] sizes = [1, 2, 3, 4096, 70_000];
        for (var i = 0; ; i++)
        {
            var read = await channel.ReadAsync(buffer, 0, sizes[i % sizes.Length], CancellationToken.None);
            if (read == 0)
            {
                return [.. all];
            }

            all.AddRange(buffer.AsSpan(0, read));
        }
    }

    private static void AssertAcknowledged(CoalescingChannel channel, ushort[] ids, bool refusalInOneRead = false)
    {
        Assert.True(channel.Acknowledgements.TryTake(ids[0], out var first));
        Assert.Equal(0, first);
        Assert.True(channel.Acknowledgements.TryTake(ids[1], out var second, out var reasonString));
        Assert.Equal(0x87, second);
        if (refusalInOneRead)
        {
            Assert.Equal("no", reasonString);
        }

        Assert.True(channel.Acknowledgements.TryTake(ids[2], out var third));
        Assert.Equal(0x10, third);
    }

    [Fact]
    public async Task PacketsSplitAtEveryByte_OwnPubAcksAreTakenOut_AndMqttnetGetsTheRestUnchanged()
    {
        var stream = Stream;
        for (var split = 1; split < stream.Length; split++)
        {
            var (channel, ids) = Channel([stream[..split], stream[split..]]);

            Assert.Equal(ForMqttnet, await ReadAllAsync(channel));
            AssertAcknowledged(channel, ids);
        }
    }

    [Fact]
    public async Task OneByteAtATime_OwnPubAcksAreTakenOut_AndMqttnetGetsTheRestUnchanged()
    {
        var (channel, ids) = Channel(Stream.Select(b => new[] { b }));

        Assert.Equal(ForMqttnet, await ReadAllAsync(channel));
        AssertAcknowledged(channel, ids);
    }

    [Fact]
    public async Task ManyPacketsInOneRead_AllOwnPubAcksAreTaken_AndTheLoopIsWokenOncePerRead()
    {
        var wakes = 0;
        var (channel, ids) = Channel([Stream]);
        channel.Acknowledgements.Wake = () => wakes++;

        Assert.Equal(ForMqttnet, await ReadAllAsync(channel));
        AssertAcknowledged(channel, ids, refusalInOneRead: true);
        Assert.Equal(1, wakes);
    }

    [Fact]
    public async Task AStreamLongerThanTheReadBuffer_WithAPubAckAcrossItsEnd_IsFilteredWhole()
    {
        // 20,000 own PUBACKs (80,000 bytes, more than the 64 KiB buffer), then a PINGRESP, in reads of 65,535 bytes:
        // a PUBACK straddles the buffer's end.
        var (channel, ids) = Channel([], inFlight: 20_000);
        var stream = ids.SelectMany(id => new byte[] { 0x40, 2, (byte)(id >> 8), (byte)id }).Concat(PingResp).ToArray();
        channel = new CoalescingChannel(new ScriptedChannel(stream.Chunk(65_535)), mqtt5: false);
        var acknowledgements = channel.Acknowledgements;
        ids = [.. ids.Select(_ => acknowledgements.Allocate())];

        var read = await ReadAllAsync(channel);
        Assert.Equal(PingResp, read);
        Assert.All(ids, id => Assert.True(acknowledgements.TryTake(id, out _), $"{id}"));
    }

    [Fact]
    public async Task AnInboundPacketWithAFourByteRemainingLength_SplitInItsHeader_PassesWhole()
    {
        var large = InboundQos0("big", 2_200_000);
        for (var split = 1; split <= 7; split++)
        {
            var stream = (byte[])[.. OwnPubAck311, .. large, .. MqttnetPubAck];
            var (channel, ids) = Channel([stream[..(OwnPubAck311.Length + split)], stream[(OwnPubAck311.Length + split)..]], inFlight: 1);

            var read = await ReadAllAsync(channel);
            Assert.Equal([.. large, .. MqttnetPubAck], read);
            Assert.True(channel.Acknowledgements.TryTake(ids[0], out _));
        }
    }

    [Fact]
    public async Task APubAckForAnIdentifierNotOurs_GoesToMqttnet_EvenInOurRange()
    {
        var (channel, _) = Channel([[.. MqttnetPubAck, .. UnknownInOurRange]], inFlight: 0);

        var read = await ReadAllAsync(channel);
        Assert.Equal([.. MqttnetPubAck, .. UnknownInOurRange], read);
    }
}
