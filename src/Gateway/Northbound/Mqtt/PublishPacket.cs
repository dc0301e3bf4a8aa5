using System.Text;
using MQTTnet.Protocol;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// Encodes an MQTT PUBLISH packet (MQTT 3.1.1 §3.3, MQTT 5.0 §3.3) straight into a span: fixed header (type 3, DUP,
/// QoS and RETAIN flags), remaining length (a variable byte integer of 1 to 4 bytes), topic (UTF-8 with a two-byte
/// length), the packet identifier for QoS 1 and 2, for MQTT 5 a property length of 0 (the formats set no property:
/// no content type, user property, message expiry or topic alias), and the payload.
/// </summary>
public static class PublishPacket
{
    /// <summary>The largest remaining length a variable byte integer can encode (MQTT 5.0 §1.5.5).</summary>
    public const int MaximumRemainingLength = 268_435_455;

    /// <summary>
    /// The size of the whole packet on the wire, and the remaining length it will carry. Throws when the topic is over
    /// 65,535 UTF-8 bytes or the packet over the protocol's limit.
    /// </summary>
    public static int Size(string topic, int payloadLength, MqttQualityOfServiceLevel qualityOfService, bool mqtt5, out int remainingLength) =>
        Size(Encoding.UTF8.GetByteCount(topic), payloadLength, qualityOfService, mqtt5, out remainingLength);

    /// <summary>As <see cref="Size(string, int, MqttQualityOfServiceLevel, bool, out int)"/>, for a topic of <paramref name="topicLength"/> UTF-8 bytes.</summary>
    public static int Size(int topicLength, int payloadLength, MqttQualityOfServiceLevel qualityOfService, bool mqtt5, out int remainingLength)
    {
        if (topicLength > ushort.MaxValue)
        {
            throw new ArgumentException($"the topic is {topicLength} bytes, over MQTT's 65,535", nameof(topicLength));
        }

        var remaining = 2L + topicLength + (qualityOfService == MqttQualityOfServiceLevel.AtMostOnce ? 0 : 2) + (mqtt5 ? 1 : 0) + payloadLength;
        if (remaining > MaximumRemainingLength)
        {
            throw new ArgumentException($"a PUBLISH of {remaining} bytes is over MQTT's limit of {MaximumRemainingLength}", nameof(payloadLength));
        }

        remainingLength = (int)remaining;
        return 1 + LengthBytes(remainingLength) + remainingLength;
    }

    /// <summary>How many bytes the variable byte integer <paramref name="value"/> takes (1 to 4).</summary>
    public static int LengthBytes(int value) => value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;

    /// <summary>
    /// Writes the packet into <paramref name="destination"/>, which holds at least <see cref="Size(string, int, MqttQualityOfServiceLevel, bool, out int)"/> bytes, and returns
    /// how many it wrote. <paramref name="packetIdentifier"/> is ignored for QoS 0 and must not be 0 otherwise.
    /// </summary>
    public static int Write(Span<byte> destination, string topic, ReadOnlySpan<byte> payload, MqttQualityOfServiceLevel qualityOfService, ushort packetIdentifier, bool mqtt5, bool retain = false, bool duplicate = false)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var topicLength = Encoding.UTF8.GetByteCount(topic);
        if (topicLength <= 512)
        {
            Span<byte> topicBytes = stackalloc byte[topicLength];
            Encoding.UTF8.GetBytes(topic, topicBytes);
            return Write(destination, topicBytes, payload, qualityOfService, packetIdentifier, mqtt5, retain, duplicate);
        }

        return Write(destination, Encoding.UTF8.GetBytes(topic), payload, qualityOfService, packetIdentifier, mqtt5, retain, duplicate);
    }

    /// <summary>As <see cref="Write(Span{byte}, string, ReadOnlySpan{byte}, MqttQualityOfServiceLevel, ushort, bool, bool, bool)"/>, with the topic already in UTF-8.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> topic, ReadOnlySpan<byte> payload, MqttQualityOfServiceLevel qualityOfService, ushort packetIdentifier, bool mqtt5, bool retain = false, bool duplicate = false)
    {
        var qos = (int)qualityOfService;
        if (qos != 0 && packetIdentifier == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(packetIdentifier), "a QoS 1 or 2 PUBLISH needs a packet identifier other than 0");
        }

        var size = Size(topic.Length, payload.Length, qualityOfService, mqtt5, out var remaining);
        destination[0] = (byte)(0x30 | (duplicate ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0));
        var position = 1;
        do
        {
            var digit = remaining & 0x7F;
            remaining >>= 7;
            destination[position++] = (byte)(remaining > 0 ? digit | 0x80 : digit);
        }
        while (remaining > 0);

        destination[position] = (byte)(topic.Length >> 8);
        destination[position + 1] = (byte)topic.Length;
        topic.CopyTo(destination[(position + 2)..]);
        position += 2 + topic.Length;
        if (qos != 0)
        {
            destination[position] = (byte)(packetIdentifier >> 8);
            destination[position + 1] = (byte)packetIdentifier;
            position += 2;
        }

        if (mqtt5)
        {
            destination[position++] = 0; // property length
        }

        payload.CopyTo(destination[position..]);
        return size;
    }
}
