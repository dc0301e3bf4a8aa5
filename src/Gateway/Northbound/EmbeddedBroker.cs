using System.Net;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Server;

namespace Gateway.Northbound;

/// <summary>
/// MQTTnet's broker on 127.0.0.1:<c>mqtt.port</c>, started when the configuration names no broker:
/// the laptop demo and the bootcamp lab need nothing else installed. Loopback only, so no credentials.
/// </summary>
public sealed class EmbeddedBroker(IOptions<GatewayConfig> options, ILogger<EmbeddedBroker> logger) : IHostedService, IAsyncDisposable
{
    private static readonly System.Reflection.FieldInfo? s_connectPacket = typeof(ValidatingConnectionEventArgs)
        .GetFields(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
        .FirstOrDefault(f => f.FieldType == typeof(MQTTnet.Packets.MqttConnectPacket));

    private MqttServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var mqtt = options.Value.Mqtt;
        if (mqtt.Host is not null)
        {
            return;
        }

        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(mqtt.Port)
            .Build();
        _server = new MqttServerFactory(new MqttNetLoggerBridge(logger)).CreateMqttServer(serverOptions);
        _server.ValidatingConnectionAsync += args =>
        {
            // MQTT 3.1.1 (3.1.3.1) lets a clean-session client send an empty id, which mosquitto_sub does by
            // default; MQTTnet assigns ids only under MQTT 5, so the packet is given one here.
            if (string.IsNullOrEmpty(args.ClientId) && args.CleanSession != false)
            {
                var id = "auto-" + Guid.NewGuid().ToString("N")[..16];
                args.AssignedClientIdentifier = id;
                if (s_connectPacket?.GetValue(args) is MQTTnet.Packets.MqttConnectPacket packet)
                {
                    packet.ClientId = id;
                }
            }

            return Task.CompletedTask;
        };
        try
        {
            await _server.StartAsync();
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            // Typically Debian's mosquitto service, installed by the test script: publish to it rather than
            // refuse to start. If it is not an MQTT broker, the publishers say so and keep buffering.
            _server.Dispose();
            _server = null;
            EmbeddedBrokerLog.PortTaken(logger, mqtt.Port);
            return;
        }

        EmbeddedBrokerLog.Started(logger, mqtt.Port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync();
        }
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal static partial class EmbeddedBrokerLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Embedded MQTT broker listening on 127.0.0.1:{Port}")]
    public static partial void Started(ILogger logger, int port);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Port 127.0.0.1:{Port} is already in use (a mosquitto service?): the embedded broker is not started and the gateway publishes to the broker listening there. Set mqtt.host, or mqtt.port for another port.")]
    public static partial void PortTaken(ILogger logger, int port);
}
