using Polly;
using Polly.Retry;

namespace Gateway.Drivers;

/// <summary>
/// The one retry policy of the gateway: try again until cancelled, waiting exponentially longer between
/// <c>first</c> and <c>longest</c>, with jitter so that many clients do not retry in step.
/// </summary>
public static class Backoff
{
    public static ResiliencePipeline Forever(
        TimeProvider timeProvider,
        TimeSpan first,
        TimeSpan longest,
        PredicateBuilder<object> handle,
        Func<OnRetryArguments<object>, ValueTask> onRetry) =>
        new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = handle,
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = first,
                MaxDelay = longest,
                OnRetry = onRetry,
            })
            .Build();
}
