namespace Gateway.Drivers;

/// <summary>
/// Names shared by drivers and the host's metrics. A driver that counts its own errors (a failed connection attempt it
/// retries itself, so the host never sees it) adds to a <c>Counter&lt;long&gt;</c> of this name on a meter named
/// <c>Gateway.Drivers.*</c>, tagged <c>driver</c>: the host adds it to that driver's <c>gateway_driver_errors_total</c>.
/// </summary>
public static class DriverMetrics
{
    public const string ErrorsCounterName = "gateway_driver_errors_total";

    public const string DriverTag = "driver";
}
