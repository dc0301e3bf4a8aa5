using Microsoft.Extensions.Logging;

namespace Gateway.Drivers.OpcUa.Client;

/// <summary>Log messages of the OPC UA client: trust, session, subscriptions (event ids 4005, 4010-4029).</summary>
internal static partial class ClientLog
{
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
}
