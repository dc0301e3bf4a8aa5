using Gateway.Drivers;
using Gateway.Observability;

namespace Gateway.Hosting;

/// <summary>
/// Watches the wall clock against the monotonic clock. Every <see cref="CheckInterval"/> it compares how far the wall
/// clock moved with how far the monotonic clock moved; a difference above <see cref="Threshold"/> is a step: logged
/// once with its size and direction, counted (<c>gateway_clock_steps_total</c>) and raised as
/// <see cref="IClockSteps.Stepped"/>. Each check re-anchors, so the slow slewing of NTP never adds up to a false step.
/// Polling is not affected either way: the drivers schedule on the monotonic clock.
/// </summary>
public sealed class ClockWatch(TimeProvider timeProvider, GatewayMetrics metrics, ILogger<ClockWatch> logger) : BackgroundService, IClockSteps
{
    private readonly Lock _lock = new();
    private readonly WallClockAnchor _anchor = new(timeProvider);

    public event Action<ClockStep>? Stepped;

    /// <summary>The smallest difference taken for a step; 2 s by default (timer latency and NTP slewing stay far below).</summary>
    public TimeSpan Threshold { get; init; } = WallClockAnchor.StepThreshold;

    /// <summary>How often the clocks are compared; 1 s by default.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Steps detected since start: the count of <c>gateway_clock_steps_total</c>.</summary>
    public long Count => metrics.ClockSteps;

    /// <summary>Compares the clocks now; returns the step found, if any (the timer calls it; tests may too).</summary>
    public ClockStep? Check()
    {
        ClockStep step;
        lock (_lock)
        {
            if (_anchor.Check(Threshold, out _) is not { } found)
            {
                return null;
            }

            step = found;
        }

        metrics.AddClockStep();
        ClockWatchLog.Stepped(logger, step.IsForward ? "forward" : "back", step.Size.Duration().TotalSeconds, step.Expected, step.Actual);
        try
        {
            Stepped?.Invoke(step);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ClockWatchLog.HandlerFailed(logger, ex);
        }

        return step;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        lock (_lock)
        {
            _anchor.Reset();
        }

        using var timer = new PeriodicTimer(CheckInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Check();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Registration of the clock watcher.</summary>
public static class ClockWatchServiceCollectionExtensions
{
    /// <summary>Registers <see cref="ClockWatch"/> as a hosted service and as <see cref="IClockSteps"/>.</summary>
    public static IServiceCollection AddClockWatch(this IServiceCollection services)
    {
        services.AddSingleton<ClockWatch>();
        services.AddSingleton<IClockSteps>(sp => sp.GetRequiredService<ClockWatch>());
        services.AddHostedService(sp => sp.GetRequiredService<ClockWatch>());
        return services;
    }
}

internal static partial class ClockWatchLog
{
    [LoggerMessage(EventId = 1710, Level = LogLevel.Warning, Message = "Wall clock stepped {Direction} by {Seconds:F1} s (expected {Expected:O}, now {Actual:O}): polling goes on at its pace (monotonic clock); samples carry the new time")]
    public static partial void Stepped(ILogger logger, string direction, double seconds, DateTimeOffset expected, DateTimeOffset actual);

    [LoggerMessage(EventId = 1711, Level = LogLevel.Error, Message = "A clock-step subscriber failed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);
}
