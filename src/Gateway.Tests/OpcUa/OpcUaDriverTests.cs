#pragma warning disable CA1861 // constant arrays in assertions read better inline
using System.Collections.Concurrent;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa.DataTypes;
using Gateway.Drivers.OpcUa;
using Gateway.Drivers.OpcUa.Encoding;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Gateway.Tests.OpcUa;

internal sealed class CollectingWriter : ISampleWriter
{
    public ConcurrentQueue<Sample> Samples { get; } = new();

    public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
    {
        Samples.Enqueue(sample);
        return ValueTask.CompletedTask;
    }
}

internal static class DriverConfigs
{
    public static (DriverConfig Config, IConfigurationSection Section) Load(string json)
    {
        var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        var section = root.GetSection("drivers:0");
        var config = new DriverConfig();
        section.Bind(config);
        return (config, section);
    }
}

public sealed class OpcUaDriverFactoryTests
{
    private static List<ConfigProblem> Validate(string driverJson)
    {
        var (config, section) = DriverConfigs.Load($$"""{ "drivers": [ {{driverJson}} ] }""");
        return new OpcUaDriverFactory().Validate(config, section, "drivers[0]").ToList();
    }

    [Fact]
    public void Validate_NodeIdsAndBrowsePaths_AreAccepted()
    {
        var problems = Validate("""
            { "name": "ua", "type": "opcua", "endpointUrl": "opc.tcp://127.0.0.1:4840", "tags": [
              { "name": "a", "address": "ns=2;s=Machine1.Temperature" }, { "name": "b", "address": "ns=1;i=1001" },
              { "name": "c", "address": "ns=1;g=72962b91-fa75-4ae6-8d28-b404dc7daf63" }, { "name": "d", "address": "ns=1;b=T3BhcXVl" },
              { "name": "e", "address": "/Objects/1:Machine1/1:Temperature" } ] }
            """);

        Assert.Empty(problems);
    }

    [Fact]
    public void Validate_SecureEndpointSettings_AreAcceptedOrReportedWithTheirPaths()
    {
        var good = Validate("""
            { "name": "ua", "type": "opcua", "endpointUrl": "opc.tcp://127.0.0.1:4840", "securityPolicy": "auto", "trustServerCertificate": "tofu",
              "applicationUri": "urn:line-1:gateway", "channelLifetimeMs": 60000, "tags": [ { "name": "a", "address": "i=2259" } ] }
            """);
        var bad = Validate("""
            { "name": "ua", "type": "opcua", "endpointUrl": "opc.tcp://127.0.0.1:4840", "securityPolicy": "Basic256Sha256", "securityMode": "None",
              "userCertificateFile": "/nonexistent/user.pem", "applicationUri": "not a uri", "tags": [ { "name": "a", "address": "i=2259" } ] }
            """).Select(p => p.ToString()).ToList();
        var modeWithoutPolicy = Validate("""
            { "name": "ua", "type": "opcua", "endpointUrl": "opc.tcp://127.0.0.1:4840", "securityMode": "Sign", "tags": [ { "name": "a", "address": "i=2259" } ] }
            """).Select(p => p.ToString()).ToList();

        Assert.Empty(good);
        Assert.Contains("drivers[0].securityMode: security policy Basic256Sha256 needs Sign or SignAndEncrypt", bad);
        Assert.Contains("drivers[0].userKeyFile: userCertificateFile and userKeyFile go together", bad);
        Assert.Contains(bad, p => p.StartsWith("drivers[0].applicationUri: must be an absolute URI", StringComparison.Ordinal));
        Assert.Contains("drivers[0].securityMode: 'Sign' needs a security policy other than None", modeWithoutPolicy);
    }

    [Fact]
    public void Validate_UnknownSecurityAndBadValues_ReportJsonPaths()
    {
        var problems = Validate("""
            { "name": "ua", "type": "opcua", "endpointUrl": "http://x", "securityPolicy": "Basic128Rsa15", "securityMode": "Encrypt", "trustServerCertificate": "always",
              "mode": "push", "username": "u", "publishingIntervalMs": 1, "tags": [ { "name": "a", "address": "ns=x;s=1" }, { "name": "b" },
              { "name": "c", "address": "ns=2;s=C", "deadbandPercent": 150, "samplingIntervalMs": -1 } ] }
            """).Select(p => p.ToString()).ToList();

        Assert.Contains("drivers[0].endpointUrl: 'http://x' is not an opc.tcp://host:port URL", problems);
        Assert.Contains("drivers[0].securityPolicy: must be one of None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, auto, got 'Basic128Rsa15'", problems);
        Assert.Contains("drivers[0].securityMode: must be one of None, Sign, SignAndEncrypt, got 'Encrypt'", problems);
        Assert.Contains("drivers[0].trustServerCertificate: must be trustList or tofu, got 'always'", problems);
        Assert.Contains("drivers[0].mode: must be subscription or polling, got 'push'", problems);
        Assert.Contains("drivers[0].passwordFile: is required when username is set", problems);
        Assert.Contains(problems, p => p.StartsWith("drivers[0].publishingIntervalMs: must be between 10", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[0].address: 'ns=x;s=1' is neither a NodeId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[1].address: is required", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[2].deadbandPercent: must be between 0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("drivers[0].tags[2].samplingIntervalMs: must be between 0", StringComparison.Ordinal));
    }

    [Fact]
    public void BuiltInDrivers_RegistersOpcUa()
    {
        Assert.Contains(BuiltInDrivers.Factories, f => f.Types.Contains("opcua"));
    }

    [Theory]
    [InlineData(0x00000000u, Quality.Good)]
    [InlineData(0x00A80000u, Quality.Good)]
    [InlineData(0x40900000u, Quality.Uncertain)]
    [InlineData(0x80340000u, Quality.Bad)]
    [InlineData(0xC0000000u, Quality.Bad)]
    public void QualityOf_TopTwoBits_MapToQuality(uint code, Quality expected)
    {
        Assert.Equal(expected, OpcUaDriver.QualityOf(new StatusCode(code)));
    }

    [Fact]
    public void Convert_BuiltInValues_BecomeTypedSampleValues()
    {
        Assert.Equal(SampleValue.FromBoolean(true), UaVariantValues.Convert(new Variant(BuiltInType.Boolean, true)));
        Assert.Equal(SampleValue.FromInteger(-5), UaVariantValues.Convert(new Variant(BuiltInType.SByte, (sbyte)-5)));
        Assert.Equal(SampleValue.FromInteger(4000000000), UaVariantValues.Convert(new Variant(BuiltInType.UInt32, 4000000000u)));
        Assert.Equal(SampleValue.FromFloat(1.5f), UaVariantValues.Convert(new Variant(BuiltInType.Float, 1.5f)));
        Assert.Equal(SampleValue.FromString("x"), UaVariantValues.Convert(new Variant(BuiltInType.String, "x")));
        Assert.Equal(SampleValue.FromArray(SampleArray.Of([1, 2])), UaVariantValues.Convert(new Variant(BuiltInType.Int32, new[] { 1, 2 })));
        Assert.Equal(SampleValue.FromDouble(25.0), UaVariantValues.Convert(new Variant(BuiltInType.Int16, (short)100), new TagConfig { Scale = 0.2, Offset = 5 }));
    }

    [Fact]
    public void Convert_Float_KeepsTheFloat32Width()
    {
        var value = UaVariantValues.Convert(new Variant(BuiltInType.Float, 22.1f));

        Assert.Equal(SampleValueKind.Float, value.Kind);
        Assert.Equal(22.1f, value.AsFloat);
        Assert.Equal("22.1", value.ToString());
    }

    [Fact]
    public void Convert_UInt64_IsAnExactUnsignedInteger_AlsoAboveInt64Max()
    {
        var max = UaVariantValues.Convert(new Variant(BuiltInType.UInt64, ulong.MaxValue));
        var small = UaVariantValues.Convert(new Variant(BuiltInType.UInt64, 7UL));

        Assert.Equal(SampleValue.FromUnsignedInteger(18446744073709551615UL), max);
        Assert.Equal(18446744073709551615UL, max.AsUnsignedInteger);
        Assert.Equal(SampleValueKind.UnsignedInteger, small.Kind);
    }

    [Fact]
    public void Convert_ScaledFloat_IsAComputedDouble()
    {
        var value = UaVariantValues.Convert(new Variant(BuiltInType.Float, 2.5f), new TagConfig { Scale = 2, Offset = 1 });

        Assert.Equal(SampleValue.FromDouble(6.0), value);
    }

    [Fact]
    public void ToVariant_UnsignedIntegerAboveInt64Max_WritesTheExactUInt64()
    {
        var variant = UaVariantValues.ToVariant(SampleValue.FromUnsignedInteger(ulong.MaxValue - 1), BuiltInType.UInt64);

        Assert.Equal(ulong.MaxValue - 1, variant.Value);
    }
}

public sealed class OpcUaDriverIntegrationTests
{
    private static OpcUaDriver Create(string url, string mode = "subscription", string extraTag = "")
    {
        var (config, section) = DriverConfigs.Load($$"""
            { "drivers": [ { "name": "ua", "type": "opcua", "machine": "m1", "endpointUrl": "{{url}}", "mode": "{{mode}}",
              "publishingIntervalMs": 100, "samplingIntervalMs": 100, "reconnectDelayMs": 200, "maxReconnectDelayMs": 1000, "keepAliveIntervalMs": 1000,
              "tags": [ { "name": "temperature", "address": "ns=1;s=Machine1.Temperature", "unit": "degC" },
                        { "name": "state", "address": "/Objects/1:Machine1/1:State" },
                        { "name": "setpoint", "address": "ns=1;s=Machine1.Setpoint", "writable": true },
                        { "name": "counter", "address": "ns=1;i=1001" }{{extraTag}} ] } ] }
            """);
        Assert.Empty(new OpcUaDriverFactory().Validate(config, section, "drivers[0]"));
        return (OpcUaDriver)new OpcUaDriverFactory().Create(config, section, new DriverContext(TimeProvider.System, NullLoggerFactory.Instance));
    }

    [Fact]
    public async Task Driver_ServerKilledAndRestarted_TagsGoBadOnceThenGoodAgain()
    {
        await using var server = await NodeOpcUaServer.StartAsync("--big", "10");
        await using var driver = Create(server.Url);
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);
        var temperature = driver.Tags.Single(t => t.Path == "temperature");

        await OpcUaIntegrationTests.WaitUntilAsync(() => writer.Samples.Count(s => s.Tag == temperature && s.Quality == Quality.Good) >= 3);
        await server.KillAsync();
        await OpcUaIntegrationTests.WaitUntilAsync(() => writer.Samples.Any(s => s.Tag == temperature && s.Quality == Quality.Bad));
        var badAt = writer.Samples.Count;
        await server.RestartAsync();
        await OpcUaIntegrationTests.WaitUntilAsync(() => writer.Samples.Skip(badAt).Count(s => s.Tag == temperature && s.Quality == Quality.Good) >= 3);
        await cts.CancelAsync();
        await run;

        var samples = writer.Samples.ToArray();
        var first = samples.First(s => s.Tag == temperature);
        Assert.Equal(Quality.Good, first.Quality);
        Assert.Equal(SampleValueKind.Double, first.Value.Kind);
        Assert.Equal("m1", first.Tag.Machine);
        Assert.Equal("degC", first.Tag.Unit);
        Assert.Contains(samples, s => s.Tag.Path == "state" && s.Value == SampleValue.FromString("Running"));
        foreach (var tag in driver.Tags)
        {
            // Bad once per outage, not per retry.
            var qualities = samples.Where(s => s.Tag == tag).Select(s => s.Quality).ToArray();
            var transitionsToBad = qualities.Zip(qualities.Skip(1)).Count(p => p.First != Quality.Bad && p.Second == Quality.Bad);
            Assert.Equal(1, qualities.Count(q => q == Quality.Bad));
            Assert.Equal(1, transitionsToBad);
        }

        Assert.Equal(DriverState.Stopped, driver.State);
    }

    [Fact]
    public async Task Driver_PollingMode_ReadsTagsAndWritesWritableTag()
    {
        await using var server = await NodeOpcUaServer.StartAsync("--big", "10");
        await using var driver = Create(server.Url, "polling");
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);
        var setpoint = driver.Tags.Single(t => t.Path == "setpoint");
        var temperature = driver.Tags.Single(t => t.Path == "temperature");

        await OpcUaIntegrationTests.WaitUntilAsync(() => writer.Samples.Count(s => s.Tag == temperature) >= 3 && writer.Samples.Any(s => s.Tag == setpoint));
        await driver.WriteAsync(setpoint, SampleValue.FromDouble(12.25), CancellationToken.None);
        await OpcUaIntegrationTests.WaitUntilAsync(() => writer.Samples.Any(s => s.Tag == setpoint && s.Value == SampleValue.FromDouble(12.25)));
        var notWritable = await Assert.ThrowsAsync<InvalidOperationException>(() => driver.WriteAsync(temperature, SampleValue.FromDouble(1), CancellationToken.None).AsTask());
        await cts.CancelAsync();
        await run;

        Assert.Contains("not writable", notWritable.Message, StringComparison.Ordinal);
        Assert.All(writer.Samples, s => Assert.Equal(Quality.Good, s.Quality));
    }
}
