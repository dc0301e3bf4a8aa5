using System.Device.Gpio;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Drivers.Gpio;
using Gateway.Northbound.Uns;
using Gateway.Tests.Abstractions;
using Gateway.Tests.Gpio;
using Gateway.Tests.Infrastructure;
using Gateway.Writes;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Formatter;

namespace Gateway.Tests.Integration;

/// <summary>
/// UNS writes to a GPIO output (the emulated chip: the only fake, it stands for the hardware) through a real mosquitto:
/// the UNS format's write side on its own MQTT connection, the gate, and the GPIO driver's real code.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class WritesGpioTests
{
    private const string Cell = "acme/lyon/assembly/line-1/cell";

    [Fact]
    public async Task UnsSet_DrivesAGpioOutput_ReadBackFromThePin_InputAndWrongTypeRefused()
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        var chip = new EmulatedGpioDriver();
        var (driverConfig, section) = PiTestKit.Driver("""
            { "name": "io", "type": "gpio", "machine": "cell", "pollIntervalMs": 1000,
              "tags": [ { "name": "horn", "address": "pin:22", "mode": "output", "writable": true, "minWriteIntervalMs": 0 },
                        { "name": "door", "address": "pin:27", "mode": "input" } ] }
            """);
        await using var driver = new GpioDriverFactory(_ => chip).Create(driverConfig, section, new DriverContext(TimeProvider.System, NullLoggerFactory.Instance));
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(new SampleCollector(), stop.Token);
        await Eventually.TrueAsync(() => driver.State == DriverState.Connected, "the GPIO chip open");

        var config = new GatewayConfig
        {
            Gateway = new GatewayIdentity { Id = "gw-test", Enterprise = "acme", Site = "lyon", Area = "assembly", Line = "line-1" },
            Drivers = [driverConfig],
        };
        var log = new RateLimitedLogTests.ListLogger();
        using var format = new UnsFormat(config, new WriteGate(config, new Catalog(driver), TimeProvider.System, log), log);
        var writes = format.Writes!;
        Assert.Contains(Cell + "/horn/set", writes.SetTopics);

        // The gateway's side of the connection: what MqttOutput does with the UNS format's write side.
        using var gatewayClient = new MqttClientFactory().CreateMqttClient();
        gatewayClient.ApplicationMessageReceivedAsync += e =>
        {
            writes.TryHandle(gatewayClient, e.ApplicationMessage);
            return Task.CompletedTask;
        };
        await gatewayClient.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithProtocolVersion(MqttProtocolVersion.V500).WithClientId("gateway-gw-test").Build());
        await writes.SubscribeAsync(gatewayClient, mqtt5: true, CancellationToken.None);
        await using var writer = await WriteClient.ConnectAsync(broker.Port);

        var on = await writer.SetAsync(Cell + "/horn", "true", clientName: "mes-1");
        Assert.Equal("Good", on.GetProperty("status").GetString());
        Assert.True(on.GetProperty("value").GetBoolean());
        Assert.Equal(PinValue.High, chip.Level(22));

        var off = await writer.SetPlainAsync(Cell + "/horn", "{\"value\": false}");
        Assert.Equal("Good", off.GetProperty("status").GetString());
        Assert.False(off.GetProperty("value").GetBoolean());
        Assert.Equal(PinValue.Low, chip.Level(22));

        var input = await writer.SetAsync(Cell + "/door", "true");
        Assert.Equal("BadNotWritable", input.GetProperty("status").GetString());
        var wrong = await writer.SetAsync(Cell + "/horn", "\"on\"");
        Assert.Equal("BadTypeMismatch", wrong.GetProperty("status").GetString());
        Assert.Contains("send true or false", wrong.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var two = await writer.SetAsync(Cell + "/horn", "2"); // the tag has no type: a GPIO line is still a bit
        Assert.Equal("BadTypeMismatch", two.GetProperty("status").GetString());
        Assert.Equal(PinValue.Low, chip.Level(22));

        Assert.Contains(log.Lines, l => l.Contains("write audit: cell/horn = true from uns " + Cell + "/horn/set (client mes-1) via driver io: Good, read back true", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains("write audit: cell/door = true from uns " + Cell + "/door/set (client -) refused: BadNotWritable", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains("write audit: cell/horn = \"on\" from uns " + Cell + "/horn/set (client -) refused: BadTypeMismatch", StringComparison.Ordinal));

        await gatewayClient.DisconnectAsync();
        await stop.CancelAsync();
        await run;
    }

    private sealed class Catalog(params IDriver[] drivers) : IDriverCatalog
    {
        public IReadOnlyList<IDriver> Drivers { get; } = drivers;
    }
}
