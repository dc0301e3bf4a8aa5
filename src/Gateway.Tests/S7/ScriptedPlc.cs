using System.Buffers.Binary;
using System.Threading.Channels;
using Gateway.Drivers.S7;

namespace Gateway.Tests.S7;

/// <summary>
/// An in-memory S7 CPU on the far end of a stream: answers the COTP connection request (or refuses it), Setup
/// Communication with <see cref="PduSize"/>, and every other job with <see cref="OnJob"/> (the job's S7 PDU in, the
/// answer's S7 PDU out, or null for silence).
/// </summary>
internal sealed class ScriptedPlc
{
    public int PduSize { get; init; } = 480;

    /// <summary>False answers the connection request with a COTP disconnect request, as a CPU at another slot does.</summary>
    public bool AcceptConnection { get; init; } = true;

    public Func<byte[], byte[]?> OnJob { get; init; } = _ => null;

    public int Connections;

    public Func<CancellationToken, ValueTask<Stream>> Connect => _ =>
    {
        Interlocked.Increment(ref Connections);
        return ValueTask.FromResult<Stream>(new PlcStream(this));
    };

    /// <summary>An ack-data PDU answering <paramref name="job"/> with the given header error, parameters and data.</summary>
    public static byte[] Ack(byte[] job, ushort error, ReadOnlySpan<byte> parameters, ReadOnlySpan<byte> data)
    {
        var pdu = new byte[S7Wire.AckHeaderSize + parameters.Length + data.Length];
        pdu[0] = 0x32;
        pdu[1] = 0x03;
        pdu[4] = job[4];
        pdu[5] = job[5];
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(6), (ushort)parameters.Length);
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(8), (ushort)data.Length);
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(10), error);
        parameters.CopyTo(pdu.AsSpan(S7Wire.AckHeaderSize));
        data.CopyTo(pdu.AsSpan(S7Wire.AckHeaderSize + parameters.Length));
        return pdu;
    }

    /// <summary>A Read Var acknowledgement in which every item of <paramref name="job"/> failed with <paramref name="code"/>.</summary>
    public static byte[] ReadRefused(byte[] job, byte code)
    {
        var items = job[S7Wire.JobHeaderSize + 1];
        var data = new byte[4 * items];
        for (var i = 0; i < items; i++)
        {
            data[4 * i] = code;
        }

        return Ack(job, 0, [S7Wire.FunctionReadVar, items], data);
    }

    /// <summary>A Read Var acknowledgement filling every item of <paramref name="job"/> with <paramref name="fill"/>.</summary>
    public static byte[] ReadFilled(byte[] job, byte fill)
    {
        var items = job[S7Wire.JobHeaderSize + 1];
        var data = new List<byte>();
        for (var i = 0; i < items; i++)
        {
            var spec = job.AsSpan(S7Wire.JobHeaderSize + 2 + (12 * i), 12);
            var count = BinaryPrimitives.ReadUInt16BigEndian(spec[4..]);
            var bytes = spec[3] is 0x1C or 0x1D ? 2 * count : count;
            data.AddRange([0xFF, 0x04, (byte)((bytes * 8) >> 8), (byte)(bytes * 8)]);
            data.AddRange(Enumerable.Repeat(fill, bytes));
            if (i < items - 1 && bytes % 2 != 0)
            {
                data.Add(0);
            }
        }

        return Ack(job, 0, [S7Wire.FunctionReadVar, items], [.. data]);
    }

    private byte[]? Answer(byte[] frame)
    {
        var cotpType = frame[5] & 0xF0;
        if (cotpType == S7Wire.CotpConnectionRequest)
        {
            return AcceptConnection
                ? Frame([0x06, S7Wire.CotpConnectionConfirm, 0, 1, 0, 1, 0], [])
                : Frame([0x06, S7Wire.CotpDisconnectRequest, 0, 1, 0, 1, 0], []);
        }

        var pdu = frame[7..];
        if (pdu[S7Wire.JobHeaderSize] == S7Wire.FunctionSetupCommunication)
        {
            Span<byte> parameters = [0xF0, 0, 0, 1, 0, 1, (byte)(PduSize >> 8), (byte)PduSize];
            return Frame([0x02, 0xF0, 0x80], Ack(pdu, 0, parameters, []));
        }

        return OnJob(pdu) is { } answer ? Frame([0x02, 0xF0, 0x80], answer) : null;
    }

    private static byte[] Frame(ReadOnlySpan<byte> cotp, ReadOnlySpan<byte> pdu)
    {
        var frame = new byte[4 + cotp.Length + pdu.Length];
        S7Wire.WriteTpkt(frame, frame.Length);
        cotp.CopyTo(frame.AsSpan(4));
        pdu.CopyTo(frame.AsSpan(4 + cotp.Length));
        return frame;
    }

    private sealed class PlcStream(ScriptedPlc plc) : Stream
    {
        private readonly Channel<byte[]> _answers = Channel.CreateUnbounded<byte[]>();
        private readonly List<byte> _written = [];
        private byte[] _current = [];
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= _current.Length)
            {
                _current = await _answers.Reader.ReadAsync(cancellationToken);
                _position = 0;
            }

            var n = Math.Min(buffer.Length, _current.Length - _position);
            _current.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _written.AddRange(buffer.Span);
            while (_written.Count >= 4)
            {
                var length = (_written[2] << 8) | _written[3];
                if (_written.Count < length)
                {
                    break;
                }

                var frame = _written.GetRange(0, length).ToArray();
                _written.RemoveRange(0, length);
                if (plc.Answer(frame) is { } answer)
                {
                    _answers.Writer.TryWrite(answer);
                }
            }

            return ValueTask.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
