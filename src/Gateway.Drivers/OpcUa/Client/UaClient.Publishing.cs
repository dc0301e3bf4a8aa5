using System.Collections.Concurrent;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.Client;

// The publish loop: several PublishRequests kept outstanding, acknowledgements, notification messages delivered
// in order (a gap waits for its message a while, then is skipped), fewer requests on BadTooManyPublishRequests.
public sealed partial class UaClient
{
    private readonly ConcurrentQueue<SubscriptionAcknowledgement> _acks = new();
    private readonly List<Task> _publishWorkers = [];
    private CancellationTokenSource? _publishCts;
    private int _activeWorkers;

    /// <summary>Publish requests currently kept outstanding (reduced on BadTooManyPublishRequests).</summary>
    public int OutstandingPublishTarget => Volatile.Read(ref _activeWorkers);

    private void StartPublishing(CancellationToken sessionToken)
    {
        _publishCts = CancellationTokenSource.CreateLinkedTokenSource(sessionToken);
        EnsurePublishing();
    }

    private void EnsurePublishing()
    {
        var cts = _publishCts;
        if (cts is null || cts.IsCancellationRequested || _subscriptions.IsEmpty)
        {
            return;
        }

        lock (_publishWorkers)
        {
            _publishWorkers.RemoveAll(t => t.IsCompleted);
            while (_publishWorkers.Count < Math.Max(1, _options.PublishRequests))
            {
                Interlocked.Increment(ref _activeWorkers);
                _publishWorkers.Add(Task.Run(() => PublishWorkerAsync(cts.Token), CancellationToken.None));
            }
        }
    }

    private async Task StopPublishingAsync()
    {
        if (_publishCts is null)
        {
            return;
        }

        await _publishCts.CancelAsync();
        Task[] workers;
        lock (_publishWorkers)
        {
            workers = [.. _publishWorkers];
            _publishWorkers.Clear();
        }

        await Task.WhenAll(workers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _publishCts.Dispose();
        _publishCts = null;
    }

    /// <summary>One outstanding Publish request at a time; several workers keep the pipeline full.</summary>
    private async Task PublishWorkerAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var acks = new List<SubscriptionAcknowledgement>();
                while (acks.Count < 100 && _acks.TryDequeue(out var ack))
                {
                    acks.Add(ack);
                }

                var interval = _subscriptions.Values.Select(s => s.RevisedPublishingInterval * Math.Max(1, s.RevisedKeepAliveCount)).DefaultIfEmpty(10_000).Max();
                try
                {
                    var response = await CallAsync<PublishResponse>(new PublishRequest { SubscriptionAcknowledgements = [.. acks] }, cancellationToken,
                        _options.RequestTimeout + TimeSpan.FromMilliseconds(interval * 2));
                    try
                    {
                        HandlePublishResponse(response);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // A failing data-change callback must not stop publishing for the other items.
                        ClientLog.NotificationHandlerFailed(_logger, _options.SessionName, ex);
                    }
                }
                catch (UaException ex) when (ex.StatusCode == SampleStatus.BadTooManyPublishRequests)
                {
                    Requeue(acks);
                    var active = Volatile.Read(ref _activeWorkers);
                    ClientLog.PublishBackoff(_logger, SampleStatus.Name(ex.StatusCode), active - 1);
                    if (active > 1)
                    {
                        return; // one fewer outstanding request (the finally block counts it)
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(100, interval / 10)), _timeProvider, cancellationToken);
                }
                catch (UaException ex) when (ex.StatusCode is SampleStatus.BadNoSubscription)
                {
                    bool expected;
                    lock (_owned)
                    {
                        expected = _owned.Count > 0;
                    }

                    if (expected && _channel is { } channel)
                    {
                        // The server has none of our subscriptions: let the ladder recreate them.
                        _restorePending = true;
                        _ = channel.AbortAsync();
                        return;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(500), _timeProvider, cancellationToken);
                }
                catch (UaException ex) when (ex.StatusCode == SampleStatus.BadTimeout)
                {
                    Requeue(acks);
                }
                catch (UaException ex)
                {
                    Requeue(acks);
                    if (_channel is not { IsOpen: true })
                    {
                        return; // the reconnect ladder restarts publishing
                    }

                    // An expected condition (a server restarting closes the session first): one line, no stack trace.
                    ClientLog.PublishFailed(_logger, _options.SessionName, ex.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(500), _timeProvider, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _activeWorkers);
        }
    }

    private void Requeue(List<SubscriptionAcknowledgement> acks)
    {
        foreach (var ack in acks)
        {
            _acks.Enqueue(ack);
        }
    }

    private void HandlePublishResponse(PublishResponse response)
    {
        if (!_subscriptions.TryGetValue(response.SubscriptionId, out var subscription))
        {
            return;
        }

        var message = response.NotificationMessage;
        if (message.NotificationData is not { Length: > 0 })
        {
            Interlocked.Increment(ref subscription._keepAlives);
            return;
        }

        // Acknowledge only messages that carried notifications; keep-alives carry none.
        _acks.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = subscription.Id, SequenceNumber = message.SequenceNumber });
        Process(subscription, message);
        if (message.NotificationData.Any(n => n.Body is StatusChangeNotification { Status.IsBad: true }))
        {
            // The server ended the subscription (for example BadTimeout after its lifetime): recreate it through the ladder.
            _restorePending = true;
            if (_channel is { } channel)
            {
                _ = channel.AbortAsync();
            }
        }
    }

    /// <summary>Messages one ahead of the other wait this many successors for the gap to fill before it is skipped.</summary>
    private const int MaxMessagesAhead = 8;

    /// <summary>
    /// Delivers notification messages in sequence-number order, so that the values of one item stay in order even
    /// though several publish responses are handled at once. A message that skipped ahead waits for its predecessor;
    /// a gap that does not fill (the message is gone) is passed over.
    /// </summary>
    private void Process(UaSubscription subscription, NotificationMessage message)
    {
        lock (subscription.ProcessLock)
        {
            var last = subscription.LastSequenceNumber;
            // A new subscription numbers its messages from 1.
            if (message.SequenceNumber > last + 1 && message.SequenceNumber - last < 1_000_000)
            {
                subscription.Ahead[message.SequenceNumber] = message;
                if (subscription.Ahead.Count <= MaxMessagesAhead)
                {
                    return;
                }
            }
            else if (last != 0 && message.SequenceNumber <= last && last - message.SequenceNumber < 1_000_000)
            {
                Deliver(subscription, message); // a republished message: deliver, keep the position
                return;
            }
            else
            {
                Deliver(subscription, message);
                subscription.LastSequenceNumber = message.SequenceNumber;
            }

            while (subscription.Ahead.Count > 0)
            {
                var next = subscription.Ahead.First();
                if (next.Key != subscription.LastSequenceNumber + 1 && subscription.Ahead.Count <= MaxMessagesAhead)
                {
                    break;
                }

                subscription.Ahead.Remove(next.Key);
                Deliver(subscription, next.Value);
                subscription.LastSequenceNumber = next.Key;
            }
        }
    }

    private void Deliver(UaSubscription subscription, NotificationMessage message)
    {
        Interlocked.Increment(ref subscription._notificationMessages);
        foreach (var data in message.NotificationData ?? [])
        {
            if (data.Body is DataChangeNotification change)
            {
                foreach (var notification in change.MonitoredItems ?? [])
                {
                    if (subscription.Items.TryGetValue(notification.ClientHandle, out var item))
                    {
                        try
                        {
                            subscription.OnDataChange(item, notification.Value);
                        }
                        catch (Exception ex)
                        {
                            // Per item: a throwing handler must not cost the message's other items, nor leave the
                            // sequence position behind (later messages would wait as if this one were missing).
                            ClientLog.NotificationHandlerFailed(_logger, _options.SessionName, ex);
                        }
                    }
                }
            }
        }
    }
}
