using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Channel;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// Makes MQTTnet's clients use a <see cref="CoalescingChannel"/> over its own TCP channel (TLS included). WebSocket
/// connections are not used by the gateway, and are left to MQTTnet's own factory. A factory serves one client: it
/// keeps the channel of the latest connection (<see cref="Latest"/>), through which the output publishes its data.
/// </summary>
public sealed class CoalescingAdapterFactory : IMqttClientAdapterFactory
{
    private readonly MqttClientAdapterFactory _default = new();

    /// <summary>Whether plain TCP connections use <see cref="BlockingTcpChannel"/> (true) or MQTTnet's own TCP channel.</summary>
    public bool UseBlockingReceive { get; init; } = true;

    /// <summary>The channel of the latest connection attempt; null before the first, or for a WebSocket connection.</summary>
    public CoalescingChannel? Latest { get; private set; }

    public IMqttChannelAdapter CreateClientAdapter(MqttClientOptions options, MqttPacketInspector packetInspector, IMqttNetLogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ChannelOptions is not MqttClientTcpOptions)
        {
            Latest = null;
            return _default.CreateClientAdapter(options, packetInspector, logger);
        }

        var formatter = new MqttPacketFormatterAdapter(options.ProtocolVersion, new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax));
        // Plain TCP: a socket kept blocking, received on the channel's own thread (BlockingTcpChannel); TLS: MQTTnet's channel.
        var tcp = (MqttClientTcpOptions)options.ChannelOptions;
        IMqttChannel inner = UseBlockingReceive && BlockingTcpChannel.Serves(tcp) ? new BlockingTcpChannel(tcp) : new MqttTcpChannel(options);
        var channel = new CoalescingChannel(inner, mqtt5: options.ProtocolVersion == MqttProtocolVersion.V500);
        Latest = channel;
        return new MqttChannelAdapter(channel, formatter, logger)
        {
            AllowPacketFragmentation = options.AllowPacketFragmentation,
            PacketInspector = packetInspector,
        };
    }
}
