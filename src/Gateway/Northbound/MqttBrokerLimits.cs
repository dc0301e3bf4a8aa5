using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Northbound;

/// <summary>
/// What the broker announced in its MQTT 5 CONNACK and the client must respect (MQTT 5.0 §3.2.2.3): how many
/// QoS 1/2 publications may await their acknowledgement at once (Receive Maximum, [MQTT-4.9.0-2]), the largest
/// packet it accepts (Maximum Packet Size, [MQTT-3.2.2-15]), the highest QoS and whether retain is available.
/// MQTT 3.1.1 announces none of these: the defaults are the protocol's own limits.
/// </summary>
public sealed record MqttBrokerLimits(int ReceiveMaximum, long MaximumPacketSize, MqttQualityOfServiceLevel MaximumQos, bool RetainAvailable)
{
    /// <summary>The largest packet MQTT can encode: a 1-byte header, a 4-byte remaining length and 268,435,455 bytes.</summary>
    public const long ProtocolMaximumPacketSize = 268_435_460;

    /// <summary>An MQTT PUBLISH's own bytes besides topic and payload (fixed header, lengths, packet id, properties), at most.</summary>
    public const int PublishOverhead = 16;

    public static MqttBrokerLimits None { get; } = new(65_535, ProtocolMaximumPacketSize, MqttQualityOfServiceLevel.ExactlyOnce, true);

    /// <summary>
    /// The largest payload a PUBLISH to <paramref name="topic"/> may carry in a packet of <paramref name="maximumPacketSize"/>
    /// bytes (the broker's Maximum Packet Size; never above the protocol's own limit).
    /// </summary>
    public static long MaxPayload(long maximumPacketSize, string topic) =>
        Math.Min(maximumPacketSize, ProtocolMaximumPacketSize) - PublishOverhead - System.Text.Encoding.UTF8.GetByteCount(topic);

    /// <summary>
    /// Reads the limits from the CONNACK packet's bytes (fixed header included, as MQTTnet's packet inspection
    /// hands them over) and from MQTTnet's result, which carries Maximum QoS and Retain Available but not the two
    /// sizes. An absent property means the protocol's default (65,535 and no limit).
    /// </summary>
    public static MqttBrokerLimits From(ReadOnlySpan<byte> connAck, MqttClientConnectResult? result)
    {
        var receiveMaximum = 65_535;
        var maximumPacketSize = ProtocolMaximumPacketSize;
        try
        {
            ReadProperties(connAck, ref receiveMaximum, ref maximumPacketSize);
        }
        catch (IndexOutOfRangeException)
        {
            // A truncated CONNACK: MQTTnet has already refused it; keep the protocol defaults.
        }
        catch (ArgumentOutOfRangeException)
        {
        }

        return new MqttBrokerLimits(
            receiveMaximum,
            maximumPacketSize,
            result?.MaximumQoS ?? MqttQualityOfServiceLevel.ExactlyOnce,
            result?.RetainAvailable ?? true);
    }

    private static void ReadProperties(ReadOnlySpan<byte> packet, ref int receiveMaximum, ref long maximumPacketSize)
    {
        if (packet.Length < 2 || packet[0] != 0x20)
        {
            return;
        }

        var position = 1;
        var remaining = ReadVariableInteger(packet, ref position);
        var end = Math.Min(packet.Length, position + remaining);
        position += 2; // acknowledge flags, reason code
        if (position >= end)
        {
            return; // MQTT 3.1.1: no properties
        }

        var length = ReadVariableInteger(packet, ref position);
        end = Math.Min(end, position + length);
        while (position < end)
        {
            var identifier = packet[position++];
            switch (identifier)
            {
                case 0x21: // Receive Maximum, two-byte integer (0 is a protocol error; ignore it)
                    var value = (packet[position] << 8) | packet[position + 1];
                    receiveMaximum = value == 0 ? receiveMaximum : value;
                    position += 2;
                    break;
                case 0x27: // Maximum Packet Size, four-byte integer
                    var size = ((long)packet[position] << 24) | ((long)packet[position + 1] << 16) | ((long)packet[position + 2] << 8) | packet[position + 3];
                    maximumPacketSize = size == 0 ? maximumPacketSize : size;
                    position += 4;
                    break;
                case 0x24 or 0x25 or 0x28 or 0x29 or 0x2A: // Maximum QoS, Retain Available, the three subscription flags: byte
                    position += 1;
                    break;
                case 0x13 or 0x22: // Server Keep Alive, Topic Alias Maximum: two-byte integer
                    position += 2;
                    break;
                case 0x11: // Session Expiry Interval: four-byte integer
                    position += 4;
                    break;
                case 0x12 or 0x15 or 0x16 or 0x1A or 0x1C or 0x1F: // strings and binary data: two-byte length, then bytes
                    position += 2 + ((packet[position] << 8) | packet[position + 1]);
                    break;
                case 0x26: // User Property: a string pair
                    position += 2 + ((packet[position] << 8) | packet[position + 1]);
                    position += 2 + ((packet[position] << 8) | packet[position + 1]);
                    break;
                default:
                    return; // not a CONNACK property: stop rather than misread
            }
        }
    }

    private static int ReadVariableInteger(ReadOnlySpan<byte> packet, ref int position)
    {
        var value = 0;
        var shift = 0;
        byte current;
        do
        {
            current = packet[position++];
            value |= (current & 0x7F) << shift;
            shift += 7;
        }
        while ((current & 0x80) != 0 && shift < 28);

        return value;
    }

    /// <summary>
    /// The size of a PUBLISH packet on the wire: fixed header, topic, packet identifier (QoS 1/2), MQTT 5
    /// properties (none are set by the gateway: one byte of zero length) and payload.
    /// </summary>
    public static long PublishPacketSize(MqttApplicationMessage message, bool mqtt5) =>
        PublishPacketSize(message.Topic, message.Payload.Length, message.QualityOfServiceLevel, mqtt5);

    /// <inheritdoc cref="PublishPacketSize(MqttApplicationMessage, bool)"/>
    public static long PublishPacketSize(string topic, long payloadLength, MqttQualityOfServiceLevel qualityOfService, bool mqtt5)
    {
        var variable = 2L + System.Text.Encoding.UTF8.GetByteCount(topic)
            + (qualityOfService == MqttQualityOfServiceLevel.AtMostOnce ? 0 : 2)
            + (mqtt5 ? 1 : 0)
            + payloadLength;
        var lengthBytes = variable < 128 ? 1 : variable < 16_384 ? 2 : variable < 2_097_152 ? 3 : 4;
        return 1 + lengthBytes + variable;
    }
}
