using System.Net;
using System.Net.Sockets;
using Gateway.Northbound.Mqtt;
using Gateway.Tests.Infrastructure;
using MQTTnet;

namespace Gateway.Tests.Northbound;

public sealed class ProbeClassificationTests
{
    [Fact]
    public async Task ARefusedConnection_CountsAsUnreachable_SoThatTheProbeRuns()
    {
        using var client = new MqttClientFactory().CreateMqttClient(new CoalescingAdapterFactory());
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", PortAllocator.FreeTcpPort()).WithTimeout(TimeSpan.FromSeconds(5)).Build();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(options));

        Assert.True(MqttOutput.IsUnreachable(failure), failure.ToString());
    }

    [Fact]
    public async Task ABrokerThatAcceptsTcpButNeverAnswersConnect_DoesNotCountAsUnreachable_SoTheBackoffHolds()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptTcpClientAsync();
        using var client = new MqttClientFactory().CreateMqttClient(new CoalescingAdapterFactory());
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port).WithTimeout(TimeSpan.FromMilliseconds(500)).Build();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(options));
        using var accepted = await accepting;

        Assert.False(MqttOutput.IsUnreachable(failure), failure.ToString());
    }

    [Fact]
    public async Task ABrokerThatAcceptsTcpButNeverAnswersTheTlsHandshake_DoesNotCountAsUnreachable_SoTheBackoffHolds()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptTcpClientAsync();
        using var client = new MqttClientFactory().CreateMqttClient(new CoalescingAdapterFactory());
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port)
            .WithTlsOptions(tls => tls.UseTls())
            .WithTimeout(TimeSpan.FromMilliseconds(500))
            .Build();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(options));
        using var accepted = await accepting;

        // With MQTTnet 5.2 (as with a hung CONNECT) this fails as "Connection closed", not as a timeout.
        Assert.False(MqttOutput.IsUnreachable(failure), failure.ToString());
    }
}
