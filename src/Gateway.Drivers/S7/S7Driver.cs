using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Gateway.Drivers.S7;

/// <summary>
/// Polls one S7 CPU: one loop per poll group on its own monotonic schedule, all over one ISO-on-TCP connection (jobs
/// take turns). Each cycle reads its tags in as few Read Var jobs as the negotiated PDU allows (see
/// <see cref="S7ReadPlanner"/>). A CPU that stops answering turns the group's tags Bad once and is retried with
/// exponential backoff and jitter (Polly); an item the CPU refuses (missing DB, address past the end) turns only its
/// tags Bad, named and logged once with what to change in TIA Portal; a coalesced block refused as out of range is read
/// tag by tag from then on, so that only the tags past the end stay Bad.
/// </summary>
public sealed class S7Driver : IDriver, IPolledDevice<S7Driver.PollUnit>
{
    private static readonly Meter s_meter = new("Gateway.Drivers.S7");
    private static readonly Counter<long> s_requests = s_meter.CreateCounter<long>("gateway_s7_requests_total", description: "S7 Read Var and Write Var jobs sent");
    private static readonly Counter<long> s_failures = s_meter.CreateCounter<long>("gateway_s7_failures_total", description: "S7 jobs or items that failed (timeout, connection, refused by the CPU)");

    private readonly S7DriverPlan _plan;
    private readonly S7Client _client;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TimeSpan _timeout;
    private readonly TagTable<S7Tag> _tagsByKey;
    private readonly TagInfo[] _tagInfos;
    private readonly RateLimitedLog _refusalLog;
    private readonly KeyValuePair<string, object?> _driverLabel;
    private readonly PollScheduler<PollUnit> _scheduler;

    internal S7Driver(string name, S7DriverPlan plan, S7Client client, DriverContext context)
    {
        Name = name;
        _plan = plan;
        _client = client;
        _timeProvider = context.TimeProvider;
        _logger = context.LoggerFactory.CreateLogger<S7Driver>();
        _timeout = TimeSpan.FromMilliseconds(plan.Settings.TimeoutMs);
        _tagInfos = [.. plan.Tags.Select(t => t.Info)];
        _tagsByKey = new TagTable<S7Tag>(name, plan.Tags, t => t.Info, t => t.Writable);
        _refusalLog = new RateLimitedLog(_logger, _timeProvider, $"S7 driver {name}", "refused items");
        _driverLabel = new KeyValuePair<string, object?>("driver", name);
        _scheduler = new PollScheduler<PollUnit>(
            this,
            _timeProvider,
            _logger,
            $"S7 driver {name}",
            TimeSpan.FromMilliseconds(plan.Settings.BackoffMinMs),
            TimeSpan.FromMilliseconds(plan.Settings.BackoffMaxMs),
            _refusalLog);
        foreach (var group in plan.Tags.GroupBy(t => t.PollGroup))
        {
            List<S7Tag> tags = [.. group];
            var state = _scheduler.NewUnitState(group.Key, plan.PollGroups[group.Key], [.. tags.Select(t => t.Info)], $"failed attempts (poll group {group.Key})");
            _scheduler.Add(new PollUnit(tags, state));
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

    /// <summary>Read and write jobs sent so far (for tests and benchmarks).</summary>
    public long RequestCount => _client.RequestCount;

    /// <summary>The PDU size the CPU granted on the current connection.</summary>
    public int PduSize => _client.PduSize;

    /// <summary>The Read Var jobs of one cycle of each poll group, as last planned (for tests and benchmarks).</summary>
    internal IReadOnlyList<S7ReadRequest> PlannedRequests => [.. _scheduler.Units.SelectMany(u => u.Plan?.Requests ?? [])];

    public Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        S7DriverLog.Started(_logger, Name, _client.Transport.Peer, _plan.RemoteTsap, _plan.Tags.Count, _scheduler.Units.Count);
        return _scheduler.RunAsync(writer, cancellationToken);
    }

    /// <summary>One cycle of every poll group, without schedule or retry (for tests and benchmarks).</summary>
    internal ValueTask PollAllOnceAsync(ISampleWriter writer, CancellationToken cancellationToken) => _scheduler.PollAllOnceAsync(writer, cancellationToken);

    async ValueTask IPolledDevice<PollUnit>.PollOnceAsync(PollUnit unit, ISampleWriter writer, CancellationToken cancellationToken)
    {
        var pduSize = await _client.ConnectAsync(_timeout, cancellationToken);
        if (unit.Plan is null || unit.PlannedPduSize != pduSize || unit.Replan)
        {
            unit.Plan = S7ReadPlanner.Plan(unit.Ranges, _plan.Settings.MaxGap, pduSize, unit.Alone);
            unit.PlannedPduSize = pduSize;
            unit.Replan = false;
            S7DriverLog.Planned(_logger, Name, unit.PollState.Group, pduSize, unit.Tags.Count, unit.Plan.Blocks.Count, unit.Plan.Requests.Count);
        }

        var plan = unit.Plan;
        foreach (var block in plan.Blocks)
        {
            // A cycle cut short by a lost connection leaves no refusal behind for the next one.
            block.ReturnCode = S7Wire.ItemSuccess;
            block.JobError = null;
        }

        foreach (var request in plan.Requests)
        {
            s_requests.Add(1, _driverLabel);
            try
            {
                await _client.ReadAsync(request.Items, request.Destinations, request.ReturnCodes, _timeout, cancellationToken);
            }
            catch (S7Exception ex)
            {
                // The CPU refused the whole job (PUT/GET not permitted, PDU exceeded): its blocks fail, the others are read.
                s_failures.Add(1, _driverLabel);
                LastError = ex.Message;
                foreach (var block in request.Blocks)
                {
                    block.ReturnCode = 0;
                    block.JobError = ex;
                }

                continue;
            }

            for (var i = 0; i < request.Items.Length; i++)
            {
                if (request.ReturnCodes[i] != S7Wire.ItemSuccess && request.Blocks[i].ReturnCode == S7Wire.ItemSuccess)
                {
                    s_failures.Add(1, _driverLabel);
                    request.Blocks[i].ReturnCode = request.ReturnCodes[i];
                }
            }
        }

        var now = _timeProvider.GetUtcNow();
        var count = 0;
        var state = unit.PollState;
        foreach (var block in plan.Blocks)
        {
            if (block.ReturnCode != S7Wire.ItemSuccess)
            {
                var refusal = block.JobError ?? new S7Exception(S7ErrorSource.Item, block.ReturnCode);
                block.ReturnCode = S7Wire.ItemSuccess;
                block.JobError = null;
                if (refusal.Source7 == S7ErrorSource.Item && refusal.Code == S7Errors.ItemAddressOutOfRange && block.Tags.Length > 1)
                {
                    // A coalesced block reaches past the end of its DB or area: read its tags one by one from the next
                    // cycle on, so that only those past the end stay Bad.
                    S7DriverLog.BlockSplit(_logger, Name, S7Address.Describe(new S7Item(block.Range.Area, block.Range.DbNumber, block.Range.Start, block.Range.Length)), block.Tags.Length);
                    foreach (var index in block.Tags)
                    {
                        unit.Alone.Add(index);
                    }

                    unit.Replan = true;
                    continue;
                }

                LastError = $"{S7Address.Describe(new S7Item(block.Range.Area, block.Range.DbNumber, block.Range.Start, block.Range.Length))}: {refusal.Message}";
                if (unit.Refused(block.Range, refusal.Code) && _refusalLog.ShouldLog())
                {
                    S7DriverLog.Refused(_logger, Name, S7Address.Describe(new S7Item(block.Range.Area, block.Range.DbNumber, block.Range.Start, block.Range.Length)), string.Join(", ", block.Tags.Select(t => unit.Tags[t].Info.Path)), refusal.Message);
                }

                count = state.AddBad(block.Tags, refusal.StatusCode, now, count);
                continue;
            }

            unit.Answered(block.Range);
            var unitBytes = block.Range.UnitBytes;
            foreach (var index in block.Tags)
            {
                var tag = unit.Tags[index];
                var offset = (tag.Range.Start - block.Range.Start) * unitBytes;
                var bytes = block.Buffer.AsSpan(offset, tag.Range.Length * unitBytes);
                if (S7Values.TryDecode(bytes, tag.Type, tag.Address.Bit, out var value, out var status))
                {
                    state.Good(index);
                    state.Samples[count++] = Sample.Good(tag.Info, now, now, S7Values.Scale(value, tag.Scale, tag.Offset));
                }
                else
                {
                    count = state.AddBad(index, status, now, count);
                }
            }
        }

        if (count > 0)
        {
            await _scheduler.EmitAsync(writer, state.Samples, count, cancellationToken);
        }
    }

    uint IPolledDevice<PollUnit>.Failed(PollUnit unit, Exception? exception)
    {
        s_failures.Add(1, _driverLabel);
        LastError = exception?.Message;
        return S7StatusCodes.For(exception);
    }

    void IPolledDevice<PollUnit>.LogFailed(PollUnit unit, int attempt, TimeSpan retryDelay, Exception? exception) =>
        S7DriverLog.Failed(_logger, Name, _client.Transport.Peer, unit.PollState.Group, attempt, retryDelay.TotalMilliseconds, exception?.Message ?? "?");

    void IPolledDevice<PollUnit>.LogRecovered(PollUnit unit) => S7DriverLog.Recovered(_logger, Name, unit.PollState.Group);

    void IPolledDevice<PollUnit>.Disconnect() => _client.Transport.Disconnect();

    public async ValueTask WriteAsync(TagInfo tag, SampleValue value, CancellationToken cancellationToken)
    {
        var s7Tag = _tagsByKey.FindWritable(tag);

        var address = s7Tag.Address;
        var width = S7Types.Width(s7Tag.Type, address.StringLength);
        var data = new byte[width];
        try
        {
            S7Values.Encode(value, s7Tag.Type, address.StringLength, s7Tag.Scale, s7Tag.Offset, data);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"tag '{tag.Key}': {ex.Message}", ex);
        }

        var item = s7Tag.Type == S7DataType.Bool
            ? new S7Item(address.Area, address.DbNumber, address.Start, 1, address.Bit)
            : new S7Item(address.Area, address.DbNumber, address.Start, width);
        s_requests.Add(1, _driverLabel);
        await _client.WriteAsync(item, data, _timeout, cancellationToken);
        S7DriverLog.Written(_logger, Name, tag.Key);
    }

    /// <summary>The read-back after a write: one Read Var job of the tag's item, decoded and scaled as a poll would.</summary>
    public async ValueTask<Sample> ReadAsync(TagInfo tag, CancellationToken cancellationToken)
    {
        var s7Tag = _tagsByKey.Find(tag);

        var address = s7Tag.Address;
        var width = S7Types.Width(s7Tag.Type, address.StringLength);
        // Bytes as a poll reads them (a bool's byte, decoded at its bit).
        var item = new S7Item(address.Area, address.DbNumber, address.Start, width);
        var data = new byte[width];
        var codes = new byte[1];
        s_requests.Add(1, _driverLabel);
        await _client.ReadAsync([item], [data], codes, _timeout, cancellationToken);
        var now = _timeProvider.GetUtcNow();
        if (codes[0] != S7Wire.ItemSuccess)
        {
            return Sample.Bad(tag, now, S7Errors.StatusCode(S7ErrorSource.Item, codes[0]));
        }

        return S7Values.TryDecode(data, s7Tag.Type, address.Bit, out var value, out var status)
            ? Sample.Good(tag, now, now, S7Values.Scale(value, s7Tag.Scale, s7Tag.Offset))
            : Sample.Bad(tag, now, status);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        _scheduler.Dispose();
    }

    /// <summary>The tags of one poll group, with their read plan (its schedule and status: <see cref="PollState"/>).</summary>
    internal sealed class PollUnit : IPollUnit
    {
        private readonly RefusalMemo<S7Range, ushort> _refused = new();

        public PollUnit(List<S7Tag> tags, PollUnitState state)
        {
            Tags = tags;
            PollState = state;
            Ranges = [.. tags.Select(t => t.Range)];
        }

        public PollUnitState PollState { get; }

        public List<S7Tag> Tags { get; }

        public S7Range[] Ranges { get; }

        /// <summary>Tags read in a block of their own (their coalesced block was refused as out of range).</summary>
        public HashSet<int> Alone { get; } = [];

        public S7ReadPlan? Plan { get; set; }

        public int PlannedPduSize { get; set; }

        public bool Replan { get; set; }

        /// <summary>Records a refusal; true when it is news for this range (to be logged).</summary>
        public bool Refused(S7Range range, ushort code) => _refused.Refused(range, code);

        /// <summary>The range was read: a later refusal is news again.</summary>
        public void Answered(S7Range range) => _refused.Answered(range);
    }
}

internal static partial class S7DriverLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "S7 driver {Driver} started: CPU {Peer} (remote TSAP 0x{RemoteTsap:X4}), {Tags} tags in {Groups} poll groups")]
    public static partial void Started(ILogger logger, string driver, string peer, ushort remoteTsap, int tags, int groups);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "S7 driver {Driver}: CPU {Peer} (poll group {Group}) failed, attempt {Attempt}, retry in {DelayMs:0} ms: {Reason}")]
    public static partial void Failed(ILogger logger, string driver, string peer, string group, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Information, Message = "S7 driver {Driver}: CPU answers again (poll group {Group})")]
    public static partial void Recovered(ILogger logger, string driver, string group);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "S7 driver {Driver}: the CPU refused {Range} (tags {Tags}): {Reason}")]
    public static partial void Refused(ILogger logger, string driver, string range, string tags, string reason);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Information, Message = "S7 driver {Driver}: the CPU refused {Range} as out of range: reading its {Tags} tags one by one from now on")]
    public static partial void BlockSplit(ILogger logger, string driver, string range, int tags);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Information, Message = "S7 driver {Driver}: poll group {Group} with a PDU of {PduSize} bytes: {Tags} tags in {Blocks} ranges, {Requests} requests per cycle")]
    public static partial void Planned(ILogger logger, string driver, string group, int pduSize, int tags, int blocks, int requests);

    [LoggerMessage(EventId = 1406, Level = LogLevel.Information, Message = "S7 driver {Driver}: wrote {Tag}")]
    public static partial void Written(ILogger logger, string driver, string tag);
}
