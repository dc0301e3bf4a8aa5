using System.ComponentModel.DataAnnotations;

namespace Gateway.Drivers.OpcUa;

/// <summary>Driver-level keys of the <c>opcua</c> driver.</summary>
public sealed class OpcUaSettings
{
    /// <summary><c>opc.tcp://host:port[/path]</c>. The host given here is the one connected to; the path the server advertises is kept.</summary>
    [Required]
    public string EndpointUrl { get; set; } = "";

    /// <summary>None (default). Basic256Sha256 and Aes128_Sha256_RsaOaep are recognised but not yet supported.</summary>
    public string SecurityPolicy { get; set; } = "None";

    /// <summary>None (default), Sign or SignAndEncrypt (the latter two not yet supported).</summary>
    public string SecurityMode { get; set; } = "None";

    /// <summary>User name; anonymous when absent. Needs <see cref="PasswordFile"/>.</summary>
    public string? Username { get; set; }

    /// <summary>File holding the password (first line). The password is never logged.</summary>
    public string? PasswordFile { get; set; }

    /// <summary><c>subscription</c> (default: monitored items, the server reports changes) or <c>polling</c> (periodic Read).</summary>
    public string Mode { get; set; } = "subscription";

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

/// <summary>Tag-level keys of the <c>opcua</c> driver beyond the common ones (the address is the NodeId or browse path).</summary>
public sealed class OpcUaTagSettings
{
    /// <summary>Sampling interval of this tag in milliseconds; the driver's default when absent.</summary>
    [Range(0, 3_600_000)]
    public int? SamplingIntervalMs { get; set; }
}
