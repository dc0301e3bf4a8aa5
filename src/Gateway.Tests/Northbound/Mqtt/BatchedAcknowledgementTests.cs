using Gateway.Northbound.Delivery;
using Gateway.Northbound.Mqtt;

namespace Gateway.Tests.Northbound.Mqtt;

/// <summary>
/// The read side of <see cref="CoalescingChannel"/> wakes the output's loop in batches (<see cref="PublishAcknowledgements.WakeAfter"/>),
/// not once per socket read: but never so that a refusal, the burst's last PUBACK or an acknowledgement that came
/// before the loop armed the batch goes unnoticed.
/// </summary>
public sealed class BatchedAcknowledgementTests
{
    private static readonly byte[] PingResp = [0xD0, 0];

    private static byte[] Own(int index, byte reasonCode = 0) =>
        [0x40, 3, (byte)((PublishAcknowledgements.FirstPacketIdentifier + index) >> 8), (byte)(PublishAcknowledgements.FirstPacketIdentifier + index), reasonCode];

    private static (CoalescingChannel Channel, ushort[] Ids) Channel(IEnumerable<byte[]> reads, int inFlight)
    {
        var channel = new CoalescingChannel(new ScriptedChannel(reads), mqtt5: true);
        var ids = Enumerable.Range(0, inFlight).Select(_ => channel.Acknowledgements.Allocate()).ToArray();
        return (channel, ids);
    }

    private static async Task ReadToEndAsync(CoalescingChannel channel)
    {
        var buffer = new byte[4096];
        while (await channel.ReadAsync(buffer, 0, buffer.Length, CancellationToken.None) > 0)
        {
        }
    }

    /// <summary>What the output's loop does when woken: takes the delivered prefix (as PublishWindow.TakeDelivered), then re-arms.</summary>
    private static List<byte> TakePrefix(PublishAcknowledgements acknowledgements, ushort[] ids, ref int next)
    {
        var codes = new List<byte>();
        while (next < ids.Length && acknowledgements.TryTake(ids[next], out var code))
        {
            codes.Add(code);
            next++;
        }

        return codes;
    }

    [Fact]
    public async Task WakeAfter_WakesOnceTheLowWaterMarkIsAcknowledged_NotOnEveryRead()
    {
        // Ten of ours in flight, one PUBACK per read; the loop waits for room and asks for a wake-up after four.
        var (channel, _) = Channel(Enumerable.Range(0, 10).Select(i => Own(i)), inFlight: 10);
        var wakes = new List<long>();
        channel.Acknowledgements.Wake = () => wakes.Add(10 - channel.Acknowledgements.Outstanding);
        channel.Acknowledgements.WakeAfter(4);

        await ReadToEndAsync(channel);

        // Four acknowledged: a wake-up; the loop has not taken them here, so each later read wakes it again.
        Assert.Equal([4, 5, 6, 7, 8, 9, 10], wakes);
    }

    [Fact]
    public async Task WakeAfter_MaxValue_WakesOnlyForTheBurstsLastPubAck()
    {
        var (channel, ids) = Channel(Enumerable.Range(0, 6).Select(i => Own(i)), inFlight: 6);
        var wakes = new List<long>();
        channel.Acknowledgements.Wake = () => wakes.Add(channel.Acknowledgements.Outstanding);
        channel.Acknowledgements.WakeAfter(int.MaxValue);

        await ReadToEndAsync(channel);

        Assert.Equal([0], wakes);
        Assert.All(ids, id => Assert.True(channel.Acknowledgements.TryTake(id, out _)));
    }

    [Fact]
    public async Task ARefusalInsideABatch_WakesTheLoopAtOnce_AndTheLoopSeesIt()
    {
        // Six in flight, nothing else to send (only the last PUBACK would wake the loop): the third is refused.
        byte[][] reads = [Own(0), Own(1), Own(2, reasonCode: 0x87), Own(3), Own(4), Own(5)];
        var (channel, ids) = Channel(reads, inFlight: 6);
        var acknowledgements = channel.Acknowledgements;
        var next = 0;
        var seen = new List<(long Outstanding, byte[] Codes)>();
        acknowledgements.Wake = () =>
        {
            seen.Add((acknowledgements.Outstanding, [.. TakePrefix(acknowledgements, ids, ref next)]));
            acknowledgements.WakeAfter(int.MaxValue);
        };
        acknowledgements.WakeAfter(int.MaxValue);

        await ReadToEndAsync(channel);

        // Woken by the refusal's read (three still in flight), with the refusal in the delivered prefix; then only by
        // the last PUBACK.
        Assert.Equal(2, seen.Count);
        Assert.Equal(3, seen[0].Outstanding);
        Assert.Equal([0, 0, 0x87], seen[0].Codes);
        Assert.Equal(0, seen[1].Outstanding);
        Assert.Equal([0, 0, 0], seen[1].Codes);
    }

    [Fact]
    public async Task ARefusalBehindAnUnacknowledgedPublication_KeepsWakingTheLoopUntilItIsTaken()
    {
        // The first of four waits for its PUBACK while the second is refused: the loop cannot take the refusal yet,
        // so the next read (the first's PUBACK) must wake it again although the batch is not full.
        byte[][] reads = [Own(1, reasonCode: 0x87), Own(0), Own(2), Own(3)];
        var (channel, ids) = Channel(reads, inFlight: 4);
        var acknowledgements = channel.Acknowledgements;
        var next = 0;
        var seen = new List<byte[]>();
        acknowledgements.Wake = () =>
        {
            seen.Add([.. TakePrefix(acknowledgements, ids, ref next)]);
            acknowledgements.WakeAfter(int.MaxValue);
        };
        acknowledgements.WakeAfter(int.MaxValue);

        await ReadToEndAsync(channel);

        Assert.Equal([[], [0, 0x87], [0, 0]], seen);
    }

    [Fact]
    public async Task AcknowledgementsThatCameBeforeTheLoopArmed_CountTowardsTheBatch()
    {
        // One PUBACK per read, each followed by a packet for MQTTnet so that the test can act between reads.
        var (channel, _) = Channel(Enumerable.Range(0, 4).Select(i => (byte[])[.. Own(i), .. PingResp]), inFlight: 4);
        var wakes = 0;
        channel.Acknowledgements.Wake = () => wakes++;
        channel.Acknowledgements.WakeAfter(int.MaxValue);
        var buffer = new byte[4096];

        await channel.ReadAsync(buffer, 0, buffer.Length, CancellationToken.None);
        await channel.ReadAsync(buffer, 0, buffer.Length, CancellationToken.None); // two acknowledged, no wake-up
        Assert.Equal(0, wakes);
        channel.Acknowledgements.WakeAfter(2); // the loop, about to wait for room, has taken none of them
        await channel.ReadAsync(buffer, 0, buffer.Length, CancellationToken.None);

        Assert.Equal(1, wakes); // three acknowledged since it last took: past the two it asked for
    }

    [Fact]
    public async Task BeforeTheLoopArms_EveryReadThatAcknowledgedSomethingWakesIt()
    {
        var (channel, _) = Channel(Enumerable.Range(0, 3).Select(i => Own(i)), inFlight: 5);
        var wakes = 0;
        channel.Acknowledgements.Wake = () => wakes++;

        await ReadToEndAsync(channel);

        Assert.Equal(3, wakes);
        Assert.Equal(2, channel.Acknowledgements.Outstanding); // the connection closed with two in flight: not acknowledged
    }
}
