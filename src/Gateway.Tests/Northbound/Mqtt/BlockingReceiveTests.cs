using System.Net;
using System.Net.Sockets;
using Gateway.Northbound.Delivery;
using Gateway.Northbound.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace Gateway.Tests.Northbound.Mqtt;

/// <summary>
/// <see cref="CoalescingChannel"/> over a <see cref="BlockingTcpChannel"/>: the broker's bytes are received on the
/// channel's own thread over a real loopback socket, our PUBACKs taken out, the rest handed to MQTTnet's reads in
/// order; a receive waits for the PUBACKs owed (<see cref="PublishAcknowledgements.Owed"/>).
/// </summary>
public sealed class BlockingReceiveTests : IAsyncDisposable
{
    private static readonly byte[] SubAck = [0x90, 3, 0, 1, 0];
    private static readonly byte[] PingResp = [0xD0, 0];

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Socket? _broker;

    public BlockingReceiveTests() => _listener.Start();

    private static byte[] PubAck(ushort id, byte reason = 0) => [0x40, 3, (byte)(id >> 8), (byte)id, reason];

    private MqttClientTcpOptions Options() => new() { RemoteEndpoint = _listener.LocalEndpoint };

    private async Task<CoalescingChannel> ConnectAsync()
    {
        var channel = new CoalescingChannel(new BlockingTcpChannel(Options()), mqtt5: true);
        var accepting = _listener.AcceptSocketAsync();
        await channel.ConnectAsync(CancellationToken.None);
        _broker = await accepting;
        return channel;
    }

    private static async Task<byte[]> ReadAsync(CoalescingChannel channel, int length)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[length];
        var read = 0;
        while (read < length)
        {
            var n = await channel.ReadAsync(buffer, read, length - read, timeout.Token);
            Assert.NotEqual(0, n);
            read += n;
        }

        return buffer;
    }

    private static async Task AllAcknowledgedAsync(PublishAcknowledgements acknowledgements)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (acknowledgements.Outstanding > 0)
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    [Fact]
    public void Serves_PlainTcpOnly()
    {
        Assert.True(BlockingTcpChannel.Serves(Options()));
        var tls = Options();
        tls.TlsOptions = new MqttClientTlsOptions { UseTls = true };
        Assert.False(BlockingTcpChannel.Serves(tls));
        Assert.False(BlockingTcpChannel.Serves(new MqttClientTcpOptions()));
    }

    [Fact]
    public async Task OwnPubAcks_SplitAcrossSegments_AreTakenOut_AndMqttnetGetsTheRestInOrder()
    {
        using var channel = await ConnectAsync();
        var ids = new ushort[3];
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.True(channel.TryPublish("data/t", "{\"v\":1}"u8, MqttQualityOfServiceLevel.AtLeastOnce, out ids[i]));
        }

        // The first PUBACK split in two segments, MQTTnet's SUBACK between ours, a PINGRESP at the end.
        var first = PubAck(ids[0]);
        _broker!.Send(first.AsSpan(0, 2));
        await Task.Delay(20);
        _broker.Send((byte[])[.. first[2..], .. SubAck, .. PubAck(ids[1]), .. PubAck(ids[2]), .. PingResp]);

        byte[] expected = [.. SubAck, .. PingResp];
        Assert.Equal(expected, await ReadAsync(channel, expected.Length));
        await AllAcknowledgedAsync(channel.Acknowledgements);
        foreach (var id in ids)
        {
            Assert.True(channel.Acknowledgements.TryTake(id, out var reason));
            Assert.Equal(0, reason);
        }
    }

    [Fact]
    public async Task ARefusal_IsRecordedWithItsReasonCode()
    {
        using var channel = await ConnectAsync();
        Assert.True(channel.TryPublish("data/t", "{}"u8, MqttQualityOfServiceLevel.AtLeastOnce, out var refused));
        Assert.True(channel.TryPublish("data/t", "{}"u8, MqttQualityOfServiceLevel.AtLeastOnce, out var accepted));
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.Acknowledgements.Wake = () => woken.TrySetResult();

        _broker!.Send([.. PubAck(refused, 0x87), .. PubAck(accepted)]);

        await woken.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await AllAcknowledgedAsync(channel.Acknowledgements);
        Assert.True(channel.Acknowledgements.TryTake(refused, out var code));
        Assert.Equal(0x87, code);
    }

    [Fact]
    public async Task ABrokerClose_EndsMqttnetsRead()
    {
        using var channel = await ConnectAsync();
        _broker!.Send(PingResp);
        _broker.Shutdown(SocketShutdown.Both);

        Assert.Equal(PingResp, await ReadAsync(channel, PingResp.Length));
        Assert.Equal(0, await channel.ReadAsync(new byte[16], 0, 16, CancellationToken.None));
    }

    [Fact]
    public async Task ACloseAfterMqttnetsDisconnect_WaitsForMqttnetToStopReading()
    {
        using var channel = await ConnectAsync();
        await channel.WriteAsync(new System.Buffers.ReadOnlySequence<byte>([0xE0, 0]), true, CancellationToken.None);
        var sent = new byte[2];
        Assert.Equal(2, _broker!.Receive(sent));
        _broker.Shutdown(SocketShutdown.Both);
        await Task.Delay(50); // the receiving thread sees the close

        // MQTTnet cancels its read after its DISCONNECT: the close is not reported to it as the broker's.
        using var cancelled = new CancellationTokenSource();
        var reading = channel.ReadAsync(new byte[16], 0, 16, cancelled.Token);
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
    }

    [Fact]
    public async Task Receive_WithAMinimum_ReturnsOnlyOnceItCame()
    {
        Assert.True(BlockingTcpChannel.HasLowWaterMark, "SO_RCVLOWAT is Linux's: the gateway's tests run on Linux");
        using var socket = new BlockingTcpChannel(Options(), lowWaterWait: TimeSpan.FromSeconds(30));
        var accepting = _listener.AcceptSocketAsync();
        await socket.ConnectAsync(CancellationToken.None);
        _broker = await accepting;

        // The first four bytes would end a receive without a minimum.
        var receiving = Task.Run(() => socket.Receive(new byte[64], atLeast: 8));
        await Task.Delay(100);
        _broker.Send(PubAck(32768).AsSpan(0, 4));
        await Task.Delay(100);
        _broker.Send(PubAck(32769).AsSpan(0, 4));

        Assert.Equal(8, await receiving.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Receive_WithAMinimum_CountsWhatIsQueuedAlready()
    {
        Assert.True(BlockingTcpChannel.HasLowWaterMark, "SO_RCVLOWAT is Linux's: the gateway's tests run on Linux");
        using var socket = new BlockingTcpChannel(Options(), lowWaterWait: TimeSpan.FromSeconds(30));
        var accepting = _listener.AcceptSocketAsync();
        await socket.ConnectAsync(CancellationToken.None);
        _broker = await accepting;

        // Two of the eight bytes queued before the receive: the six that follow end it (Linux alone would wait for
        // eight more after the two it copied, i.e. the whole 30 s).
        _broker.Send(new byte[2]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (BrokerBytesQueued(socket) < 2)
        {
            await Task.Delay(5, timeout.Token);
        }

        var receiving = Task.Run(() => socket.Receive(new byte[64], atLeast: 8));
        await Task.Delay(100);
        _broker.Send(new byte[6]);

        Assert.Equal(8, await receiving.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    private static int BrokerBytesQueued(BlockingTcpChannel socket) => socket.Available;

    [Fact]
    public async Task Receive_WithAMinimumThatDoesNotCome_ReturnsWhatCameAfterTheWait()
    {
        Assert.True(BlockingTcpChannel.HasLowWaterMark, "SO_RCVLOWAT is Linux's: the gateway's tests run on Linux");
        using var socket = new BlockingTcpChannel(Options());
        var accepting = _listener.AcceptSocketAsync();
        await socket.ConnectAsync(CancellationToken.None);
        _broker = await accepting;

        Assert.Equal(-1, socket.Receive(new byte[64], atLeast: 8)); // nothing came
        _broker.Send(PingResp);
        Assert.Equal(2, socket.Receive(new byte[64], atLeast: 8)); // less than asked, after the wait
        _broker.Send(PingResp);
        Assert.Equal(2, socket.Receive(new byte[64])); // no minimum: at once, no timeout
    }

    [Fact]
    public void Owed_IsWhatIsInFlight_UpToTheWakeMarkAndTheCap_AndNothingWhileARefusalIsUntaken()
    {
        var acknowledgements = new PublishAcknowledgements();
        Assert.Equal(0, acknowledgements.Owed());

        var ids = Enumerable.Range(0, 50).Select(_ => acknowledgements.Allocate()).ToArray();
        Assert.Equal(PublishAcknowledgements.MostOwedPerReceive, acknowledgements.Owed());

        acknowledgements.WakeAfter(10);
        Assert.Equal(10, acknowledgements.Owed());

        for (var i = 0; i < 4; i++)
        {
            Assert.True(acknowledgements.TryAcknowledge(ids[i], 0));
        }

        Assert.Equal(6, acknowledgements.Owed());
        for (var i = 4; i < 10; i++)
        {
            Assert.True(acknowledgements.TryAcknowledge(ids[i], 0));
        }

        // The mark is passed (the loop is woken and will take them): wait for what is in flight, capped.
        Assert.Equal(PublishAcknowledgements.MostOwedPerReceive, acknowledgements.Owed());

        Assert.True(acknowledgements.TryAcknowledge(ids[10], 0x97));
        Assert.Equal(0, acknowledgements.Owed());
    }

    [Fact]
    public async Task WriteAsync_ToABrokerThatTakesNoByte_GivesTheConnectionUpWithAnIOException()
    {
        // A broker that keeps the connection open and stops reading: its receive window closes, then ours fills, and a
        // blocking send would wait forever (MQTTnet's keep-alive cannot cancel it). The send timeout gives it up.
        var channel = new BlockingTcpChannel(Options(), sendStall: TimeSpan.FromMilliseconds(200));
        var accepting = _listener.AcceptSocketAsync();
        await channel.ConnectAsync(CancellationToken.None);
        _broker = await accepting;
        var chunk = new System.Buffers.ReadOnlySequence<byte>(new byte[1 << 20]);

        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < 4096; i++) // 4 GiB at most: far beyond any socket buffer
            {
                await channel.WriteAsync(chunk, isEndOfPacket: true, CancellationToken.None);
            }
        });

        var error = await Assert.ThrowsAsync<IOException>(() => writing.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("took no byte", error.Message, StringComparison.Ordinal);
        channel.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _broker?.Dispose();
        _listener.Stop();
        await Task.CompletedTask;
    }
}
