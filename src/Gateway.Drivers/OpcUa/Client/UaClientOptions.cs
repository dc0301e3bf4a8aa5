using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.Client;

/// <summary>How a <see cref="UaClient"/> connects. Durations are <see cref="TimeSpan"/>s.</summary>
public sealed record UaClientOptions
{
    /// <summary><c>opc.tcp://host:port/path</c>; the host typed here is the one connected to.</summary>
    public required string EndpointUrl { get; init; }

    /// <summary>Short policy name: None (implemented), Basic256Sha256 or Aes128_Sha256_RsaOaep (part 2).</summary>
    public string SecurityPolicy { get; init; } = "None";

    /// <summary>None, Sign or SignAndEncrypt.</summary>
    public string SecurityMode { get; init; } = "None";

    /// <summary>User name; null for anonymous.</summary>
    public string? UserName { get; init; }

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
