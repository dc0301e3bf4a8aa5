using System.Collections.Concurrent;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.Client;

/// <summary>What to monitor: a node's Value with its sampling interval, queue size and optional absolute deadband.</summary>
public sealed class MonitoredItem
{
    public MonitoredItem(NodeId nodeId, double samplingIntervalMs, uint queueSize = 1, double? deadband = null, object? context = null)
    {
        NodeId = nodeId;
        SamplingInterval = samplingIntervalMs;
        QueueSize = queueSize;
        Deadband = deadband;
        Context = context;
    }

    public NodeId NodeId { get; }

    /// <summary>Milliseconds.</summary>
    public double SamplingInterval { get; }

    public uint QueueSize { get; }

    /// <summary>Absolute deadband for a DataChangeFilter; null for none.</summary>
    public double? Deadband { get; }

    /// <summary>
    /// Percent deadband (0-100) of the node's EURange for a DataChangeFilter (DeadbandType 2); null for none. Takes
    /// precedence over <see cref="Deadband"/>.
    /// </summary>
    public double? DeadbandPercent { get; init; }

    /// <summary>
    /// Why the server refused the deadband filter (BadFilterNotAllowed on a non-numeric node,
    /// BadMonitoredItemFilterUnsupported for a percent deadband without EURange, ...); the item was then created
    /// without a filter, so it reports every change. Null when the filter was accepted or none was asked.
    /// </summary>
    public StatusCode? FilterRefused { get; internal set; }

    /// <summary>The caller's object (the driver's tag).</summary>
    public object? Context { get; }

    /// <summary>Assigned by the client, unique within the session.</summary>
    public uint ClientHandle { get; internal set; }

    public uint ServerId { get; internal set; }

    /// <summary>The result of CreateMonitoredItems.</summary>
    public StatusCode Status { get; internal set; }

    public double RevisedSamplingInterval { get; internal set; }
}

/// <summary>A subscription and its monitored items, kept by the client so that it survives reconnects.</summary>
public sealed class UaSubscription
{
    internal UaSubscription(double publishingInterval, uint keepAliveCount, uint lifetimeCount, Action<MonitoredItem, DataValue> onDataChange)
    {
        RequestedPublishingInterval = publishingInterval;
        RequestedKeepAliveCount = keepAliveCount;
        RequestedLifetimeCount = lifetimeCount;
        OnDataChange = onDataChange;
    }

    public uint Id { get; internal set; }

    public double RequestedPublishingInterval { get; }

    public uint RequestedKeepAliveCount { get; }

    public uint RequestedLifetimeCount { get; }

    public double RevisedPublishingInterval { get; internal set; }

    public uint RevisedKeepAliveCount { get; internal set; }

    /// <summary>The sequence number of the last notification message processed.</summary>
    public uint LastSequenceNumber { get; internal set; }

    public int NotificationMessages => _notificationMessages;

    public int KeepAlives => _keepAlives;

    /// <summary>How many times the subscription was recreated after its session was lost.</summary>
    public int Recreated { get; internal set; }

    /// <summary>How many times it was transferred to a new session.</summary>
    public int Transferred { get; internal set; }

    /// <summary>Messages recovered with Republish after a reconnect.</summary>
    public int Republished { get; internal set; }

    internal Action<MonitoredItem, DataValue> OnDataChange { get; }

    internal ConcurrentDictionary<uint, MonitoredItem> Items { get; } = new();

    /// <summary>Drops items the server refused (never created there), so that a recreated subscription does not ask for them again.</summary>
    public void Forget(IEnumerable<MonitoredItem> items)
    {
        foreach (var item in items)
        {
            Items.TryRemove(item.ClientHandle, out _);
        }
    }

    public IReadOnlyCollection<MonitoredItem> MonitoredItems => (IReadOnlyCollection<MonitoredItem>)Items.Values;

    internal object ProcessLock { get; } = new();

    /// <summary>Messages that arrived ahead of their predecessor (several publish requests complete concurrently).</summary>
    internal SortedDictionary<uint, NotificationMessage> Ahead { get; } = [];

    internal int _notificationMessages;
    internal int _keepAlives;
}
