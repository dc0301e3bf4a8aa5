using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Drivers.OpcUa;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>
/// The closed choices that are enums in their options classes but keep the spellings users write (mqtt.format,
/// mqtt.protocolVersion, an OPC UA driver's securityPolicy and securityMode): each spelling loads as its member, any
/// other text (case matters, as it always did) is refused at its JSON path with the allowed spellings.
/// </summary>
public sealed class ClosedChoiceTests
{
    [Theory]
    [InlineData("uns", MqttFormat.Uns)]
    [InlineData("sparkplugb", MqttFormat.SparkplugB)]
    [InlineData("both", MqttFormat.Both)]
    public void Load_EachMqttFormatSpelling_BindsItsMember(string spelling, MqttFormat expected)
    {
        var loaded = Load(root => root["mqtt"]!["format"] = spelling);

        Assert.True(loaded.IsValid, string.Join("\n", loaded.Problems));
        Assert.Equal(expected, loaded.Config!.Mqtt.Format);
    }

    [Fact]
    public void Load_WithoutMqttFormatOrVersion_KeepsTheDefaults()
    {
        var loaded = Load(_ => { });

        Assert.True(loaded.IsValid, string.Join("\n", loaded.Problems));
        Assert.Equal(MqttFormat.Uns, loaded.Config!.Mqtt.Format);
        Assert.Equal(MqttVersion.V5, loaded.Config.Mqtt.ProtocolVersion);
    }

    [Theory]
    [InlineData("\"5\"", MqttVersion.V5)]
    [InlineData("5", MqttVersion.V5)] // a JSON number
    [InlineData("\"3.1.1\"", MqttVersion.V311)]
    public void Load_EachProtocolVersionSpelling_BindsItsMember(string json, MqttVersion expected)
    {
        var loaded = Load(root => root["mqtt"]!["protocolVersion"] = JsonNode.Parse(json));

        Assert.True(loaded.IsValid, string.Join("\n", loaded.Problems));
        Assert.Equal(expected, loaded.Config!.Mqtt.ProtocolVersion);
    }

    [Theory]
    [InlineData("format", "UNS", "mqtt.format: must be one of uns, sparkplugb, both, got 'UNS'")]
    [InlineData("format", "sparkplug", "mqtt.format: must be one of uns, sparkplugb, both, got 'sparkplug'")]
    [InlineData("format", "Uns", "mqtt.format: must be one of uns, sparkplugb, both, got 'Uns'")]
    [InlineData("protocolVersion", "3.1", "mqtt.protocolVersion: must be one of 5, 3.1.1, got '3.1'")]
    [InlineData("protocolVersion", "V311", "mqtt.protocolVersion: must be one of 5, 3.1.1, got 'V311'")]
    [InlineData("protocolVersion", "1", "mqtt.protocolVersion: must be one of 5, 3.1.1, got '1'")]
    public void Load_AWrongMqttSpelling_IsRefusedAtItsPathWithTheAllowedOnes(string key, string value, string expected)
    {
        var loaded = Load(root => root["mqtt"]![key] = value);

        Assert.False(loaded.IsValid);
        Assert.Contains(expected, loaded.Problems.Select(p => p.ToString()));
    }

    [Theory]
    [InlineData("None", null, OpcUaSecurityPolicy.None, null)]
    [InlineData("Basic256Sha256", "Sign", OpcUaSecurityPolicy.Basic256Sha256, OpcUaSecurityMode.Sign)]
    [InlineData("Aes128_Sha256_RsaOaep", "SignAndEncrypt", OpcUaSecurityPolicy.Aes128Sha256RsaOaep, OpcUaSecurityMode.SignAndEncrypt)]
    [InlineData("Aes256_Sha256_RsaPss", null, OpcUaSecurityPolicy.Aes256Sha256RsaPss, null)]
    [InlineData("auto", null, OpcUaSecurityPolicy.Auto, null)]
    [InlineData("None", "None", OpcUaSecurityPolicy.None, OpcUaSecurityMode.None)]
    public void Load_EachOpcUaSecuritySpelling_BindsItsMember(string policy, string? mode, OpcUaSecurityPolicy expectedPolicy, OpcUaSecurityMode? expectedMode)
    {
        var loaded = Load(root => root["drivers"]!.AsArray().Add(OpcUaDriver(policy, mode)));

        Assert.True(loaded.IsValid, string.Join("\n", loaded.Problems));
        var settings = new OpcUaSettings();
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(loaded.Root!.GetSection("drivers:1"), settings);
        Assert.Equal(expectedPolicy, settings.SecurityPolicy);
        Assert.Equal(expectedMode, settings.SecurityMode);
    }

    [Theory]
    [InlineData("basic256sha256", null, "drivers[1].securityPolicy: must be one of None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, auto, got 'basic256sha256'")]
    [InlineData("Aes128Sha256RsaOaep", null, "drivers[1].securityPolicy: must be one of None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, auto, got 'Aes128Sha256RsaOaep'")]
    [InlineData("Auto", null, "drivers[1].securityPolicy: must be one of None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, auto, got 'Auto'")]
    [InlineData("Basic256Sha256", "sign", "drivers[1].securityMode: must be one of None, Sign, SignAndEncrypt, got 'sign'")]
    [InlineData("Basic256Sha256", "Encrypt", "drivers[1].securityMode: must be one of None, Sign, SignAndEncrypt, got 'Encrypt'")]
    public void Load_AWrongOpcUaSecuritySpelling_IsRefusedAtItsPathWithTheAllowedOnes(string policy, string? mode, string expected)
    {
        var loaded = Load(root => root["drivers"]!.AsArray().Add(OpcUaDriver(policy, mode)));

        Assert.False(loaded.IsValid);
        Assert.Contains(expected, loaded.Problems.Select(p => p.ToString()));
    }

    private static JsonObject OpcUaDriver(string policy, string? mode)
    {
        var driver = new JsonObject
        {
            ["name"] = "ua",
            ["type"] = "opcua",
            ["machine"] = "press",
            ["endpointUrl"] = "opc.tcp://127.0.0.1:4840",
            ["securityPolicy"] = policy,
            ["trustServerCertificate"] = "tofu",
            ["tags"] = new JsonArray(new JsonObject { ["name"] = "a", ["address"] = "i=2259" }),
        };
        if (mode is not null)
        {
            driver["securityMode"] = mode;
        }

        return driver;
    }

    private static LoadedConfig Load(Action<JsonObject> change)
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", 1000);
        change(config.Root);
        return ConfigLoader.Load(config.Write(), BuiltInDrivers.Factories, includeEnvironment: false);
    }
}
