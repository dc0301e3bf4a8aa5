using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;

namespace Gateway.Northbound;

/// <summary>
/// The broker answered a publication with an MQTT 5 reason code of 0x80 or more (PUBACK or PUBREC): it did not
/// take the message. The sample stays in the buffer (it was not acknowledged) and is offered again later.
/// </summary>
public sealed class PublishRefusedException(string topic, MqttClientPublishReasonCode code, string? reason, string? username)
    : Exception($"the broker refused the publication to '{topic}': {code} (0x{(int)code:X2}){(string.IsNullOrEmpty(reason) ? "" : " \"" + reason + "\"")}{Hint(code, username)}")
{
    public string Topic { get; } = topic;

    public MqttClientPublishReasonCode Code { get; } = code;

    public static bool IsRefusal(MqttClientPublishResult result) => (int)result.ReasonCode >= 0x80;

    private static string Hint(MqttClientPublishReasonCode code, string? username) => code switch
    {
        MqttClientPublishReasonCode.NotAuthorized => username is null
            ? " - the broker's ACL does not let anonymous clients publish there (set mqtt.username, or grant write access to the topic)"
            : $" - the broker's ACL does not let user '{username}' publish there (grant write access to the topic)",
        MqttClientPublishReasonCode.TopicNameInvalid => " - the broker does not accept this topic name (check mqtt.topicPrefix, the Sparkplug ids and the tag paths)",
        MqttClientPublishReasonCode.QuotaExceeded => " - a broker quota is exceeded (messages in flight or queued for this client)",
        MqttClientPublishReasonCode.PayloadFormatInvalid => " - the broker refuses the payload format",
        _ => " - see the broker's log",
    };
}

/// <summary>A message larger than the Maximum Packet Size the broker announced: sending it would only get the connection closed.</summary>
public sealed class MessageTooLargeException(string topic, long size, long maximum)
    : Exception(string.Create(CultureInfo.InvariantCulture, $"the message to '{topic}' is {size} bytes, over the {maximum}-byte maximum packet size the broker announced (mosquitto: max_packet_size) - raise the broker's limit"))
{
}

/// <summary>Turns the exceptions of a failed connection into one line that says what to check.</summary>
internal static class MqttFailureExplainer
{
    /// <summary>
    /// Why a CONNECT failed. <paramref name="tlsRejection"/> is what our certificate check said when it refused the
    /// broker's certificate; <paramref name="tlsAccepted"/> that the broker's certificate was checked and accepted,
    /// so that the TLS handshake got as far as our side's part.
    /// </summary>
    public static string Connect(Exception? exception, bool tls, string? tlsRejection, bool tlsAccepted, bool clientCertificate, string endpoint, bool mqtt5)
    {
        if (tlsRejection is not null)
        {
            return "TLS: " + tlsRejection;
        }

        switch (exception)
        {
            case null:
                return "unknown error";
            case BrokerRefusedException refused:
                return refused.Message;
        }

        var cause = exception.GetBaseException().Message;
        var dropped = IsConnectionDrop(exception);
        if (tls && tlsAccepted && dropped)
        {
            // TLS 1.3 servers check the client certificate after the client has finished its side of the handshake:
            // a refusal reaches the client only as a closed connection.
            return clientCertificate
                ? $"the broker closed the connection right after the TLS handshake ({cause}) - it probably does not trust the client certificate in mqtt.tls.certFile (its issuer must be in the broker's cafile), or it refuses this client (see the broker's log)"
                : $"the broker closed the connection right after the TLS handshake ({cause}) - it probably requires a client certificate: set mqtt.tls.certFile and mqtt.tls.keyFile";
        }

        if (tls && !tlsAccepted && Find<AuthenticationException>(exception) is { } handshake)
        {
            return $"the TLS handshake with {endpoint} failed ({handshake.InnerException?.Message ?? handshake.Message}) - check that this port is a TLS listener and that it offers TLS 1.2 or 1.3";
        }

        if (tls && !tlsAccepted && dropped)
        {
            return $"the broker closed the connection during the TLS handshake ({cause}) - check that this port is a TLS listener, offering TLS 1.2 or 1.3{(clientCertificate ? "" : ", and whether it requires a client certificate (mqtt.tls.certFile and mqtt.tls.keyFile)")}";
        }

        if (!tls && dropped && exception is MqttConnectingFailedException)
        {
            return mqtt5
                ? $"the broker closed the connection before answering CONNECT ({cause}) - a broker that speaks only MQTT 3.1.1 (RabbitMQ 3.10) does that to an MQTT 5 CONNECT: set mqtt.protocolVersion to \"3.1.1\" (or leave mqtt.protocolFallback on); or is this a TLS-only port (set mqtt.tls)? see the broker's log"
                : $"the broker closed the connection before answering CONNECT ({cause}) - a TLS-only port (set mqtt.tls), or a refusal that MQTT 3.1.1 cannot express (will QoS or retain over the broker's max_qos / retain_available; see the broker's log)";
        }

        return cause;
    }

    public static bool IsConnectionDrop(Exception exception) =>
        Find<SocketException>(exception) is not null
        || Find<IOException>(exception) is not null
        || Find<MqttCommunicationException>(exception) is not null;

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>One line for why a session with the broker ended.</summary>
    public static string Describe(Exception? exception) => exception switch
    {
        null => "unknown error",
        PublishRefusedException or MessageTooLargeException or SessionFailedException => exception.Message,
        MQTTnet.Exceptions.MqttClientUnexpectedDisconnectReceivedException disconnect when disconnect.ReasonCode == MQTTnet.Protocol.MqttDisconnectReasonCode.PacketTooLarge =>
            "the broker closed the connection: a packet was over its maximum size (mosquitto: max_packet_size)",
        MQTTnet.Exceptions.MqttClientUnexpectedDisconnectReceivedException disconnect when disconnect.ReasonCode == MQTTnet.Protocol.MqttDisconnectReasonCode.NotAuthorized =>
            "the broker closed the connection: not authorised (its ACL)",
        MQTTnet.Exceptions.MqttClientUnexpectedDisconnectReceivedException disconnect =>
            $"the broker closed the connection: {disconnect.ReasonCode}{(string.IsNullOrEmpty(disconnect.ReasonString) ? "" : " (" + disconnect.ReasonString + ")")}",
        MQTTnet.Adapter.MqttConnectingFailedException connecting => $"connection refused by the broker: {connecting.Message}",
        BrokerRefusedException refused => refused.Message,
        _ => exception.GetBaseException().Message,
    };
}

/// <summary>The broker answered CONNECT with a refusal (bad credentials, not authorised, banned...).</summary>
public sealed class BrokerRefusedException(MqttClientConnectResultCode code, string? reason)
    : Exception($"connection refused by the broker: {Name(code)}{(string.IsNullOrEmpty(reason) ? "" : " (" + reason + ")")}{Hint(code)}")
{
    /// <summary>
    /// A 3.1.1 broker answers an MQTT 5 CONNECT with a 3.1.1 CONNACK, return code 1 "unacceptable protocol version"
    /// (aedes does); MQTTnet, decoding it as MQTT 5, reports the bare value 1, which is no MQTT 5 reason code.
    /// </summary>
    internal const MqttClientConnectResultCode UnacceptableProtocolVersion311 = (MqttClientConnectResultCode)1;

    private static string Name(MqttClientConnectResultCode code) =>
        code == UnacceptableProtocolVersion311 ? "unacceptable protocol version (a 3.1.1 CONNACK, return code 1)" : code.ToString();

    private static string Hint(MqttClientConnectResultCode code) => code switch
    {
        UnacceptableProtocolVersion311 => " - the broker speaks only MQTT 3.1.1 (aedes, RabbitMQ 3.10): set mqtt.protocolVersion to \"3.1.1\" (or leave mqtt.protocolFallback on)",
        MqttClientConnectResultCode.BadUserNameOrPassword or MqttClientConnectResultCode.NotAuthorized => " - check mqtt.username and mqtt.passwordFile",
        MqttClientConnectResultCode.ClientIdentifierNotValid => " - check mqtt.clientId",
        MqttClientConnectResultCode.QoSNotSupported => " - the broker allows QoS 0 only (mosquitto: max_qos 0); the gateway needs QoS 1 acknowledgements to release samples from the buffer, so they stay buffered",
        MqttClientConnectResultCode.RetainNotSupported => " - the broker has no retained messages (mosquitto: retain_available false); the next attempt does without",
        MqttClientConnectResultCode.Banned => " - this client is banned by the broker",
        MqttClientConnectResultCode.ServerUnavailable or MqttClientConnectResultCode.ServerBusy => " - the broker is not taking connections now",
        MqttClientConnectResultCode.UnsupportedProtocolVersion => " - the broker does not speak this MQTT version (aedes and RabbitMQ 3.10 speak 3.1.1 only): set mqtt.protocolVersion to \"3.1.1\" (or leave mqtt.protocolFallback on)",
        MqttClientConnectResultCode.PacketTooLarge => " - the CONNECT packet is over the broker's maximum packet size",
        _ => "",
    };

    public MqttClientConnectResultCode Code { get; } = code;
}

/// <summary>A connection whose session failed before the buffer advanced: the next attempt waits longer.</summary>
public sealed class SessionFailedException(string message, Exception inner) : Exception(message, inner);
