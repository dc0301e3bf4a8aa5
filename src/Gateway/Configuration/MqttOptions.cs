using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Gateway.Drivers;

namespace Gateway.Configuration;

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
    public MqttFormat Format { get; set; } = MqttFormat.Uns;

    /// <summary>1 or 2: samples leave the buffer only once the broker acknowledged them.</summary>
    [Range(1, 2)]
    public int Qos { get; set; } = 1;

    /// <summary>
    /// <c>5</c> (default) or <c>3.1.1</c>. With 5, a broker that refuses it (CONNACK "unsupported protocol version", or
    /// the connection closed on the v5 CONNECT, as RabbitMQ 3.10 does) is spoken to in 3.1.1 instead, once and for the
    /// output's lifetime, unless <see cref="ProtocolFallback"/> is false.
    /// </summary>
    public MqttVersion ProtocolVersion { get; set; } = MqttVersion.V5;

    /// <summary>
    /// True (default): with <see cref="ProtocolVersion"/> 5, fall back to MQTT 3.1.1 when the broker refuses 5. False pins
    /// the version: a refusal stays a connection failure.
    /// </summary>
    public bool ProtocolFallback { get; set; } = true;

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

    /// <summary>
    /// The Sparkplug host id of the primary host application (SCADA) to wait for; absent: none. When set, the node
    /// subscribes to <c>spBv1.0/STATE/&lt;id&gt;</c> and publishes nothing (the data stays in the buffer) until that
    /// host says it is online; when it goes offline the node ends its session (NDEATH, DISCONNECT). NameRules refuses
    /// '/', '+', '#' (Sparkplug 3.0).
    /// </summary>
    public string? PrimaryHostId { get; set; }
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

/// <summary>The MQTT keys that go together: a password needs a user, TLS needs an external broker and readable files.</summary>
public sealed class MqttRules : IConfigRule
{
    public void Check(ConfigContext context, List<ConfigProblem> problems)
    {
        var mqtt = context.Config.Mqtt;
        if (mqtt.PasswordFile is { } passwordFile)
        {
            ConfigFiles.CheckReadable(passwordFile, "mqtt.passwordFile", problems);
        }

        if (mqtt.PasswordFile is not null && string.IsNullOrEmpty(mqtt.Username))
        {
            problems.Add(new ConfigProblem("mqtt.username", "is required when mqtt.passwordFile is set"));
        }

        if (mqtt.Tls is { Enabled: true } tls)
        {
            CheckTls(tls, mqtt.Host is null, problems);
        }

        if (mqtt.Host is { } host && string.IsNullOrWhiteSpace(host))
        {
            problems.Add(new ConfigProblem("mqtt.host", "must not be empty; remove the key to use the embedded broker"));
        }
    }

    private static void CheckTls(MqttTlsOptions tls, bool embeddedBroker, List<ConfigProblem> problems)
    {
        if (embeddedBroker)
        {
            problems.Add(new ConfigProblem("mqtt.tls", "TLS needs an external broker (mqtt.host); the embedded broker listens on loopback without TLS"));
        }

        if (tls.CaFile is not null)
        {
            ConfigFiles.CheckReadable(tls.CaFile, "mqtt.tls.caFile", problems);
        }

        if ((tls.CertFile is null) != (tls.KeyFile is null))
        {
            problems.Add(new ConfigProblem(tls.CertFile is null ? "mqtt.tls.certFile" : "mqtt.tls.keyFile", "a client certificate needs both certFile and keyFile"));
        }

        if (tls.CertFile is not null)
        {
            ConfigFiles.CheckReadable(tls.CertFile, "mqtt.tls.certFile", problems);
        }

        if (tls.KeyFile is not null)
        {
            ConfigFiles.CheckReadable(tls.KeyFile, "mqtt.tls.keyFile", problems);
        }
    }
}

/// <summary>What the MQTT output publishes (<c>mqtt.format</c>): written <c>uns</c>, <c>sparkplugb</c> or <c>both</c>, exactly.</summary>
[TypeConverter(typeof(MqttFormatConverter))]
public enum MqttFormat
{
    /// <summary><c>uns</c>: JSON on Unified Namespace topics.</summary>
    Uns,

    /// <summary><c>sparkplugb</c>: Sparkplug B births and data.</summary>
    SparkplugB,

    /// <summary><c>both</c>: the two outputs side by side.</summary>
    Both,
}

/// <summary>The MQTT version spoken first (<c>mqtt.protocolVersion</c>): written <c>5</c> or <c>3.1.1</c>, exactly.</summary>
[TypeConverter(typeof(MqttVersionConverter))]
public enum MqttVersion
{
    /// <summary><c>5</c>.</summary>
    V5,

    /// <summary><c>3.1.1</c>.</summary>
    V311,
}

/// <summary>The spellings of <see cref="MqttFormat"/>.</summary>
public sealed class MqttFormatConverter() : ClosedChoiceConverter<MqttFormat>(("uns", MqttFormat.Uns), ("sparkplugb", MqttFormat.SparkplugB), ("both", MqttFormat.Both));

/// <summary>The spellings of <see cref="MqttVersion"/>.</summary>
public sealed class MqttVersionConverter() : ClosedChoiceConverter<MqttVersion>(("5", MqttVersion.V5), ("3.1.1", MqttVersion.V311));
