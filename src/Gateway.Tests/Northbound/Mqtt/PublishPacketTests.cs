using System.Text;
using Gateway.Northbound.Mqtt;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Gateway.Tests.Northbound.Mqtt;

public sealed class PublishPacketTests
{
    private static byte[] Encode(string topic, byte[] payload, MqttQualityOfServiceLevel qos, ushort id, bool mqtt5, bool retain = false, bool duplicate = false)
    {
        var size = PublishPacket.Size(topic, payload.Length, qos, mqtt5, out _);
        var buffer = new byte[size + 8];
        Assert.Equal(size, PublishPacket.Write(buffer, topic, payload, qos, id, mqtt5, retain, duplicate));
        return buffer[..size];
    }

    /// <summary>The same packet as MQTTnet's own formatter writes it (a second opinion on every field).</summary>
    private static byte[] MqttnetEncode(string topic, byte[] payload, MqttQualityOfServiceLevel qos, ushort id, bool mqtt5, bool retain = false, bool duplicate = false)
    {
        var formatter = new MqttPacketFormatterAdapter(mqtt5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311, new MqttBufferWriter(4096, 64 * 1024 * 1024));
        var packet = new MqttPublishPacket { Topic = topic, PayloadSegment = payload, QualityOfServiceLevel = qos, PacketIdentifier = id, Retain = retain, Dup = duplicate };
        return formatter.Encode(packet).Join().ToArray();
    }

    [Fact]
    public void Qos1_Mqtt311_IsTheSpecificationsLayout()
    {
        var bytes = Encode("a/b", "hi"u8.ToArray(), MqttQualityOfServiceLevel.AtLeastOnce, 0x8001, mqtt5: false);

        // 0x32: PUBLISH, QoS 1; remaining length 9 = 2 + 3 (topic) + 2 (identifier) + 2 (payload).
        Assert.Equal(new byte[] { 0x32, 9, 0, 3, (byte)'a', (byte)'/', (byte)'b', 0x80, 0x01, (byte)'h', (byte)'i' }, bytes);
    }

    [Fact]
    public void Qos1_Mqtt5_CarriesAPropertyLengthOfZero_AfterTheIdentifier()
    {
        var bytes = Encode("a/b", "hi"u8.ToArray(), MqttQualityOfServiceLevel.AtLeastOnce, 0x8001, mqtt5: true);

        Assert.Equal(new byte[] { 0x32, 10, 0, 3, (byte)'a', (byte)'/', (byte)'b', 0x80, 0x01, 0, (byte)'h', (byte)'i' }, bytes);
    }

    [Fact]
    public void Qos0_HasNoIdentifier()
    {
        Assert.Equal(new byte[] { 0x30, 4, 0, 1, (byte)'t', (byte)'x' }, Encode("t", "x"u8.ToArray(), MqttQualityOfServiceLevel.AtMostOnce, 0, mqtt5: false));
        Assert.Equal(new byte[] { 0x30, 5, 0, 1, (byte)'t', 0, (byte)'x' }, Encode("t", "x"u8.ToArray(), MqttQualityOfServiceLevel.AtMostOnce, 0, mqtt5: true));
    }

    [Fact]
    public void DupAndRetain_SetTheirFlagBits()
    {
        Assert.Equal(0x3B, Encode("t", [], MqttQualityOfServiceLevel.AtLeastOnce, 40000, mqtt5: true, retain: true, duplicate: true)[0]);
        Assert.Equal(0x31, Encode("t", [], MqttQualityOfServiceLevel.AtMostOnce, 0, mqtt5: false, retain: true)[0]);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(127 - 15, 1)]          // remaining length 127: the largest of one byte
    [InlineData(128 - 15, 2)]          // 128: two bytes
    [InlineData(16_383 - 15, 2)]
    [InlineData(16_384 - 15, 3)]
    [InlineData(2_097_151 - 15, 3)]
    [InlineData(2_097_152 - 15, 4)]
    public void RemainingLength_TakesOneToFourBytes_AsMqttnetWritesIt(int payloadLength, int lengthBytes)
    {
        // Topic "some/topic" (10 bytes): remaining length = 2 + 10 + 2 + 1 + payload = 15 + payload (MQTT 5, QoS 1).
        var payload = new byte[payloadLength];
        Random.Shared.NextBytes(payload);

        var bytes = Encode("some/topic", payload, MqttQualityOfServiceLevel.AtLeastOnce, 33000, mqtt5: true);

        Assert.Equal(1 + lengthBytes + 15 + payloadLength, bytes.Length);
        Assert.Equal(lengthBytes, PublishPacket.LengthBytes(15 + payloadLength));
        Assert.Equal(MqttnetEncode("some/topic", payload, MqttQualityOfServiceLevel.AtLeastOnce, 33000, mqtt5: true), bytes);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LongAndNonAsciiTopics_AreEncodedAsUtf8_AsMqttnetWritesThem(bool mqtt5)
    {
        var topic = "usine/ligne-é/" + new string('x', 40_000) + "/température";
        var payload = Encoding.UTF8.GetBytes("{\"value\":1}");

        var bytes = Encode(topic, payload, MqttQualityOfServiceLevel.AtLeastOnce, 65535, mqtt5);

        Assert.Equal(MqttnetEncode(topic, payload, MqttQualityOfServiceLevel.AtLeastOnce, 65535, mqtt5), bytes);
        Assert.Equal(Encoding.UTF8.GetByteCount(topic), (bytes[4] << 8) | bytes[5]); // three length bytes, then the topic's length
    }

    [Fact]
    public void ATopicOverMqttsLimit_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => PublishPacket.Size(new string('x', 65_536), 0, MqttQualityOfServiceLevel.AtLeastOnce, true, out _));
    }

    [Fact]
    public void Qos1_WithoutAnIdentifier_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PublishPacket.Write(new byte[64], "t", [], MqttQualityOfServiceLevel.AtLeastOnce, 0, true));
    }

    [Theory]
    [InlineData("lab/e/s/a/line1/m0/r17", 1, true)]
    [InlineData("usine/presse-à-chaud/température", 1, false)]
    [InlineData("spBv1.0/g/DDATA/n/d", 0, true)]
    public void Write_WithTheTopicInUtf8_IsByteForByteTheStringForm(string topic, int qos, bool mqtt5)
    {
        var payload = "{\"value\":1}"u8.ToArray();
        var level = (MqttQualityOfServiceLevel)qos;
        var expected = Encode(topic, payload, level, qos == 0 ? (ushort)0 : (ushort)0x8123, mqtt5);
        var utf8 = Encoding.UTF8.GetBytes(topic);
        var size = PublishPacket.Size(utf8.Length, payload.Length, level, mqtt5, out _);
        var buffer = new byte[size];

        Assert.Equal(size, PublishPacket.Write(buffer, utf8, payload, level, qos == 0 ? (ushort)0 : (ushort)0x8123, mqtt5));
        Assert.Equal(expected, buffer);
        Assert.Equal(MqttnetEncode(topic, payload, level, qos == 0 ? (ushort)0 : (ushort)0x8123, mqtt5), buffer);
    }
}
