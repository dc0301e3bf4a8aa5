using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Diagnostics.PacketInspection;
using MQTTnet.Formatter;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// MQTT 5 first, 3.1.1 when the broker refuses 5. Brokers that speak only 3.1.1 refuse a v5 CONNECT in one of two ways:
/// a 3.1.1 CONNACK with return code 1 "unacceptable protocol version" (aedes, mosquitto with a 3.1.1-only listener),
/// or by closing the connection without any answer (RabbitMQ 3.10's MQTT plugin). Either way the output connects again
/// at once in 3.1.1; once that works it stays on 3.1.1 for its lifetime (one warning), and what needs MQTT 5 degrades:
/// no PUBACK reason codes (a denied publication is acknowledged and dropped), no broker limits from the CONNACK.
/// <c>mqtt.protocolFallback: false</c> or <c>mqtt.protocolVersion: "3.1.1"</c> pin the version.
/// </summary>
internal static class MqttProtocolFallback
{
    /// <summary>
    /// Connects with the options <paramref name="buildOptions"/> makes, in the version <see cref="MqttOutputContext.Mqtt5"/>
    /// says; after a refusal of MQTT 5, connects again in 3.1.1. Throws or returns what the connection attempt gave
    /// (the v5 attempt's failure when 3.1.1 did not get an answer either).
    /// </summary>
    public static async Task<MqttClientConnectResult> ConnectAsync(IMqttClient client, Func<MqttClientOptions> buildOptions, MqttOutputContext context, ILogger logger, string endpoint, CancellationToken cancellationToken)
    {
        var mayFallBack = context.Mqtt5 && context.Config.Mqtt.ProtocolFallback;
        var watch = mayFallBack ? new ConnectWatch(client) : null;
        try
        {
            var result = await ConnectOnceAsync(client, buildOptions, context, cancellationToken);
            if (watch is not null && IsVersionRefusal(result.ResultCode, watch))
            {
                watch.Dispose();
                var how = result.ResultCode == MqttClientConnectResultCode.UnsupportedProtocolVersion
                    ? "it answered the MQTT 5 CONNECT with \"unsupported protocol version\""
                    : "it answered the MQTT 5 CONNECT with a 3.1.1 CONNACK, return code 1 \"unacceptable protocol version\"";
                return await FallBackAsync(client, buildOptions, context, logger, endpoint, how, () => result, cancellationToken);
            }

            return result;
        }
        catch (Exception ex) when (watch is not null && !cancellationToken.IsCancellationRequested && Refusal(ex, watch) is { } how)
        {
            watch.Dispose();
            return await FallBackAsync(client, buildOptions, context, logger, endpoint, how, () => { ExceptionDispatchInfo.Throw(ex); return null!; }, cancellationToken);
        }
        finally
        {
            watch?.Dispose();
        }
    }

    private static async Task<MqttClientConnectResult> FallBackAsync(IMqttClient client, Func<MqttClientOptions> buildOptions, MqttOutputContext context, ILogger logger, string endpoint, string how, Func<MqttClientConnectResult> original, CancellationToken cancellationToken)
    {
        context.Mqtt5 = false;
        MqttClientConnectResult result;
        try
        {
            result = await ConnectOnceAsync(client, buildOptions, context, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // No answer in 3.1.1 either: not a version problem (a TLS-only port, a broker going down). Report the v5 failure.
            context.Mqtt5 = true;
            return original();
        }

        if (result.ResultCode == MqttClientConnectResultCode.UnsupportedProtocolVersion)
        {
            context.Mqtt5 = true;
            return original();
        }

        // Any answer in 3.1.1, a refusal included (bad credentials, not authorised): the broker speaks 3.1.1.
        Announce(context, logger, endpoint, how);
        return result;
    }

    private const string ClosedOnConnect = "it closed the connection on the MQTT 5 CONNECT without answering";

    private static void Announce(MqttOutputContext context, ILogger logger, string endpoint, string how)
    {
        MqttLog.FellBackTo311(logger, context.SinkName, endpoint, how);
        if (how == ClosedOnConnect && context.SinkName == Sparkplug.SparkplugFormat.Name)
        {
            // Measured on RabbitMQ 3.10, the broker that refuses MQTT 5 this way: its MQTT plugin delivers a topic's '.'
            // as '/', so spBv1.0/... reaches host applications as spBv1/0/... and they do not see this node.
            MqttLog.SparkplugDotRewrite(logger, context.SinkName, endpoint);
        }

        MqttLog.Mqtt5FeaturesOff(
            logger,
            context.SinkName,
            context.Config.Mqtt.Username is { } user
                ? $"publications its ACL denies for user '{user}' are acknowledged and dropped silently (no PUBACK reason codes), so samples could leave the buffer undelivered: check the user's write access"
                : "a publication the broker refuses is acknowledged and dropped silently (no PUBACK reason codes)",
            context.Config.Mqtt.Qos == 2 ? "; mqtt.qos 2 needs the broker to implement QoS 2 (RabbitMQ answers with PUBACK: set mqtt.qos to 1)" : "");
    }

    private static Task<MqttClientConnectResult> ConnectOnceAsync(IMqttClient client, Func<MqttClientOptions> buildOptions, MqttOutputContext context, CancellationToken cancellationToken)
    {
        var options = buildOptions();
        options.ProtocolVersion = context.Mqtt5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311;
        return client.ConnectAsync(options, cancellationToken);
    }

    private static bool IsVersionRefusal(MqttClientConnectResultCode code, ConnectWatch watch) =>
        code is MqttClientConnectResultCode.UnsupportedProtocolVersion or BrokerRefusedException.UnacceptableProtocolVersion311 || watch.AnsweredUnacceptableVersion;

    /// <summary>How the broker refused MQTT 5, or null when the failure is something else.</summary>
    private static string? Refusal(Exception exception, ConnectWatch watch)
    {
        if (watch.AnsweredUnacceptableVersion)
        {
            return "it answered CONNECT with a 3.1.1 CONNACK \"unacceptable protocol version\"";
        }

        if (watch.ConnectSent && !watch.AnythingReceived && MqttFailureExplainer.IsConnectionDrop(exception))
        {
            return ClosedOnConnect;
        }

        return null;
    }

    /// <summary>Watches the packets of one connection attempt: was CONNECT sent, did anything come back, and what.</summary>
    private sealed class ConnectWatch : IDisposable
    {
        private readonly IMqttClient _client;
        private bool _disposed;

        public ConnectWatch(IMqttClient client)
        {
            _client = client;
            client.InspectPacketAsync += Inspect;
        }

        public bool ConnectSent { get; private set; }

        public bool AnythingReceived { get; private set; }

        /// <summary>A 3.1.1 CONNACK (two bytes of body) with return code 1: the broker cannot speak our version.</summary>
        public bool AnsweredUnacceptableVersion { get; private set; }

        private Task Inspect(InspectMqttPacketEventArgs args)
        {
            if (args.Direction == MqttPacketFlowDirection.Outbound && args.Buffer is [0x10, ..])
            {
                ConnectSent = true;
            }
            else if (args.Direction == MqttPacketFlowDirection.Inbound)
            {
                AnythingReceived = true;
                if (args.Buffer is [0x20, 0x02, _, 0x01])
                {
                    AnsweredUnacceptableVersion = true;
                }
            }

            return Task.CompletedTask;
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _client.InspectPacketAsync -= Inspect;
            }
        }
    }
}
