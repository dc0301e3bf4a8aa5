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

    /// <summary>Writes to PLCs from MQTT; each tag must also be <c>writable</c>. See docs/writes.md.</summary>
    public WritesOptions Writes { get; set; } = new();
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
