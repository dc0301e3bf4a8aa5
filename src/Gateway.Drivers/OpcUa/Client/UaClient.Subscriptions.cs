using System.Collections.Concurrent;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.Client;

/// <summary>
/// The client's subscription services (create, add monitored items, delete) and their restoration after a reconnect
/// (transfer or recreate, republish what is missing); the publish loop is in UaClient.Publishing.cs.
/// </summary>
public sealed partial class UaClient
{
    private readonly ConcurrentDictionary<uint, UaSubscription> _subscriptions = new();
    private readonly List<UaSubscription> _owned = [];
    private bool _restorePending;
    private uint _nextClientHandle;

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
                ClientLog.SubscriptionTransferred(_logger, subscription.Id, count);
                continue;
            }

            var oldId = subscription.Id;
            _subscriptions.TryRemove(oldId, out _);
            await CreateOnServerAsync(subscription, cancellationToken);
            await CreateMonitoredItemsOnServerAsync(subscription, subscription.Items.Values.ToArray(), cancellationToken);
            subscription.Recreated++;
            ClientLog.SubscriptionRecreated(_logger, oldId, subscription.Id, subscription.Items.Count);
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
