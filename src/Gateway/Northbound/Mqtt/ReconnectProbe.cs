using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Gateway.Northbound.Mqtt;

/// <summary>One TCP connect a second to the broker's port while waiting to reconnect; cancels the wait when one succeeds.</summary>
internal sealed class ReconnectProbe(CancellationTokenSource attempt, TimeProvider time, ILogger logger, string sink) : IAsyncDisposable
{
    /// <summary>How often the probe tries the broker's port.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

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
                timeout.CancelAfter(Interval);
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
