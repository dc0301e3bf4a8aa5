using System.Security.Cryptography.X509Certificates;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Gateway.Drivers.OpcUa.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Discovery;

/// <summary>An endpoint a server offers: its URL, security policy (short name), mode, level and user token types.</summary>
public sealed record OfferedEndpoint(string? EndpointUrl, string SecurityPolicy, string SecurityMode, byte SecurityLevel, IReadOnlyList<string> UserTokens);

/// <summary>A server certificate as GetEndpoints carries it, with what a person checks before trusting it.</summary>
public sealed record ServerCertificateInfo(
    string Subject, string Issuer, string Thumbprint, DateTime NotBefore, DateTime NotAfter, string? ApplicationUri, bool Trusted, IReadOnlyList<OfferedEndpoint> Endpoints)
{
    /// <summary>The DER bytes (not sent to the page: a trust fetches the certificate from the server again).</summary>
    internal byte[] Der { get; init; } = [];
}

/// <summary>
/// Fetches a server's certificates without a session: an unsecured channel, GetEndpoints, close. The certificate is
/// the one the driver's secure channel would check against <c>trusted/</c>; SHA-1 thumbprints, as OPC UA uses them.
/// </summary>
public static class OpcUaServerCertificate
{
    /// <summary>The distinct certificates of the server's secure endpoints (usually one), each with the endpoints that carry it.</summary>
    public static async Task<List<ServerCertificateInfo>> FetchAsync(string endpointUrl, CertificateStore store, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (host, port) = UaClient.ParseEndpoint(endpointUrl);
        await using var channel = await SecureChannel.OpenAsync(host, port, endpointUrl, SecurityPolicyNone.Instance, new TransportLimits(), 60_000,
            TimeProvider.System, NullLogger.Instance, cancellationToken, timeout);
        var response = (GetEndpointsResponse)await channel.SendRequestAsync(new GetEndpointsRequest { EndpointUrl = endpointUrl }, timeout, cancellationToken);
        await channel.CloseAsync(cancellationToken);

        var result = new List<ServerCertificateInfo>();
        foreach (var group in (response.Endpoints ?? []).Where(e => e.ServerCertificate is { Length: > 0 }).GroupBy(e => Convert.ToHexString(CertificateStore.FirstCertificate(e.ServerCertificate!))))
        {
            var der = Convert.FromHexString(group.Key);
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            var offered = (response.Endpoints ?? []).Where(e => e.ServerCertificate is null || group.Contains(e)).Select(Offered).ToList();
            result.Add(new ServerCertificateInfo(
                certificate.Subject, certificate.Issuer, certificate.Thumbprint, certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime(),
                CertificateStore.ApplicationUriOf(certificate), store.IsTrustedCertificate(certificate), offered) { Der = der });
        }

        return result;
    }

    private static OfferedEndpoint Offered(EndpointDescription e) => new(
        e.EndpointUrl,
        e.SecurityPolicyUri?.Split('#')[^1] ?? "?",
        e.SecurityMode.ToString(),
        e.SecurityLevel,
        [.. (e.UserIdentityTokens ?? []).Select(t => t.TokenType.ToString()).Distinct()]);
}
