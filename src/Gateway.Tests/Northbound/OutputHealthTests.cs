using Gateway.Northbound.Delivery;
using Gateway.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Northbound;

public sealed class OutputHealthTests
{
    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, int EventId, string Message)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, eventId.Id, formatter(state, exception)));
    }

    private readonly FakeTimeProvider _time = new();
    private readonly ListLogger _logger = new();
    private readonly SinkCounters _counters = new("mqtt-uns");

    private OutputHealth Health() => new("mqtt-uns", _time, _logger, _counters);

    [Fact]
    public void ReadsOutrunningTheOutput_ForMoreThanFiveSeconds_WarnOnce_WithRatesAndBacklogAge()
    {
        var health = Health();
        long appended = 0, delivered = 0;
        for (var second = 0; second < 30; second++)
        {
            health.Observe(appended, delivered, TimeSpan.FromSeconds(6 + second), connected: true, waiting: 10);
            appended += 1000;
            delivered += 600;
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var warning = Assert.Single(_logger.Lines, l => l.EventId == 3400);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("read 1000 samples/s", warning.Message, StringComparison.Ordinal);
        Assert.Contains("delivers 600/s", warning.Message, StringComparison.Ordinal);
        Assert.Contains("mqtt-uns", warning.Message, StringComparison.Ordinal);
        Assert.True(_counters.Overloaded);
        Assert.True(_counters.LagSeconds > 30);
    }

    [Fact]
    public void AShortBurst_IsAbsorbedWithoutAWarning()
    {
        var health = Health();
        long appended = 0, delivered = 0;
        for (var second = 0; second < 20; second++)
        {
            var burst = second is >= 5 and < 8;
            health.Observe(appended, delivered, TimeSpan.FromSeconds(burst ? 6 : 0.2), connected: true, waiting: 10);
            appended += burst ? 3000 : 1000;
            delivered += 1000;
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.DoesNotContain(_logger.Lines, l => l.EventId == 3400);
    }

    [Fact]
    public void Overload_ThatEnds_IsFollowedByOneRecoveryLine()
    {
        var health = Health();
        long appended = 0, delivered = 0;
        for (var second = 0; second < 60; second++)
        {
            var overloaded = second < 20;
            health.Observe(appended, delivered, TimeSpan.FromSeconds(overloaded ? 6 + second : 0.5), connected: true, waiting: 10);
            appended += 1000;
            delivered += overloaded ? 500 : 1500;
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Single(_logger.Lines, l => l.EventId == 3400);
        Assert.Single(_logger.Lines, l => l.EventId == 3401);
        Assert.False(_counters.Overloaded);
    }

    [Fact]
    public void NoAcknowledgementWhilePublicationsWait_IsAStall_LoggedOnceAndCounted()
    {
        var health = new OutputHealth("mqtt-uns", _time, _logger, _counters) { StallHint = " - mqtt.qos is 2" };
        for (var second = 0; second < 120; second++)
        {
            health.Observe(appended: 1000 + second, delivered: 500, TimeSpan.FromSeconds(second), connected: true, waiting: 100);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var stall = Assert.Single(_logger.Lines, l => l.EventId == 3402);
        Assert.Contains("mqtt.qos is 2", stall.Message, StringComparison.Ordinal);
        Assert.True(_counters.Stalled);
        Assert.Equal(1, _counters.Stalls);

        health.Observe(1200, 600, TimeSpan.Zero, connected: true, waiting: 0);
        Assert.Single(_logger.Lines, l => l.EventId == 3403);
        Assert.False(_counters.Stalled);
    }

    [Fact]
    public void AnIdleOutput_WithNothingInFlight_IsNotStalled()
    {
        var health = Health();
        for (var second = 0; second < 120; second++)
        {
            health.Observe(appended: 500, delivered: 500, TimeSpan.Zero, connected: true, waiting: 0);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Empty(_logger.Lines);
        Assert.False(_counters.Stalled);
    }
}
