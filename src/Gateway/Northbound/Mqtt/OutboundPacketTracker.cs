namespace Gateway.Northbound.Mqtt;

/// <summary>
/// Follows the packets MQTTnet writes, however it splits them across writes (it writes a PUBLISH as header, then
/// payload): where each packet ends (fixed header byte, remaining length of 1 to 4 bytes, then that many bytes), so
/// that the gateway's own packets go in only between two of MQTTnet's; and the packet identifier of each packet
/// MQTTnet numbers itself (PUBLISH of QoS 1 or 2, SUBSCRIBE, UNSUBSCRIBE), so that the channel can check the two
/// identifier ranges stay apart (<see cref="Delivery.PublishAcknowledgements"/>).
/// </summary>
public sealed class OutboundPacketTracker
{
    private const int UnknownYet = -2;
    private const int None = -1;

    private State _state = State.FixedHeader;
    private byte _type;
    private int _remaining;
    private int _shift;
    private int _offset;      // bytes of the current packet's variable part consumed
    private int _idOffset;    // where its packet identifier starts in the variable part: None, UnknownYet (a PUBLISH's topic length comes first)
    private int _topicLength;
    private int _id;

    private enum State : byte
    {
        FixedHeader,
        RemainingLength,
        Body,
    }

    /// <summary>True between two packets (nothing of a packet written yet, or all of it).</summary>
    public bool AtBoundary => _state == State.FixedHeader;

    /// <summary>
    /// The packet identifier completed by the bytes the last <see cref="Advance"/> took, or 0 (none). The bytes that
    /// complete it are the last ones taken: the caller can refuse them before they go out.
    /// </summary>
    public int IdentifierRead { get; private set; }

    /// <summary>
    /// Follows the leading bytes of <paramref name="bytes"/> and returns how many it took: up to the end of the
    /// current packet, up to the last byte of its packet identifier, or all of them.
    /// </summary>
    public int Advance(ReadOnlySpan<byte> bytes)
    {
        IdentifierRead = 0;
        var i = 0;
        while (i < bytes.Length)
        {
            switch (_state)
            {
                case State.FixedHeader:
                    _type = bytes[i++];
                    _remaining = 0;
                    _shift = 0;
                    _state = State.RemainingLength;
                    break;

                case State.RemainingLength:
                    var digit = bytes[i++];
                    _remaining |= (digit & 0x7F) << _shift;
                    _shift += 7;
                    if ((digit & 0x80) == 0 || _shift >= 28)
                    {
                        _offset = 0;
                        _id = 0;
                        _topicLength = 0;
                        _idOffset = (_type >> 4) switch
                        {
                            3 when (_type & 0x06) != 0 => UnknownYet,
                            8 or 10 => 0,
                            _ => None,
                        };
                        if (_remaining == 0)
                        {
                            _state = State.FixedHeader;
                            return i;
                        }

                        _state = State.Body;
                    }

                    break;

                default:
                    if (_idOffset == UnknownYet || (_idOffset >= 0 && _offset < _idOffset + 2))
                    {
                        // The fields before the identifier, one byte at a time (a few bytes per packet).
                        var value = bytes[i++];
                        if (_idOffset == UnknownYet)
                        {
                            _topicLength = (_topicLength << 8) | value;
                            if (_offset == 1)
                            {
                                _idOffset = 2 + _topicLength;
                            }
                        }
                        else if (_offset == _idOffset)
                        {
                            _id = value << 8;
                        }
                        else if (_offset == _idOffset + 1)
                        {
                            IdentifierRead = _id | value;
                        }

                        _offset++;
                        if (--_remaining == 0)
                        {
                            _state = State.FixedHeader;
                            return i;
                        }

                        if (IdentifierRead != 0)
                        {
                            return i;
                        }

                        break;
                    }

                    var take = Math.Min(_remaining, bytes.Length - i);
                    i += take;
                    _offset += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _state = State.FixedHeader;
                        return i;
                    }

                    break;
            }
        }

        return i;
    }
}
