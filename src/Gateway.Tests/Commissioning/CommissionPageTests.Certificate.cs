using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;
using Gateway.Tests.Northbound;
using Gateway.Tests.OpcUa;

namespace Gateway.Tests.Commissioning;

/// <summary>
/// Issue 16, "trust this server certificate": a secure OPC UA driver with <c>trustServerCertificate: trustList</c> is
/// refused by node-opcua's certificate (logged); the page shows the certificate and one click copies it into the
/// trusted store the driver reads; the driver then connects and its tag arrives at mosquitto, same process.
/// </summary>
public sealed partial class CommissionPageTests
{
    [Fact]
    public async Task TrustServerCertificate_SecureDriverRefusedUntilTheClick_ThenConnects_AuditLine_SamePid()
    {
        await using var ua = await NodeOpcUaServer.StartAsync();
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port, "acme/#");
        await collector.StartAsync();
        using var config = new TestConfig().WithBroker(broker.Port);
        config.Root["drivers"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "ua",
            ["type"] = "opcua",
            ["endpointUrl"] = ua.Url,
            ["securityPolicy"] = "Basic256Sha256",
            ["securityMode"] = "SignAndEncrypt",
            ["trustServerCertificate"] = "trustList",
            ["reconnectDelayMs"] = 200,
            ["maxReconnectDelayMs"] = 500,
            ["tags"] = new JsonArray(new JsonObject { ["name"] = "temperature", ["address"] = "ns=1;s=Machine1.Temperature" }),
        });
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        var pid = gateway.Pid;
        await Eventually.TrueAsync(() => Task.FromResult(gateway.Output.Contains("is not trusted", StringComparison.Ordinal)), () => gateway.Output, TimeSpan.FromSeconds(30));
        var trusted = Path.Combine(config.Directory, "pki", "trusted", "certs");
        Assert.False(Directory.Exists(trusted) && Directory.EnumerateFiles(trusted).Any());
        Assert.DoesNotContain(collector.Messages, m => m.Topic == Line + "ua/temperature" && Good(m));

        await using var browser = await Browser.StartAsync(config.HttpPort);
        var page = browser.Page;
        await page.GotoAsync("/commission");
        await page.ClickAsync("#drivers li[data-driver='ua'] button.edit");
        await page.ClickAsync("#fetch-certificate");
        var card = page.Locator("#certificates .certificate");
        await Expect(card).ToHaveAttributeAsync("data-trusted", "false");
        var thumbprint = await card.GetAttributeAsync("data-thumbprint");
        await Expect(card.Locator(".thumbprint")).ToHaveTextAsync(string.Join(":", thumbprint!.Chunk(2).Select(c => new string(c))));
        await Expect(card.Locator(".subject")).ToContainTextAsync("CN=");
        await Expect(card.Locator(".endpoints")).ToContainTextAsync("Basic256Sha256 / SignAndEncrypt");
        await Expect(card.Locator(".validity")).ToContainTextAsync("→");
        await card.Locator("button.trust").ClickAsync();
        await Expect(card.Locator(".trust-result")).ToContainTextAsync("Trusted:");

        await collector.WaitUntilAsync(m => m.Any(x => x.Topic == Line + "ua/temperature" && Good(x)), TimeSpan.FromSeconds(30), "the secure driver's tag after the trust");
        Assert.Equal(pid, gateway.Pid);
        var file = Assert.Single(Directory.GetFiles(trusted));
        using (var certificate = X509CertificateLoader.LoadCertificateFromFile(file))
        {
            Assert.Equal(thumbprint, certificate.Thumbprint);
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(config.Directory, "pki", "rejected", "certs")));
        Assert.Contains($"Server certificate trusted from the commissioning page by http 127.0.0.1 (no password): '", gateway.Output, StringComparison.Ordinal);
        Assert.Contains($"(SHA-1 {thumbprint}) of {ua.Url}", gateway.Output, StringComparison.Ordinal);
        await page.ClickAsync("#fetch-certificate");
        await Expect(card).ToHaveAttributeAsync("data-trusted", "true");
        Assert.Empty(browser.Errors);
    }

    private static bool Good(Received message) => message.Payload.Contains("\"quality\":\"Good\"", StringComparison.Ordinal);
}
