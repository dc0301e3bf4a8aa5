using Gateway.Drivers;
using Gateway.Drivers.S7;
using Xunit;

namespace Gateway.Tests.S7;

/// <summary>
/// The S7 decoders on 100,000 mutated frames (bit flips, overwritten bytes, lengths set to extremes, truncation,
/// appended garbage) through the real receive path: every frame either decodes or is refused with a protocol,
/// connection or S7 error; nothing else is thrown and nothing waits (the stream ends after the frame).
/// </summary>
public sealed class S7FuzzTests
{
    private static readonly S7Item[] s_items = [new(S7Area.DataBlock, 1, 0, 3), new(S7Area.Merkers, 0, 10, 2), new(S7Area.DataBlock, 9, 0, 2), new(S7Area.Timers, 0, 0, 1)];

    private static byte[] Frame(byte[] pdu)
    {
        var frame = new byte[7 + pdu.Length];
        S7Wire.WriteTpkt(frame, frame.Length);
        frame[4] = 0x02;
        frame[5] = 0xF0;
        frame[6] = 0x80;
        pdu.CopyTo(frame, 7);
        return frame;
    }

    private static List<(string Kind, byte[] Frame)> Seeds()
    {
        byte[] job = [0x32, 0x01, 0, 0, 0x00, 0x01, 0, 0, 0, 0, 0x04, 4];
        var read = ScriptedPlc.Ack(job, 0, [0x04, 4], [
            0xFF, 0x04, 0x00, 0x18, 0x01, 0x02, 0x03, 0x00,
            0xFF, 0x04, 0x00, 0x10, 0x10, 0x92,
            0x0A, 0x00, 0x00, 0x00,
            0xFF, 0x09, 0x00, 0x02, 0x20, 0x10]);
        var setup = ScriptedPlc.Ack(job, 0, [0xF0, 0, 0, 1, 0, 1, 0x01, 0xE0], []);
        var write = ScriptedPlc.Ack(job, 0, [0x05, 1], [0xFF]);
        var refused = ScriptedPlc.Ack(job, 0x8104, [0x04, 0], []);
        return [("read", Frame(read)), ("setup", Frame(setup)), ("write", Frame(write)), ("read", Frame(refused))];
    }

    [Fact]
    public async Task Decoders_100kMutatedFrames_NeverCrashOrHang()
    {
        var random = new Random(1006);
        var seeds = Seeds();
        var confirm = new byte[] { 0x03, 0x00, 0x00, 0x0B, 0x06, 0xD0, 0x00, 0x01, 0x00, 0x01, 0x00 };
        var outcomes = new Dictionary<string, int>();
        var destinations = s_items.Select(i => (Memory<byte>)new byte[i.DataBytes]).ToArray();
        var codes = new byte[s_items.Length];
        var buffer = new byte[S7IsoTransport.MaxPduBytes];
        for (var iteration = 0; iteration < 100_000; iteration++)
        {
            var (kind, seed) = seeds[iteration % seeds.Count];
            var frame = Mutate(seed, random);

            // One in ten mutates the connection confirm instead of the answer.
            var connect = iteration % 10 == 0 ? Mutate(confirm, random) : confirm;
            var stream = new ReplayStream([.. connect, .. frame]);
            var transport = new S7IsoTransport(_ => ValueTask.FromResult<Stream>(stream), "fuzz", 0x0100, 0x0101);
            string outcome;
            try
            {
                await transport.ConnectAsync(CancellationToken.None);
                var length = await transport.ReceiveAsync(buffer, CancellationToken.None);
                var pdu = buffer.AsMemory(0, length);
                switch (kind)
                {
                    case "read":
                        S7Wire.ParseReadResponse(pdu, 1, s_items, codes, destinations);
                        break;
                    case "setup":
                        S7Wire.ParseSetupCommunication(pdu, 1);
                        break;
                    default:
                        S7Wire.ParseWriteResponse(pdu, 1);
                        break;
                }

                outcome = "decoded";
            }
            catch (S7ProtocolException)
            {
                outcome = "protocol error";
            }
            catch (S7ConnectionException)
            {
                outcome = "connection refused";
            }
            catch (S7Exception)
            {
                outcome = "S7 error";
            }
            catch (IOException)
            {
                outcome = "stream ended";
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // The mutations reach every branch: some frames still decode, the others are refused for each reason.
        Assert.True(outcomes.GetValueOrDefault("decoded") > 1000, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault("protocol error") > 1000, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault("stream ended") > 100, string.Join(", ", outcomes));
    }

    [Fact]
    public void TryDecode_RandomBytesOfEveryType_NeverThrows()
    {
        var random = new Random(15);
        var bytes = new byte[S7Types.Width(S7DataType.WString, 254)];
        var decoded = 0;
        for (var i = 0; i < 100_000; i++)
        {
            random.NextBytes(bytes);
            var type = (S7DataType)(i % (Enum.GetValues<S7DataType>().Length));
            var length = random.Next(1, 255);
            if (type is S7DataType.String or S7DataType.WString && random.Next(2) == 0)
            {
                bytes[type == S7DataType.String ? 1 : 3] = (byte)random.Next(0, 5);
            }

            if (S7Values.TryDecode(bytes.AsSpan(0, S7Types.Width(type, length)), type, random.Next(8), out var value, out var status))
            {
                Assert.NotEqual(SampleValueKind.None, value.Kind);
                decoded++;
            }
            else
            {
                Assert.Equal(S7StatusCodes.BadDataEncodingInvalid, status);
            }
        }

        Assert.True(decoded > 50_000);
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = seed.ToList();
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations; m++)
        {
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    var bit = random.Next(bytes.Count * 8);
                    bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                    break;
                case 2 when bytes.Count > 1:
                    // A length field (TPKT, parameter, data, item) at an extreme.
                    var at = random.Next(bytes.Count - 1);
                    var extreme = random.Next(3) switch { 0 => 0, 1 => 0xFFFF, _ => random.Next(0, 64) };
                    bytes[at] = (byte)(extreme >> 8);
                    bytes[at + 1] = (byte)extreme;
                    break;
                case 3 when bytes.Count > 0:
                    // Truncated: the frame ends early.
                    var from = random.Next(bytes.Count);
                    bytes.RemoveRange(from, bytes.Count - from);
                    break;
                case 4:
                    for (var k = random.Next(1, 16); k > 0; k--)
                    {
                        bytes.Add((byte)random.Next(256));
                    }

                    break;
                default:
                    if (bytes.Count > 8)
                    {
                        bytes.RemoveRange(random.Next(4, bytes.Count), 1);
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Gives back fixed bytes, then the end of the stream; swallows what is written.</summary>
    private sealed class ReplayStream(byte[] content) : Stream
    {
        private readonly MemoryStream _content = new(content);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(_content.Read(buffer.Span));

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => _content.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _content.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
