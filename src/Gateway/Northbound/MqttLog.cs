using Microsoft.Extensions.Logging;

namespace Gateway.Northbound;

/// <summary>Log lines of the MQTT outputs' connection (3000-3099).</summary>
internal static partial class MqttLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "{Sink}: connected to MQTT broker {Endpoint}; {Backlog} samples waiting in the buffer")]
    public static partial void Connected(ILogger logger, string sink, string endpoint, long backlog);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "{Sink}: cannot connect to MQTT broker {Endpoint} (attempt {Attempt}, next in {DelaySeconds:F1} s): {Reason}; {Backlog} samples kept in the buffer")]
    public static partial void ConnectFailed(ILogger logger, string sink, string endpoint, int attempt, double delaySeconds, string reason, long backlog);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "{Sink}: disconnected from MQTT broker {Endpoint}: {Reason}")]
    public static partial void Disconnected(ILogger logger, string sink, string endpoint, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "{Sink}: publishing to {Endpoint} interrupted: {Reason}; unacknowledged samples stay in the buffer")]
    public static partial void PublishInterrupted(ILogger logger, string sink, string endpoint, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "{Sink}: TLS refused for {Endpoint}: {Reason}")]
    public static partial void CertificateRejected(ILogger logger, string sink, string endpoint, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "{Sink}: publishing to {Endpoint}: {Reason}; that sample and the ones after it stay in the buffer and are offered again")]
    public static partial void PublishRefused(ILogger logger, string sink, string endpoint, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "{Sink}: publishing to {Endpoint} failed again (attempt {Attempt}, next connection in {DelaySeconds:F1} s): {Reason}; {Backlog} samples kept in the buffer")]
    public static partial void SessionFailed(ILogger logger, string sink, string endpoint, int attempt, double delaySeconds, string reason, long backlog);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "{Sink}: the broker {Endpoint} has no retained messages: the status topic and the last will are published without the retain flag")]
    public static partial void RetainNotAvailable(ILogger logger, string sink, string endpoint);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "{Sink}: the broker allows {ReceiveMaximum} publications in flight, packets up to {MaximumPacketSize} bytes, QoS up to {MaximumQos}, retain {RetainAvailable}")]
    public static partial void BrokerLimits(ILogger logger, string sink, int receiveMaximum, long maximumPacketSize, int maximumQos, bool retainAvailable);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Warning, Message = "{Sink}: MQTT 3.1.1 with user '{User}' on {Endpoint}: a broker acknowledges and silently drops publications its ACL denies (3.1.1 has no refusal code), so samples could leave the buffer undelivered; check the user's write access to the topics, or use mqtt.protocolVersion 5, where refusals are reported")]
    public static partial void Mqtt311AclBlind(ILogger logger, string sink, string endpoint, string user);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Warning, Message = "{Sink}: the broker {Endpoint} does not speak MQTT 5 ({How}): this output now uses MQTT 3.1.1; set mqtt.protocolVersion to \"3.1.1\" to connect so at once, or mqtt.protocolFallback to false to refuse 3.1.1")]
    public static partial void FellBackTo311(ILogger logger, string sink, string endpoint, string how);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "{Sink}: over MQTT 3.1.1 the broker announces no limits (Receive Maximum, Maximum Packet Size, retain) and {Refusals}{Qos}")]
    public static partial void Mqtt5FeaturesOff(ILogger logger, string sink, string refusals, string qos);

    [LoggerMessage(EventId = 3023, Level = LogLevel.Warning, Message = "{Sink}: if the broker {Endpoint} is RabbitMQ 3.x (it refuses MQTT 5 this way), its MQTT plugin delivers '.' in a topic as '/': spBv1.0/... reaches host applications as spBv1/0/..., so they do not see this edge node; use another broker for Sparkplug B")]
    public static partial void SparkplugDotRewrite(ILogger logger, string sink, string endpoint);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "{Sink}: the broker refused the subscription to {Filter} ({ReasonCode}): {Consequence}")]
    public static partial void SubscriptionRefused(ILogger logger, string sink, string filter, string reasonCode, string consequence);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "{Sink}: the broker {Endpoint} accepts connections again: reconnecting now")]
    public static partial void BrokerReachable(ILogger logger, string sink, string endpoint);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "{Sink}: the probe of the broker's port failed: {Reason}; reconnecting on the backoff alone")]
    public static partial void ProbeFailed(ILogger logger, string sink, string reason);
}
