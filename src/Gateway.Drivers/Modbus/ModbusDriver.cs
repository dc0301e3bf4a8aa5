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
public sealed class ModbusDriver : IDriver, IPolledDevice<ModbusDriver.PollUnit>
{
    private static readonly Meter s_meter = new("Gateway.Drivers.Modbus");
    private static readonly Counter<long> s_requests = s_meter.CreateCounter<long>("gateway_modbus_requests_total", description: "Modbus requests sent");
    private static readonly Counter<long> s_failures = s_meter.CreateCounter<long>("gateway_modbus_failures_total", description: "Modbus requests that failed (timeout, connection, exception response)");

    private readonly ModbusDriverPlan _plan;
    private readonly ModbusClient _client;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TagTable<ModbusTag> _tagsByKey;
    private readonly TagInfo[] _tagInfos;
    private readonly RateLimitedLog _exceptionLog;
    private readonly PollScheduler<PollUnit> _scheduler;

    internal ModbusDriver(string name, ModbusDriverPlan plan, ModbusClient client, DriverContext context)
    {
        Name = name;
        _plan = plan;
        _client = client;
        _timeProvider = context.TimeProvider;
        _logger = context.LoggerFactory.CreateLogger<ModbusDriver>();
        _tagInfos = [.. plan.Tags.Select(t => t.Info)];
        _tagsByKey = new TagTable<ModbusTag>(name, plan.Tags, t => t.Info, t => t.Writable);
        _exceptionLog = new RateLimitedLog(_logger, _timeProvider, $"Modbus driver {name}", "exception responses");
        _scheduler = new PollScheduler<PollUnit>(
            this,
            _timeProvider,
            _logger,
            $"Modbus driver {name}",
            TimeSpan.FromMilliseconds(plan.Settings.BackoffMinMs),
            TimeSpan.FromMilliseconds(plan.Settings.BackoffMaxMs),
            _exceptionLog);
        foreach (var group in plan.Tags.GroupBy(t => (t.Device, t.PollGroup)))
        {
            List<ModbusTag> tags = [.. group];
            var state = _scheduler.NewUnitState(
                group.Key.PollGroup,
                plan.PollGroups[group.Key.PollGroup],
                [.. tags.Select(t => t.Info)],
                $"failed attempts of device {group.Key.Device.Name} (poll group {group.Key.PollGroup})");
            _scheduler.Add(new PollUnit(group.Key.Device, tags, plan.Settings.MaxGap, state));
        }
    }

    /// <summary>The requests of one poll cycle per device and poll group (for tests): table, start and count.</summary>
    internal IReadOnlyList<(string Device, string Group, ModbusReadBlock Block)> PlannedBlocks
    {
        get
        {
            var blocks = new List<(string, string, ModbusReadBlock)>();
            foreach (var unit in _scheduler.Units)
            {
                lock (unit.Blocks)
                {
                    blocks.AddRange(unit.Blocks.Select(b => (unit.Device.Name, unit.PollState.Group, b)));
                }
            }

            return blocks;
        }
    }

    public string Name { get; }

    public IReadOnlyList<TagInfo> Tags => _tagInfos;

    public DriverState State => _scheduler.Health.State;

    public string? LastError
    {
        get => _scheduler.Health.LastError;
        private set => _scheduler.Health.LastError = value;
    }

    /// <summary>Requests sent so far (for tests and benchmarks).</summary>
    public long RequestCount => _client.RequestCount;

    /// <summary>Responses dropped because they did not match their request.</summary>
    public long DiscardedFrames => _client.Transport.DiscardedFrames;

    public Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        var units = _scheduler.Units;
        ModbusDriverLog.Started(_logger, Name, _plan.Tags.Count, units.Count, units.Sum(u => u.Blocks.Count));
        return _scheduler.RunAsync(writer, cancellationToken);
    }

    /// <summary>One poll of every unit, one after the other, without schedule or retry (for benchmarks of the hot path).</summary>
    internal ValueTask PollAllOnceAsync(ISampleWriter writer, CancellationToken cancellationToken) => _scheduler.PollAllOnceAsync(writer, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    async ValueTask IPolledDevice<PollUnit>.PollOnceAsync(PollUnit unit, ISampleWriter writer, CancellationToken cancellationToken)
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

                var bad = unit.PollState.AddBad(block.Items, ModbusStatusCodes.For(ex), _timeProvider.GetUtcNow(), 0);
                if (bad > 0)
                {
                    await EmitAsync(unit, bad, writer, cancellationToken);
                }

                continue;
            }

            unit.Answered(block);
        }
    }

    /// <summary>Decodes one block's bits into the unit's sample buffer; returns how many samples it holds.</summary>
    private int DecodeBits(PollUnit unit, ModbusReadBlock block, ReadOnlySpan<bool> bits)
    {
        var now = _timeProvider.GetUtcNow();
        var samples = unit.PollState.Samples;
        var items = block.Items;
        for (var i = 0; i < items.Count; i++)
        {
            var index = items[i];
            var tag = unit.Tags[index];
            unit.PollState.Good(index);
            samples[i] = Sample.Good(tag.Info, now, now, SampleValue.FromBoolean(bits[tag.WireAddress - block.Start]));
        }

        return items.Count;
    }

    /// <summary>Decodes one block's registers into the unit's sample buffer (no allocation for numbers); returns how many samples it holds.</summary>
    private int DecodeRegisters(PollUnit unit, ModbusReadBlock block, ReadOnlySpan<ushort> registers)
    {
        var now = _timeProvider.GetUtcNow();
        var samples = unit.PollState.Samples;
        var items = block.Items;
        for (var i = 0; i < items.Count; i++)
        {
            var index = items[i];
            var tag = unit.Tags[index];
            var raw = ModbusValueCodec.Decode(registers.Slice(tag.WireAddress - block.Start, tag.Count), tag.Format, tag.Bit);
            unit.PollState.Good(index);
            samples[i] = Sample.Good(tag.Info, now, now, ModbusValueCodec.Scale(raw, tag.Scale, tag.Offset));
        }

        return items.Count;
    }

    /// <summary>Hands one block's samples to the pipeline as one batch.</summary>
    private ValueTask EmitAsync(PollUnit unit, int count, ISampleWriter writer, CancellationToken cancellationToken) =>
        _scheduler.EmitAsync(writer, unit.PollState.Samples, count, cancellationToken);

    uint IPolledDevice<PollUnit>.Failed(PollUnit unit, Exception? exception)
    {
        s_failures.Add(1, new KeyValuePair<string, object?>("driver", Name));
        LastError = $"{unit.Device.Name}: {exception?.Message}";
        if (exception is IOException and not ModbusConnectionException and not ModbusProtocolException || exception is ModbusConnectionException)
        {
            // The connection broke or could not be made: start the next attempt from a fresh connection.
            _client.Transport.Disconnect();
        }

        return ModbusStatusCodes.For(exception);
    }

    void IPolledDevice<PollUnit>.LogFailed(PollUnit unit, int attempt, TimeSpan retryDelay, Exception? exception) =>
        ModbusDriverLog.DeviceFailed(_logger, Name, unit.Device.Name, unit.PollState.Group, attempt, retryDelay.TotalMilliseconds, exception?.Message ?? "?");

    void IPolledDevice<PollUnit>.LogRecovered(PollUnit unit) => ModbusDriverLog.DeviceRecovered(_logger, Name, unit.Device.Name, unit.PollState.Group);

    void IPolledDevice<PollUnit>.Disconnect() => _client.Transport.Disconnect();

    public async ValueTask WriteAsync(TagInfo tag, SampleValue value, CancellationToken cancellationToken)
    {
        var modbusTag = _tagsByKey.FindWritable(tag);

        var raw = ModbusValueCodec.Unscale(value, modbusTag.Scale, modbusTag.Offset);
        await _client.WriteValueAsync(modbusTag.Device.UnitId, modbusTag.Table, (ushort)modbusTag.WireAddress, modbusTag.Format, modbusTag.Bit, raw, modbusTag.Device.Timeout, cancellationToken);
        ModbusDriverLog.Written(_logger, Name, tag.Key);
    }

    /// <summary>The read-back after a write: one read of the tag's registers or bit, scaled as a poll would.</summary>
    public async ValueTask<Sample> ReadAsync(TagInfo tag, CancellationToken cancellationToken)
    {
        var modbusTag = _tagsByKey.Find(tag);

        var raw = await _client.ReadValueAsync(modbusTag.Device.UnitId, modbusTag.Table, (ushort)modbusTag.WireAddress, modbusTag.Format, modbusTag.Bit, modbusTag.Device.Timeout, cancellationToken);
        var now = _timeProvider.GetUtcNow();
        return Sample.Good(tag, now, now, ModbusValueCodec.Scale(raw, modbusTag.Scale, modbusTag.Offset));
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        _scheduler.Dispose();
    }

    /// <summary>The tags of one device in one poll group, with their request plan (its schedule and status: <see cref="PollState"/>).</summary>
    internal sealed class PollUnit : IPollUnit
    {
        private readonly RefusalMemo<ModbusReadBlock, ModbusExceptionCode> _refused = new(ReferenceEqualityComparer.Instance);

        public PollUnit(ModbusDevice device, List<ModbusTag> tags, int maxGap, PollUnitState state)
        {
            Device = device;
            Tags = tags;
            PollState = state;
            Ranges = [.. tags.Select(t => t.Range)];
            Blocks = ModbusBlockPlanner.Plan(Ranges, maxGap, device.MaxRegisters, device.MaxBits);

            // As long as the longest planned block of each kind: a split only makes blocks shorter.
            Registers = new ushort[Blocks.Where(b => !b.Table.IsBitTable()).Select(b => b.Count).DefaultIfEmpty(0).Max()];
            Bits = new bool[Blocks.Where(b => b.Table.IsBitTable()).Select(b => b.Count).DefaultIfEmpty(0).Max()];
        }

        public PollUnitState PollState { get; }

        /// <summary>Reused for every request of this unit (its polls run one after the other): no allocation per poll.</summary>
        public ushort[] Registers { get; }

        public bool[] Bits { get; }

        /// <summary>The range each tag reads, by index.</summary>
        public ModbusRange[] Ranges { get; }

        public ModbusDevice Device { get; }

        public List<ModbusTag> Tags { get; }

        public List<ModbusReadBlock> Blocks { get; }

        /// <summary>Replaces block <paramref name="index"/> by <paramref name="parts"/>.</summary>
        public void Replace(int index, List<ModbusReadBlock> parts)
        {
            lock (Blocks)
            {
                _refused.Answered(Blocks[index]);
                Blocks.RemoveAt(index);
                Blocks.InsertRange(index, parts);
            }
        }

        /// <summary>Records an exception response; true when it is news for this block (to be logged).</summary>
        public bool Refused(ModbusReadBlock block, ModbusExceptionCode code) => _refused.Refused(block, code);

        /// <summary>The block was read: a later refusal is news again.</summary>
        public void Answered(ModbusReadBlock block) => _refused.Answered(block);
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
