using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Gateway.Drivers.Modbus;

/// <summary>OPC UA status codes the Modbus driver maps its failures onto.</summary>
public static class ModbusStatusCodes
{
    /// <summary>The device did not answer in time.</summary>
    public const uint BadNoCommunication = SampleStatus.BadNoCommunication;

    /// <summary>The connection (or serial port) could not be opened.</summary>
    public const uint BadNotConnected = SampleStatus.BadNotConnected;

    /// <summary>The connection broke or the answer made no sense.</summary>
    public const uint BadCommunicationError = SampleStatus.BadCommunicationError;

    /// <summary>Exception 2: the device does not map the address.</summary>
    public const uint BadOutOfRange = SampleStatus.BadOutOfRange;

    /// <summary>Exception 1: the device does not implement the function code (for example FC2 on a device without discrete inputs).</summary>
    public const uint BadNotSupported = SampleStatus.BadNotSupported;

    /// <summary>Other exception responses.</summary>
    public const uint BadDeviceFailure = SampleStatus.BadDeviceFailure;

    public static uint For(Exception? exception) => exception switch
    {
        TimeoutException => BadNoCommunication,
        ModbusConnectionException => BadNotConnected,
        ModbusException { Code: ModbusExceptionCode.IllegalDataAddress } => BadOutOfRange,
        ModbusException { Code: ModbusExceptionCode.IllegalFunction } => BadNotSupported,
        ModbusException { Code: ModbusExceptionCode.GatewayTargetDeviceFailedToRespond or ModbusExceptionCode.GatewayPathUnavailable } => BadNoCommunication,
        ModbusException => BadDeviceFailure,
        _ => BadCommunicationError,
    };
}

/// <summary>
/// Polls Modbus devices: one loop per device and poll group, each with its own interval; tags coalesced into as few
/// requests as the limits and the maximum gap allow. A device that stops answering turns its tags Bad once and is
/// retried with exponential backoff and jitter (Polly); while it backs off it does not hold the line, so the other
/// devices keep their pace. The connection is kept open and reopened on the next poll after a failure.
/// </summary>
public sealed class ModbusDriver : IDriver
{
    private static readonly Meter s_meter = new("Gateway.Drivers.Modbus");
    private static readonly Counter<long> s_requests = s_meter.CreateCounter<long>("gateway_modbus_requests_total", description: "Modbus requests sent");
    private static readonly Counter<long> s_failures = s_meter.CreateCounter<long>("gateway_modbus_failures_total", description: "Modbus requests that failed (timeout, connection, exception response)");

    private readonly ModbusDriverPlan _plan;
    private readonly ModbusClient _client;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly WriterGate _writerGate = new();
    private readonly Dictionary<string, ModbusTag> _tagsByKey;
    private readonly TagInfo[] _tagInfos;
    private readonly List<PollUnit> _units = [];
    private readonly RateLimitedLog _exceptionLog;
    private readonly DriverHealth _health;

    internal ModbusDriver(string name, ModbusDriverPlan plan, ModbusClient client, DriverContext context)
    {
        Name = name;
        _plan = plan;
        _client = client;
        _timeProvider = context.TimeProvider;
        _logger = context.LoggerFactory.CreateLogger<ModbusDriver>();
        _tagInfos = [.. plan.Tags.Select(t => t.Info)];
        _tagsByKey = plan.Tags.ToDictionary(t => t.Info.Key, StringComparer.Ordinal);
        _exceptionLog = new RateLimitedLog(_logger, _timeProvider, $"Modbus driver {name}", "exception responses");
        var groups = plan.Tags.GroupBy(t => (t.Device, t.PollGroup)).ToList();
        _health = new DriverHealth(groups.Count);
        foreach (var group in groups)
        {
            var unit = new PollUnit(group.Key.Device, group.Key.PollGroup, plan.PollGroups[group.Key.PollGroup], [.. group], plan.Settings.MaxGap)
            {
                FailureLog = new RateLimitedLog(_logger, _timeProvider, $"Modbus driver {name}", $"failed attempts of device {group.Key.Device.Name} (poll group {group.Key.PollGroup})"),
                Health = _health.Unit(),
            };
            _units.Add(unit);
        }
    }

    /// <summary>The requests of one poll cycle per device and poll group (for tests): table, start and count.</summary>
    internal IReadOnlyList<(string Device, string Group, ModbusReadBlock Block)> PlannedBlocks
    {
        get
        {
            var blocks = new List<(string, string, ModbusReadBlock)>();
            foreach (var unit in _units)
            {
                lock (unit.Blocks)
                {
                    blocks.AddRange(unit.Blocks.Select(b => (unit.Device.Name, unit.GroupName, b)));
                }
            }

            return blocks;
        }
    }

    public string Name { get; }

    public IReadOnlyList<TagInfo> Tags => _tagInfos;

    public DriverState State => _health.State;

    public string? LastError
    {
        get => _health.LastError;
        private set => _health.LastError = value;
    }

    /// <summary>Requests sent so far (for tests and benchmarks).</summary>
    public long RequestCount => _client.RequestCount;

    /// <summary>Responses dropped because they did not match their request.</summary>
    public long DiscardedFrames => _client.Transport.DiscardedFrames;

    public async Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        ModbusDriverLog.Started(_logger, Name, _plan.Tags.Count, _units.Count, _units.Sum(u => u.Blocks.Count));
        _health.Started();
        try
        {
            await Task.WhenAll(_units.Select(unit => PollLoopAsync(unit, writer, cancellationToken)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _health.Stopped();
            _client.Transport.Disconnect();
        }
    }

    private Task PollLoopAsync(PollUnit unit, ISampleWriter writer, CancellationToken cancellationToken) =>
        PollLoop.RunAsync(
            _timeProvider,
            unit.Interval,
            TimeSpan.FromMilliseconds(_plan.Settings.BackoffMinMs),
            TimeSpan.FromMilliseconds(_plan.Settings.BackoffMaxMs),
            writer,
            static (state, token) => state.Driver.PollOnceAsync(state.Unit, state.Writer, token),
            (Driver: this, Unit: unit, Writer: writer),
            args => OnDeviceFailureAsync(unit, args.Outcome.Exception, args.AttemptNumber, args.RetryDelay, writer, args.Context.CancellationToken),
            () =>
            {
                unit.FailureLog.Flush();
                _exceptionLog.Flush();
            },
            cancellationToken);

    /// <summary>One poll of every unit, one after the other, without schedule or retry (for benchmarks of the hot path).</summary>
    internal async ValueTask PollAllOnceAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        foreach (var unit in _units)
        {
            await PollOnceAsync(unit, writer, cancellationToken);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PollOnceAsync(PollUnit unit, ISampleWriter writer, CancellationToken cancellationToken)
    {
        var device = unit.Device;
        for (var b = 0; b < unit.Blocks.Count; b++)
        {
            var block = unit.Blocks[b];
            s_requests.Add(1, new KeyValuePair<string, object?>("driver", Name));
            try
            {
                if (block.Table.IsBitTable())
                {
                    var bits = unit.Bits.AsMemory(0, block.Count);
                    await _client.ReadBitsAsync(device.UnitId, block.Table, (ushort)block.Start, bits, device.Timeout, cancellationToken);
                    await EmitAsync(unit, DecodeBits(unit, block, bits.Span), writer, cancellationToken);
                }
                else
                {
                    var registers = unit.Registers.AsMemory(0, block.Count);
                    await _client.ReadRegistersAsync(device.UnitId, block.Table, (ushort)block.Start, registers, device.Timeout, cancellationToken);
                    await EmitAsync(unit, DecodeRegisters(unit, block, registers.Span), writer, cancellationToken);
                }
            }
            catch (ModbusException ex)
            {
                s_failures.Add(1, new KeyValuePair<string, object?>("driver", Name));
                LastError = $"{device.Name}: {ex.Message}";
                if (ex.Code is ModbusExceptionCode.IllegalDataAddress or ModbusExceptionCode.IllegalDataValue
                    && ModbusBlockPlanner.Split(block, unit.Ranges) is { Count: > 0 } parts)
                {
                    // A coalesced block spans an address the device does not map (2), or is longer than the device
                    // reads at once (3, sometimes 2): read it in halves from now on, until only the bad tags fail.
                    ModbusDriverLog.BlockSplit(_logger, Name, device.Name, ModbusAddress.TableName(block.Table), block.Start, block.Count, (byte)ex.Code, parts[0].Count, parts[1].Count);
                    unit.Replace(b, parts);
                    b--;
                    continue;
                }

                if (unit.Refused(block, ex.Code) && _exceptionLog.ShouldLog())
                {
                    // Logged once per block and code: a device that lacks a function refuses it on every poll.
                    ModbusDriverLog.ExceptionResponse(_logger, Name, device.Name, ModbusAddress.TableName(block.Table), block.Start, block.Count, ex.Message);
                }

                await MarkBadAsync(unit, block.Items.Select(i => unit.Tags[i]), ModbusStatusCodes.For(ex), writer, cancellationToken);
                continue;
            }

            unit.Answered(block);
        }

        if (unit.Health.Answered())
        {
            ModbusDriverLog.DeviceRecovered(_logger, Name, device.Name, unit.GroupName);
        }
    }

    /// <summary>Decodes one block's bits into the unit's sample buffer; returns how many samples it holds.</summary>
    private int DecodeBits(PollUnit unit, ModbusReadBlock block, ReadOnlySpan<bool> bits)
    {
        var now = _timeProvider.GetUtcNow();
        var samples = unit.Samples;
        var items = block.Items;
        for (var i = 0; i < items.Count; i++)
        {
            var index = items[i];
            var tag = unit.Tags[index];
            unit.BadStatus[index] = 0;
            samples[i] = Sample.Good(tag.Info, now, now, SampleValue.FromBoolean(bits[tag.WireAddress - block.Start]));
        }

        return items.Count;
    }

    /// <summary>Decodes one block's registers into the unit's sample buffer (no allocation for numbers); returns how many samples it holds.</summary>
    private int DecodeRegisters(PollUnit unit, ModbusReadBlock block, ReadOnlySpan<ushort> registers)
    {
        var now = _timeProvider.GetUtcNow();
        var samples = unit.Samples;
        var items = block.Items;
        for (var i = 0; i < items.Count; i++)
        {
            var index = items[i];
            var tag = unit.Tags[index];
            var raw = ModbusValueCodec.Decode(registers.Slice(tag.WireAddress - block.Start, tag.Count), tag.Format, tag.Bit);
            unit.BadStatus[index] = 0;
            samples[i] = Sample.Good(tag.Info, now, now, ModbusValueCodec.Scale(raw, tag.Scale, tag.Offset));
        }

        return items.Count;
    }

    /// <summary>Hands one block's samples to the pipeline as one batch.</summary>
    private ValueTask EmitAsync(PollUnit unit, int count, ISampleWriter writer, CancellationToken cancellationToken) =>
        _writerGate.WriteBatchAsync(writer, unit.Samples.AsMemory(0, count), cancellationToken);

    private async ValueTask OnDeviceFailureAsync(PollUnit unit, Exception? exception, int attempt, TimeSpan retryDelay, ISampleWriter writer, CancellationToken cancellationToken)
    {
        s_failures.Add(1, new KeyValuePair<string, object?>("driver", Name));
        LastError = $"{unit.Device.Name}: {exception?.Message}";
        unit.Health.Failed();

        if (exception is IOException and not ModbusConnectionException and not ModbusProtocolException || exception is ModbusConnectionException)
        {
            // The connection broke or could not be made: start the next attempt from a fresh connection.
            _client.Transport.Disconnect();
        }

        if (unit.FailureLog.ShouldLog())
        {
            ModbusDriverLog.DeviceFailed(_logger, Name, unit.Device.Name, unit.GroupName, attempt, retryDelay.TotalMilliseconds, exception?.Message ?? "?");
        }

        await MarkBadAsync(unit, unit.Tags, ModbusStatusCodes.For(exception), writer, cancellationToken);
    }

    /// <summary>Emits one Bad sample per tag that was not Bad yet: a dead device is reported once, not on every retry.</summary>
    private async ValueTask MarkBadAsync(PollUnit unit, IEnumerable<ModbusTag> tags, uint status, ISampleWriter writer, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        await _writerGate.WaitAsync(cancellationToken);
        try
        {
            foreach (var tag in tags)
            {
                var index = unit.IndexOf(tag);
                if (unit.BadStatus[index] != 0)
                {
                    // Already reported Bad: an outage is published once, even if its cause changes while it lasts.
                    continue;
                }

                unit.BadStatus[index] = status;
                await writer.WriteAsync(Sample.Bad(tag.Info, now, status), cancellationToken);
            }
        }
        finally
        {
            _writerGate.Release();
        }
    }

    public async ValueTask WriteAsync(TagInfo tag, SampleValue value, CancellationToken cancellationToken)
    {
        if (!_tagsByKey.TryGetValue(tag.Key, out var modbusTag))
        {
            throw new InvalidOperationException($"driver '{Name}' has no tag '{tag.Key}'");
        }

        if (!modbusTag.Writable)
        {
            throw new InvalidOperationException($"tag '{tag.Key}' is not writable (set \"writable\": true in its configuration)");
        }

        var raw = ModbusValueCodec.Unscale(value, modbusTag.Scale, modbusTag.Offset);
        await _client.WriteValueAsync(modbusTag.Device.UnitId, modbusTag.Table, (ushort)modbusTag.WireAddress, modbusTag.Format, modbusTag.Bit, raw, modbusTag.Device.Timeout, cancellationToken);
        ModbusDriverLog.Written(_logger, Name, tag.Key);
    }

    /// <summary>The read-back after a write: one read of the tag's registers or bit, scaled as a poll would.</summary>
    public async ValueTask<Sample> ReadAsync(TagInfo tag, CancellationToken cancellationToken)
    {
        if (!_tagsByKey.TryGetValue(tag.Key, out var modbusTag))
        {
            throw new InvalidOperationException($"driver '{Name}' has no tag '{tag.Key}'");
        }

        var raw = await _client.ReadValueAsync(modbusTag.Device.UnitId, modbusTag.Table, (ushort)modbusTag.WireAddress, modbusTag.Format, modbusTag.Bit, modbusTag.Device.Timeout, cancellationToken);
        var now = _timeProvider.GetUtcNow();
        return Sample.Good(tag, now, now, ModbusValueCodec.Scale(raw, modbusTag.Scale, modbusTag.Offset));
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        _writerGate.Dispose();
    }

    /// <summary>The tags of one device in one poll group, with their request plan and last reported status.</summary>
    private sealed class PollUnit
    {
        private readonly Dictionary<ModbusTag, int> _indices;
        private readonly Dictionary<ModbusReadBlock, ModbusExceptionCode> _refused = new(ReferenceEqualityComparer.Instance);

        public PollUnit(ModbusDevice device, string groupName, TimeSpan interval, List<ModbusTag> tags, int maxGap)
        {
            Device = device;
            GroupName = groupName;
            Interval = interval;
            Tags = tags;
            _indices = tags.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
            BadStatus = new uint[tags.Count];
            Ranges = [.. tags.Select(t => t.Range)];
            Blocks = ModbusBlockPlanner.Plan(Ranges, maxGap, device.MaxRegisters, device.MaxBits);
            Samples = new Sample[tags.Count];

            // As long as the longest planned block of each kind: a split only makes blocks shorter.
            Registers = new ushort[Blocks.Where(b => !b.Table.IsBitTable()).Select(b => b.Count).DefaultIfEmpty(0).Max()];
            Bits = new bool[Blocks.Where(b => b.Table.IsBitTable()).Select(b => b.Count).DefaultIfEmpty(0).Max()];
        }

        /// <summary>Reused for every request of this unit (its polls run one after the other): no allocation per poll.</summary>
        public ushort[] Registers { get; }

        public bool[] Bits { get; }

        /// <summary>One block's samples, handed to the pipeline as a batch.</summary>
        public Sample[] Samples { get; }

        /// <summary>The device's repeated failures: the first logged, the rest summed up once a minute.</summary>
        public required RateLimitedLog FailureLog { get; init; }

        /// <summary>The range each tag reads, by index.</summary>
        public ModbusRange[] Ranges { get; }

        public ModbusDevice Device { get; }

        public string GroupName { get; }

        public TimeSpan Interval { get; }

        public List<ModbusTag> Tags { get; }

        public List<ModbusReadBlock> Blocks { get; }

        /// <summary>The Bad status last emitted per tag; 0 after a good value.</summary>
        public uint[] BadStatus { get; }

        public required UnitHealth Health { get; init; }

        public int IndexOf(ModbusTag tag) => _indices[tag];

        /// <summary>Replaces block <paramref name="index"/> by <paramref name="parts"/>.</summary>
        public void Replace(int index, List<ModbusReadBlock> parts)
        {
            lock (Blocks)
            {
                _refused.Remove(Blocks[index]);
                Blocks.RemoveAt(index);
                Blocks.InsertRange(index, parts);
            }
        }

        /// <summary>Records an exception response; true when it is news for this block (to be logged).</summary>
        public bool Refused(ModbusReadBlock block, ModbusExceptionCode code)
        {
            if (_refused.TryGetValue(block, out var previous) && previous == code)
            {
                return false;
            }

            _refused[block] = code;
            return true;
        }

        /// <summary>The block was read: a later refusal is news again.</summary>
        public void Answered(ModbusReadBlock block) => _refused.Remove(block);
    }
}

internal static partial class ModbusDriverLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Modbus driver {Driver} started: {Tags} tags, {Units} poll loops, {Requests} requests per cycle")]
    public static partial void Started(ILogger logger, string driver, int tags, int units, int requests);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Modbus driver {Driver}: device {Device} (poll group {Group}) failed, attempt {Attempt}, retry in {DelayMs:0} ms: {Reason}")]
    public static partial void DeviceFailed(ILogger logger, string driver, string device, string group, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Modbus driver {Driver}: device {Device} (poll group {Group}) answers again")]
    public static partial void DeviceRecovered(ILogger logger, string driver, string device, string group);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Modbus driver {Driver}: device {Device} refused {Table}:{Start} x{Count}: {Reason}")]
    public static partial void ExceptionResponse(ILogger logger, string driver, string device, string table, int start, int count, string reason);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "Modbus driver {Driver}: device {Device} refused {Table}:{Start} x{Count} with exception {Code}: reading it as two requests of {First} and {Second} from now on")]
    public static partial void BlockSplit(ILogger logger, string driver, string device, string table, int start, int count, byte code, int first, int second);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Modbus driver {Driver}: wrote {Tag}")]
    public static partial void Written(ILogger logger, string driver, string tag);
}
