using Gateway.Drivers;
using System.Text;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Northbound.Delivery;
using Gateway.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Gateway.Northbound.Influx;

/// <summary>
/// Feeds InfluxDB from the disk buffer through a <see cref="BufferDrainer"/> (samples read now first, then the backlog):
/// batches of line protocol, acknowledged on 204, retried with backoff on
/// 5xx and network errors (the samples stay in the buffer; once InfluxDB is back, what gathered meanwhile is the
/// backlog and fresh samples go first again), and on 400 the offending lines are isolated by
/// halving the batch, then dropped, counted and each logged once. Rewriting a point is harmless: InfluxDB
/// keeps one value per series and timestamp.
/// </summary>
public sealed class InfluxPublisher : BackgroundService
{
    public const string SinkName = "influx";

    private readonly InfluxOptions _options;
    private readonly ISampleLog _buffer;
    private readonly BufferSignal _signal;
    private readonly SinkCounters _counters;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<InfluxPublisher> _logger;
    private readonly LineProtocol _lineProtocol;
    private readonly Func<InfluxOptions, IInfluxWriter> _writerFactory;

    public InfluxPublisher(IOptions<GatewayConfig> options, ISampleLog buffer, BufferSignal signal, GatewayMetrics metrics, TimeProvider timeProvider, ILogger<InfluxPublisher> logger, NorthLinkSwitch? northLink = null)
        : this(options, buffer, signal, metrics, timeProvider, logger, o => o.Version == 1 ? new InfluxV1Writer(o) : new InfluxV2Writer(o))
    {
        _northLink = northLink;
    }

    private readonly NorthLinkSwitch? _northLink;

    internal InfluxPublisher(IOptions<GatewayConfig> options, ISampleLog buffer, BufferSignal signal, GatewayMetrics metrics, TimeProvider timeProvider, ILogger<InfluxPublisher> logger, Func<InfluxOptions, IInfluxWriter> writerFactory)
    {
        _options = options.Value.Influx ?? throw new InvalidOperationException("no influx section");
        _buffer = buffer;
        _signal = signal;
        _counters = metrics.Sink(SinkName);
        _timeProvider = timeProvider;
        _logger = logger;
        _lineProtocol = new LineProtocol(options.Value.Gateway, unsignedIntegers: _options.Version >= 2);
        _writerFactory = writerFactory;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wake = _signal.Subscribe();
        using var writer = _writerFactory(_options);
        var failed = false;
        var retry = Backoff.Forever(
            _timeProvider,
            TimeSpan.FromMilliseconds(250),
            TimeSpan.FromMilliseconds(_options.MaxRetryDelayMs),
            new PredicateBuilder().Handle<InfluxUnavailableException>(),
            args =>
            {
                failed = true;
                _counters.ConnectedChanged(false);
                InfluxLog.Unavailable(_logger, writer.Target, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, args.Outcome.Exception?.Message ?? "", _buffer.Count);
                return ValueTask.CompletedTask;
            });

        var batch = new List<BufferedSample>(_options.BatchSize);
        var lines = new List<string>(_options.BatchSize);
        var line = new StringBuilder(128);
        var drainer = new BufferDrainer(_buffer, _counters);
        drainer.Restart();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (_northLink?.IsCut == true)
                {
                    // A trainer's outage drill: nothing written until it ends, as with InfluxDB unreachable.
                    _counters.ConnectedChanged(false);
                    await _northLink.WaitUntilRestoredAsync(stoppingToken);
                    continue;
                }

                batch.Clear();
                var lane = DeliveryLane.Live;
                if (drainer.ReadLive(_options.BatchSize, batch) == 0)
                {
                    lane = DeliveryLane.History;
                    if (drainer.ReadHistory(_options.BatchSize, batch) == 0)
                    {
                        _counters.LagSeconds = 0;
                        await wake.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
                        continue;
                    }
                }

                lines.Clear();
                foreach (var item in batch)
                {
                    line.Clear();
                    if (_lineProtocol.Append(line, item.Sample))
                    {
                        lines.Add(line.ToString());
                    }
                }

                await retry.ExecuteAsync(async ct => await WriteAsync(writer, lines, 0, lines.Count, ct), stoppingToken);
                if (!_counters.Connected)
                {
                    InfluxLog.Writing(_logger, writer.Target);
                }

                _counters.ConnectedChanged(true);
                drainer.Delivered(lane, new SequenceRange(batch[0].Id, batch[^1].Id), batch.Count);
                if (failed)
                {
                    // Back after a failure: what the buffer gathered meanwhile becomes the history lane (Restart
                    // flushes this batch's acknowledgement first).
                    failed = false;
                    drainer.Restart();
                }
                else
                {
                    drainer.Flush();
                }

                _counters.LagSeconds = drainer.Lag(_timeProvider).TotalSeconds;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _counters.ConnectedChanged(false);
        }
    }

    /// <summary>Writes lines[from..to); on 400 halves the range until the refused lines are found and dropped.</summary>
    private async Task WriteAsync(IInfluxWriter writer, List<string> lines, int from, int to, CancellationToken cancellationToken)
    {
        if (from >= to)
        {
            return;
        }

        var (outcome, error) = await writer.WriteAsync(from == 0 && to == lines.Count ? lines : lines.GetRange(from, to - from), cancellationToken);
        switch (outcome)
        {
            case InfluxOutcome.Written:
                return;
            case InfluxOutcome.Retry:
                throw new InfluxUnavailableException(error ?? "unavailable");
            case InfluxOutcome.TooLarge when to - from > 1:
                // Over the server's max-body-size (a backlog after an outage): the halves go separately. Retrying
                // the whole batch would be refused forever while the buffer fills.
                InfluxLog.TooLarge(_logger, writer.Target, to - from);
                var half = from + ((to - from) / 2);
                await WriteAsync(writer, lines, from, half, cancellationToken);
                await WriteAsync(writer, lines, half, to, cancellationToken);
                return;
            case InfluxOutcome.Rejected or InfluxOutcome.TooLarge when to - from == 1:
                _counters.AddFailures(1);
                InfluxLog.LineDropped(_logger, writer.Target, error ?? "400", lines[from]);
                return;
            default:
                var middle = from + ((to - from) / 2);
                await WriteAsync(writer, lines, from, middle, cancellationToken);
                await WriteAsync(writer, lines, middle, to, cancellationToken);
                return;
        }
    }
}

/// <summary>InfluxDB answered 5xx, 429 or not at all: the batch stays in the buffer and is retried.</summary>
public sealed class InfluxUnavailableException(string message) : Exception(message);

internal static partial class InfluxLog
{
    [LoggerMessage(EventId = 3300, Level = LogLevel.Warning, Message = "InfluxDB {Target} unavailable (attempt {Attempt}, next in {DelaySeconds:F1} s): {Reason}; {Backlog} samples kept in the buffer")]
    public static partial void Unavailable(ILogger logger, string target, int attempt, double delaySeconds, string reason, long backlog);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Error, Message = "InfluxDB {Target} refused a line for good; it is dropped ({Reason}): {Line}")]
    public static partial void LineDropped(ILogger logger, string target, string reason, string line);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Debug, Message = "InfluxDB {Target} refused {Lines} lines as too large a request (413, max-body-size): sending them in halves")]
    public static partial void TooLarge(ILogger logger, string target, int lines);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "Writing to InfluxDB {Target}")]
    public static partial void Writing(ILogger logger, string target);
}
