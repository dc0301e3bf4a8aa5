using Microsoft.Extensions.Logging;

namespace Gateway.Drivers.OpcUa;

/// <summary>Log messages of the OPC UA stack and driver (event ids 4000-4099).</summary>
internal static partial class OpcUaLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Debug, Message = "Secure channel {ChannelId} opened to {Endpoint}, token {TokenId}, lifetime {LifetimeMs} ms, chunks up to {SendBufferSize} bytes")]
    public static partial void ChannelOpened(ILogger logger, uint channelId, string endpoint, uint tokenId, uint lifetimeMs, uint sendBufferSize);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Secure channel {ChannelId} token renewed: {TokenId}")]
    public static partial void TokenRenewed(ILogger logger, uint channelId, uint tokenId);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Secure channel {ChannelId} token renewal failed")]
    public static partial void TokenRenewalFailed(ILogger logger, uint channelId, Exception exception);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Secure channel {ChannelId} lost: {Reason}")]
    public static partial void ChannelLost(ILogger logger, uint channelId, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Discarded a message of request {RequestId}: {Reason}")]
    public static partial void MessageDiscarded(ILogger logger, uint requestId, string reason);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Trusted the server certificate on first use: {Path}")]
    public static partial void ServerCertificateTrustedOnFirstUse(ILogger logger, string path);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Session {SessionId} activated on {Endpoint} ({Identity})")]
    public static partial void SessionActivated(ILogger logger, string sessionId, string endpoint, string identity);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Session {SessionId} re-activated on a new channel")]
    public static partial void SessionReactivated(ILogger logger, string sessionId);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Information, Message = "Session could not be re-activated ({Status}); creating a new one")]
    public static partial void SessionRecreated(ILogger logger, string status);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Warning, Message = "Keep-alive read of session {Session} failed: {Reason}")]
    public static partial void KeepAliveFailed(ILogger logger, string session, string reason);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Debug, Message = "Publish backed off: {Status}, {Outstanding} requests outstanding")]
    public static partial void PublishBackoff(ILogger logger, string status, int outstanding);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Warning, Message = "Publish of session {Session} failed: {Reason}")]
    public static partial void PublishFailed(ILogger logger, string session, string reason);

    [LoggerMessage(EventId = 4024, Level = LogLevel.Error, Message = "Session {Session}: a data-change handler failed; publishing goes on")]
    public static partial void NotificationHandlerFailed(ILogger logger, string session, Exception exception);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Information, Message = "Subscription {SubscriptionId} transferred to the new session; republished {Count} messages")]
    public static partial void SubscriptionTransferred(ILogger logger, uint subscriptionId, int count);

    [LoggerMessage(EventId = 4023, Level = LogLevel.Information, Message = "Subscription {OldId} recreated as {NewId} with {Items} monitored items")]
    public static partial void SubscriptionRecreated(ILogger logger, uint oldId, uint newId, int items);

    [LoggerMessage(EventId = 4030, Level = LogLevel.Information, Message = "OPC UA driver {Driver} connected to {Endpoint}: {Tags} tags, mode {Mode}")]
    public static partial void DriverConnected(ILogger logger, string driver, string endpoint, int tags, string mode);

    [LoggerMessage(EventId = 4031, Level = LogLevel.Warning, Message = "OPC UA driver {Driver} lost {Endpoint}: {Reason}; retrying")]
    public static partial void DriverDisconnected(ILogger logger, string driver, string endpoint, string reason);

    [LoggerMessage(EventId = 4032, Level = LogLevel.Warning, Message = "OPC UA driver {Driver}: tag {Tag} unusable: {Reason}")]
    public static partial void TagUnusable(ILogger logger, string driver, string tag, string reason);

    [LoggerMessage(EventId = 4033, Level = LogLevel.Warning, Message = "OPC UA driver {Driver}: tag {Tag}: the server refused its deadband filter ({Status}); monitored without it, the gateway applies the deadband")]
    public static partial void DeadbandRefused(ILogger logger, string driver, string tag, string status);

    [LoggerMessage(EventId = 4034, Level = LogLevel.Information, Message = "OPC UA driver {Driver}: the server allows fewer monitored items per subscription; {Items} items moved to another subscription")]
    public static partial void SubscriptionSpread(ILogger logger, string driver, int items);

    [LoggerMessage(EventId = 4036, Level = LogLevel.Warning, Message = "OPC UA driver {Driver} cannot connect to {Endpoint}: {Reason}; retrying every {DelaySeconds:0.#} s at most (logged again when the reason changes)")]
    public static partial void ConnectFailed(ILogger logger, string driver, string endpoint, string reason, double delaySeconds);

    [LoggerMessage(EventId = 4037, Level = LogLevel.Debug, Message = "OPC UA driver {Driver} still cannot connect to {Endpoint}: {Reason}")]
    public static partial void ConnectStillFailing(ILogger logger, string driver, string endpoint, string reason);

    [LoggerMessage(EventId = 4035, Level = LogLevel.Information, Message = "OPC UA driver {Driver}: tag {Tag} ({Address}) is now {NodeId}: the server renumbered its namespaces")]
    public static partial void NamespaceMoved(ILogger logger, string driver, string tag, string address, string nodeId);

    [LoggerMessage(EventId = 4038, Level = LogLevel.Information, Message = "OPC UA driver {Driver}: read the DataTypeDefinitions of its tags' {Types} non-built-in DataTypes from the server: {Structures} structure DataTypes (nested ones included)")]
    public static partial void DataTypesLoaded(ILogger logger, string driver, int structures, int types);

    [LoggerMessage(EventId = 4039, Level = LogLevel.Warning, Message = "OPC UA driver {Driver}: could not read the DataType definitions: {Reason}; structure values stay Bad until the next session")]
    public static partial void DataTypesFailed(ILogger logger, string driver, string reason);

    [LoggerMessage(EventId = 4040, Level = LogLevel.Information, Message = "OPC UA driver {Driver}: structures described by the server's DataTypeDictionary {Dictionary} (no DataTypeDefinition attribute: a server older than OPC UA 1.04)")]
    public static partial void DictionaryRead(ILogger logger, string driver, string dictionary);
}
