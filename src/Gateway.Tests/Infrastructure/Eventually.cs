using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The one wait-until of the tests: polls a condition until it holds or a real-time deadline passes, then fails with
/// what was awaited. A bound on how long a test may hang, not a timing assertion: the deadlines are generous.
/// </summary>
public static class Eventually
{
    /// <summary>The deadline when a test names none.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Waits until <paramref name="condition"/> holds; <paramref name="between"/> runs between looks (e.g. advancing a
    /// fake clock so that timers fire). Throws <see cref="TimeoutException"/> naming <paramref name="what"/>.
    /// </summary>
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Action? between = null, TimeSpan? poll = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"{what}: not within {limit.TotalSeconds:0.#} s");
            }

            between?.Invoke();
            await Task.Delay(poll ?? s_poll);
        }
    }

    /// <summary>
    /// Waits until <paramref name="probe"/> returns true; an exception <paramref name="tolerate"/> accepts counts as
    /// "not yet" (a peer still starting). <paramref name="describe"/> is called only for the failure message.
    /// </summary>
    public static async Task TrueAsync(Func<Task<bool>> probe, Func<string> describe, TimeSpan? timeout = null, Func<Exception, bool>? tolerate = null, TimeSpan? poll = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed <= limit)
        {
            try
            {
                if (await probe())
                {
                    return;
                }
            }
            catch (Exception ex) when (tolerate?.Invoke(ex) == true)
            {
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(100));
        }

        throw new TimeoutException($"{describe()}: not within {limit.TotalSeconds:0.#} s");
    }

    /// <summary>Waits until the gateway's output contains <paramref name="text"/>; the failure shows the whole output.</summary>
    public static Task LogAsync(GatewayProcess gateway, string text, TimeSpan? timeout = null) =>
        TrueAsync(
            () => gateway.Output.Contains(text, StringComparison.Ordinal),
            $"log never said '{text}'; it said:\n{gateway.Output}",
            timeout ?? TimeSpan.FromSeconds(60),
            poll: TimeSpan.FromMilliseconds(200));
}
