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
public sealed class S7Driver : IDriver
{
    private static readonly Meter s_meter = new("Gateway.Drivers.S7");
    private static readonly Counter<long> s_requests = s_meter.CreateCounter<long>("gateway_s7_requests_total", description: "S7 Read Var and Write Var jobs sent");
    private static readonly Counter<long> s_failures = s_meter.CreateCounter<long>("gateway_s7_failures_total", description: "S7 jobs or items that failed (timeout, connection, refused by the CPU)");

    private readonly S7DriverPlan _plan;
    private readonly S7Client _client;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TimeSpan _timeout;
    private readonly WriterGate _writerGate = new();
    private readonly Dictionary<string, S7Tag> _tagsByKey;
    private readonly TagInfo[] _tagInfos;
    private readonly List<PollUnit> _units = [];
    private readonly RateLimitedLog _refusalLog;
    private readonly KeyValuePair<string, object?> _driverLabel;
    private readonly DriverHealth _health;

    internal S7Driver(string name, S7DriverPlan plan, S7Client client, DriverContext context)
    {
        Name = name;
        _plan = plan;
        _client = client;
        _timeProvider = context.TimeProvider;
        _logger = context.LoggerFactory.CreateLogger<S7Driver>();
        _timeout = TimeSpan.FromMilliseconds(plan.Settings.TimeoutMs);
        _tagInfos = [.. plan.Tags.Select(t => t.Info)];
        _tagsByKey = plan.Tags.ToDictionary(t => t.Info.Key, StringComparer.Ordinal);
        _refusalLog = new RateLimitedLog(_logger, _timeProvider, $"S7 driver {name}", "refused items");
        _driverLabel = new KeyValuePair<string, object?>("driver", name);
        var groups = plan.Tags.GroupBy(t => t.PollGroup).ToList();
        _health = new DriverHealth(groups.Count);
        foreach (var group in groups)
        {
            _units.Add(new PollUnit(group.Key, plan.PollGroups[group.Key], [.. group])
            {
                FailureLog = new RateLimitedLog(_logger, _timeProvider, $"S7 driver {name}", $"failed attempts (poll group {group.Key})"),
                Health = _health.Unit(),
            });
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

    /// <summary>Read and write jobs sent so far (for tests and benchmarks).</summary>
    public long RequestCount => _client.RequestCount;

    /// <summary>The PDU size the CPU granted on the current connection.</summary>
    public int PduSize => _client.PduSize;

    /// <summary>The Read Var jobs of one cycle of each poll group, as last planned (for tests and benchmarks).</summary>
    internal IReadOnlyList<S7ReadRequest> PlannedRequests => [.. _units.SelectMany(u => u.Plan?.Requests ?? [])];

    public async Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        S7DriverLog.Started(_logger, Name, _client.Transport.Peer, _plan.RemoteTsap, _plan.Tags.Count, _units.Count);
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
            args => OnFailureAsync(unit, args.Outcome.Exception, args.AttemptNumber, args.RetryDelay, writer, args.Context.CancellationToken),
            () =>
            {
                unit.FailureLog.Flush();
                _refusalLog.Flush();
            },
            cancellationToken);

    /// <summary>One cycle of every poll group, without schedule or retry (for tests and benchmarks).</summary>
    internal async ValueTask PollAllOnceAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        foreach (var unit in _units)
        {
            await PollOnceAsync(unit, writer, cancellationToken);
        }
    }

    private async ValueTask PollOnceAsync(PollUnit unit, ISampleWriter writer, CancellationToken cancellationToken)
    {
        var pduSize = await _client.ConnectAsync(_timeout, cancellationToken);
        if (unit.Plan is null || unit.PlannedPduSize != pduSize || unit.Replan)
        {
            unit.Plan = S7ReadPlanner.Plan(unit.Ranges, _plan.Settings.MaxGap, pduSize, unit.Alone);
            unit.PlannedPduSize = pduSize;
            unit.Replan = false;
            S7DriverLog.Planned(_logger, Name, unit.GroupName, pduSize, unit.Tags.Count, unit.Plan.Blocks.Count, unit.Plan.Requests.Count);
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
        var samples = unit.Samples;
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

                count = AddBad(unit, block.Tags, refusal.StatusCode, now, samples, count);
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
                    unit.BadStatus[index] = 0;
                    samples[count++] = Sample.Good(tag.Info, now, now, S7Values.Scale(value, tag.Scale, tag.Offset));
                }
                else
                {
                    count = AddBad(unit, [index], status, now, samples, count);
                }
            }
        }

        if (count > 0)
        {
            await EmitAsync(samples, count, writer, cancellationToken);
        }

        if (unit.Health.Answered())
        {
            S7DriverLog.Recovered(_logger, Name, unit.GroupName);
        }
    }

    /// <summary>Adds a Bad sample for each tag not Bad yet: an outage or refusal is published once, not on every poll.</summary>
    private static int AddBad(PollUnit unit, IEnumerable<int> tags, uint status, DateTimeOffset now, Sample[] samples, int count)
    {
        foreach (var index in tags)
        {
            if (unit.BadStatus[index] != 0)
            {
                continue;
            }

            unit.BadStatus[index] = status;
            samples[count++] = Sample.Bad(unit.Tags[index].Info, now, status);
        }

        return count;
    }

    private ValueTask EmitAsync(Sample[] samples, int count, ISampleWriter writer, CancellationToken cancellationToken) =>
        _writerGate.WriteBatchAsync(writer, samples.AsMemory(0, count), cancellationToken);

    private async ValueTask OnFailureAsync(PollUnit unit, Exception? exception, int attempt, TimeSpan retryDelay, ISampleWriter writer, CancellationToken cancellationToken)
    {
        s_failures.Add(1, _driverLabel);
        LastError = exception?.Message;
        unit.Health.Failed();

        if (unit.FailureLog.ShouldLog())
        {
            S7DriverLog.Failed(_logger, Name, _client.Transport.Peer, unit.GroupName, attempt, retryDelay.TotalMilliseconds, exception?.Message ?? "?");
        }

        var count = AddBad(unit, Enumerable.Range(0, unit.Tags.Count), S7StatusCodes.For(exception), _timeProvider.GetUtcNow(), unit.Samples, 0);
        if (count > 0)
        {
            await EmitAsync(unit.Samples, count, writer, cancellationToken);
        }
    }

    public async ValueTask WriteAsync(TagInfo tag, SampleValue value, CancellationToken cancellationToken)
    {
        if (!_tagsByKey.TryGetValue(tag.Key, out var s7Tag))
        {
            throw new InvalidOperationException($"driver '{Name}' has no tag '{tag.Key}'");
        }

        if (!s7Tag.Writable)
        {
            throw new InvalidOperationException($"tag '{tag.Key}' is not writable (set \"writable\": true in its configuration)");
        }

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
        if (!_tagsByKey.TryGetValue(tag.Key, out var s7Tag))
        {
            throw new InvalidOperationException($"driver '{Name}' has no tag '{tag.Key}'");
        }

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
        _writerGate.Dispose();
    }

    /// <summary>The tags of one poll group, with their read plan and last reported status.</summary>
    private sealed class PollUnit
    {
        private readonly Dictionary<S7Range, ushort> _refused = [];

        public PollUnit(string groupName, TimeSpan interval, List<S7Tag> tags)
        {
            GroupName = groupName;
            Interval = interval;
            Tags = tags;
            Ranges = [.. tags.Select(t => t.Range)];
            BadStatus = new uint[tags.Count];
            Samples = new Sample[tags.Count];
        }

        public string GroupName { get; }

        public TimeSpan Interval { get; }

        public List<S7Tag> Tags { get; }

        public S7Range[] Ranges { get; }

        /// <summary>The Bad status last emitted per tag; 0 after a good value.</summary>
        public uint[] BadStatus { get; }

        /// <summary>The samples of one cycle, reused.</summary>
        public Sample[] Samples { get; }

        /// <summary>Tags read in a block of their own (their coalesced block was refused as out of range).</summary>
        public HashSet<int> Alone { get; } = [];

        public S7ReadPlan? Plan { get; set; }

        public int PlannedPduSize { get; set; }

        public bool Replan { get; set; }

        public required UnitHealth Health { get; init; }

        public required RateLimitedLog FailureLog { get; init; }

        /// <summary>Records a refusal; true when it is news for this range (to be logged).</summary>
        public bool Refused(S7Range range, ushort code)
        {
            if (_refused.TryGetValue(range, out var previous) && previous == code)
            {
                return false;
            }

            _refused[range] = code;
            return true;
        }

        /// <summary>The range was read: a later refusal is news again.</summary>
        public void Answered(S7Range range) => _refused.Remove(range);
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
