namespace Gateway.Northbound.Delivery;

/// <summary>
/// The packet identifiers of one connection's own QoS 1 publications (those <c>CoalescingChannel.TryPublish</c>
/// writes past MQTTnet) and their PUBACKs. The output's loop allocates and takes; the channel's read side acknowledges.
/// <para>
/// Identifiers: ours are <see cref="FirstPacketIdentifier"/> to 65,535, allocated in turn. MQTTnet numbers what it
/// still sends itself (SUBSCRIBE, UNSUBSCRIBE, the status message, write answers) from 1 upwards, afresh at every
/// connection (its identifier provider is reset on connect), so the two ranges do not meet; and the channel checks it:
/// should MQTTnet ever write an identifier of our range on a connection where ours are in use, the channel fails the
/// connection rather than let two packets share one (the next connection starts both ranges afresh).
/// </para>
/// </summary>
public sealed class PublishAcknowledgements
{
    /// <summary>The lowest packet identifier of ours.</summary>
    public const ushort FirstPacketIdentifier = 32_768;

    /// <summary>How many of ours may be in flight at once.</summary>
    public const int Capacity = 65_536 - FirstPacketIdentifier;

    private const int Free = 0;
    private const int Pending = 1;
    private const int Acknowledged = 0x100;

    private readonly int[] _states = new int[Capacity];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> _reasonStrings = new();
    private int _next;

    /// <summary>
    /// Wakes the output's loop: called by the read side after a read that acknowledged some of ours when
    /// <see cref="ShouldWake"/> says so (see <see cref="WakeAfter"/>), and by the sender once the send buffer has room
    /// again after a refused publication.
    /// </summary>
    public Action? Wake { get; set; }

    // Counts since the connection started. Allocated and taken: the output's loop; acknowledged and refusals: the read
    // side. Longs: at 100k messages a second an int wraps within a working day.
    private long _allocated;
    private long _acknowledged;
    private long _taken;
    private long _wakeAt;
    private long _refusalsUntaken;

    /// <summary>
    /// Batches the read side's wake-ups: from now on a read that acknowledged some of ours wakes the loop only once
    /// <paramref name="acknowledgements"/> more than the loop has taken are acknowledged, or none of ours is left in
    /// flight, or a refusal is among those not taken yet (always reported at once, in whatever batch it came). The
    /// output's loop arms it before each wait: a quarter of its window while it waits for room, and
    /// <see cref="int.MaxValue"/> when it has nothing to send (the burst's last PUBACK wakes it). Until armed, every
    /// read that acknowledged something wakes it. Counting from what the loop has taken, not from the arming, loses
    /// nothing that arrived in between.
    /// </summary>
    public void WakeAfter(int acknowledgements) =>
        Volatile.Write(ref _wakeAt, _taken + Math.Max(1, acknowledgements));

    /// <summary>How many of ours await their PUBACK.</summary>
    public long Outstanding => Volatile.Read(ref _allocated) - Volatile.Read(ref _acknowledged);

    /// <summary>Whether the read side should wake the loop after a read that acknowledged some of ours (see <see cref="WakeAfter"/>).</summary>
    internal bool ShouldWake()
    {
        var acknowledged = Volatile.Read(ref _acknowledged);
        return Volatile.Read(ref _refusalsUntaken) > 0 || acknowledged >= Volatile.Read(ref _allocated) || acknowledged >= Volatile.Read(ref _wakeAt);
    }

    /// <summary>Most PUBACKs the read side waits for in one receive (see <see cref="Owed"/>).</summary>
    public const int MostOwedPerReceive = 32;

    /// <summary>
    /// How many PUBACKs of ours the read side may wait for before it looks at what came: those in flight, up to the
    /// loop's wake-up mark when it is armed and still ahead (the loop waits for exactly those), at most
    /// <see cref="MostOwedPerReceive"/> (so that the window is refilled while the rest are still coming); 0 while a
    /// refusal is not taken yet or none is in flight (read whatever comes).
    /// </summary>
    internal long Owed()
    {
        var acknowledged = Volatile.Read(ref _acknowledged);
        var outstanding = Volatile.Read(ref _allocated) - acknowledged;
        if (outstanding <= 0 || Volatile.Read(ref _refusalsUntaken) > 0)
        {
            return 0;
        }

        var untilWake = Volatile.Read(ref _wakeAt) - acknowledged;
        return Math.Min(Math.Min(outstanding, untilWake > 0 ? untilWake : outstanding), MostOwedPerReceive);
    }

    /// <summary>True once an identifier was allocated on this connection (the channel then guards the range).</summary>
    public bool InUse { get; private set; }

    /// <summary>Whether <paramref name="packetIdentifier"/> is in our range.</summary>
    public static bool IsOurs(int packetIdentifier) => packetIdentifier >= FirstPacketIdentifier;

    /// <summary>The next identifier, marked as awaiting its PUBACK. Only the output's loop allocates.</summary>
    internal ushort Allocate()
    {
        ref var state = ref _states[_next];
        if (Volatile.Read(ref state) != Free)
        {
            // The window is never deeper than Capacity, and identifiers are freed in the order they were taken.
            throw new InvalidOperationException("every packet identifier of the gateway's range is in flight");
        }

        Volatile.Write(ref state, Pending);
        Interlocked.Increment(ref _allocated);
        var identifier = (ushort)(FirstPacketIdentifier + _next);
        _next = (_next + 1) % Capacity;
        InUse = true;
        return identifier;
    }

    /// <summary>
    /// A PUBACK arrived: true when it is one of ours awaiting it (recorded with its reason code and, for a refusal, the
    /// broker's reason string), false when it is MQTTnet's or unknown (it is then passed on to MQTTnet).
    /// </summary>
    internal bool TryAcknowledge(int packetIdentifier, byte reasonCode, string? reasonString = null)
    {
        if (!IsOurs(packetIdentifier))
        {
            return false;
        }

        ref var state = ref _states[packetIdentifier - FirstPacketIdentifier];
        if (Volatile.Read(ref state) != Pending)
        {
            return false;
        }

        if (reasonString is not null)
        {
            _reasonStrings[packetIdentifier] = reasonString; // before the state: the loop reads it after seeing the state
        }

        if (Interlocked.CompareExchange(ref state, Acknowledged | reasonCode, Pending) != Pending)
        {
            return false;
        }

        if (reasonCode >= 0x80)
        {
            Interlocked.Increment(ref _refusalsUntaken); // before the count: a read that sees the count sees the refusal
        }

        Interlocked.Increment(ref _acknowledged);
        return true;
    }

    /// <summary>
    /// True when <paramref name="packetIdentifier"/> was acknowledged; hands over the reason code (MQTT 3.1.1: always 0)
    /// and frees the identifier. False while it awaits its PUBACK.
    /// </summary>
    public bool TryTake(ushort packetIdentifier, out byte reasonCode) => TryTake(packetIdentifier, out reasonCode, out _);

    /// <summary>
    /// As <see cref="TryTake(ushort, out byte)"/>, with the broker's reason string of a refusal in
    /// <paramref name="reasonString"/> when it sent one in the PUBACK (null otherwise).
    /// </summary>
    public bool TryTake(ushort packetIdentifier, out byte reasonCode, out string? reasonString)
    {
        ref var state = ref _states[packetIdentifier - FirstPacketIdentifier];
        var current = Volatile.Read(ref state);
        reasonString = null;
        if ((current & Acknowledged) == 0)
        {
            reasonCode = 0;
            return false;
        }

        reasonCode = (byte)current;
        if (reasonCode >= 0x80)
        {
            _reasonStrings.TryRemove(packetIdentifier, out reasonString);
            Interlocked.Decrement(ref _refusalsUntaken);
        }

        _taken++;
        Volatile.Write(ref state, Free);
        return true;
    }
}
