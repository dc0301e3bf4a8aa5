using Gateway.Drivers;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;
using Polly;

namespace Gateway.Hosting;

/// <summary>
/// Runs one driver. Drivers handle their own device errors; should one still throw, its tags turn Bad
/// and it is restarted with exponential backoff, while every other driver goes on.
/// </summary>
public sealed class DriverService(IDriver driver, SamplePipeline pipeline, GatewayMetrics metrics, TimeProvider timeProvider, ILogger<DriverService> logger) : BackgroundService
{
    public IDriver Driver { get; } = driver;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = pipeline.CreateWriter(Driver.Name);
        var counters = metrics.Driver(Driver.Name);
        var restart = Backoff.Forever(
            timeProvider,
            TimeSpan.FromSeconds(1),
            TimeSpan.FromMinutes(1),
            new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
            async args =>
            {
                counters.AddError();
                DriverLog.Crashed(logger, args.Outcome.Exception!, Driver.Name, args.RetryDelay.TotalSeconds);
                var now = timeProvider.GetUtcNow();
                foreach (var tag in Driver.Tags)
                {
                    await writer.WriteAsync(Sample.Bad(tag, now, SampleStatus.BadInternalError), stoppingToken);
                }
            });

        // Read when asked (a scrape): a timer per driver copying the state every second was one more wake-up a second each.
        counters.ConnectedFrom(() => Driver.State == DriverState.Connected);
        try
        {
            await restart.ExecuteAsync(async ct => await Driver.RunAsync(writer, ct), stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            counters.Connected = false;
            await Driver.DisposeAsync();
        }
    }
}

internal static partial class DriverLog
{
    [LoggerMessage(EventId = 1900, Level = LogLevel.Error, Message = "Driver {Driver} failed; its tags are Bad; restarting in {DelaySeconds:F1} s")]
    public static partial void Crashed(ILogger logger, Exception exception, string driver, double delaySeconds);
}
