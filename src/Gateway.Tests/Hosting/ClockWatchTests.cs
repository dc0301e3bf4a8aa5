using Gateway.Drivers;
using Gateway.Hosting;
using Gateway.Observability;
using Gateway.Tests.Abstractions;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Hosting;

/// <summary>Issue 13: wall-clock steps are detected once, logged with size and direction, counted and raised.</summary>
public sealed class ClockWatchTests
{
    [Fact]
    public async Task Running_WallClockSteppedBackAnHour_LogsOnceCountsOnceAndRaisesTheStep()
    {
        var time = new SteppingTimeProvider();
        using var metrics = new GatewayMetrics(time);
        var logger = new RateLimitedLogTests.ListLogger();
        using var watch = new ClockWatch(time, metrics, new TypedLogger(logger));
        var steps = new List<ClockStep>();
        watch.Stepped += steps.Add;
        await watch.StartAsync(CancellationToken.None);

        await AdvanceAsync(time, TimeSpan.FromSeconds(5));
        time.StepWallClock(TimeSpan.FromHours(-1));
        await AdvanceAsync(time, TimeSpan.FromSeconds(10));
        await watch.StopAsync(CancellationToken.None);

        var step = Assert.Single(steps);
        Assert.False(step.IsForward);
        Assert.Equal(-3600, step.Size.TotalSeconds, 1.0);
        Assert.Equal(1, metrics.ClockSteps);
        Assert.Contains("gateway_clock_steps_total 1", metrics.RenderPrometheus(0), StringComparison.Ordinal);
        var line = Assert.Single(logger.Lines);
        Assert.StartsWith("Warning: Wall clock stepped back by 3600.0 s", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ForwardStep_IsReportedWithItsSize()
    {
        var time = new SteppingTimeProvider();
        using var metrics = new GatewayMetrics(time);
        using var watch = new ClockWatch(time, metrics, new TypedLogger(new RateLimitedLogTests.ListLogger()));

        time.Advance(TimeSpan.FromSeconds(1));
        time.StepWallClock(TimeSpan.FromMinutes(10));
        var step = watch.Check();

        Assert.NotNull(step);
        Assert.True(step.Value.IsForward);
        Assert.Equal(600, step.Value.Size.TotalSeconds, 0.001);
        Assert.Null(watch.Check()); // once per step
    }

    [Fact]
    public void Check_SlowDriftBelowTheThresholdEverySecond_IsNeverAStep()
    {
        var time = new SteppingTimeProvider();
        using var metrics = new GatewayMetrics(time);
        using var watch = new ClockWatch(time, metrics, new TypedLogger(new RateLimitedLogTests.ListLogger()));

        for (var i = 0; i < 600; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            time.StepWallClock(TimeSpan.FromMilliseconds(50)); // NTP slewing, 30 s over 10 minutes
            Assert.Null(watch.Check());
        }

        Assert.Equal(0, watch.Count);
    }

    private static async Task AdvanceAsync(SteppingTimeProvider time, TimeSpan total)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < total; elapsed += TimeSpan.FromMilliseconds(250))
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Delay(2);
        }
    }

    private sealed class TypedLogger(ILogger inner) : ILogger<ClockWatch>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
