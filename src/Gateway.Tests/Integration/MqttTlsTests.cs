using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Integration;

/// <summary>
/// A mosquitto with three listeners: plain anonymous (for the test's subscriber), TLS with a password file,
/// and TLS that also requires a client certificate. Its certificate names only <c>localhost</c>.
/// </summary>
public sealed class SecureBrokerFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gw-tls-").FullName;

    public Mosquitto Broker { get; private set; } = null!;

    public TestCertificates Good { get; private set; } = null!;

    public TestCertificates Other { get; private set; } = null!;

    public int TlsPort { get; } = PortAllocator.FreeTcpPort();

    public int MutualTlsPort { get; } = PortAllocator.FreeTcpPort();

    public string PasswordFile => Path.Combine(_directory, "gateway.password");

    public string WrongPasswordFile => Path.Combine(_directory, "wrong.password");

    public async Task InitializeAsync()
    {
        Good = TestCertificates.Create(_directory, "good", "localhost");
        Other = TestCertificates.Create(_directory, "other", "localhost");
        var passwd = Path.Combine(_directory, "passwd");
        using (var tool = Process.Start("mosquitto_passwd", ["-b", "-c", passwd, "gwuser", "s3cret-pass"]))
        {
            await tool!.WaitForExitAsync();
        }

        await File.WriteAllTextAsync(PasswordFile, "s3cret-pass\n");
        await File.WriteAllTextAsync(WrongPasswordFile, "not-the-password\n");
        var tls = $"""
            password_file {passwd}
            cafile {Good.CaFile}
            certfile {Good.ServerCertFile}
            keyfile {Good.ServerKeyFile}
            tls_version tlsv1.2
            """;
        Broker = new Mosquitto(listeners: $"""
            per_listener_settings true
            listener {"{PORT}"} 127.0.0.1
            allow_anonymous true
            listener {TlsPort} 127.0.0.1
            allow_anonymous false
            {tls}
            listener {MutualTlsPort} 127.0.0.1
            allow_anonymous false
            require_certificate true
            {tls}
            """);
        await Broker.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Broker.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

[Collection(nameof(ProcessTests))]
public sealed class MqttTlsTests(SecureBrokerFixture fixture) : IClassFixture<SecureBrokerFixture>
{
    [Theory]
    [InlineData("5")]
    [InlineData("3.1.1")]
    public async Task Tls_WithCaFileAndPassword_DeliversSamples(string protocolVersion)
    {
        await using var collector = new MqttCollector(fixture.Broker.Port, "acme/+/+/+/m1/total-count");
        await collector.StartAsync();
        using var config = Config("localhost", fixture.TlsPort, fixture.Good.CaFile, fixture.PasswordFile);
        config.Root["mqtt"]!["protocolVersion"] = protocolVersion;
        config.Root["mqtt"]!["clientId"] = "tls-" + protocolVersion;

        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await collector.WaitUntilAsync(m => m.Count >= 5, TimeSpan.FromSeconds(20), "samples over TLS");
        Assert.DoesNotContain("s3cret-pass", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPassword_IsRefusedWithAClearError_AndSamplesStayBuffered()
    {
        using var config = Config("localhost", fixture.TlsPort, fixture.Good.CaFile, fixture.WrongPasswordFile);

        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 50, TimeSpan.FromSeconds(20));
        // mosquitto answers a wrong password with Not authorized (MQTT 5: 0x87; 3.1.1: 5).
        await WaitForLogAsync(gateway, "connection refused by the broker: NotAuthorized - check mqtt.username and mqtt.passwordFile");
        Assert.Contains("cannot connect to MQTT broker localhost:" + fixture.TlsPort.ToString(CultureInfo.InvariantCulture), gateway.Output, StringComparison.Ordinal);
        Assert.Contains("samples kept in the buffer", gateway.Output, StringComparison.Ordinal);
        Assert.Equal(0, await gateway.MetricAsync("gateway_mqtt_connected"));
        Assert.DoesNotContain("not-the-password", gateway.Output, StringComparison.Ordinal);
        var before = await gateway.MetricAsync("gateway_buffer_samples");
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > before, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task WrongCa_IsRefusedWithAClearError_AndSamplesStayBuffered()
    {
        using var config = Config("localhost", fixture.TlsPort, fixture.Other.CaFile, fixture.PasswordFile);

        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 50, TimeSpan.FromSeconds(20));
        await WaitForLogAsync(gateway, "is not signed by the CA in mqtt.tls.caFile");
        Assert.Equal(0, await gateway.MetricAsync("gateway_mqtt_connected"));
    }

    [Fact]
    public async Task ClientCertificate_IsPresentedToABrokerThatRequiresOne()
    {
        await using var collector = new MqttCollector(fixture.Broker.Port, "acme/+/+/+/m1/total-count");
        await collector.StartAsync();
        using var config = Config("localhost", fixture.MutualTlsPort, fixture.Good.CaFile, fixture.PasswordFile);
        config.Root["mqtt"]!["tls"]!["certFile"] = fixture.Good.ClientCertFile;
        config.Root["mqtt"]!["tls"]!["keyFile"] = fixture.Good.ClientKeyFile;
        config.Root["mqtt"]!["clientId"] = "mtls";

        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await collector.WaitUntilAsync(m => m.Count >= 5, TimeSpan.FromSeconds(20), "samples over mutual TLS");
    }

    [Fact]
    public async Task HostnameVerification_RefusesABrokerCertificateThatDoesNotNameTheHost()
    {
        using var config = Config("127.0.0.1", fixture.TlsPort, fixture.Good.CaFile, fixture.PasswordFile);

        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await WaitForLogAsync(gateway, "does not name '127.0.0.1'");
        Assert.Equal(0, await gateway.MetricAsync("gateway_mqtt_connected"));
    }

    [Fact]
    public async Task HostnameVerification_TurnedOff_AcceptsTheBrokerByItsAddress()
    {
        await using var collector = new MqttCollector(fixture.Broker.Port, "acme/+/+/+/m1/total-count");
        await collector.StartAsync();
        using var config = Config("127.0.0.1", fixture.TlsPort, fixture.Good.CaFile, fixture.PasswordFile);
        config.Root["mqtt"]!["tls"]!["verifyHostname"] = false;
        config.Root["mqtt"]!["clientId"] = "no-hostname-check";

        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await collector.WaitUntilAsync(m => m.Count >= 5, TimeSpan.FromSeconds(20), "samples with hostname verification off");
    }

    private static TestConfig Config(string host, int port, string caFile, string passwordFile)
    {
        var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200);
        config.Root["mqtt"] = new JsonObject
        {
            ["host"] = host,
            ["port"] = port,
            ["username"] = "gwuser",
            ["passwordFile"] = passwordFile,
            ["maxReconnectDelayMs"] = 1000,
            ["tls"] = new JsonObject { ["caFile"] = caFile },
        };
        return config;
    }

    private static Task WaitForLogAsync(GatewayProcess gateway, string text) =>
        Eventually.LogAsync(gateway, text);
}
