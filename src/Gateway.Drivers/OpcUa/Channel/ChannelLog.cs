using Microsoft.Extensions.Logging;

namespace Gateway.Drivers.OpcUa.Channel;

/// <summary>Log messages of the OPC UA secure channel (event ids 4000-4004).</summary>
internal static partial class ChannelLog
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
}
