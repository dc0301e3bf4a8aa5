using Microsoft.Extensions.Logging;

namespace Gateway.Drivers.OpcUa;

/// <summary>Log messages of the OPC UA driver (event ids 4030-4099; the secure channel's are <c>ChannelLog</c>, 4000-4004, the client's <c>ClientLog</c>, 4005 and 4010-4029).</summary>
internal static partial class OpcUaLog
{
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
