using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// A scripted UA TCP peer on loopback: answers Hello and OpenSecureChannel, records every chunk it receives, and lets
/// a test decide how each MSG request is answered (several chunks, an abort chunk, an ERR).
/// </summary>
internal sealed class ScriptedUaServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private uint _sequence = 100;

    public ScriptedUaServer(uint receiveBufferSize = 65535, uint maxChunkCount = 0, uint revisedLifetime = 10_000)
    {
        ReceiveBufferSize = receiveBufferSize;
        MaxChunkCount = maxChunkCount;
        RevisedLifetime = revisedLifetime;
        _listener.Start();
        _loop = Task.Run(RunAsync);
    }

    public uint ReceiveBufferSize { get; }

    public uint MaxChunkCount { get; }

    public uint RevisedLifetime { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The security token the server writes in its MSG chunks (it may lag behind a renewal).</summary>
    public uint MessageTokenId { get; set; } = 1;

    /// <summary>Every chunk received after Hello: type, chunk type, sequence number, request id, size.</summary>
    public ConcurrentQueue<(string Type, char Chunk, uint Sequence, uint RequestId, int Size, int RequestType)> Received { get; } = new();

    /// <summary>How to answer a MSG request: given its request id and decoded body, the chunks to send back.</summary>
    public Func<uint, IEncodeable, ScriptedUaServer, IEnumerable<byte[]>>? OnMessage { get; set; }

    private async Task RunAsync()
    {
        using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
        var stream = client.GetStream();
        var header = new byte[8];
        var partial = new List<byte>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await stream.ReadExactlyAsync(header, _stop.Token);
                var size = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
                var chunk = new byte[size];
                header.CopyTo(chunk, 0);
                await stream.ReadExactlyAsync(chunk.AsMemory(8), _stop.Token);
                var type = System.Text.Encoding.ASCII.GetString(chunk, 0, 3);
                if (type == "HEL")
                {
                    await stream.WriteAsync(Ack(), _stop.Token);
                    continue;
                }

                var d = new UaDecoder(chunk);
                d.Skip(12);
                if (type == "OPN")
                {
                    d.ReadString();
                    d.ReadByteString();
                    d.ReadByteString();
                }
                else
                {
                    d.ReadUInt32();
                }

                var sequence = d.ReadUInt32();
                var requestId = d.ReadUInt32();
                IEncodeable? body = null;
                partial.AddRange(chunk.AsSpan(d.Position).ToArray());
                if (chunk[3] == 'F')
                {
                    if (type != "CLO")
                    {
                        var whole = new UaDecoder(partial.ToArray());
                        body = whole.ReadMessage();
                    }

                    partial.Clear();
                }

                Received.Enqueue((type, (char)chunk[3], sequence, requestId, size, body is OpenSecureChannelRequest o ? o.RequestType : -1));
                if (type == "OPN" && body is OpenSecureChannelRequest open)
                {
                    var response = new OpenSecureChannelResponse
                    {
                        SecurityToken = new ChannelSecurityToken { ChannelId = 7, TokenId = (uint)(open.RequestType + 1), RevisedLifetime = RevisedLifetime },
                        ServerNonce = [],
                    };
                    await stream.WriteAsync(Chunk("OPN", 'F', requestId, Encode(response)), _stop.Token);
                }
                else if (type == "MSG" && body is not null && OnMessage is not null)
                {
                    foreach (var reply in OnMessage(requestId, body, this))
                    {
                        await stream.WriteAsync(reply, _stop.Token);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or EndOfStreamException or ObjectDisposedException)
        {
        }
    }

    private byte[] Ack()
    {
        var buffer = new UaBuffer();
        var e = new UaEncoder(buffer);
        e.WriteBytes("ACKF"u8);
        e.WriteUInt32(28);
        e.WriteUInt32(0);
        e.WriteUInt32(ReceiveBufferSize);
        e.WriteUInt32(65535);
        e.WriteUInt32(0);
        e.WriteUInt32(MaxChunkCount);
        return buffer.ToArray();
    }

    public static byte[] Encode(IEncodeable message)
    {
        var buffer = new UaBuffer();
        new UaEncoder(buffer).WriteMessage(message);
        return buffer.ToArray();
    }

    /// <summary>One chunk with a body slice; OPN chunks carry the None asymmetric header.</summary>
    public byte[] Chunk(string type, char chunkType, uint requestId, ReadOnlySpan<byte> body)
    {
        var buffer = new UaBuffer();
        var e = new UaEncoder(buffer);
        e.WriteBytes(System.Text.Encoding.ASCII.GetBytes(type));
        e.WriteByte((byte)chunkType);
        e.WriteUInt32(0);
        e.WriteUInt32(7);
        if (type == "OPN")
        {
            e.WriteString(SecurityPolicyNone.PolicyUri);
            e.WriteByteString(null);
            e.WriteByteString(null);
        }
        else
        {
            e.WriteUInt32(MessageTokenId);
        }

        e.WriteUInt32(_sequence++);
        e.WriteUInt32(requestId);
        e.WriteBytes(body);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.Written(4, 4), (uint)buffer.Length);
        return buffer.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}

public sealed class SecureChannelTests
{
    private static Task<SecureChannel> OpenAsync(ScriptedUaServer server, TimeProvider time) =>
        SecureChannel.OpenAsync("127.0.0.1", server.Port, $"opc.tcp://127.0.0.1:{server.Port}", SecurityPolicyNone.Instance,
            new TransportLimits(), 60_000, time, NullLogger.Instance, CancellationToken.None);

    private static ReadResponse Values(int count) => new()
    {
        ResponseHeader = new ResponseHeader(),
        Results = Enumerable.Range(0, count).Select(i => new DataValue { Value = new Variant(BuiltInType.String, new string('x', 100) + i) }).ToArray(),
    };

    [Fact]
    public async Task Token_IsRenewedAt75PercentOfRevisedLifetime()
    {
        var time = new FakeTimeProvider();
        await using var server = new ScriptedUaServer(revisedLifetime: 10_000);
        await using var channel = await OpenAsync(server, time);

        time.Advance(TimeSpan.FromMilliseconds(7_499));
        var beforeDue = server.Received.Count(r => r.Type == "OPN");
        time.Advance(TimeSpan.FromMilliseconds(1));
        await OpcUaIntegrationTests.WaitUntilAsync(() => channel.Renewals == 1);

        Assert.Equal(1, beforeDue);
        Assert.Equal(1, server.Received.Last(r => r.Type == "OPN").RequestType);
        Assert.Equal(2u, channel.TokenId);
    }

    [Fact]
    public async Task Token_AfterRenewal_OldTokenIsAcceptedUntilItsLifetimeEnds()
    {
        var time = new FakeTimeProvider();
        await using var server = new ScriptedUaServer(revisedLifetime: 10_000);
        server.OnMessage = (id, _, s) => [s.Chunk("MSG", 'F', id, ScriptedUaServer.Encode(Values(1)))];
        await using var channel = await OpenAsync(server, time);
        var read = new ReadRequest { NodesToRead = [new ReadValueId { NodeId = new NodeId(0, 2259u) }] };

        time.Advance(TimeSpan.FromMilliseconds(7_500));
        await OpcUaIntegrationTests.WaitUntilAsync(() => channel.Renewals == 1);
        await channel.SendRequestAsync(read, TimeSpan.FromSeconds(10), CancellationToken.None); // answered under token 1, still valid
        time.Advance(TimeSpan.FromMilliseconds(5_100)); // token 1 issued 12.6 s ago: past its lifetime and the quarter of slack
        var error = await Assert.ThrowsAnyAsync<UaException>(() => channel.SendRequestAsync(read, TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(2u, channel.TokenId);
        Assert.Equal(SampleStatus.BadSecureChannelTokenUnknown, error.StatusCode);
        Assert.False(channel.IsOpen);
    }

    [Fact]
    public async Task Request_LargerThanServerBuffer_IsSentInChunksWithConsecutiveSequenceNumbers()
    {
        await using var server = new ScriptedUaServer(receiveBufferSize: 8192);
        server.OnMessage = (id, _, s) => [s.Chunk("MSG", 'F', id, ScriptedUaServer.Encode(Values(1)))];
        await using var channel = await OpenAsync(server, TimeProvider.System);
        var request = new ReadRequest { NodesToRead = Enumerable.Range(0, 600).Select(i => new ReadValueId { NodeId = new NodeId(1, $"Node.Number.{i:D6}") }).ToArray() };

        await channel.SendRequestAsync(request, TimeSpan.FromSeconds(10), CancellationToken.None);

        var chunks = server.Received.Where(r => r.Type == "MSG").ToArray();
        Assert.True(chunks.Length >= 3);
        Assert.All(chunks, c => Assert.True(c.Size <= 8192));
        Assert.All(chunks[..^1], c => Assert.Equal('C', c.Chunk));
        Assert.Equal('F', chunks[^1].Chunk);
        Assert.Single(chunks.Select(c => c.RequestId).Distinct());
        Assert.Equal(chunks.Select(c => c.Sequence), Enumerable.Range((int)chunks[0].Sequence, chunks.Length).Select(i => (uint)i));
    }

    [Fact]
    public async Task Request_NeedingMoreChunksThanServerAccepts_FailsBeforeSending()
    {
        await using var server = new ScriptedUaServer(receiveBufferSize: 8192, maxChunkCount: 2);
        await using var channel = await OpenAsync(server, TimeProvider.System);
        var request = new ReadRequest { NodesToRead = Enumerable.Range(0, 1000).Select(i => new ReadValueId { NodeId = new NodeId(1, $"Node.Number.{i:D6}") }).ToArray() };

        var error = await Assert.ThrowsAsync<UaException>(() => channel.SendRequestAsync(request, TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(SampleStatus.BadRequestTooLarge, error.StatusCode);
        Assert.DoesNotContain(server.Received, r => r.Type == "MSG");
        Assert.True(channel.IsOpen);
    }

    [Fact]
    public async Task Response_InSeveralChunks_IsReassembled()
    {
        await using var server = new ScriptedUaServer();
        server.OnMessage = (id, _, s) =>
        {
            var body = ScriptedUaServer.Encode(Values(200));
            var third = body.Length / 3;
            return [s.Chunk("MSG", 'C', id, body.AsSpan(0, third)), s.Chunk("MSG", 'C', id, body.AsSpan(third, third)), s.Chunk("MSG", 'F', id, body.AsSpan(2 * third))];
        };
        await using var channel = await OpenAsync(server, TimeProvider.System);

        var response = (ReadResponse)await channel.SendRequestAsync(new ReadRequest { NodesToRead = [new ReadValueId { NodeId = new NodeId(0, 2259u) }] }, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal(200, response.Results!.Length);
        Assert.Equal(new string('x', 100) + "199", response.Results[199].Value.Value);
    }

    [Fact]
    public async Task Response_AbortChunk_FailsThatRequestOnlyAndKeepsTheChannel()
    {
        await using var server = new ScriptedUaServer();
        var calls = 0;
        server.OnMessage = (id, _, s) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                var body = ScriptedUaServer.Encode(Values(50));
                var abort = new UaBuffer();
                var e = new UaEncoder(abort);
                e.WriteUInt32(SampleStatus.BadResponseTooLarge);
                e.WriteString("too large");
                return [s.Chunk("MSG", 'C', id, body.AsSpan(0, 100)), s.Chunk("MSG", 'A', id, abort.WrittenSpan)];
            }

            return [s.Chunk("MSG", 'F', id, ScriptedUaServer.Encode(Values(1)))];
        };
        await using var channel = await OpenAsync(server, TimeProvider.System);
        var read = new ReadRequest { NodesToRead = [new ReadValueId { NodeId = new NodeId(0, 2259u) }] };

        var error = await Assert.ThrowsAsync<UaException>(() => channel.SendRequestAsync(read, TimeSpan.FromSeconds(10), CancellationToken.None));
        var next = (ReadResponse)await channel.SendRequestAsync(new ReadRequest { NodesToRead = [new ReadValueId { NodeId = new NodeId(0, 2259u) }] }, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal(SampleStatus.BadResponseTooLarge, error.StatusCode);
        Assert.Single(next.Results!);
        Assert.True(channel.IsOpen);
    }

    [Fact]
    public async Task Response_ServiceFault_ThrowsWithItsStatus()
    {
        await using var server = new ScriptedUaServer();
        server.OnMessage = (id, _, s) => [s.Chunk("MSG", 'F', id, ScriptedUaServer.Encode(new ServiceFault { ResponseHeader = new ResponseHeader { ServiceResult = new StatusCode(SampleStatus.BadTooManyOperations) } }))];
        await using var channel = await OpenAsync(server, TimeProvider.System);

        var error = await Assert.ThrowsAsync<UaException>(() => channel.SendRequestAsync(new ReadRequest(), TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(SampleStatus.BadTooManyOperations, error.StatusCode);
    }

    [Fact]
    public async Task Response_Undecodable_FailsThatRequestWithBadDecodingError()
    {
        await using var server = new ScriptedUaServer();
        server.OnMessage = (id, _, s) => [s.Chunk("MSG", 'F', id, [0x01, 0x00, 0x7A, 0x02, 0xFF])];
        await using var channel = await OpenAsync(server, TimeProvider.System);

        var error = await Assert.ThrowsAsync<UaException>(() => channel.SendRequestAsync(new ReadRequest(), TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(SampleStatus.BadDecodingError, error.StatusCode);
        Assert.True(channel.IsOpen);
    }

    [Theory]
    [InlineData("XYZF")]
    [InlineData("MSGQ")]
    public async Task Server_MalformedChunkHeader_EndsTheChannelAndFailsPendingRequests(string header)
    {
        await using var server = new ScriptedUaServer();
        server.OnMessage = (_, _, _) =>
        {
            var bytes = new byte[24];
            System.Text.Encoding.ASCII.GetBytes(header).CopyTo(bytes, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 24);
            return [bytes];
        };
        await using var channel = await OpenAsync(server, TimeProvider.System);

        var error = await Assert.ThrowsAnyAsync<UaException>(() => channel.SendRequestAsync(new ReadRequest(), TimeSpan.FromSeconds(30), CancellationToken.None));

        Assert.Equal(SampleStatus.BadTcpMessageTypeInvalid, error.StatusCode);
        Assert.False(channel.IsOpen);
    }

    [Fact]
    public async Task Server_ChunkLargerThanNegotiated_EndsTheChannel()
    {
        await using var server = new ScriptedUaServer();
        server.OnMessage = (id, _, s) =>
        {
            var chunk = s.Chunk("MSG", 'F', id, new byte[70_000]);
            return [chunk];
        };
        await using var channel = await OpenAsync(server, TimeProvider.System);

        var error = await Assert.ThrowsAnyAsync<UaException>(() => channel.SendRequestAsync(new ReadRequest(), TimeSpan.FromSeconds(30), CancellationToken.None));

        Assert.Equal(SampleStatus.BadTcpMessageTooLarge, error.StatusCode);
        Assert.False(channel.IsOpen);
    }

    [Fact]
    public async Task Server_ErrorMessage_EndsTheChannelWithItsCode()
    {
        await using var server = new ScriptedUaServer();
        server.OnMessage = (_, _, _) =>
        {
            var buffer = new UaBuffer();
            var e = new UaEncoder(buffer);
            e.WriteBytes("ERRF"u8);
            e.WriteUInt32(0);
            e.WriteUInt32(SampleStatus.BadTcpMessageTooLarge);
            e.WriteString("nope");
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.Written(4, 4), (uint)buffer.Length);
            return [buffer.ToArray()];
        };
        await using var channel = await OpenAsync(server, TimeProvider.System);

        var error = await Assert.ThrowsAnyAsync<UaException>(() => channel.SendRequestAsync(new ReadRequest(), TimeSpan.FromSeconds(10), CancellationToken.None));
        var cause = await channel.Completion;

        Assert.Equal(SampleStatus.BadTcpMessageTooLarge, error.StatusCode);
        Assert.IsType<UaConnectionException>(cause);
        Assert.False(channel.IsOpen);
    }
}
