using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.Client;

/// <summary>How a <see cref="UaClient"/> connects. Durations are <see cref="TimeSpan"/>s.</summary>
public sealed record UaClientOptions
{
    /// <summary><c>opc.tcp://host:port/path</c>; the host typed here is the one connected to.</summary>
    public required string EndpointUrl { get; init; }

    /// <summary>
    /// Short policy name: None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, or auto (the endpoint
    /// with the highest security level the server offers among those we implement).
    /// </summary>
    public OpcUaSecurityPolicy SecurityPolicy { get; init; } = OpcUaSecurityPolicy.None;

    /// <summary>None, Sign or SignAndEncrypt; null means None under policy None, SignAndEncrypt under another policy, any mode under auto.</summary>
    public OpcUaSecurityMode? SecurityMode { get; init; }

    /// <summary>The PKI folder (own/, trusted/, rejected/, issuers/); <see cref="Security.CertificateStore.DefaultRoot"/> when null. Used only by secure endpoints.</summary>
    public string? PkiDirectory { get; init; }

    /// <summary>What to do with a server certificate not found in trusted/.</summary>
    public Security.ServerCertificateTrust ServerCertificateTrust { get; init; } = Security.ServerCertificateTrust.TrustList;

    /// <summary>User name; null for anonymous.</summary>
    public string? UserName { get; init; }

    /// <summary>An X.509 user certificate with its private key (instead of a user name); the session proves possession by signing.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? UserCertificate { get; init; }

    /// <summary>The password, already read from its file. Never logged.</summary>
    public string? Password { get; init; }

    public string ApplicationName { get; init; } = "IIoT Gateway";

    public string ApplicationUri { get; init; } = "urn:iiot-gateway:opcua-client";

    public string SessionName { get; init; } = "iiot-gateway";

    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Lifetime asked for the channel's security token; renewed at 75%.</summary>
    public TimeSpan ChannelLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>When nothing else flows for this long, ServerStatus.State is read to keep the session alive.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Asked per Browse; the server may return fewer and a continuation point.</summary>
    public uint MaxReferencesPerNode { get; init; } = 1000;

    /// <summary>Publish requests kept outstanding per session.</summary>
    public int PublishRequests { get; init; } = 3;

    public TransportLimits TransportLimits { get; init; } = new();
}
