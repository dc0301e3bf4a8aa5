using Gateway.Drivers.Modbus;

using Xunit;

namespace Gateway.Tests.Modbus;

/// <summary>Random and mutated frames through every decoder: nothing may throw, nothing may hang.</summary>
public sealed class ModbusFuzzTests
{
    private const int Iterations = 120_000;

    private static byte[] ValidResponse(Random random, out byte[] request)
    {
        var store = new ModbusDataStore(200, 200, 200, 200);
        var function = (byte)random.Next(1, 7);
        if (random.Next(4) == 0)
        {
            function = random.Next(2) == 0 ? (byte)15 : (byte)16;
        }

        var start = (ushort)random.Next(0, 150);
        var count = (ushort)random.Next(1, 50);
        request = function switch
        {
            <= 4 => Pdu(b => ModbusPdu.WriteReadRequest(b, (ModbusTable)function, start, count)),
            5 => Pdu(b => ModbusPdu.WriteSingleCoilRequest(b, start, random.Next(2) == 0)),
            6 => Pdu(b => ModbusPdu.WriteSingleRegisterRequest(b, start, (ushort)random.Next(65536))),
            15 => Pdu(b => ModbusPdu.WriteMultipleCoilsRequest(b, start, new bool[count])),
            _ => Pdu(b => ModbusPdu.WriteMultipleRegistersRequest(b, start, new ushort[Math.Min((int)count, 40)])),
        };
        var response = new byte[256];
        var length = store.Process(request, response);
        return response[..length];
    }

    private static byte[] Pdu(Func<byte[], int> write)
    {
        var buffer = new byte[256];
        return buffer[..write(buffer)];
    }

    private static byte[] Mutate(Random random, byte[] frame)
    {
        var bytes = frame.ToList();
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations; m++)
        {
            switch (random.Next(4))
            {
                case 0 when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                    break;
                case 1 when bytes.Count > 0:
                    bytes.RemoveRange(random.Next(bytes.Count), 1);
                    break;
                case 2:
                    bytes.Insert(random.Next(bytes.Count + 1), (byte)random.Next(256));
                    break;
                default:
                    if (bytes.Count > 0)
                    {
                        var keep = random.Next(bytes.Count);
                        bytes.RemoveRange(keep, bytes.Count - keep);
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    [Fact]
    public void Decoders_WithRandomAndMutatedFrames_NeverThrowAndServerAnswersAreWellFormed()
    {
        var random = new Random(20261126);
        var store = new ModbusDataStore(300, 300, 300, 300);
        var response = new byte[256];
        var types = Enum.GetValues<ModbusDataType>();
        var orders = Enum.GetValues<ModbusWordOrder>();
        var checkedFrames = 0;
        var malformedServerAnswers = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var valid = ValidResponse(random, out var request);
            var frame = (i % 3) switch
            {
                0 => RandomBytes(random, random.Next(0, 260)),
                1 => Mutate(random, valid),
                _ => valid,
            };

            // Client side: response checks, RTU length finding, MBAP and CRC.
            ModbusPdu.CheckResponse(request, frame, out _, out _);
            ModbusPdu.ResponseLength(frame);
            ModbusPdu.RequestLength(frame);
            ModbusCrc.Check(frame);
            if (frame.Length >= MbapHeader.Size)
            {
                _ = MbapHeader.Read(frame).IsValid;
            }

            // Server side: any request gets a well-formed answer (normal or exception), never an exception.
            var requestFrame = (i % 2) == 0 ? Mutate(random, request) : frame;
            if (requestFrame.Length <= ModbusLimits.MaxPduLength)
            {
                var length = store.Process(requestFrame, response);
                if (length > 0 && requestFrame.Length >= 5)
                {
                    var status = ModbusPdu.CheckResponse(requestFrame, response.AsSpan(0, length), out _, out _);
                    if (status == ModbusResponseStatus.Malformed && requestFrame[0] is 1 or 2 or 3 or 4 or 5 or 6 or 15 or 16)
                    {
                        malformedServerAnswers++;
                    }
                }
            }

            // Typed decoding of arbitrary registers.
            var format = new ModbusValueFormat(types[random.Next(types.Length)], orders[random.Next(orders.Length)], random.Next(1, 20));
            var registers = new ushort[format.RegisterCount];
            for (var r = 0; r < registers.Length; r++)
            {
                registers[r] = (ushort)random.Next(65536);
            }

            ModbusValueCodec.Decode(registers, format, random.Next(-1, 16));
            checkedFrames++;
        }

        Assert.Equal(Iterations, checkedFrames);
        Assert.Equal(0, malformedServerAnswers);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A duplex stream: writes vanish, reads come from a fixed buffer, then end.</summary>
    private sealed class ReplayStream(byte[] incoming) : Stream
    {
        private readonly MemoryStream _incoming = new(incoming);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => _incoming.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
        }
    }

    [Fact]
    public async Task Transports_WithRandomAndMutatedByteStreams_EndWithAFrameOrAnIOErrorAndNeverHang()
    {
        var random = new Random(4242);
        var outcomes = new Dictionary<string, int>();
        var run = Task.Run(async () =>
        {
            for (var i = 0; i < 6000; i++)
            {
                var tcp = i % 2 == 0;
                byte[] stream;
                if (i % 3 == 0)
                {
                    stream = RandomBytes(random, random.Next(0, 600));
                }
                else
                {
                    var valid = ValidResponse(random, out _);
                    var framed = tcp ? WithMbap(1, 1, valid) : FakeSerialLine.Frame(1, valid);
                    stream = Mutate(random, framed);
                }

                IModbusTransport transport = tcp
                    ? new ModbusTcpTransport(_ => ValueTask.FromResult<Stream>(new ReplayStream(stream)), "fuzz", TimeProvider.System)
                    : new ModbusRtuTransport(new FakeSerialLine(_ => [stream]) { EndWhenEmpty = true }, "fuzz", 0, TimeProvider.System);
                await using var client = new ModbusClient(transport);
                string outcome;
                try
                {
                    await client.ReadHoldingRegistersAsync(1, 0, 3, TimeSpan.FromSeconds(5), CancellationToken.None);
                    outcome = "ok";
                }
                catch (Exception ex) when (ex is IOException or ModbusException or TimeoutException)
                {
                    outcome = ex.GetType().Name;
                }

                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        });

        await run.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(6000, outcomes.Values.Sum());
        Assert.DoesNotContain(nameof(TimeoutException), outcomes.Keys);
    }

    private static byte[] WithMbap(ushort transactionId, byte unit, byte[] pdu)
    {
        var frame = new byte[MbapHeader.Size + pdu.Length];
        new MbapHeader(transactionId, 0, (ushort)(pdu.Length + 1), unit).Write(frame);
        pdu.CopyTo(frame, MbapHeader.Size);
        return frame;
    }
}
