using Gateway.Drivers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Abstractions;

/// <summary>The rate limiter of repeated warnings: one full line, then one summary per window.</summary>
public sealed class RateLimitedLogTests
{
    [Fact]
    public void ShouldLog_AFloodInOneMinute_LogsTheFirstInFullAndOneSummaryWithTheCount()
    {
        var time = new FakeTimeProvider();
        var logger = new ListLogger();
        var limiter = new RateLimitedLog(logger, time, "Modbus driver press", "discarded responses");

        var full = Enumerable.Range(0, 550).Count(_ => limiter.ShouldLog());
        time.Advance(TimeSpan.FromMinutes(1));
        limiter.Flush();

        Assert.Equal(1, full);
        Assert.Equal(["Warning: Modbus driver press: 549 more discarded responses in the last minute"], logger.Lines);
    }

    [Fact]
    public void ShouldLog_FloodGoingOn_GivesOneSummaryPerWindowAndNoMoreFullLines()
    {
        var time = new FakeTimeProvider();
        var logger = new ListLogger();
        var limiter = new RateLimitedLog(logger, time, "src", "things");
        var full = 0;

        for (var second = 0; second < 180; second++)
        {
            full += limiter.ShouldLog() ? 1 : 0;
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(1, full);
        Assert.Equal(2, logger.Lines.Count); // after 60 s and 120 s; the third window is still open
        Assert.All(logger.Lines, line => Assert.Matches("src: (59|60) more things in the last minute", line));
    }

    [Fact]
    public void ShouldLog_AfterAQuietWindow_LogsInFullAgain()
    {
        var time = new FakeTimeProvider();
        var limiter = new RateLimitedLog(new ListLogger(), time, "src", "things");

        var first = limiter.ShouldLog();
        time.Advance(TimeSpan.FromMinutes(2));
        var later = limiter.ShouldLog();

        Assert.True(first);
        Assert.True(later);
    }

    [Fact]
    public void Flush_WithNothingSuppressed_LogsNothing()
    {
        var time = new FakeTimeProvider();
        var logger = new ListLogger();
        var limiter = new RateLimitedLog(logger, time, "src", "things");

        limiter.ShouldLog();
        time.Advance(TimeSpan.FromMinutes(5));
        limiter.Flush();

        Assert.Empty(logger.Lines);
    }

    /// <summary>Collects formatted log lines.</summary>
    internal sealed class ListLogger : ILogger
    {
        private readonly List<string> _lines = [];

        public List<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add($"{logLevel}: {formatter(state, exception)}");
            }
        }
    }
}
