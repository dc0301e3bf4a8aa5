using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gateway.Discovery;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Security;

namespace Gateway.Commissioning;

/// <summary>"Trust this server certificate": the server's certificate as GetEndpoints carries it, and the copy into the driver's trusted store.</summary>
internal static partial class DiscoveryApi
{
    /// <summary>The certificates of the driver's server (subject, SHA-1 thumbprint, validity, endpoints) and whether the driver's PKI already trusts them.</summary>
    public static async Task<JsonNode> OpcUaCertificatesAsync(JsonObject driver, string stateDirectory, CancellationToken ct)
    {
        var (url, store, timeout) = CertificateTarget(driver, stateDirectory);
        var certificates = await OpcUaServerCertificate.FetchAsync(url, store, timeout, ct);
        return CommissioningJsonContext.Node(new OpcUaCertificatesDocument(url, store.TrustedDirectory, certificates), CommissioningJsonContext.Default.OpcUaCertificatesDocument);
    }

    /// <summary>
    /// Fetches the server's certificates again and writes the one with <paramref name="thumbprint"/> (the one the user
    /// saw) to the trusted store the driver reads. Null when the server no longer offers that certificate.
    /// </summary>
    public static async Task<(ServerCertificateInfo Certificate, string Path, string EndpointUrl)?> OpcUaTrustAsync(JsonObject driver, string thumbprint, string stateDirectory, CancellationToken ct)
    {
        var (url, store, timeout) = CertificateTarget(driver, stateDirectory);
        var certificates = await OpcUaServerCertificate.FetchAsync(url, store, timeout, ct);
        if (certificates.FirstOrDefault(c => string.Equals(c.Thumbprint, thumbprint.Replace(":", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)) is not { } chosen)
        {
            return null;
        }

        using var certificate = X509CertificateLoader.LoadCertificate(chosen.Der);
        return (chosen, store.Trust(certificate), url);
    }

    /// <summary>The endpoint, the PKI folder the driver reads (<c>pkiDirectory</c>, or <c>pki</c> beside the buffer) and the request timeout.</summary>
    private static (string Url, CertificateStore Store, TimeSpan Timeout) CertificateTarget(JsonObject driver, string stateDirectory)
    {
        var settings = BindOpcUa(driver);
        if (string.IsNullOrWhiteSpace(settings.EndpointUrl) || settings.EndpointUrl == "opc.tcp://")
        {
            throw new ArgumentException("endpointUrl: give the server's opc.tcp:// address");
        }

        UaClient.ParseEndpoint(settings.EndpointUrl);
        var store = new CertificateStore(settings.PkiDirectory ?? Path.Combine(stateDirectory, "pki"));
        return (settings.EndpointUrl, store, TimeSpan.FromMilliseconds(settings.RequestTimeoutMs));
    }
}
