using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Xunit;

namespace Gateway.Tests.OpcUa;

public sealed class UaClientUnitTests
{
    [Theory]
    [InlineData("opc.tcp://plc.local:4840", "opc.tcp://PLC-HOSTNAME:4840/UA/Server", "opc.tcp://plc.local:4840/UA/Server")]
    [InlineData("opc.tcp://10.0.0.5:48400/", "opc.tcp://internal:48400", "opc.tcp://10.0.0.5:48400")]
    [InlineData("opc.tcp://10.0.0.5:48400", null, "opc.tcp://10.0.0.5:48400")]
    public void CombineEndpointUrl_KeepsTypedHostAndAdvertisedPath(string typed, string? advertised, string expected)
    {
        Assert.Equal(expected, UaClient.CombineEndpointUrl(typed, advertised));
    }

    [Theory]
    [InlineData("opc.tcp://127.0.0.1:48400", "127.0.0.1", 48400)]
    [InlineData("opc.tcp://plc.local", "plc.local", 4840)]
    [InlineData("opc.tcp://[::1]:4841/path", "::1", 4841)]
    public void ParseEndpoint_ReadsHostAndPort(string url, string host, int port)
    {
        Assert.Equal((host, port), UaClient.ParseEndpoint(url));
    }

    [Theory]
    [InlineData("http://x:80")]
    [InlineData("plc:4840")]
    public void ParseEndpoint_RejectsOtherSchemes(string url)
    {
        Assert.Throws<ArgumentException>(() => UaClient.ParseEndpoint(url));
    }

    [Fact]
    public void ParseBrowsePath_NamespacePrefixes_BecomeQualifiedNamesFromRoot()
    {
        var path = UaClient.ParseBrowsePath("/Objects/1:Machine1/2:Temperature");

        Assert.Equal(UaClient.RootFolder, path.StartingNode);
        Assert.Equal([new QualifiedName(0, "Objects"), new QualifiedName(1, "Machine1"), new QualifiedName(2, "Temperature")], path.Elements!.Select(e => e.TargetName));
        Assert.All(path.Elements!, e => Assert.Equal(UaClient.HierarchicalReferences, e.ReferenceTypeId));
    }

    [Fact]
    public void EncryptSecret_IsLengthPasswordAndNonceUnderRsaOaepSha1()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=server", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var nonce = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var encrypted = UaClient.EncryptSecret(certificate.RawData, "gwpass"u8.ToArray(), nonce);
        var plain = key.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1);

        Assert.Equal(256, encrypted.Length);
        Assert.Equal(6u + 32u, BinaryPrimitives.ReadUInt32LittleEndian(plain));
        Assert.Equal("gwpass"u8.ToArray(), plain[4..10]);
        Assert.Equal(nonce, plain[10..]);
    }

    [Fact]
    public void Options_UnknownPolicyOrInconsistentMode_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => new UaClient(new UaClientOptions { EndpointUrl = "opc.tcp://x:1", SecurityPolicy = OpcUaSecurityPolicy.Basic256Sha256, SecurityMode = OpcUaSecurityMode.None }));
        Assert.Throws<ArgumentException>(() => new UaClient(new UaClientOptions { EndpointUrl = "opc.tcp://x:1", SecurityPolicy = OpcUaSecurityPolicy.None, SecurityMode = OpcUaSecurityMode.Sign }));

        // An unknown policy has no value of the option's type: it is refused where the text is read.
        Assert.Throws<ArgumentException>(() => SecurityChoice.Policy("Basic128Rsa15"));
    }
}
