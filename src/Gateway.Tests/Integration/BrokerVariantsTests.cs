using System.Diagnostics;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Integration;

/// <summary>
/// Brokers set up differently from the happy path: ACLs that deny topics, a small Receive Maximum, a maximum
/// packet size, no retained messages, QoS 0 only. Whatever the broker refuses stays in the buffer.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class BrokerVariantsTests
{
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(60);

    [Theory]
    // Only the status topic: the history topic beside it (…/_gateway/<id>/history) carries data, the backlog.
    [InlineData("uns", "topic readwrite acme/lyon/assembly/line-1/_gateway/gw-test/status")]
    [InlineData("sparkplugb", "topic readwrite spBv1.0/lyon/NBIRTH/#\ntopic readwrite spBv1.0/lyon/NDEATH/#\ntopic readwrite spBv1.0/lyon/DBIRTH/#\ntopic readwrite spBv1.0/lyon/NCMD/#\ntopic readwrite spBv1.0/lyon/DCMD/#")]
    public async Task Mqtt5_AclDeniesTheDataTopics_SamplesStayBuffered_AndAreDeliveredOnceAllowed(string format, string allowed)
    {
        var directory = Directory.CreateTempSubdirectory("gw-acl-").FullName;
        try
        {
            var acl = Path.Combine(directory, "acl");
            await File.WriteAllTextAsync(acl, "user gwuser\n" + allowed + "\n");
            var passwd = await PasswordFileAsync(directory);
            var aclPort = PortAllocator.FreeTcpPort();
            await using var broker = new Mosquitto(listeners: $"""
                per_listener_settings true
                listener {"{PORT}"} 127.0.0.1
                allow_anonymous true
                listener {aclPort} 127.0.0.1
                allow_anonymous false
                password_file {passwd}
                acl_file {acl}
                """);
            await broker.StartAsync();
            // The counter's live topic and the history topic, where the backlog goes once the ACL allows it.
            await using var collector = new MqttCollector(broker.Port, "acme/#");
            await collector.StartAsync();
            using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200, stopAfterSeconds: 10).WithBroker(aclPort);
            config.Root["mqtt"]!["format"] = format;
            config.Root["mqtt"]!["username"] = "gwuser";
            config.Root["mqtt"]!["passwordFile"] = Path.Combine(directory, "gateway.password");
            await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
            await gateway.StartAsync();

            await WaitForLogAsync(gateway, "NotAuthorized (0x87) - the broker's ACL does not let user 'gwuser' publish there");
            await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 30, s_long);
            Assert.Equal(0, await gateway.MetricAsync("gateway_buffer_dropped_samples_total"));

            await File.WriteAllTextAsync(acl, "user gwuser\ntopic readwrite #\n");
            await broker.ReloadAsync();

            await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, s_long);
            // The line may still be producing (it stops after 10 s): a sample read between the two scrapes is
            // published before the second one, so compare until both agree (a lost sample never lets them).
            var published = $"gateway_samples_published_total{{sink=\"mqtt-{(format == "uns" ? "uns" : "sparkplug")}\"}}";
            double buffered = 0, sent = 0;
            await Eventually.TrueAsync(
                async () =>
                {
                    buffered = await gateway.MetricAsync("gateway_samples_buffered_total");
                    sent = await gateway.MetricAsync(published);
                    return sent == buffered && buffered == await gateway.MetricAsync("gateway_samples_buffered_total");
                },
                () => $"published {sent} of {buffered} buffered samples",
                s_long);
            if (format == "uns")
            {
                // Every counter value, from the first to the last, reached the subscriber: none was dropped.
                static IEnumerable<long> Counter(IEnumerable<Received> messages) =>
                    Gateway.Tests.Northbound.UnsHistory.Flatten(messages).Where(m => m.Sample.Topic.EndsWith("/m1/total-count", StringComparison.Ordinal)).Select(m => m.Sample.LongValue);
                await collector.WaitUntilAsync(m => Counter(m).Count() > 20, s_long, "the counter after the ACL allowed it");
                var values = Counter(collector.Messages).Distinct().Order().ToList();
                Assert.Equal(Enumerable.Range((int)values[0], values.Count).Select(v => (long)v), values);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Mqtt5_Qos2_WithinTheBrokersReceiveMaximum_NothingIsRefused()
    {
        await using var broker = new Mosquitto(extraConfig: "max_inflight_messages 5");
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 100, stopAfterSeconds: 6).WithBroker(broker.Port);
        config.Root["mqtt"]!["qos"] = 2;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        // A backlog: far more publications than the broker's Receive Maximum of 5 are ready at once.
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 200, s_long);
        await broker.StartAsync();

        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, s_long);

        Assert.DoesNotContain("QuotaExceeded", gateway.Output, StringComparison.Ordinal);
        Assert.Contains("the broker allows 5 publications in flight", gateway.Output, StringComparison.Ordinal);
        Assert.Equal(await gateway.MetricAsync("gateway_samples_buffered_total"), await gateway.MetricAsync("gateway_samples_published_total{sink=\"mqtt-uns\"}"));
    }

    [Fact]
    public async Task Sparkplug_Mqtt5_BrokerMaximumPacketSize_DataIsSplit_AndTheBacklogIsDelivered()
    {
        await using var broker = new Mosquitto(extraConfig: "max_packet_size 1000");
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 100, stopAfterSeconds: 6).WithBroker(broker.Port);
        config.Root["mqtt"]!["format"] = "sparkplugb";
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        // A backlog of hundreds of samples of one machine: one DDATA of them would be several kilobytes.
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 200, s_long);
        await broker.StartAsync();

        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v == 0, s_long);

        Assert.Contains("packets up to 1000 bytes", gateway.Output, StringComparison.Ordinal);
        Assert.Equal(await gateway.MetricAsync("gateway_samples_buffered_total"), await gateway.MetricAsync("gateway_samples_published_total{sink=\"mqtt-sparkplug\"}"));
        Assert.Equal(1, await gateway.MetricAsync("gateway_sink_connects_total{sink=\"mqtt-sparkplug\"}"));
    }

    [Fact]
    public async Task Mqtt5_BrokerWithoutRetainedMessages_StillDeliversSamples()
    {
        await using var broker = new Mosquitto(extraConfig: "retain_available false");
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/+/+/+/m1/total-count");
        await collector.StartAsync();
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await collector.WaitUntilAsync(m => m.Count >= 5, s_long, "samples from a broker without retain");
        Assert.Contains("has no retained messages", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mqtt311_WithCredentials_WarnsAtStartThatAclDenialsAreSilent_AndStillPublishes()
    {
        var directory = Directory.CreateTempSubdirectory("gw-311-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "gateway.password"), "s3cret-pass\n");
            await using var broker = new Mosquitto();
            await broker.StartAsync();
            // The counter's live topic and the history topic, where the backlog goes once the ACL allows it.
            await using var collector = new MqttCollector(broker.Port, "acme/#");
            await collector.StartAsync();
            using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
            config.Root["mqtt"]!["protocolVersion"] = "3.1.1";
            config.Root["mqtt"]!["username"] = "gwuser";
            config.Root["mqtt"]!["passwordFile"] = Path.Combine(directory, "gateway.password");
            await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
            await gateway.StartAsync();

            await WaitForLogAsync(gateway, "mqtt-uns: MQTT 3.1.1 with user 'gwuser'");
            Assert.Contains("silently drops publications its ACL denies", gateway.Output, StringComparison.Ordinal);
            await collector.WaitUntilAsync(m => m.Count >= 5, s_long, "samples over MQTT 3.1.1");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task BrokerAllowingQos0Only_IsReportedClearly_AndSamplesStayBuffered()
    {
        await using var broker = new Mosquitto(extraConfig: "max_qos 0");
        await broker.StartAsync();
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200).WithBroker(broker.Port);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await WaitForLogAsync(gateway, "QoSNotSupported - the broker allows QoS 0 only");
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 30, s_long);
        Assert.Equal(0, await gateway.MetricAsync("gateway_mqtt_connected"));
        Assert.Equal(0, await gateway.MetricAsync("gateway_buffer_dropped_samples_total"));
    }

    internal static async Task<string> PasswordFileAsync(string directory)
    {
        var passwd = Path.Combine(directory, "passwd");
        using (var tool = Process.Start("mosquitto_passwd", ["-b", "-c", passwd, "gwuser", "s3cret-pass"]))
        {
            await tool!.WaitForExitAsync();
        }

        await File.WriteAllTextAsync(Path.Combine(directory, "gateway.password"), "s3cret-pass\n");
        return passwd;
    }

    internal static Task WaitForLogAsync(GatewayProcess gateway, string text) =>
        Eventually.LogAsync(gateway, text);
}

/// <summary>
/// A company PKI: root CA, intermediate CA, broker certificates naming only a DNS name or only an address, a TLS
/// 1.3-only listener that requires client certificates. One mosquitto, one listener per variant.
/// </summary>
public sealed class ChainedPkiBrokerFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gw-pki-").FullName;

    public Mosquitto Broker { get; private set; } = null!;

    public ChainedCertificates Dns { get; private set; } = null!;

    public ChainedCertificates Address { get; private set; } = null!;

    /// <summary>Sends its certificate and the intermediate CA; names only DNS:localhost.</summary>
    public int ChainPort { get; } = PortAllocator.FreeTcpPort();

    /// <summary>
    /// Sends its certificate alone (a common misconfiguration). Its cafile holds only the root: OpenSSL would
    /// otherwise complete the chain it sends from the intermediate found there.
    /// </summary>
    public int LeafOnlyPort { get; } = PortAllocator.FreeTcpPort();

    /// <summary>Names only IP:127.0.0.1.</summary>
    public int AddressPort { get; } = PortAllocator.FreeTcpPort();

    /// <summary>TLS 1.3 only, client certificate required.</summary>
    public int MutualTls13Port { get; } = PortAllocator.FreeTcpPort();

    public string PasswordFile => Path.Combine(_directory, "gateway.password");

    public async Task InitializeAsync()
    {
        Dns = TestCertificates.CreateChained(_directory, "dns", "localhost");
        Address = TestCertificates.CreateChained(_directory, "ip", "127.0.0.1");
        var passwd = await BrokerVariantsTests.PasswordFileAsync(_directory);
        string Tls(ChainedCertificates pki, string certFile, string? caFile = null) => $"""
            allow_anonymous false
            password_file {passwd}
            cafile {caFile ?? pki.CaBundleFile}
            certfile {certFile}
            keyfile {pki.ServerKeyFile}
            """;
        Broker = new Mosquitto(listeners: $"""
            per_listener_settings true
            listener {"{PORT}"} 127.0.0.1
            allow_anonymous true
            listener {ChainPort} 127.0.0.1
            {Tls(Dns, Dns.ServerChainFile)}
            listener {LeafOnlyPort} 127.0.0.1
            {Tls(Dns, Dns.ServerCertFile, Dns.RootCaFile)}
            listener {AddressPort} 127.0.0.1
            {Tls(Address, Address.ServerChainFile)}
            listener {MutualTls13Port} 127.0.0.1
            {Tls(Dns, Dns.ServerChainFile)}
            require_certificate true
            tls_version tlsv1.3
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
public sealed class MqttPkiTests(ChainedPkiBrokerFixture fixture) : IClassFixture<ChainedPkiBrokerFixture>
{
    [Fact]
    public async Task BrokerSendingItsIntermediate_IsTrustedWithTheRootAloneInCaFile()
    {
        await DeliversAsync(Config("localhost", fixture.ChainPort, fixture.Dns.RootCaFile), "chain");
    }

    [Fact]
    public async Task BrokerSendingItsCertificateAlone_IsTrustedWithTheWholeChainInCaFile()
    {
        await DeliversAsync(Config("localhost", fixture.LeafOnlyPort, fixture.Dns.CaBundleFile), "bundle");
    }

    [Fact]
    public async Task BrokerSendingItsCertificateAlone_WithTheRootAloneInCaFile_NamesTheMissingIntermediate()
    {
        using var config = Config("localhost", fixture.LeafOnlyPort, fixture.Dns.RootCaFile);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await BrokerVariantsTests.WaitForLogAsync(gateway, "issued by 'CN=dns intermediate CA', which the broker did not send and caFile does not contain");
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 20, TimeSpan.FromSeconds(60));
        Assert.Equal(0, await gateway.MetricAsync("gateway_mqtt_connected"));
    }

    [Fact]
    public async Task CertificateNamingOnlyAnAddress_IsAcceptedByThatAddress()
    {
        await DeliversAsync(Config("127.0.0.1", fixture.AddressPort, fixture.Address.RootCaFile), "by-address");
    }

    [Fact]
    public async Task CertificateNamingOnlyAnAddress_RefusedByHostName_SaysWhichNamesItHas()
    {
        using var config = Config("localhost", fixture.AddressPort, fixture.Address.RootCaFile);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await BrokerVariantsTests.WaitForLogAsync(gateway, "does not name 'localhost'; it names IP:127.0.0.1");
        Assert.Equal(0, await gateway.MetricAsync("gateway_mqtt_connected"));
    }

    [Fact]
    public async Task Tls13ListenerRequiringAClientCertificate_WithoutOne_SaysSo()
    {
        using var config = Config("localhost", fixture.MutualTls13Port, fixture.Dns.RootCaFile);
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        await BrokerVariantsTests.WaitForLogAsync(gateway, "it probably requires a client certificate: set mqtt.tls.certFile and mqtt.tls.keyFile");
        await gateway.WaitMetricAsync("gateway_buffer_samples", v => v > 20, TimeSpan.FromSeconds(60));
        Assert.Equal(0, await gateway.MetricAsync("gateway_buffer_dropped_samples_total"));
    }

    [Fact]
    public async Task Tls13ListenerRequiringAClientCertificate_AcceptsOneFromTheIntermediate()
    {
        var config = Config("localhost", fixture.MutualTls13Port, fixture.Dns.RootCaFile);
        config.Root["mqtt"]!["tls"]!["certFile"] = fixture.Dns.ClientCertFile;
        config.Root["mqtt"]!["tls"]!["keyFile"] = fixture.Dns.ClientKeyFile;
        await DeliversAsync(config, "mtls13");
    }

    private async Task DeliversAsync(TestConfig config, string clientId)
    {
        using (config)
        {
            await using var collector = new MqttCollector(fixture.Broker.Port, "acme/+/+/+/m1/total-count");
            await collector.StartAsync();
            config.Root["mqtt"]!["clientId"] = clientId;
            await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
            await gateway.StartAsync();

            await collector.WaitUntilAsync(m => m.Count >= 5, TimeSpan.FromSeconds(60), "samples over TLS (" + clientId + ")");
        }
    }

    private TestConfig Config(string host, int port, string caFile)
    {
        var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 50, intervalMs: 200);
        config.Root["mqtt"] = new JsonObject
        {
            ["host"] = host,
            ["port"] = port,
            ["username"] = "gwuser",
            ["passwordFile"] = fixture.PasswordFile,
            ["maxReconnectDelayMs"] = 1000,
            ["tls"] = new JsonObject { ["caFile"] = caFile },
        };
        return config;
    }
}
