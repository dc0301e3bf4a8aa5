using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Gateway.Drivers.OpcUa.Transport;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Gateway.Tests.OpcUa;

public sealed class KeyDerivationTests
{
    [Fact]
    public void PSha256_PublishedTls12PrfVector_Matches()
    {
        // The TLS 1.2 PRF test vector for SHA-256 (IETF TLS WG, "TLS 1.2 PRF test vectors"): PRF = P_SHA256(secret, label ‖ seed).
        var secret = Convert.FromHexString("9bbe436ba940f017b17652849a71db35");
        byte[] seed = [.. "test label"u8, .. Convert.FromHexString("a0ba9f936cda311827a6f796ffd5198c")];

        var output = PSha256.Derive(secret, seed, 100);

        Assert.Equal(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab" +
            "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66",
            Convert.ToHexStringLower(output));
    }

    [Theory]
    [InlineData(32)]
    [InlineData(16)]
    public async Task DeriveKeys_FixedNonces_MatchNodeOpcUaCrypto(int encryptionKeyLength)
    {
        var clientNonce = Enumerable.Range(0, 32).Select(i => (byte)(i * 7 + 1)).ToArray();
        var serverNonce = Enumerable.Range(0, 32).Select(i => (byte)(255 - (i * 3))).ToArray();
        var algorithms = encryptionKeyLength == 32 ? SecurityAlgorithms.Basic256Sha256 : SecurityAlgorithms.Aes128Sha256RsaOaep;

        var reference = await NodeDeriveAsync(clientNonce, serverNonce, encryptionKeyLength);
        var keys = RsaSecurityPolicy.TokenKeys.Derive(algorithms, clientNonce, serverNonce);

        Assert.Equal(reference.GetProperty("pSha256").GetString(), Convert.ToHexStringLower(PSha256.Derive(serverNonce, clientNonce, 100)));
        var client = reference.GetProperty("client");
        var server = reference.GetProperty("server");
        Assert.Equal(client.GetProperty("signingKey").GetString(), Convert.ToHexStringLower(keys.ClientSigning));
        Assert.Equal(client.GetProperty("encryptingKey").GetString(), Convert.ToHexStringLower(keys.ClientEncryption));
        Assert.Equal(client.GetProperty("initializationVector").GetString(), Convert.ToHexStringLower(keys.ClientIv));
        Assert.Equal(server.GetProperty("signingKey").GetString(), Convert.ToHexStringLower(keys.ServerSigning));
        Assert.Equal(server.GetProperty("encryptingKey").GetString(), Convert.ToHexStringLower(keys.ServerEncryption));
        Assert.Equal(server.GetProperty("initializationVector").GetString(), Convert.ToHexStringLower(keys.ServerIv));
        Assert.Equal(encryptionKeyLength, keys.ClientEncryption.Length);
    }

    /// <summary>Runs tests/peers/opcua/derive-keys.mjs: node-opcua-crypto's derivation, an independent implementation.</summary>
    private static async Task<JsonElement> NodeDeriveAsync(byte[] clientNonce, byte[] serverNonce, int encryptionKeyLength)
    {
        await NodeOpcUaServer.EnsureInstalledAsync();
        var info = new ProcessStartInfo("node") { WorkingDirectory = NodeOpcUaServer.PeerDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("derive-keys.mjs");
        info.ArgumentList.Add(Convert.ToHexStringLower(clientNonce));
        info.ArgumentList.Add(Convert.ToHexStringLower(serverNonce));
        info.ArgumentList.Add(encryptionKeyLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, await error);
        return JsonDocument.Parse(await output).RootElement.Clone();
    }
}

/// <summary>
/// Chunks secured by one side and unsecured by the other: the server's view is a second policy with the
/// certificates and nonces swapped, so its "client" keys are the keys our side expects from the server.
/// </summary>
public sealed class RsaSecurityPolicyTests
{
    private static readonly byte[] s_clientNonce = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] s_serverNonce = RandomNumberGenerator.GetBytes(32);

    internal static X509Certificate2 SelfSigned(string name, int keySize)
    {
        using var key = RSA.Create(keySize);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var now = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).GetUtcNow();
        return request.CreateSelfSigned(now, now.AddYears(10));
    }

    private static (RsaSecurityPolicy Client, RsaSecurityPolicy Server, X509Certificate2 ClientCertificate) Pair(SecurityAlgorithms algorithms, MessageSecurityMode mode, int clientKeySize, int serverKeySize)
    {
        var clientCertificate = SelfSigned("client", clientKeySize);
        using var serverCertificate = SelfSigned("server", serverKeySize);
        var client = new RsaSecurityPolicy(algorithms, mode, clientCertificate, serverCertificate.RawData);
        var server = new RsaSecurityPolicy(algorithms, mode, serverCertificate, clientCertificate.RawData);
        client.DeriveKeys(1, s_clientNonce, s_serverNonce);
        server.DeriveKeys(1, s_serverNonce, s_clientNonce);
        return (client, server, clientCertificate);
    }

    /// <summary>Writes a chunk's headers and a body filling the chunk size exactly as the channel does; returns the security header end.</summary>
    private static (UaBuffer Chunk, int SecurityHeaderEnd, byte[] Body) BuildChunk(RsaSecurityPolicy policy, bool asymmetric, int chunkSize)
    {
        var chunk = new UaBuffer(chunkSize);
        var e = new UaEncoder(chunk);
        e.WriteBytes(asymmetric ? "OPNF"u8 : "MSGF"u8);
        e.WriteUInt32(0);
        e.WriteUInt32(7);
        if (asymmetric)
        {
            e.WriteString(policy.Uri);
            e.WriteByteString(policy.SenderCertificate);
            e.WriteByteString(policy.ReceiverCertificateThumbprint);
        }
        else
        {
            e.WriteUInt32(1);
        }

        var securityHeaderEnd = chunk.Length;
        var body = RandomNumberGenerator.GetBytes(policy.MaxBodySize(chunkSize, securityHeaderEnd + 8, asymmetric));
        e.WriteUInt32(42);
        e.WriteUInt32(43);
        e.WriteBytes(body);
        return (chunk, securityHeaderEnd, body);
    }

    [Theory]
    [InlineData("Basic256Sha256", MessageSecurityMode.SignAndEncrypt, 2048, 2048)]
    [InlineData("Aes128_Sha256_RsaOaep", MessageSecurityMode.Sign, 2048, 2048)]
    [InlineData("Basic256Sha256", MessageSecurityMode.SignAndEncrypt, 3072, 4096)] // extra padding byte both ways
    [InlineData("Aes256_Sha256_RsaPss", MessageSecurityMode.SignAndEncrypt, 2048, 3072)]
    public void OpenSecureChannelChunk_FullChunk_RoundTripsThroughRsa(string policy, MessageSecurityMode mode, int clientKeySize, int serverKeySize)
    {
        var (client, server, clientCertificate) = Pair(SecurityAlgorithms.Find(SecurityPolicies.UriOf(policy))!, mode, clientKeySize, serverKeySize);
        using (client)
        using (server)
        using (clientCertificate)
        {
            var (chunk, end, body) = BuildChunk(client, asymmetric: true, 8192);
            client.SecureChunk(chunk, 0, end, asymmetric: true);
            var bytes = chunk.ToArray();

            var plainLength = server.UnsecureChunk(bytes, end, asymmetric: true, 0, clientCertificate.RawData);

            Assert.True(bytes.Length <= 8192, $"chunk of {bytes.Length} bytes");
            Assert.True(bytes.Length > 8192 - (serverKeySize / 8), "the chunk should be nearly full");
            Assert.Equal((uint)bytes.Length, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
            Assert.Equal(42u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end)));
            Assert.Equal(body, bytes[(end + 8)..plainLength]);
        }
    }

    [Theory]
    [InlineData("Basic256Sha256", MessageSecurityMode.SignAndEncrypt)]
    [InlineData("Basic256Sha256", MessageSecurityMode.Sign)]
    [InlineData("Aes128_Sha256_RsaOaep", MessageSecurityMode.SignAndEncrypt)]
    [InlineData("Aes128_Sha256_RsaOaep", MessageSecurityMode.Sign)]
    public void MessageChunk_FullChunk_RoundTripsThroughAesAndHmac(string policy, MessageSecurityMode mode)
    {
        var (client, server, clientCertificate) = Pair(SecurityAlgorithms.Find(SecurityPolicies.UriOf(policy))!, mode, 2048, 2048);
        using (client)
        using (server)
        using (clientCertificate)
        {
            var (chunk, end, body) = BuildChunk(client, asymmetric: false, 8192);
            client.SecureChunk(chunk, 0, end, asymmetric: false);
            var bytes = chunk.ToArray();
            var encryptedBodyVisible = bytes.AsSpan(end + 8).IndexOf(body.AsSpan(0, 32)) >= 0;

            var plainLength = server.UnsecureChunk(bytes, end, asymmetric: false, 1, null);

            Assert.InRange(bytes.Length, 8192 - 16, 8192);
            Assert.Equal(mode == MessageSecurityMode.Sign, encryptedBodyVisible);
            Assert.Equal(body, bytes[(end + 8)..plainLength]);
        }
    }

    [Fact]
    public void MessageChunk_TamperedByte_FailsWithBadSecurityChecksFailed()
    {
        var (client, server, clientCertificate) = Pair(SecurityAlgorithms.Basic256Sha256, MessageSecurityMode.SignAndEncrypt, 2048, 2048);
        using (client)
        using (server)
        using (clientCertificate)
        {
            var (chunk, end, _) = BuildChunk(client, asymmetric: false, 1024);
            client.SecureChunk(chunk, 0, end, asymmetric: false);
            var bytes = chunk.ToArray();
            bytes[end + 40] ^= 1;

            var error = Assert.Throws<UaConnectionException>(() => server.UnsecureChunk(bytes, end, asymmetric: false, 1, null));

            Assert.Equal(SampleStatus.BadSecurityChecksFailed, error.StatusCode);
        }
    }

    [Fact]
    public void DeriveKeys_Renewal_KeepsPreviousTokenOnlyUntilTheNextOne()
    {
        var (client, server, clientCertificate) = Pair(SecurityAlgorithms.Aes128Sha256RsaOaep, MessageSecurityMode.SignAndEncrypt, 2048, 2048);
        using (client)
        using (server)
        using (clientCertificate)
        {
            var (chunk, end, _) = BuildChunk(server, asymmetric: false, 1024); // sent by the server under token 1
            server.SecureChunk(chunk, 0, end, asymmetric: false);

            client.DeriveKeys(2, RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
            var afterRenewal = client.UnsecureChunk(chunk.ToArray(), end, asymmetric: false, 1, null);
            client.DeriveKeys(3, RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
            var error = Assert.Throws<UaConnectionException>(() => client.UnsecureChunk(chunk.ToArray(), end, asymmetric: false, 1, null));

            Assert.True(afterRenewal > end);
            Assert.Equal(SampleStatus.BadSecureChannelTokenUnknown, error.StatusCode);
            Assert.Equal([2u, 3u], client.KeyedTokens.Order());
        }
    }

    [Fact]
    public void EncryptSecret_Aes256Sha256RsaPss_UsesOaepSha256()
    {
        using var certificate = SelfSigned("server", 2048);
        var nonce = RandomNumberGenerator.GetBytes(32);

        var encrypted = UaClient.EncryptSecret(certificate.RawData, "gwpass"u8.ToArray(), nonce, SecurityAlgorithms.Aes256Sha256RsaPss);
        using var key = certificate.GetRSAPrivateKey()!;
        var plain = key.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA256);

        Assert.Equal(6u + 32u, BinaryPrimitives.ReadUInt32LittleEndian(plain));
        Assert.Equal(nonce, plain[10..]);
    }
}

public sealed class CertificateStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pki-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ApplicationCertificate_FirstStart_CreatesRsa2048Sha256WithApplicationUri_ThenReusesIt()
    {
        var store = new CertificateStore(_root);

        using var first = store.LoadOrCreateApplicationCertificate("urn:test-host:gateway", "Test Gateway");
        using var second = store.LoadOrCreateApplicationCertificate("urn:test-host:gateway", "Test Gateway");
        using var other = store.LoadOrCreateApplicationCertificate("urn:other:gateway", "Test Gateway");

        Assert.Equal(2048, first.GetRSAPublicKey()!.KeySize);
        Assert.Equal("1.2.840.113549.1.1.11", first.SignatureAlgorithm.Value); // sha256WithRSAEncryption
        Assert.Equal("urn:test-host:gateway", CertificateStore.ApplicationUriOf(first));
        Assert.True(first.HasPrivateKey);
        Assert.Equal(first.Thumbprint, second.Thumbprint);
        Assert.True(second.HasPrivateKey);
        Assert.NotEqual(first.Thumbprint, other.Thumbprint);
        Assert.Equal("urn:other:gateway", CertificateStore.ApplicationUriOf(other));
        foreach (var folder in new[] { "own/certs", "own/private", "trusted/certs", "rejected/certs", "issuers/certs" })
        {
            Assert.True(Directory.Exists(Path.Combine(_root, folder)), folder);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.OwnKeyPath));
        }
    }

    [Fact]
    public void ServerCertificate_Unknown_IsRejectedIntoRejectedFolder_UntilMovedToTrusted()
    {
        var store = new CertificateStore(_root);
        using var server = RsaSecurityPolicyTests.SelfSigned("server", 2048);

        var error = Assert.Throws<UaException>(() => store.ValidateServerCertificate(server.RawData, ServerCertificateTrust.TrustList));
        var rejected = Directory.GetFiles(store.RejectedDirectory).Single();
        File.Move(rejected, Path.Combine(store.TrustedDirectory, Path.GetFileName(rejected)));
        var accepted = store.ValidateServerCertificate(server.RawData, ServerCertificateTrust.TrustList);

        Assert.Equal(SampleStatus.BadCertificateUntrusted, error.StatusCode);
        Assert.Contains(rejected, error.Message, StringComparison.Ordinal);
        Assert.Null(accepted);
    }

    [Fact]
    public void ServerCertificate_TrustOnFirstUse_IsStoredInTrusted()
    {
        var store = new CertificateStore(_root);
        using var server = RsaSecurityPolicyTests.SelfSigned("server", 2048);

        var stored = store.ValidateServerCertificate(server.RawData, ServerCertificateTrust.TrustOnFirstUse);
        var again = store.ValidateServerCertificate(server.RawData, ServerCertificateTrust.TrustList);

        Assert.NotNull(stored);
        Assert.StartsWith(store.TrustedDirectory, stored, StringComparison.Ordinal);
        Assert.Null(again);
        Assert.Empty(Directory.GetFiles(store.RejectedDirectory));
    }

    [Fact]
    public void ServerCertificate_Expired_IsRefusedEvenWhenTrusted()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2040, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var store = new CertificateStore(_root, time);
        using var server = RsaSecurityPolicyTests.SelfSigned("server", 2048); // valid 2026-2036

        var error = Assert.Throws<UaException>(() => store.ValidateServerCertificate(server.RawData, ServerCertificateTrust.TrustOnFirstUse));

        Assert.Equal(SampleStatus.BadCertificateTimeInvalid, error.StatusCode);
    }
}
