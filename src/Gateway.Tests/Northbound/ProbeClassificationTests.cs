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
}
