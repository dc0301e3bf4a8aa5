using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// A TCP connect to the broker's port every <see cref="Interval"/> while waiting to reconnect; cancels the wait when one
/// succeeds, so that the gateway is back within a fraction of a second of the broker (not after the backoff's delay, up
/// to <c>mqtt.maxReconnectDelayMs</c>), and live samples read meanwhile reach it within 1 s of their read.
/// </summary>
internal sealed class ReconnectProbe(CancellationTokenSource attempt, TimeProvider time, ILogger logger, string sink) : IAsyncDisposable
{
    /// <summary>
    /// How often the probe tries the broker's port: a SYN four times a second towards a broker that is down, nothing at
    /// the MQTT level (no CONNECT, so no session or authentication is tried, and a broker that rate-limits CONNECTs is not
    /// touched).
    /// </summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long one probe waits for the connect: longer than the interval, so that a broker across a slow link
    /// (a round trip over 250 ms) is still seen.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    private CancellationTokenSource? _run;
    private Task _running = Task.CompletedTask;

    public bool Fired { get; private set; }

    /// <summary>Starts probing (during the wait before the next attempt).</summary>
    public void Start(string host, int port)
    {
        if (!_running.IsCompleted)
        {
            return;
        }

        _run?.Dispose();
        _run = new CancellationTokenSource();
        _running = RunAsync(host, port, _run.Token);
    }

    /// <summary>Stops probing (an attempt begins).</summary>
    public void Stop() => _run?.Cancel();

    private async Task RunAsync(string host, int port, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Interval, time, cancellationToken);
                using var socket = new TcpClient();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ConnectTimeout);
                try
                {
                    await socket.ConnectAsync(host, port, timeout.Token);
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    continue;
                }

                if (!cancellationToken.IsCancellationRequested)
                {
                    Fired = true;
                    await attempt.CancelAsync();
                }

                return;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            MqttLog.ProbeFailed(logger, sink, ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        await _running;
        _run?.Dispose();
    }
}
