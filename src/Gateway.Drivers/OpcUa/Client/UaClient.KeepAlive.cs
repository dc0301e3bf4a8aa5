using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Gateway.Drivers.OpcUa.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Drivers.OpcUa.Client;

// The session's background tasks: the keep-alive read whenever nothing else flowed, and the publish loop's start and stop.
public sealed partial class UaClient
{
    private void StartSessionTasks()
    {
        _sessionCts = new CancellationTokenSource();
        Touch();
        _keepAlive = KeepAliveLoopAsync(_sessionCts.Token);
        StartPublishing(_sessionCts.Token);
    }

    private async Task StopSessionTasksAsync()
    {
        if (_sessionCts is null)
        {
            return;
        }

        await _sessionCts.CancelAsync();
        await _keepAlive.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await StopPublishingAsync();
        _sessionCts.Dispose();
        _sessionCts = null;
    }

    private void Touch() => Interlocked.Exchange(ref _lastActivityTicks, _timeProvider.GetTimestamp());

    /// <summary>Reads ServerStatus.State whenever nothing else flowed for the keep-alive interval.</summary>
    private async Task KeepAliveLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var idle = _timeProvider.GetElapsedTime(Interlocked.Read(ref _lastActivityTicks));
                var wait = EffectiveKeepAliveInterval - idle;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _timeProvider, cancellationToken);
                    continue;
                }

                await ReadAsync([ServerStatusState], cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (UaException ex)
            {
                ClientLog.KeepAliveFailed(_logger, _options.SessionName, ex.Message);
                if (_channel is not { IsOpen: true } channel)
                {
                    return;
                }

                if (ex.StatusCode is SampleStatus.BadSessionIdInvalid or SampleStatus.BadSessionClosed or SampleStatus.BadSessionNotActivated)
                {
                    // The server dropped the session while the channel lives: end the channel so the reconnect ladder runs.
                    await channel.AbortAsync();
                    return;
                }

                if (ex.StatusCode is SampleStatus.BadTimeout or SampleStatus.BadRequestTimeout)
                {
                    // Nothing came back within the request timeout although TCP stays up: a hung or frozen server (or a
                    // half-open connection). Waiting on it would keep stale values Good; end the channel so the driver
                    // marks its tags Bad and the ladder reconnects.
                    await channel.AbortAsync();
                    return;
                }

                Touch();
            }
        }
    }
}
