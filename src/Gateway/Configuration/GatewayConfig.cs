using System.ComponentModel.DataAnnotations;
using Gateway.Drivers;
using Gateway.Oee;

namespace Gateway.Configuration;

/// <summary>The whole configuration file (config/gateway.json). Every key is documented on its property.</summary>
public sealed class GatewayConfig
{
    public GatewayIdentity Gateway { get; set; } = new();

    public List<DriverConfig> Drivers { get; set; } = [];

    public BufferOptions Buffer { get; set; } = new();

    public MqttOptions Mqtt { get; set; } = new();

    /// <summary>The optional InfluxDB output; absent means none.</summary>
    public InfluxOptions? Influx { get; set; }

    public HttpOptions Http { get; set; } = new();

    /// <summary>OEE per machine (ISO 22400); absent means no OEE. Its rules are OeeConfigRules, run by the loader.</summary>
    public OeeOptions? Oee { get; set; }
}

/// <summary>This gateway's id and its place in the ISA-95 hierarchy; the UNS topics are built from it.</summary>
public sealed class GatewayIdentity
{
    // Each is one topic level and, for site and id, a Sparkplug id: NameRules says what they may contain.
    [Required]
    public string Id { get; set; } = "";

    [Required]
    public string Enterprise { get; set; } = "";

    [Required]
    public string Site { get; set; } = "";

    [Required]
    public string Area { get; set; } = "";

    [Required]
    public string Line { get; set; } = "";
}

/// <summary>The store-and-forward buffer on disk (SQLite, WAL).</summary>
public sealed class BufferOptions
{
    /// <summary>The SQLite file; relative paths are relative to the working directory (the state directory under systemd).</summary>
    [Required]
    public string Path { get; set; } = "data/buffer.db";

    /// <summary>Quota of buffered sample bytes; over it the oldest samples are dropped and counted. Default 256 MiB.</summary>
    [Range(4096, long.MaxValue)]
    public long MaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How often buffered samples are written to disk, in milliseconds: what a kill -9 may lose at most.</summary>
    [Range(1, 60_000)]
    public int FlushIntervalMs { get; set; } = 100;

    /// <summary>How many samples the publisher reads from the buffer at a time.</summary>
    [Range(1, 100_000)]
    public int ReadBatchSize { get; set; } = 5000;
}

/// <summary>The MQTT northbound. Without <see cref="Host"/> the gateway starts an embedded broker on 127.0.0.1:<see cref="Port"/>.</summary>
public sealed class MqttOptions
{
    /// <summary>The broker's host name or address; absent starts the embedded broker.</summary>
    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    public MqttTlsOptions? Tls { get; set; }

    public string? Username { get; set; }

    /// <summary>File holding the password (first line); the password is never written in the JSON nor logged.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>MQTT client id; default <c>gateway-&lt;gateway.id&gt;</c>.</summary>
    public string? ClientId { get; set; }

    /// <summary>Prefix of every UNS topic; empty means the topics start at the enterprise.</summary>
    public string TopicPrefix { get; set; } = "";

    /// <summary><c>uns</c> (default), <c>sparkplugb</c> or <c>both</c>.</summary>
    [RegularExpression("^(uns|sparkplugb|both)$", ErrorMessage = "must be 'uns', 'sparkplugb' or 'both'")]
    public string Format { get; set; } = "uns";

    /// <summary>1 or 2: samples leave the buffer only once the broker acknowledged them.</summary>
    [Range(1, 2)]
    public int Qos { get; set; } = 1;

    /// <summary><c>5</c> (default) or <c>3.1.1</c>.</summary>
    [RegularExpression("^(5|3\\.1\\.1)$", ErrorMessage = "must be '5' or '3.1.1'")]
    public string ProtocolVersion { get; set; } = "5";

    [Range(1, 3600)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>How many QoS 1 publications may wait for their PUBACK at once.</summary>
    [Range(1, 65535)]
    public int MaxInflight { get; set; } = 200;

    /// <summary>Sparkplug B settings, used when <see cref="Format"/> is <c>sparkplugb</c> or <c>both</c>.</summary>
    public SparkplugOptions Sparkplug { get; set; } = new();

    /// <summary>Longest wait between two reconnection attempts, in milliseconds (exponential backoff with jitter).</summary>
    [Range(100, 600_000)]
    public int MaxReconnectDelayMs { get; set; } = 30_000;
}

/// <summary>Sparkplug B 3.0: the gateway is an edge node, each machine a device.</summary>
public sealed class SparkplugOptions
{
    /// <summary>Sparkplug group id; default <c>gateway.site</c>. NameRules refuses '/', '+', '#' (Sparkplug 3.0).</summary>
    public string? GroupId { get; set; }

    /// <summary>Edge node id; default <c>gateway.id</c>. NameRules refuses '/', '+', '#' (Sparkplug 3.0).</summary>
    public string? EdgeNodeId { get; set; }

    /// <summary>
    /// QoS of NDATA/DDATA. Sparkplug 3.0 asks for 0; the default 1 keeps the buffer's promise (a sample
    /// leaves the buffer only on PUBACK). Births and deaths follow the specification whatever this says.
    /// </summary>
    [Range(0, 1)]
    public int DataQos { get; set; } = 1;

    /// <summary>How many metrics one DDATA carries at most.</summary>
    [Range(1, 100_000)]
    public int MaxMetricsPerMessage { get; set; } = 500;
}

/// <summary>
/// InfluxDB output: line protocol, batched, fed from the disk buffer like MQTT. Version 1 writes through
/// <c>/write</c>; versions 2 and 3 through InfluxDB.Client (<c>/api/v2/write</c>).
/// </summary>
public sealed class InfluxOptions
{
    /// <summary>Base URL, for example <c>http://127.0.0.1:8086</c>.</summary>
    [Required]
    public string Url { get; set; } = "";

    /// <summary>1 (InfluxDB 1.x), 2 (InfluxDB 2.x) or 3 (InfluxDB 3, through its v2-compatible write API).</summary>
    [Range(1, 3)]
    public int Version { get; set; } = 2;

    /// <summary>Version 1: the database.</summary>
    public string? Database { get; set; }

    /// <summary>Version 1: an optional retention policy.</summary>
    public string? RetentionPolicy { get; set; }

    /// <summary>Version 1: user name, with <see cref="PasswordFile"/>.</summary>
    public string? Username { get; set; }

    /// <summary>Version 1: the file holding the password.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>Versions 2 and 3: the organisation.</summary>
    public string? Org { get; set; }

    /// <summary>Versions 2 and 3: the bucket (the database for InfluxDB 3).</summary>
    public string? Bucket { get; set; }

    /// <summary>Versions 2 and 3: the file holding the API token.</summary>
    public string? TokenFile { get; set; }

    /// <summary>Lines per write request.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 5000;

    /// <summary>Request timeout in milliseconds.</summary>
    [Range(100, 600_000)]
    public int TimeoutMs { get; set; } = 10_000;

    /// <summary>Longest wait between two retries after a 5xx or a network error, in milliseconds.</summary>
    [Range(100, 600_000)]
    public int MaxRetryDelayMs { get; set; } = 30_000;
}

/// <summary>TLS towards the broker; TLS 1.2 at least.</summary>
public sealed class MqttTlsOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>PEM file of the CA that signed the broker's certificate; absent means the system's trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate, for brokers that require one.</summary>
    public string? CertFile { get; set; }

    /// <summary>PEM private key of the client certificate.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Checks that the broker's certificate names the host. Turn off only for a lab broker.</summary>
    public bool VerifyHostname { get; set; } = true;
}

/// <summary>The HTTP endpoints: dashboard, API, health and metrics.</summary>
public sealed class HttpOptions
{
    /// <summary>Semicolon-separated listen URLs; any non-loopback one requires <see cref="PasswordFile"/>.</summary>
    [Required]
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// File holding the dashboard password (its first line); required for any non-loopback binding. When set, every
    /// page, <c>/api/*</c> and <c>/metrics</c> need a login session or <c>Authorization: Bearer &lt;password&gt;</c>;
    /// only <c>/healthz</c> stays open. See Dashboard/DashboardAuth.cs.
    /// </summary>
    public string? PasswordFile { get; set; }
}
