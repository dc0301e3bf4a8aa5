using System.Buffers;
using Gateway.Buffering;
using MQTTnet;

namespace Gateway.Northbound.Delivery;

/// <summary>Which part of a sink's backlog a sample belongs to.</summary>
public enum DeliveryLane : byte
{
    /// <summary>Appended after the connection came up: sent first, on the live topics.</summary>
    Live = 0,

    /// <summary>Older and not yet acknowledged (the backlog of an outage): fills what the live lane leaves, flagged as history.</summary>
    History = 1,
}

/// <summary>Receives the delivered prefix of a <see cref="PublishWindow"/>, publication by publication, in order.</summary>
public interface IDeliveryReceiver
{
    /// <summary>
    /// A publication was acknowledged; every one before it already was. <paramref name="completes"/> is the range of
    /// sequence numbers that is now delivered in full (null for a message that completes nothing by itself, such as
    /// the first of several messages one batch became); <paramref name="samples"/> how many samples it carried.
    /// </summary>
    void Delivered(DeliveryLane lane, SequenceRange? completes, int samples);
}

/// <summary>
/// A deep pipeline of unawaited publications (MQTT QoS 1/2): up to <see cref="Capacity"/> in flight, the smaller of
/// <c>mqtt.maxInflight</c> and the broker's Receive Maximum. Over one connection the broker acknowledges in order, so
/// what is delivered is a prefix of what was sent: <see cref="TakeDelivered"/> hands it over without waiting, and a
/// refusal (an MQTT 5 reason code of 0x80 or more) or a failure ends it. Not thread-safe: one output's loop owns it.
/// A publication is either one of the gateway's own (<see cref="AddOwn"/>: a packet identifier whose PUBACK the
/// channel records, no task) or one made by MQTTnet (<see cref="Add"/>: QoS 2, or a connection not over the
/// gateway's channel).
/// </summary>
public sealed class PublishWindow
{
    private Entry[] _entries;
    private int _head;
    private int _count;

    public PublishWindow(int capacity)
    {
        Capacity = Math.Max(1, capacity);
        _entries = new Entry[Capacity];
    }

    /// <summary>How many publications may await their acknowledgement at once (at least 1).</summary>
    public int Capacity { get; private set; }

    /// <summary>Publications in flight.</summary>
    public int Count => _count;

    /// <summary>How many more may be added now.</summary>
    public int Free => Capacity - _count;

    /// <summary>Samples carried by the publications in flight.</summary>
    public int SamplesInFlight { get; private set; }

    /// <summary>Sets the capacity for a new connection; only while the window is empty.</summary>
    public void Resize(int capacity)
    {
        if (_count != 0)
        {
            throw new InvalidOperationException("the window still holds publications");
        }

        Capacity = Math.Max(1, capacity);
        if (_entries.Length < Capacity)
        {
            _entries = new Entry[Capacity];
        }

        _head = 0;
    }

    /// <summary>
    /// Adds a publication that was just sent. <paramref name="rentedPayload"/>, when given, is returned to
    /// <see cref="PayloadPool.Shared"/> once the publication completed (its bytes are no longer read).
    /// </summary>
    public void Add(Task<MqttClientPublishResult> publication, string topic, DeliveryLane lane, SequenceRange? completes, int samples, byte[]? rentedPayload = null) =>
        Append(new Entry(publication, null, 0, topic, lane, completes, samples, rentedPayload));

    /// <summary>
    /// Adds one of the gateway's own publications that was just written: <paramref name="packetIdentifier"/> is its
    /// identifier in <paramref name="acknowledgements"/>, 0 for QoS 0 (delivered once written, as MQTTnet counts it).
    /// Its payload was copied into the send buffer: nothing to return later.
    /// </summary>
    public void AddOwn(PublishAcknowledgements acknowledgements, ushort packetIdentifier, string topic, DeliveryLane lane, SequenceRange? completes, int samples) =>
        Append(new Entry(null, acknowledgements, packetIdentifier, topic, lane, completes, samples, null));

    private void Append(in Entry entry)
    {
        if (_count == Capacity)
        {
            throw new InvalidOperationException("the publish window is full");
        }

        _entries[(_head + _count) % _entries.Length] = entry;
        _count++;
        SamplesInFlight += entry.Samples;
    }

    /// <summary>
    /// Hands every leading publication that the broker accepted to <paramref name="receiver"/>, without waiting, and
    /// returns how many. Stops at the first one still in flight. A refused one throws
    /// <see cref="PublishRefusedException"/> and a failed one its exception; they stay in the window (the connection is
    /// then given up, <see cref="Abandon"/>, and their samples are offered again on the next one).
    /// </summary>
    public int TakeDelivered(IDeliveryReceiver receiver, string? username = null)
    {
        var taken = 0;
        while (_count > 0)
        {
            ref var entry = ref _entries[_head];
            if (entry.Publication is { } publication)
            {
                if (!publication.IsCompleted)
                {
                    break;
                }

                if (!publication.IsCompletedSuccessfully)
                {
                    publication.GetAwaiter().GetResult(); // throws the failure (or the cancellation)
                }

                var result = publication.Result;
                if (PublishRefusedException.IsRefusal(result))
                {
                    throw new PublishRefusedException(entry.Topic, result.ReasonCode, result.ReasonString, username);
                }
            }
            else if (entry.PacketIdentifier != 0)
            {
                if (!entry.Acknowledgements!.TryTake(entry.PacketIdentifier, out var reasonCode, out var reasonString))
                {
                    break;
                }

                if (reasonCode >= 0x80)
                {
                    // Stays in the window, its identifier freed: the connection is given up (Abandon).
                    entry.PacketIdentifier = 0;
                    entry.Refused = reasonCode;
                    throw new PublishRefusedException(entry.Topic, (MqttClientPublishReasonCode)reasonCode, reasonString, username);
                }
            }
            else if (entry.Refused != 0)
            {
                throw new PublishRefusedException(entry.Topic, (MqttClientPublishReasonCode)entry.Refused, null, username);
            }

            var (lane, completes, samples, rented) = (entry.Lane, entry.Completes, entry.Samples, entry.RentedPayload);
            entry = default;
            _head = (_head + 1) % _entries.Length;
            _count--;
            SamplesInFlight -= samples;
            if (rented is not null)
            {
                PayloadPool.Shared.Return(rented);
            }

            receiver.Delivered(lane, completes, samples);
            taken++;
        }

        return taken;
    }

    /// <summary>
    /// The oldest publication in flight when MQTTnet made it (to await it without allocating a continuation); null when
    /// the window is empty or the oldest is one of the gateway's own (the channel wakes the loop on its PUBACK).
    /// </summary>
    public Task<MqttClientPublishResult>? Oldest => _count == 0 ? null : _entries[_head].Publication;

    /// <summary>
    /// Forgets every publication in flight (the connection is gone); returns how many samples they carried. Their
    /// samples were not acknowledged, so the buffer offers them again. Payloads of completed publications go back to
    /// the pool; those of publications still running are left to the garbage collector, as MQTTnet may still read them.
    /// </summary>
    public int Abandon()
    {
        var samples = SamplesInFlight;
        while (_count > 0)
        {
            ref var entry = ref _entries[_head];
            if (entry.Publication is { } publication)
            {
                if (entry.RentedPayload is { } rented && publication.IsCompleted)
                {
                    PayloadPool.Shared.Return(rented);
                }

                publication.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            entry = default;
            _head = (_head + 1) % _entries.Length;
            _count--;
        }

        _head = 0;
        SamplesInFlight = 0;
        return samples;
    }

    private record struct Entry(Task<MqttClientPublishResult>? Publication, PublishAcknowledgements? Acknowledgements, ushort PacketIdentifier, string Topic, DeliveryLane Lane, SequenceRange? Completes, int Samples, byte[]? RentedPayload)
    {
        /// <summary>The reason code of an own publication the broker refused (0: not refused).</summary>
        public byte Refused { get; set; }
    }
}
