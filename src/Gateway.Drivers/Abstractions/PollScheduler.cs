using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Gateway.Drivers;

/// <summary>
/// What a polling driver tells its <see cref="PollScheduler{TUnit}"/>: how to poll one unit, what a failure means,
/// and how to log it with the driver's name. The scheduler owns the rest (schedule, retry, Bad once, health).
/// </summary>
/// <typeparam name="TUnit">The driver's poll unit (a device's poll group, a CPU's poll group).</typeparam>
internal interface IPolledDevice<in TUnit>
{
    /// <summary>
    /// One poll of <paramref name="unit"/>; a <see cref="TimeoutException"/> or <see cref="IOException"/> fails the
    /// whole unit (retried with backoff); anything the device refuses item by item is the driver's to report.
    /// </summary>
    ValueTask PollOnceAsync(TUnit unit, ISampleWriter writer, CancellationToken cancellationToken);

    /// <summary>
    /// A poll of the unit failed (before each retry): count it, keep it as the last error, drop a broken connection.
    /// Returns the status code its tags turn Bad with.
    /// </summary>
    uint Failed(TUnit unit, Exception? exception);

    /// <summary>Logs the failure (called only as often as the unit's rate-limited failure log lets it).</summary>
    void LogFailed(TUnit unit, int attempt, TimeSpan retryDelay, Exception? exception);

    /// <summary>Logs that a failing unit answers again (once per recovery).</summary>
    void LogRecovered(TUnit unit);

    /// <summary>Closes the connection once the poll loops have ended.</summary>
    void Disconnect();
}

/// <summary>A driver's poll unit, as the scheduler sees it.</summary>
internal interface IPollUnit
{
    PollUnitState PollState { get; }
}

/// <summary>
/// The part of a poll unit the scheduler keeps: its interval, whether it fails, its rate-limited failure log, the
/// samples of one read (reused: no allocation per poll), and the Bad status last reported per tag, so that an outage
/// or a refusal is published once and not on every retry. Used from its unit's own poll loop only.
/// </summary>
internal sealed class PollUnitState
{
    private readonly uint[] _badStatus;

    internal PollUnitState(string group, TimeSpan interval, TagInfo[] tags, UnitHealth health, RateLimitedLog failureLog)
    {
        Group = group;
        Interval = interval;
        Tags = tags;
        Health = health;
        FailureLog = failureLog;
        _badStatus = new uint[tags.Length];
        Samples = new Sample[tags.Length];
    }

    /// <summary>The poll group's name.</summary>
    public string Group { get; }

    public TimeSpan Interval { get; }

    /// <summary>The unit's tags, by index.</summary>
    public TagInfo[] Tags { get; }

    /// <summary>One read's samples, handed to the pipeline as a batch; as long as the unit has tags.</summary>
    public Sample[] Samples { get; }

    public UnitHealth Health { get; }

    /// <summary>The unit's repeated failures: the first logged, the rest summed up once a minute.</summary>
    public RateLimitedLog FailureLog { get; }

    /// <summary>The Bad status last emitted for tag <paramref name="index"/>; 0 after a good value.</summary>
    public uint StatusOf(int index) => _badStatus[index];

    /// <summary>Tag <paramref name="index"/> has a good value again: a later failure is news.</summary>
    public void Good(int index) => _badStatus[index] = 0;

    /// <summary>
    /// Puts a Bad sample for tag <paramref name="index"/> at <see cref="Samples"/>[<paramref name="count"/>] unless it
    /// is Bad already (an outage is published once, even if its cause changes while it lasts); returns the new count.
    /// </summary>
    public int AddBad(int index, uint status, DateTimeOffset now, int count)
    {
        if (_badStatus[index] != 0)
        {
            return count;
        }

        _badStatus[index] = status;
        Samples[count] = Sample.Bad(Tags[index], now, status);
        return count + 1;
    }

    /// <summary>As <see cref="AddBad(int, uint, DateTimeOffset, int)"/> for each of <paramref name="indices"/>.</summary>
    public int AddBad(IReadOnlyList<int> indices, uint status, DateTimeOffset now, int count)
    {
        for (var i = 0; i < indices.Count; i++)
        {
            count = AddBad(indices[i], status, now, count);
        }

        return count;
    }

    /// <summary>As <see cref="AddBad(int, uint, DateTimeOffset, int)"/> for every tag of the unit, from the start of <see cref="Samples"/>.</summary>
    public int AddAllBad(uint status, DateTimeOffset now)
    {
        var count = 0;
        for (var i = 0; i < _badStatus.Length; i++)
        {
            count = AddBad(i, status, now, count);
        }

        return count;
    }
}

/// <summary>
/// Runs the poll loops of a polling driver, one per unit, in parallel: each polls on a fixed-rate schedule on the
/// monotonic clock (<see cref="PollSchedule.Aligned"/>: a step of the wall clock neither stops polling nor makes it
/// burst; the due times are the multiples of the interval, so that the units of every driver with the same interval
/// poll together, one burst per interval for the buffer writer and the outputs; a poll that runs past the next due
/// time is an overrun, told to the writer, and skips to the next multiple); a poll that fails with a timeout or an
/// I/O error is retried forever with exponential backoff and jitter (<see cref="Backoff"/>), its tags turn Bad once,
/// the failure is logged with the driver's name once and then summed up (<see cref="RateLimitedLog"/>), and the
/// recovery is logged once. A poll that waited out a backoff is late on purpose: the schedule restarts from its end
/// without counting an overrun. The driver's state follows its units (<see cref="DriverHealth"/>); the samples of
/// all loops reach the one writer one read's batch at a time (<see cref="WriterGate"/>).
/// </summary>
internal sealed class PollScheduler<TUnit> : IDisposable
    where TUnit : class, IPollUnit
{
    private readonly IPolledDevice<TUnit> _device;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _source;
    private readonly TimeSpan _backoffFirst;
    private readonly TimeSpan _backoffLongest;
    private readonly RateLimitedLog[] _driverLogs;
    private readonly WriterGate _writerGate = new();
    private readonly List<TUnit> _units = [];

    /// <param name="device">The driver.</param>
    /// <param name="timeProvider">The clocks and timers of the schedules and the backoff.</param>
    /// <param name="logger">The driver's logger (for the units' rate-limited failure logs).</param>
    /// <param name="source">The driver as its log lines name it, for example <c>Modbus driver press-plc</c>.</param>
    /// <param name="backoffFirst">The first retry delay.</param>
    /// <param name="backoffLongest">The longest retry delay.</param>
    /// <param name="driverLogs">The driver's own rate-limited logs, flushed after each poll.</param>
    public PollScheduler(IPolledDevice<TUnit> device, TimeProvider timeProvider, ILogger logger, string source, TimeSpan backoffFirst, TimeSpan backoffLongest, params RateLimitedLog[] driverLogs)
    {
        _device = device;
        _timeProvider = timeProvider;
        _logger = logger;
        _source = source;
        _backoffFirst = backoffFirst;
        _backoffLongest = backoffLongest;
        _driverLogs = driverLogs;
    }

    public DriverHealth Health { get; } = new();

    public IReadOnlyList<TUnit> Units => _units;

    /// <summary>The scheduler's part of a new unit; <paramref name="failures"/> names what its failure log counts.</summary>
    public PollUnitState NewUnitState(string group, TimeSpan interval, TagInfo[] tags, string failures) =>
        new(group, interval, tags, Health.Unit(), new RateLimitedLog(_logger, _timeProvider, _source, failures));

    /// <summary>Adds a unit (before <see cref="RunAsync"/>).</summary>
    public void Add(TUnit unit) => _units.Add(unit);

    /// <summary>Polls every unit until <paramref name="cancellationToken"/> ends; then closes the connection.</summary>
    public async Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        Health.Started();
        try
        {
            await Task.WhenAll(_units.Select(unit => LoopAsync(unit, writer, cancellationToken)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            Health.Stopped();
            _device.Disconnect();
        }
    }

    /// <summary>One poll of every unit, one after the other, without schedule or retry (for tests and benchmarks of the hot path).</summary>
    public async ValueTask PollAllOnceAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        foreach (var unit in _units)
        {
            await PollOnceAsync(unit, writer, cancellationToken);
        }
    }

    /// <summary>Hands <paramref name="count"/> samples of one read to the writer as one batch, in turn with the other loops.</summary>
    public ValueTask EmitAsync(ISampleWriter writer, Sample[] samples, int count, CancellationToken cancellationToken) =>
        _writerGate.WriteBatchAsync(writer, samples.AsMemory(0, count), cancellationToken);

    private async Task LoopAsync(TUnit unit, ISampleWriter writer, CancellationToken cancellationToken)
    {
        var state = unit.PollState;
        var schedule = PollSchedule.Aligned(_timeProvider, state.Interval, writer.ReportPollOverrun);
        var pipeline = Backoff.Forever(
            _timeProvider,
            _backoffFirst,
            _backoffLongest,
            new PredicateBuilder().Handle<TimeoutException>().Handle<IOException>(),
            args =>
            {
                schedule.Paused();
                return OnFailureAsync(unit, args, writer);
            });

        while (!cancellationToken.IsCancellationRequested)
        {
            // A poll that succeeds does not enter the retry pipeline (its context and strategies were two fifths of
            // what each poll allocated); the first failure does, as its first attempt, so that the backoff, the Bad
            // samples and the logs are exactly the pipeline's, and the retries go on in it until a poll succeeds.
            Exception? failure = null;
            try
            {
                await PollOnceAsync(unit, writer, cancellationToken);
            }
            catch (Exception ex) when (ex is TimeoutException or IOException)
            {
                failure = ex;
            }

            if (failure is not null)
            {
                await pipeline.ExecuteAsync(
                    static (s, token) =>
                    {
                        if (s.Failure.Value is { } first)
                        {
                            s.Failure.Value = null;
                            return ValueTask.FromException(first);
                        }

                        return s.Scheduler.PollOnceAsync(s.Unit, s.Writer, token);
                    },
                    (Scheduler: this, Unit: unit, Writer: writer, Failure: new StrongBox<Exception?>(failure)),
                    cancellationToken);
            }

            state.FailureLog.Flush();
            foreach (var log in _driverLogs)
            {
                log.Flush();
            }

            await schedule.WaitAsync(cancellationToken);
            schedule.PollStarting();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PollOnceAsync(TUnit unit, ISampleWriter writer, CancellationToken cancellationToken)
    {
        // The bracket tells the buffer writer when the burst of the units due together is complete.
        writer.PollStarted();
        try
        {
            await _device.PollOnceAsync(unit, writer, cancellationToken);
        }
        finally
        {
            writer.PollEnded();
        }

        if (unit.PollState.Health.Answered())
        {
            _device.LogRecovered(unit);
        }
    }

    private async ValueTask OnFailureAsync(TUnit unit, OnRetryArguments<object> args, ISampleWriter writer)
    {
        var state = unit.PollState;
        var exception = args.Outcome.Exception;
        var status = _device.Failed(unit, exception);
        state.Health.Failed();
        if (state.FailureLog.ShouldLog())
        {
            _device.LogFailed(unit, args.AttemptNumber, args.RetryDelay, exception);
        }

        var count = state.AddAllBad(status, _timeProvider.GetUtcNow());
        if (count > 0)
        {
            await EmitAsync(writer, state.Samples, count, args.Context.CancellationToken);
        }
    }

    public void Dispose() => _writerGate.Dispose();
}

/// <summary>
/// What a device refused item by item (a Modbus exception response to a block, an S7 return code for a range): a
/// refusal is news (to be logged) the first time and whenever its code changes, not on every poll; once the item is
/// read again a later refusal is news again. Used from its unit's own poll loop only.
/// </summary>
internal sealed class RefusalMemo<TItem, TCode>(IEqualityComparer<TItem>? comparer = null)
    where TItem : notnull
    where TCode : struct
{
    private readonly Dictionary<TItem, TCode> _refused = new(comparer);

    /// <summary>Records a refusal of <paramref name="item"/>; true when it is news (to be logged).</summary>
    public bool Refused(TItem item, TCode code)
    {
        if (_refused.TryGetValue(item, out var previous) && EqualityComparer<TCode>.Default.Equals(previous, code))
        {
            return false;
        }

        _refused[item] = code;
        return true;
    }

    /// <summary><paramref name="item"/> was read (or is gone): a later refusal is news again.</summary>
    public void Answered(TItem item) => _refused.Remove(item);
}

/// <summary>A driver's tags by key, for writes and read-backs: an unknown tag or one not marked writable is refused.</summary>
internal sealed class TagTable<TTag>(string driver, IEnumerable<TTag> tags, Func<TTag, TagInfo> info, Func<TTag, bool> writable)
{
    private readonly Dictionary<string, TTag> _byKey = tags.ToDictionary(t => info(t).Key, StringComparer.Ordinal);

    /// <summary>The driver's tag behind <paramref name="tag"/>.</summary>
    public TTag Find(TagInfo tag) =>
        _byKey.TryGetValue(tag.Key, out var found) ? found : throw new InvalidOperationException($"driver '{driver}' has no tag '{tag.Key}'");

    /// <summary>The driver's tag behind <paramref name="tag"/>, which must be writable.</summary>
    public TTag FindWritable(TagInfo tag)
    {
        var found = Find(tag);
        return writable(found) ? found : throw new InvalidOperationException($"tag '{tag.Key}' is not writable (set \"writable\": true in its configuration)");
    }
}
