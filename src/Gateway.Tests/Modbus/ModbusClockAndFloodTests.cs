using System.Buffers.Binary;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Abstractions;
using Gateway.Tests.Architecture;
using Gateway.Tests.Configuration;
using Gateway.Tests.Hosting;
using Gateway.Tests.Northbound.Influx;
using Gateway.Tests.Observability;
using Gateway.Tests.Pipeline;
using Gateway.Tests.Simulation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Modbus;

/// <summary>Issue 13: a wall clock stepped back must not stop polling; a peer replaying wrong ids must not flood the log.</summary>
public sealed class ModbusClockAndFloodTests
{
    private const string OneTag = """
        { "name": "press-plc", "type": "modbus-tcp", "host": "plc", "machine": "press", "intervalMs": 1000,
          "tags": [ { "name": "count", "address": "holding:0" } ] }
        """;

    [Fact]
    public async Task Poll_WallClockSteppedBackAnHour_KeepsPollingAndStampsTheNewWallTime()
    {
        var time = new SteppingTimeProvider();
        var store = new ModbusDataStore(10, 10, 10, 10);
        var transport = new LoopbackTransport(time, new() { [1] = store });
        await using var driver = ModbusDriverBuilder.Build(OneTag, transport, time);
        var writer = new CollectingWriter();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(writer, stop.Token);

        ushort value = 0;
        await AdvanceAsync(time, TimeSpan.FromSeconds(5), store, () => ++value);
        var beforeStep = writer.For("press/count").Count;
        time.StepWallClock(TimeSpan.FromHours(-1));
        var stepped = time.GetUtcNow();
        await AdvanceAsync(time, TimeSpan.FromSeconds(10), store, () => ++value);
        await stop.CancelAsync();
        await run;

        var afterStep = writer.For("press/count").Skip(beforeStep).ToList();
        Assert.InRange(beforeStep, 4, 7);
        Assert.InRange(afterStep.Count, 8, 12); // one poll a second, as before the step
        Assert.All(afterStep, s => Assert.True(s.SourceTimestamp >= stepped && s.SourceTimestamp < stepped.AddMinutes(1), $"stamped {s.SourceTimestamp:O}"));
    }

    [Fact]
    public async Task Poll_SlowerThanItsInterval_CountsPollOverrunsOnTheWriter()
    {
        var time = new FakeTimeProvider();
        var transport = new SlowTransport(time, TimeSpan.FromMilliseconds(1500));
        await using var driver = ModbusDriverBuilder.Build(OneTag.Replace("\"intervalMs\": 1000", "\"intervalMs\": 1000, \"timeoutMs\": 5000", StringComparison.Ordinal), transport, time);
        var writer = new OverrunCountingWriter();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(writer, stop.Token);

        for (var i = 0; i < 100; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }

        await stop.CancelAsync();
        await run;

        Assert.True(writer.Samples >= 3, $"{writer.Samples} samples");
        Assert.InRange(writer.Overruns, writer.Samples - 1, writer.Samples + 1); // every poll took 1.5 intervals
    }

    [Fact]
    public async Task Transport_PeerReplayingWrongTransactionIds_LogsOneLineNamingTheDriverThenASummary()
    {
        var time = new FakeTimeProvider();
        var logger = new RateLimitedLogTests.ListLogger();
        var stream = new ReplayingPeer(wrongAnswersPerRequest: 50);
        var transport = new ModbusTcpTransport(_ => ValueTask.FromResult<Stream>(stream), "plc:502", time, logger) { Source = "Modbus driver press-plc" };
        await using var client = new ModbusClient(transport);

        for (var i = 0; i < 11; i++)
        {
            var registers = await client.ReadHoldingRegistersAsync(1, 0, 1, TimeSpan.FromSeconds(5), CancellationToken.None);
            Assert.Equal(42, registers[0]);
            time.Advance(TimeSpan.FromSeconds(10)); // 11 requests over 110 s
        }

        var lines = logger.Lines;
        Assert.Equal(550, transport.DiscardedFrames);
        Assert.Equal(1, lines.Count(l => l.Contains("discarded a response", StringComparison.Ordinal))); // the first in full; the flood goes on, so summaries only
        Assert.Contains(lines, l => l.Contains("Modbus driver press-plc: ", StringComparison.Ordinal) && l.Contains("more discarded responses from plc:502 in the last minute", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.Contains("Modbus driver press-plc", l, StringComparison.Ordinal));
        Assert.InRange(lines.Count, 2, 4);
    }

    private static async Task AdvanceAsync(SteppingTimeProvider time, TimeSpan total, ModbusDataStore store, Func<ushort> next)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < total; elapsed += TimeSpan.FromMilliseconds(100))
        {
            store.SetRegisters(ModbusTable.HoldingRegister, 0, [next()]);
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(3);
        }
    }

    /// <summary>Answers every request after a delay on the given clock (a slow device).</summary>
    private sealed class SlowTransport(TimeProvider time, TimeSpan delay) : IModbusTransport
    {
        private ushort _value;

        public long DiscardedFrames => 0;

        public bool IsConnected => true;

        public async ValueTask<int> TransceiveAsync(byte unitId, ReadOnlyMemory<byte> request, Memory<byte> response, TimeSpan timeout, CancellationToken cancellationToken)
        {
            await Task.Delay(delay, time, cancellationToken);
            var store = new ModbusDataStore(10, 10, 10, 10);
            store.SetRegisters(ModbusTable.HoldingRegister, 0, [++_value]);
            return store.Process(request.Span, response.Span);
        }

        public void Disconnect()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class OverrunCountingWriter : ISampleWriter
    {
        private int _samples;
        private int _overruns;

        public int Samples => Volatile.Read(ref _samples);

        public int Overruns => Volatile.Read(ref _overruns);

        public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _samples);
            return ValueTask.CompletedTask;
        }

        public void ReportPollOverrun() => Interlocked.Increment(ref _overruns);
    }

    /// <summary>
    /// A Modbus TCP peer that answers each FC3 request with <c>wrongAnswersPerRequest</c> responses carrying a wrong
    /// transaction id (a replaying gateway), then the right one (value 42).
    /// </summary>
    private sealed class ReplayingPeer(int wrongAnswersPerRequest) : Stream
    {
        private readonly Queue<byte> _output = new();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            var transactionId = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(offset));
            var unit = buffer[offset + 6];
            for (var i = 0; i < wrongAnswersPerRequest; i++)
            {
                Answer(unchecked((ushort)(transactionId + 1000 + i)), unit);
            }

            Answer(transactionId, unit);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.ToArray(), 0, buffer.Length);
            return ValueTask.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = 0;
            while (n < count && _output.Count > 0)
            {
                buffer[offset + n++] = _output.Dequeue();
            }

            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = 0;
            var span = buffer.Span;
            while (n < span.Length && _output.Count > 0)
            {
                span[n++] = _output.Dequeue();
            }

            return ValueTask.FromResult(n);
        }

        private void Answer(ushort transactionId, byte unit)
        {
            // MBAP: transaction, protocol 0, length 5 (unit + FC + byte count + one register), unit; PDU: FC3, 2 bytes, 42.
            byte[] frame = [(byte)(transactionId >> 8), (byte)transactionId, 0, 0, 0, 5, unit, 3, 2, 0, 42];
            foreach (var b in frame)
            {
                _output.Enqueue(b);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
