using System.Collections.Concurrent;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.Client;

/// <summary>
/// The client's subscription services (create, add monitored items, delete) and the publish loop that keeps
/// several PublishRequests outstanding, acknowledges, republishes and restores subscriptions after a reconnect.
/// </summary>
public sealed partial class UaClient
{
    private readonly ConcurrentDictionary<uint, UaSubscription> _subscriptions = new();
    private readonly List<UaSubscription> _owned = [];
    private bool _restorePending;
    private readonly ConcurrentQueue<SubscriptionAcknowledgement> _acks = new();
    private readonly List<Task> _publishWorkers = [];
    private CancellationTokenSource? _publishCts;
    private int _activeWorkers;
    private uint _nextClientHandle;

    /// <summary>Publish requests currently kept outstanding (reduced on BadTooManyPublishRequests).</summary>
    public int OutstandingPublishTarget => Volatile.Read(ref _activeWorkers);

    public IReadOnlyCollection<UaSubscription> Subscriptions => (IReadOnlyCollection<UaSubscription>)_subscriptions.Values;

    /// <summary>Creates a subscription; data changes are delivered to <paramref name="onDataChange"/>, in order per item.</summary>
    public async Task<UaSubscription> CreateSubscriptionAsync(double publishingIntervalMs, Action<MonitoredItem, DataValue> onDataChange, CancellationToken cancellationToken,
        uint keepAliveCount = 10, uint lifetimeCount = 100)
    {
        var subscription = new UaSubscription(publishingIntervalMs, keepAliveCount, Math.Max(lifetimeCount, keepAliveCount * 3), onDataChange);
        await CreateOnServerAsync(subscription, cancellationToken);
        lock (_owned)
        {
            _owned.Add(subscription);
        }

        EnsurePublishing();
        return subscription;
    }

    private async Task CreateOnServerAsync(UaSubscription subscription, CancellationToken cancellationToken)
    {
        var response = await CallAsync<CreateSubscriptionResponse>(new CreateSubscriptionRequest
        {
            RequestedPublishingInterval = subscription.RequestedPublishingInterval,
            RequestedMaxKeepAliveCount = subscription.RequestedKeepAliveCount,
            RequestedLifetimeCount = subscription.RequestedLifetimeCount,
            MaxNotificationsPerPublish = 0,
            PublishingEnabled = true,
        }, cancellationToken);
        subscription.Id = response.SubscriptionId;
        subscription.RevisedPublishingInterval = response.RevisedPublishingInterval;
        subscription.RevisedKeepAliveCount = response.RevisedMaxKeepAliveCount;
        lock (subscription.ProcessLock)
        {
            subscription.LastSequenceNumber = 0;
            subscription.Ahead.Clear();
        }

        _subscriptions[subscription.Id] = subscription;
    }

    /// <summary>Creates monitored items (in batches of the server's MaxMonitoredItemsPerCall); each item gets its status.</summary>
    public async Task AddMonitoredItemsAsync(UaSubscription subscription, IReadOnlyList<MonitoredItem> items, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            item.ClientHandle = Interlocked.Increment(ref _nextClientHandle);
            subscription.Items[item.ClientHandle] = item;
        }

        await CreateMonitoredItemsOnServerAsync(subscription, items, cancellationToken);
    }

    private async Task CreateMonitoredItemsOnServerAsync(UaSubscription subscription, IReadOnlyList<MonitoredItem> items, CancellationToken cancellationToken)
    {
        var results = await InBatchesAsync(items, () => MaxMonitoredItemsPerCall, limit => MaxMonitoredItemsPerCall = limit, async slice =>
        {
            var response = await CallAsync<CreateMonitoredItemsResponse>(new CreateMonitoredItemsRequest
            {
                SubscriptionId = subscription.Id,
                TimestampsToReturn = TimestampsToReturn.Both,
                ItemsToCreate = slice.Select(item => new MonitoredItemCreateRequest
                {
                    ItemToMonitor = new ReadValueId { NodeId = item.NodeId, AttributeId = AttributeIds.Value },
                    MonitoringMode = MonitoringMode.Reporting,
                    RequestedParameters = new MonitoringParameters
                    {
                        ClientHandle = item.ClientHandle,
                        SamplingInterval = item.SamplingInterval,
                        QueueSize = item.QueueSize,
                        DiscardOldest = true,
                        Filter = FilterOf(item),
                    },
                }).ToArray(),
            }, cancellationToken, TimeSpan.FromSeconds(60));
            return response.Results ?? [];
        }, status => new MonitoredItemCreateResult { StatusCode = new StatusCode(status) });
        var filterRefused = new List<MonitoredItem>();
        for (var i = 0; i < items.Count; i++)
        {
            items[i].Status = results[i].StatusCode;
            items[i].ServerId = results[i].MonitoredItemId;
            items[i].RevisedSamplingInterval = results[i].RevisedSamplingInterval;
            if (items[i].FilterRefused is null && !ReferenceEquals(FilterOf(items[i]), ExtensionObject.Null) && IsFilterRefusal(results[i].StatusCode.Code))
            {
                filterRefused.Add(items[i]);
            }
        }

        if (filterRefused.Count > 0)
        {
            // A deadband is an optimisation, the value itself is what matters: monitor the node without the filter
            // (every change is reported) rather than leave it unmonitored. FilterRefused tells the caller why.
            foreach (var item in filterRefused)
            {
                item.FilterRefused = item.Status;
            }

            await CreateMonitoredItemsOnServerAsync(subscription, filterRefused, cancellationToken);
        }
    }

    private static bool IsFilterRefusal(uint code) => (code & 0xFFFF0000) is SampleStatus.BadFilterNotAllowed or SampleStatus.BadMonitoredItemFilterUnsupported
        or SampleStatus.BadMonitoredItemFilterInvalid or SampleStatus.BadDeadbandFilterInvalid;

    /// <summary>The DataChangeFilter of an item (trigger StatusValue), or none when no deadband is set or the server refused it.</summary>
    private static ExtensionObject FilterOf(MonitoredItem item)
    {
        if (item.FilterRefused is not null)
        {
            return ExtensionObject.Null;
        }

        if (item.DeadbandPercent is { } percent && percent > 0)
        {
            return new ExtensionObject(new DataChangeFilter { Trigger = 1, DeadbandType = 2, DeadbandValue = percent });
        }

        return item.Deadband is { } deadband && deadband > 0
            ? new ExtensionObject(new DataChangeFilter { Trigger = 1, DeadbandType = 1, DeadbandValue = deadband })
            : ExtensionObject.Null;
    }

    /// <summary>Deletes subscriptions on the server and forgets them.</summary>
    public async Task DeleteSubscriptionsAsync(IReadOnlyList<UaSubscription> subscriptions, CancellationToken cancellationToken)
    {
        foreach (var subscription in subscriptions)
        {
            _subscriptions.TryRemove(subscription.Id, out _);
            lock (_owned)
            {
                _owned.Remove(subscription);
            }
        }

        await CallAsync<DeleteSubscriptionsResponse>(new DeleteSubscriptionsRequest { SubscriptionIds = subscriptions.Select(s => s.Id).ToArray() }, cancellationToken);
    }

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
                        OpcUaLog.NotificationHandlerFailed(_logger, _options.SessionName, ex);
                    }
                }
                catch (UaException ex) when (ex.StatusCode == SampleStatus.BadTooManyPublishRequests)
                {
                    Requeue(acks);
                    var active = Volatile.Read(ref _activeWorkers);
                    OpcUaLog.PublishBackoff(_logger, SampleStatus.Name(ex.StatusCode), active - 1);
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
                    OpcUaLog.PublishFailed(_logger, _options.SessionName, ex.Message);
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
                            OpcUaLog.NotificationHandlerFailed(_logger, _options.SessionName, ex);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// After a reconnect. Same session: Republish what was missed. New session: TransferSubscriptions and Republish
    /// the available sequence numbers past the last one processed; when refused, recreate subscription and items.
    /// </summary>
    private async Task RestoreSubscriptionsAsync(bool newSession, CancellationToken cancellationToken)
    {
        UaSubscription[] subscriptions;
        lock (_owned)
        {
            subscriptions = [.. _owned];
        }

        if (subscriptions.Length == 0)
        {
            return;
        }

        _acks.Clear();
        // A ladder that failed half-way through a restore finishes it on the next attempt.
        newSession |= _restorePending;
        _restorePending = newSession;
        if (!newSession)
        {
            foreach (var subscription in subscriptions)
            {
                await RepublishMissingAsync(subscription, null, cancellationToken);
            }

            return;
        }

        TransferResult[] results;
        try
        {
            var response = await CallAsync<TransferSubscriptionsResponse>(new TransferSubscriptionsRequest
            {
                SubscriptionIds = subscriptions.Select(s => s.Id).ToArray(),
                SendInitialValues = true,
            }, cancellationToken);
            results = response.Results ?? [];
        }
        catch (UaException ex) when (ex is not UaConnectionException)
        {
            results = [];
        }

        for (var i = 0; i < subscriptions.Length; i++)
        {
            var subscription = subscriptions[i];
            if (i < results.Length && results[i].StatusCode.Code == SampleStatus.BadNothingToDo)
            {
                continue; // already restored into this session by an earlier attempt
            }

            if (i < results.Length && results[i].StatusCode.IsGood)
            {
                subscription.Transferred++;
                var count = await RepublishMissingAsync(subscription, results[i].AvailableSequenceNumbers, cancellationToken);
                OpcUaLog.SubscriptionTransferred(_logger, subscription.Id, count);
                continue;
            }

            var oldId = subscription.Id;
            _subscriptions.TryRemove(oldId, out _);
            await CreateOnServerAsync(subscription, cancellationToken);
            await CreateMonitoredItemsOnServerAsync(subscription, subscription.Items.Values.ToArray(), cancellationToken);
            subscription.Recreated++;
            OpcUaLog.SubscriptionRecreated(_logger, oldId, subscription.Id, subscription.Items.Count);
        }

        _restorePending = false;
    }

    private async Task<int> RepublishMissingAsync(UaSubscription subscription, uint[]? available, CancellationToken cancellationToken)
    {
        var sequenceNumbers = available is not null
            ? available.Where(n => n > subscription.LastSequenceNumber).Order().ToArray()
            : Enumerable.Range(1, 100).Select(i => subscription.LastSequenceNumber + (uint)i).ToArray();
        var count = 0;
        foreach (var sequenceNumber in sequenceNumbers)
        {
            try
            {
                var response = await CallAsync<RepublishResponse>(new RepublishRequest { SubscriptionId = subscription.Id, RetransmitSequenceNumber = sequenceNumber }, cancellationToken);
                _acks.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = subscription.Id, SequenceNumber = sequenceNumber });
                Process(subscription, response.NotificationMessage);
                count++;
            }
            catch (UaException ex) when (ex.StatusCode is SampleStatus.BadMessageNotAvailable or SampleStatus.BadSequenceNumberUnknown)
            {
                if (available is null)
                {
                    break;
                }
            }
        }

        subscription.Republished += count;
        return count;
    }
}
