using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Gateway.Drivers;
using Gateway.Cli;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Gateway.Drivers.OpcUa.Transport;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;
using Xunit;

namespace Gateway.Tests.OpcUa;

/// <summary>Secure endpoints of node-opcua (it accepts any client certificate): every policy and mode, anonymous and user name.</summary>
public sealed class OpcUaSecurityIntegrationTests(NodeOpcUaServerFixture fixture) : IClassFixture<NodeOpcUaServerFixture>, IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly string _pki = Directory.CreateTempSubdirectory("pki-client-").FullName;

    public void Dispose() => Directory.Delete(_pki, recursive: true);

    private UaClientOptions Secure(string policy, string? mode) => new()
    {
        EndpointUrl = fixture.Server.Url,
        SecurityPolicy = SecurityChoice.Policy(policy),
        SecurityMode = SecurityChoice.Mode(mode),
        PkiDirectory = _pki,
        ServerCertificateTrust = ServerCertificateTrust.TrustOnFirstUse,
    };

    [Theory]
    [InlineData("Basic256Sha256", "Sign", null)]
    [InlineData("Basic256Sha256", "Sign", "gwuser")]
    [InlineData("Basic256Sha256", "SignAndEncrypt", null)]
    [InlineData("Basic256Sha256", "SignAndEncrypt", "gwuser")]
    [InlineData("Aes128_Sha256_RsaOaep", "Sign", null)]
    [InlineData("Aes128_Sha256_RsaOaep", "Sign", "gwuser")]
    [InlineData("Aes128_Sha256_RsaOaep", "SignAndEncrypt", null)]
    [InlineData("Aes128_Sha256_RsaOaep", "SignAndEncrypt", "gwuser")]
    [InlineData("Aes256_Sha256_RsaPss", "SignAndEncrypt", "gwuser")]
    public async Task Connect_SecureEndpoint_SessionReadsAndBrowses(string policy, string mode, string? user)
    {
        await using var client = new UaClient(Secure(policy, mode) with { UserName = user, Password = user is null ? null : "gwpass" });
        await client.ConnectAsync(CancellationToken.None);

        var values = await client.ReadAsync([UaClient.ServerStatusState, new NodeId(1, "Machine1.Temperature")], CancellationToken.None);
        var references = await client.BrowseAsync(new NodeId(0, 85u), CancellationToken.None);
        await client.CloseAsync(CancellationToken.None);

        Assert.Equal(SecurityPolicies.UriOf(policy), client.Channel!.Policy.Uri);
        Assert.Equal(Enum.Parse<MessageSecurityMode>(mode), client.Channel.Policy.Mode);
        Assert.IsType<RsaSecurityPolicy>(client.Channel.Policy);
        Assert.Equal(0, values[0].Value.Value);
        Assert.IsType<double>(values[1].Value.Value);
        Assert.Contains(references, r => r.BrowseName.Name == "Machine1");
        Assert.Equal("urn:iiot-gateway:opcua-client", CertificateStore.ApplicationUriOf(client.ApplicationCertificate!));
    }

    [Theory]
    [InlineData("Basic256Sha256", "SignAndEncrypt")]
    [InlineData("Aes128_Sha256_RsaOaep", "Sign")]
    [InlineData("None", "None")]
    public async Task Connect_X509UserCertificate_SignsTheUserTokenAndIsAccepted(string policy, string mode)
    {
        using var user = RsaSecurityPolicyTests.SelfSigned("operator", 2048);
        await using var client = new UaClient(Secure(policy, mode) with { UserCertificate = user });
        await client.ConnectAsync(CancellationToken.None);

        var values = await client.ReadAsync([UaClient.ServerStatusState], CancellationToken.None);
        await client.CloseAsync(CancellationToken.None);

        Assert.True(values[0].StatusCode.IsGood);
    }

    [Fact]
    public async Task Connect_Auto_PicksTheMostSecureEndpointOffered()
    {
        await using var client = new UaClient(Secure("auto", null));
        await client.ConnectAsync(CancellationToken.None);

        var values = await client.ReadAsync([UaClient.ServerStatusState], CancellationToken.None);
        await client.CloseAsync(CancellationToken.None);

        Assert.Equal(MessageSecurityMode.SignAndEncrypt, client.Endpoint!.SecurityMode);
        Assert.NotEqual(SecurityPolicies.None, client.Endpoint.SecurityPolicyUri);
        Assert.True(values[0].StatusCode.IsGood);
    }

    [Fact]
    public async Task UserName_WrongPasswordOnSecureEndpoint_IsRefusedWithBadUserAccessDenied()
    {
        await using var client = new UaClient(Secure("Basic256Sha256", "SignAndEncrypt") with { UserName = "gwuser", Password = "wrong" });

        var error = await Assert.ThrowsAnyAsync<UaException>(() => client.ConnectAsync(CancellationToken.None));

        Assert.Equal(SampleStatus.BadUserAccessDenied, error.StatusCode & 0xFFFF0000);
    }

    [Fact]
    public async Task Connect_UntrustedServerCertificate_IsRefusedNamingTheRejectedFile_ThenTrustedOnceMoved()
    {
        var options = Secure("Aes128_Sha256_RsaOaep", "SignAndEncrypt") with { ServerCertificateTrust = ServerCertificateTrust.TrustList };
        await using var refused = new UaClient(options);

        var error = await Assert.ThrowsAnyAsync<UaException>(() => refused.ConnectAsync(CancellationToken.None));
        var rejected = Directory.GetFiles(Path.Combine(_pki, "rejected", "certs")).Single();
        File.Move(rejected, Path.Combine(_pki, "trusted", "certs", Path.GetFileName(rejected)));
        await using var accepted = new UaClient(options);
        await accepted.ConnectAsync(CancellationToken.None);

        Assert.Equal(SampleStatus.BadCertificateUntrusted, error.StatusCode);
        Assert.Contains(rejected, error.Message, StringComparison.Ordinal);
        Assert.True(accepted.IsConnected);
        await accepted.CloseAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Subscribe_AfterSecureChannelAbort_ReactivatesSessionOnNewSecureChannelAndResumes()
    {
        await using var client = new UaClient(Secure("Aes128_Sha256_RsaOaep", "SignAndEncrypt") with { UserName = "gwuser", Password = "gwpass" });
        await client.ConnectAsync(CancellationToken.None);
        var count = 0;
        var subscription = await client.CreateSubscriptionAsync(100, (_, _) => Interlocked.Increment(ref count), CancellationToken.None);
        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "Machine1.Temperature"), 100, 10)], CancellationToken.None);
        await OpcUaIntegrationTests.WaitUntilAsync(() => Volatile.Read(ref count) >= 3);
        var sessionId = client.SessionId;
        var firstChannel = client.Channel!.ChannelId;

        await client.Channel!.AbortAsync();
        var newSession = await client.ReconnectAsync(CancellationToken.None);
        var before = Volatile.Read(ref count);
        await OpcUaIntegrationTests.WaitUntilAsync(() => Volatile.Read(ref count) >= before + 3);

        Assert.False(newSession); // ActivateSession signed with our key over the last server nonce was accepted
        Assert.Equal(sessionId, client.SessionId);
        Assert.NotEqual(firstChannel, client.Channel!.ChannelId);
        Assert.IsType<RsaSecurityPolicy>(client.Channel.Policy);
        await client.CloseAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Subscribe_TokenRenewedSeveralTimes_LosesNoNotification()
    {
        // node-opcua grants at least 2.5 s; renewal at 75% means a new token about every 1.9 s.
        await using var client = new UaClient(Secure("Basic256Sha256", "SignAndEncrypt") with { ChannelLifetime = TimeSpan.FromMilliseconds(2500) });
        await client.ConnectAsync(CancellationToken.None);
        var partCounts = new ConcurrentQueue<uint>();
        var subscription = await client.CreateSubscriptionAsync(100, (item, value) =>
        {
            if (value.Value.Value is uint count)
            {
                partCounts.Enqueue(count);
            }
        }, CancellationToken.None);
        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "Machine1.PartCount"), 100, 10), new MonitoredItem(new NodeId(1, "Machine1.Temperature"), 100, 10)], CancellationToken.None);

        await OpcUaIntegrationTests.WaitUntilAsync(() => client.Channel!.Renewals >= 4);
        var tokenIds = client.Channel!.TokenId;
        await Task.Delay(500);
        var counts = partCounts.ToArray();
        var messages = subscription.NotificationMessages;
        var last = subscription.LastSequenceNumber;
        await client.CloseAsync(CancellationToken.None);

        Assert.True(tokenIds >= 5, $"token {tokenIds}");
        Assert.True(last > 40, $"only {last} notification messages");
        Assert.Equal((int)last, messages); // every sequence number from 1 to the last arrived exactly once
        Assert.Equal(0, subscription.Republished);
        Assert.True(counts.Length >= 6, $"only {counts.Length} part counts");
        for (var i = 1; i < counts.Length; i++)
        {
            Assert.Equal(counts[i - 1] + 1, counts[i]); // the counter advances by one each second: no value lost
        }
    }
}

/// <summary>A node-opcua server that does not accept unknown client certificates.</summary>
public sealed class OpcUaClientCertificateRefusedTests
{
    [Fact]
    public async Task Connect_ServerDoesNotTrustOurCertificate_FailsNamingOurCertificateFile()
    {
        var serverPki = Directory.CreateTempSubdirectory("pki-server-").FullName;
        var clientPki = Directory.CreateTempSubdirectory("pki-client-").FullName;
        try
        {
            await using var server = await NodeOpcUaServer.StartAsync("--no-auto-accept", "--pki", serverPki);
            await using var client = new UaClient(new UaClientOptions
            {
                EndpointUrl = server.Url,
                SecurityPolicy = OpcUaSecurityPolicy.Basic256Sha256,
                SecurityMode = OpcUaSecurityMode.SignAndEncrypt,
                PkiDirectory = clientPki,
                ServerCertificateTrust = ServerCertificateTrust.TrustOnFirstUse,
            });

            var error = await Assert.ThrowsAnyAsync<UaConnectionException>(() => client.ConnectAsync(CancellationToken.None));

            Assert.Contains(Path.Combine(clientPki, "own", "certs", "gateway.der"), error.Message, StringComparison.Ordinal);
            Assert.Contains("BadSecurityChecksFailed", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(serverPki, recursive: true);
            Directory.Delete(clientPki, recursive: true);
        }
    }
}

/// <summary>The CLI verbs over secure endpoints.</summary>
public sealed class OpcUaSecureCommandTests(NodeOpcUaServerFixture fixture) : IClassFixture<NodeOpcUaServerFixture>, IDisposable
{
    private readonly string _pki = Directory.CreateTempSubdirectory("pki-cli-").FullName;

    public void Dispose() => Directory.Delete(_pki, recursive: true);

    /// <summary>Runs the real gateway executable, so exit code and stderr are what a user sees.</summary>
    private static async Task<(int Exit, string Stderr)> RunAsync(params string[] args)
    {
        var (exit, _, stderr) = await GatewayProcess.RunVerbAsync(args);
        return (exit, stderr);
    }

    [Fact]
    public async Task Read_SignAndEncryptWithUser_Succeeds()
    {
        var passwordFile = Path.Combine(_pki, "password");
        await File.WriteAllTextAsync(passwordFile, "gwpass\n");

        var (exit, stderr) = await RunAsync("opcua", "read", fixture.Server.Url, "ns=1;s=Machine1.Temperature", "--security", "Aes128_Sha256_RsaOaep", "--mode", "SignAndEncrypt",
            "--user", "gwuser", "--password-file", passwordFile, "--pki", _pki, "--trust-on-first-use");

        Assert.True(exit == ExitCodes.Success, stderr);
    }

    [Fact]
    public async Task Read_X509UserFromPemFiles_Succeeds()
    {
        using var user = RsaSecurityPolicyTests.SelfSigned("operator", 2048);
        var certificateFile = Path.Combine(_pki, "operator.pem");
        var keyFile = Path.Combine(_pki, "operator.key");
        await File.WriteAllTextAsync(certificateFile, user.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, user.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());

        var (exit, stderr) = await RunAsync("opcua", "read", fixture.Server.Url, "i=2259", "--security", "auto",
            "--user-certificate", certificateFile, "--user-key", keyFile, "--pki", _pki, "--trust-on-first-use");

        Assert.True(exit == ExitCodes.Success, stderr);
    }

    [Fact]
    public async Task Read_WrongPasswordOnSecureEndpoint_ExitsPeerRefusedWithClearMessage()
    {
        var passwordFile = Path.Combine(_pki, "password");
        await File.WriteAllTextAsync(passwordFile, "wrong\n");

        var (exit, stderr) = await RunAsync("opcua", "read", fixture.Server.Url, "i=2259", "--security", "Basic256Sha256", "--mode", "Sign",
            "--user", "gwuser", "--password-file", passwordFile, "--pki", _pki, "--trust-on-first-use");

        Assert.Equal(ExitCodes.PeerUnreachable, exit);
        Assert.Contains("the server refused user 'gwuser': wrong user name or password (BadUserAccessDenied (0x801F0000))", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_UntrustedServerCertificate_ExitsPeerRefusedNamingTheRejectedFile()
    {
        var (exit, stderr) = await RunAsync("opcua", "read", fixture.Server.Url, "i=2259", "--security", "Basic256Sha256", "--pki", _pki);

        Assert.Equal(ExitCodes.PeerUnreachable, exit);
        var rejected = Directory.GetFiles(Path.Combine(_pki, "rejected", "certs")).Single();
        Assert.Contains(rejected, stderr, StringComparison.Ordinal);
    }
}

/// <summary>The real gateway process, an opcua driver on a SignAndEncrypt endpoint, samples at a mosquitto subscriber.</summary>
[Collection(nameof(ProcessTests))]
public sealed class OpcUaSecureEndToEndTests
{
    [Fact]
    public async Task Gateway_OpcUaDriverOnSignAndEncryptEndpointWithUser_PublishesUnsJson()
    {
        await using var server = await NodeOpcUaServer.StartAsync();
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port);
        var passwordFile = Path.Combine(config.Directory, "opcua-password");
        await File.WriteAllTextAsync(passwordFile, "gwpass\n");
        config.Root["drivers"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse($$"""
            {
              "name": "ua", "type": "opcua", "machine": "m1", "endpointUrl": "{{server.Url}}",
              "securityPolicy": "Basic256Sha256", "securityMode": "SignAndEncrypt", "trustServerCertificate": "tofu",
              "username": "gwuser", "passwordFile": "{{passwordFile}}", "publishingIntervalMs": 100, "samplingIntervalMs": 100,
              "tags": [
                { "name": "temperature", "address": "ns=1;s=Machine1.Temperature", "unit": "degC" },
                { "name": "part-count", "address": "ns=1;s=Machine1.PartCount" }
              ]
            }
            """));
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();

        const string temperatureTopic = "acme/lyon/assembly/line-1/m1/temperature";
        try
        {
            await collector.WaitUntilAsync(m => m.Count(x => x.Topic == temperatureTopic) >= 5, TimeSpan.FromSeconds(40), "temperature samples");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nreceived: {string.Join("\n", collector.Messages.Select(m => m.Topic + " " + m.Payload))}\ngateway output:\n{gateway.Output}", ex);
        }

        await collector.WaitUntilAsync(m => m.Any(x => x.Topic == "acme/lyon/assembly/line-1/m1/part-count"), TimeSpan.FromSeconds(20), "a part count sample");

        var sample = collector.Messages.First(x => x.Topic == temperatureTopic).Json;
        Assert.Equal(System.Text.Json.JsonValueKind.Number, sample.GetProperty("value").ValueKind);
        Assert.Equal("Good", sample.GetProperty("quality").GetString());
        Assert.Equal("degC", sample.GetProperty("unit").GetString());
        Assert.True(File.Exists(Path.Combine(config.Directory, "pki", "own", "certs", "gateway.der")), gateway.Output);
        Assert.Single(Directory.GetFiles(Path.Combine(config.Directory, "pki", "trusted", "certs")));
    }
}
