using Gateway.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gateway.Oee;

/// <summary>
/// Runs the <see cref="OeeEngine"/>: loads its state and subscribes it to the pipeline at start (before the
/// drivers start, so no sample is missed and the observer list is not changed under a writer), then every
/// <c>oee.publishIntervalSeconds</c> publishes the results through the pipeline, persists the state and writes the
/// history (<see cref="OeeHistory"/>: the hours and shifts closed, the current ones so far); on stop,
/// publishes and persists once more.
/// </summary>
public sealed class OeeService(OeeEngine engine, SamplePipeline pipeline, TimeProvider timeProvider, ILogger<OeeService> logger, OeeHistory? history = null) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        engine.RecordsHistory = history is not null;
        engine.Load();
        pipeline.Observe(engine.Observe);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var first = true;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(engine.Options.PublishIntervalSeconds), timeProvider);
        try
        {
            do
            {
                await PublishAsync(includePreviousShift: first, stoppingToken);
                first = false;
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await PublishAsync(includePreviousShift: false, cancellationToken);
    }

    private async Task PublishAsync(bool includePreviousShift, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var sample in engine.Tick(includePreviousShift))
            {
                await pipeline.WriteInternalAsync(sample, cancellationToken);
            }

            engine.Save();
            history?.Write(engine.TakeHistory());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
        {
            // A full disk or a completed pipeline must not stop the OEE: the next interval tries again.
            OeeLog.TickFailed(logger, ex);
        }
    }
}
