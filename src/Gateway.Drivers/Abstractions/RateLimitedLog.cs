using Microsoft.Extensions.Logging;

namespace Gateway.Drivers;

/// <summary>
/// Keeps a repeated warning from flooding the log: the first occurrence is logged in full, the following ones are
/// counted, and when the window (one minute by default, on the monotonic clock) ends, one summary line says
/// "<c>{source}: N more {what} in the last minute</c>". While the condition goes on, one summary per window follows;
/// after a window without any occurrence the next one is logged in full again. Thread-safe.
/// </summary>
/// <example>
/// <code>
/// if (_discarded.ShouldLog()) { Log.Discarded(logger, driver, ...); }   // on each occurrence
/// _discarded.Flush();                                                    // now and then (each poll), so a flood that stopped is summed up
/// </code>
/// </example>
public sealed partial class RateLimitedLog
{
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private long _windowStart;
    private bool _open;
    private long _suppressed;
    private int _pending;

    /// <param name="logger">Where the summary goes (the same logger as the full lines).</param>
    /// <param name="timeProvider">Its monotonic clock times the window.</param>
    /// <param name="source">Who logs, as the full lines name it: for example <c>Modbus driver press-plc</c>.</param>
    /// <param name="what">What is counted, plural: for example <c>discarded responses</c>.</param>
    /// <param name="window">How long occurrences are summed up before a summary; one minute by default.</param>
    /// <param name="level">The summary's level; that of the full lines, Warning by default.</param>
    public RateLimitedLog(ILogger logger, TimeProvider timeProvider, string source, string what, TimeSpan? window = null, LogLevel level = LogLevel.Warning)
    {
        _logger = logger;
        _timeProvider = timeProvider;
        Source = source;
        What = what;
        Window = window ?? TimeSpan.FromMinutes(1);
        Level = level;
    }

    public string Source { get; }

    public string What { get; }

    public TimeSpan Window { get; }

    public LogLevel Level { get; }

    /// <summary>
    /// Records one occurrence; true when the caller must log it in full (the first after a quiet window), false when
    /// it is only counted for the next summary.
    /// </summary>
    public bool ShouldLog()
    {
        lock (_lock)
        {
            var now = _timeProvider.GetTimestamp();
            CloseElapsedWindow(now);
            if (!_open)
            {
                _open = true;
                _windowStart = now;
                return true;
            }

            _suppressed++;
            Volatile.Write(ref _pending, 1);
            return false;
        }
    }

    /// <summary>Logs the summary of a window that has ended, if any occurrence waits for one. Cheap when none does.</summary>
    public void Flush()
    {
        if (Volatile.Read(ref _pending) == 0)
        {
            return;
        }

        lock (_lock)
        {
            CloseElapsedWindow(_timeProvider.GetTimestamp());
        }
    }

    private void CloseElapsedWindow(long now)
    {
        if (!_open || _timeProvider.GetElapsedTime(_windowStart, now) < Window)
        {
            return;
        }

        if (_suppressed == 0)
        {
            // A window with only its first occurrence: the next one is news again.
            _open = false;
            return;
        }

        Summary(_logger, Level, Source, _suppressed, What, Window.TotalSeconds == 60 ? "minute" : $"{Window.TotalSeconds:0.#} s");
        _suppressed = 0;
        Volatile.Write(ref _pending, 0);

        // The condition goes on: the next window reports a summary only, never the full line again.
        _windowStart = now;
    }

    [LoggerMessage(EventId = 1700, Message = "{Source}: {Count} more {What} in the last {Window}")]
    private static partial void Summary(ILogger logger, LogLevel level, string source, long count, string what, string window);
}
