using Gateway.Northbound.Delivery;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// Takes the PUBACKs of the gateway's own publications out of the bytes the broker sends, before MQTTnet reads them,
/// and records each with its reason code (<see cref="PublishAcknowledgements"/>); every other byte is left for
/// MQTTnet, unchanged and in order (its own PUBACKs, SUBACK, PINGRESP, inbound PUBLISH, DISCONNECT...). Works in
/// place on the channel's read buffer, whatever the reads' boundaries: a packet may be split anywhere across reads,
/// and one read may hold many packets. Only the packet the buffer ends in the middle of the header of (at most 8 bytes:
/// fixed header, a remaining length of up to 4 bytes, packet identifier, reason code) stays undecided until more comes.
/// </summary>
public sealed class PubAckFilter(PublishAcknowledgements acknowledgements)
{
    private const byte PubAck = 0x40;

    private int _passing;   // bytes of the current packet still to hand to MQTTnet
    private int _skipping;  // bytes of the current (own) PUBACK still to drop

    /// <summary>
    /// Filters <c>buffer[start..end]</c> in place. Returns where the bytes for MQTTnet end (they are
    /// <c>buffer[start..result]</c>); <paramref name="undecidedEnd"/> ends the bytes kept after them, the beginning of a
    /// packet not yet decided (to filter again from <c>result</c> once more bytes follow them). True in
    /// <paramref name="acknowledged"/> when some PUBACK of ours was taken.
    /// </summary>
    public int Filter(byte[] buffer, int start, int end, out int undecidedEnd, out bool acknowledged)
    {
        acknowledged = false;
        var read = start;
        var write = start;
        while (read < end)
        {
            if (_passing > 0)
            {
                var take = Math.Min(_passing, end - read);
                if (write != read)
                {
                    Buffer.BlockCopy(buffer, read, buffer, write, take);
                }

                read += take;
                write += take;
                _passing -= take;
                continue;
            }

            if (_skipping > 0)
            {
                var drop = Math.Min(_skipping, end - read);
                read += drop;
                _skipping -= drop;
                continue;
            }

            // At the start of a packet: its fixed header and remaining length.
            var position = read + 1;
            var remaining = 0;
            var shift = 0;
            var complete = false;
            while (position < end && shift < 28)
            {
                var digit = buffer[position++];
                remaining |= (digit & 0x7F) << shift;
                shift += 7;
                if ((digit & 0x80) == 0)
                {
                    complete = true;
                    break;
                }
            }

            if (!complete && shift < 28)
            {
                break; // the remaining length continues in the next read
            }

            var header = position - read;
            if (buffer[read] == PubAck && complete && remaining >= 2)
            {
                // Identifier, then (MQTT 5, when the remaining length is over 2) the reason code.
                var needed = remaining == 2 ? 2 : 3;
                if (end - position < needed)
                {
                    break;
                }

                var identifier = (buffer[position] << 8) | buffer[position + 1];
                var reason = remaining == 2 ? (byte)0 : buffer[position + 2];
                var reasonString = reason >= 0x80 && end - position >= remaining ? ReasonString(buffer.AsSpan(position + 3, remaining - 3)) : null;
                if (acknowledgements.TryAcknowledge(identifier, reason, reasonString))
                {
                    acknowledged = true;
                    _skipping = header + remaining;
                    continue;
                }
            }

            _passing = header + remaining; // not ours (or malformed: MQTTnet reports it)
        }

        // What was not decided moves down behind what MQTTnet gets.
        var undecided = end - read;
        if (undecided > 0 && write != read)
        {
            Buffer.BlockCopy(buffer, read, buffer, write, undecided);
        }

        undecidedEnd = write + undecided;
        return write;
    }

    /// <summary>
    /// The Reason String property (0x1F) of a refusal's properties, when the whole PUBACK is in the buffer (it almost
    /// always is: a refusal is a few bytes); null otherwise. Only refusals are read: the string names the broker's reason.
    /// </summary>
    private static string? ReasonString(ReadOnlySpan<byte> properties)
    {
        if (properties.Length < 1 || properties[0] >= 0x80)
        {
            return null; // no properties, or a property length over one byte: not worth parsing for a message text
        }

        var position = 1;
        var end = Math.Min(properties.Length, 1 + properties[0]);
        while (position + 3 <= end)
        {
            var identifier = properties[position];
            var length = (properties[position + 1] << 8) | properties[position + 2];
            if (position + 3 + length > end)
            {
                return null;
            }

            if (identifier == 0x1F)
            {
                return System.Text.Encoding.UTF8.GetString(properties.Slice(position + 3, length));
            }

            if (identifier != 0x26)
            {
                return null; // a PUBACK carries only Reason String and User Property
            }

            // User Property: a string pair; skip the value too.
            var valueAt = position + 3 + length;
            if (valueAt + 2 > end)
            {
                return null;
            }

            position = valueAt + 2 + ((properties[valueAt] << 8) | properties[valueAt + 1]);
        }

        return null;
    }
}
