using System.ComponentModel.DataAnnotations;
using Gateway.Drivers.OpcUa.Channel;

namespace Gateway.Drivers.OpcUa;

/// <summary>Driver-level keys of the <c>opcua</c> driver.</summary>
public sealed class OpcUaSettings
{
    /// <summary><c>opc.tcp://host:port[/path]</c>. The host given here is the one connected to; the path the server advertises is kept.</summary>
    [Required]
    public string EndpointUrl { get; set; } = "";

    /// <summary>
    /// None (default), Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, or auto: the endpoint with the
    /// highest security level the server offers among these.
    /// </summary>
    public OpcUaSecurityPolicy SecurityPolicy { get; set; } = OpcUaSecurityPolicy.None;

    /// <summary>None, Sign or SignAndEncrypt. When absent: None under policy None, SignAndEncrypt under another policy, any mode under auto.</summary>
    public OpcUaSecurityMode? SecurityMode { get; set; }

    /// <summary>
    /// What to do with a server certificate that is not in the PKI folder's trusted/: <c>trustList</c> (default: refuse it
    /// and copy it to rejected/ for an operator to move to trusted/) or <c>tofu</c> (trust on first use: copy it to
    /// trusted/ and accept it; for demos and labs).
    /// </summary>
    public string TrustServerCertificate { get; set; } = "trustList";

    /// <summary>The PKI folder (own/, trusted/, rejected/, issuers/); default <c>pki</c> under the gateway's state directory (beside the buffer).</summary>
    public string? PkiDirectory { get; set; }

    /// <summary>Our ApplicationUri, sent in CreateSession and written in the subjectAltName of the certificate created on first start.</summary>
    public string ApplicationUri { get; set; } = "urn:iiot-gateway:opcua-client";

    /// <summary>Lifetime asked for each security token of the secure channel, in milliseconds; renewed at 75%.</summary>
    [Range(1000, 3_600_000)]
    public int ChannelLifetimeMs { get; set; } = 600_000;

    /// <summary>User name; anonymous when absent. Needs <see cref="PasswordFile"/>.</summary>
    public string? Username { get; set; }

    /// <summary>File holding the password (first line). The password is never logged.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>An X.509 user certificate (DER or PEM) to log in with instead of a user name; needs <see cref="UserKeyFile"/>.</summary>
    public string? UserCertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="UserCertificateFile"/>. Never logged.</summary>
    public string? UserKeyFile { get; set; }

    /// <summary><c>subscription</c> (default: monitored items, the server reports changes) or <c>polling</c> (periodic Read).</summary>
    public string Mode { get; set; } = "subscription";

    /// <summary>
    /// <see cref="Mode"/> as the closed choice it is, read once (the factory has refused any other text). The key stays
    /// a string so that a wrong value is reported with the words of the configuration, not thrown by the binder.
    /// </summary>
    internal OpcUaAcquisition Acquisition => Mode == "polling" ? OpcUaAcquisition.Polling : OpcUaAcquisition.Subscription;

    /// <summary><see cref="TrustServerCertificate"/> as the closed choice it is (the factory has refused any other text).</summary>
    internal Security.ServerCertificateTrust CertificateTrust =>
        TrustServerCertificate == "tofu" ? Security.ServerCertificateTrust.TrustOnFirstUse : Security.ServerCertificateTrust.TrustList;

    /// <summary>Publishing interval of the subscription, or the poll period, in milliseconds.</summary>
    [Range(10, 3_600_000)]
    public int PublishingIntervalMs { get; set; } = 1000;

    /// <summary>Default sampling interval of monitored items in milliseconds (0 = as fast as the server samples).</summary>
    [Range(0, 3_600_000)]
    public int SamplingIntervalMs { get; set; } = 1000;

    /// <summary>Queue size of each monitored item on the server.</summary>
    [Range(1, 10_000)]
    public int QueueSize { get; set; } = 10;

    /// <summary>Time a request may take, in milliseconds.</summary>
    [Range(100, 600_000)]
    public int RequestTimeoutMs { get; set; } = 15_000;

    /// <summary>When nothing else flows for this long, ServerStatus.State is read to keep the session alive (milliseconds).</summary>
    [Range(500, 3_600_000)]
    public int KeepAliveIntervalMs { get; set; } = 5000;

    /// <summary>Session timeout asked of the server, in milliseconds.</summary>
    [Range(1000, 86_400_000)]
    public int SessionTimeoutMs { get; set; } = 60_000;

    /// <summary>First delay of the reconnect backoff (exponential with jitter), in milliseconds.</summary>
    [Range(10, 600_000)]
    public int ReconnectDelayMs { get; set; } = 1000;

    /// <summary>Longest delay of the reconnect backoff, in milliseconds.</summary>
    [Range(100, 3_600_000)]
    public int MaxReconnectDelayMs { get; set; } = 30_000;
}

/// <summary>How the <c>opcua</c> driver gets values.</summary>
public enum OpcUaAcquisition
{
    /// <summary>Monitored items in a subscription: the server reports changes.</summary>
    Subscription,

    /// <summary>A periodic Read of every tag.</summary>
    Polling,
}

/// <summary>Tag-level keys of the <c>opcua</c> driver beyond the common ones (the address is the NodeId or browse path).</summary>
public sealed class OpcUaTagSettings
{
    /// <summary>Sampling interval of this tag in milliseconds; the driver's default when absent.</summary>
    [Range(0, 3_600_000)]
    public int? SamplingIntervalMs { get; set; }

    /// <summary>
    /// A deadband in percent (0-100) of the node's EURange, applied by the server (DataChangeFilter, DeadbandType
    /// Percent). Only analog items with an EURange accept it; when the server refuses it, the tag is monitored
    /// without a filter and a warning names the tag.
    /// </summary>
    [Range(0.0, 100.0)]
    public double? DeadbandPercent { get; set; }
}
