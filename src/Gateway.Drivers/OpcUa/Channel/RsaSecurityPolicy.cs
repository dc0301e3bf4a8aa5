using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.Channel;

/// <summary>
/// P_SHA256 of RFC 5246 §5, which OPC 10000-6 §6.7.5 uses to derive the symmetric keys:
/// A(0) = seed, A(i) = HMAC(secret, A(i-1)), output = HMAC(secret, A(1) ‖ seed) ‖ HMAC(secret, A(2) ‖ seed) ‖ ...
/// </summary>
public static class PSha256
{
    public static byte[] Derive(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> seed, int length)
    {
        var output = new byte[length];
        var a = seed.ToArray();
        var input = new byte[HMACSHA256.HashSizeInBytes + seed.Length];
        seed.CopyTo(input.AsSpan(HMACSHA256.HashSizeInBytes));
        for (var offset = 0; offset < length; offset += HMACSHA256.HashSizeInBytes)
        {
            a = HMACSHA256.HashData(secret, a);
            a.CopyTo(input, 0);
            var block = HMACSHA256.HashData(secret, input);
            block.AsSpan(0, Math.Min(block.Length, length - offset)).CopyTo(output.AsSpan(offset));
        }

        return output;
    }
}

/// <summary>The algorithms of one RSA-based security policy (OPC 10000-7 security policy profiles).</summary>
public sealed record SecurityAlgorithms(
    string Uri,
    int SigningKeyLength,
    int EncryptionKeyLength,
    RSAEncryptionPadding AsymmetricEncryption,
    int OaepOverhead,
    string AsymmetricEncryptionUri,
    RSASignaturePadding AsymmetricSignature,
    string AsymmetricSignatureUri)
{
    /// <summary>Length of the symmetric initialisation vector (the AES block) in bytes.</summary>
    public const int InitializationVectorLength = 16;

    /// <summary>Length of the OpenSecureChannel and session nonces in bytes.</summary>
    public const int NonceLength = 32;

    public static SecurityAlgorithms Basic256Sha256 { get; } = new(SecurityPolicies.Basic256Sha256, 32, 32,
        RSAEncryptionPadding.OaepSHA1, 42, "http://www.w3.org/2001/04/xmlenc#rsa-oaep",
        RSASignaturePadding.Pkcs1, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");

    public static SecurityAlgorithms Aes128Sha256RsaOaep { get; } = Basic256Sha256 with { Uri = SecurityPolicies.Aes128Sha256RsaOaep, EncryptionKeyLength = 16 };

    public static SecurityAlgorithms Aes256Sha256RsaPss { get; } = new(SecurityPolicies.Aes256Sha256RsaPss, 32, 32,
        RSAEncryptionPadding.OaepSHA256, 66, "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256",
        RSASignaturePadding.Pss, "http://opcfoundation.org/UA/security/rsa-pss-sha2-256");

    /// <summary>The algorithms of a policy URI; null for None and for policies not implemented.</summary>
    public static SecurityAlgorithms? Find(string? uri) => uri switch
    {
        SecurityPolicies.Basic256Sha256 => Basic256Sha256,
        SecurityPolicies.Aes128Sha256RsaOaep => Aes128Sha256RsaOaep,
        SecurityPolicies.Aes256Sha256RsaPss => Aes256Sha256RsaPss,
        _ => null,
    };

    /// <summary>The RSA block the public key of <paramref name="rsa"/> encrypts at once.</summary>
    public int PlainTextBlockSize(RSA rsa) => (rsa.KeySize / 8) - OaepOverhead;

    /// <summary>Encrypts <paramref name="plain"/> block by block with the public key (the secret format of user tokens uses it too).</summary>
    public byte[] EncryptAsymmetric(RSA publicKey, ReadOnlySpan<byte> plain)
    {
        var block = PlainTextBlockSize(publicKey);
        var cipherBlock = publicKey.KeySize / 8;
        var blocks = (plain.Length + block - 1) / block;
        var output = new byte[blocks * cipherBlock];
        for (var i = 0; i < blocks; i++)
        {
            var slice = plain.Slice(i * block, Math.Min(block, plain.Length - (i * block)));
            if (!publicKey.TryEncrypt(slice, output.AsSpan(i * cipherBlock, cipherBlock), AsymmetricEncryption, out var written) || written != cipherBlock)
            {
                throw new CryptographicException("RSA encryption produced an unexpected block size");
            }
        }

        return output;
    }
}

/// <summary>
/// Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss in mode Sign or SignAndEncrypt
/// (OPC 10000-6 §6.7): OpenSecureChannel chunks are signed with our private key and encrypted with the server's
/// public key; every other chunk is signed with HMAC-SHA256 and, in SignAndEncrypt, encrypted with AES-CBC, with
/// keys derived by P_SHA256 from the nonces of the token that secured it.
/// </summary>
public sealed class RsaSecurityPolicy : ISecurityPolicy, IDisposable
{
    private const int SymmetricSignatureSize = HMACSHA256.HashSizeInBytes;
    private const int AesBlockSize = 16;

    private readonly SecurityAlgorithms _algorithms;
    private readonly RSA _clientKey;
    private readonly RSA _serverKey;
    private readonly byte[] _serverCertificate;
    private readonly Dictionary<uint, TokenKeys> _keys = [];
    private readonly Lock _keysLock = new();
    private uint _currentToken;

    /// <param name="algorithms">The policy.</param>
    /// <param name="mode">Sign or SignAndEncrypt.</param>
    /// <param name="clientCertificate">Our application instance certificate with its private key.</param>
    /// <param name="serverCertificate">The server's certificate (DER; a chain starts with it) from its endpoint.</param>
    public RsaSecurityPolicy(SecurityAlgorithms algorithms, MessageSecurityMode mode, X509Certificate2 clientCertificate, byte[] serverCertificate)
    {
        if (mode is not (MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
        {
            throw new ArgumentException($"security policy {algorithms.Uri} needs mode Sign or SignAndEncrypt", nameof(mode));
        }

        _algorithms = algorithms;
        Mode = mode;
        _clientKey = clientCertificate.GetRSAPrivateKey() ?? throw new ArgumentException("the application certificate has no RSA private key", nameof(clientCertificate));
        _serverCertificate = CertificateStore.FirstCertificate(serverCertificate);
        using var server = X509CertificateLoader.LoadCertificate(_serverCertificate);
        _serverKey = server.GetRSAPublicKey() ?? throw new UaException(SampleStatus.BadCertificateInvalid, "the server certificate has no RSA key");
        SenderCertificate = clientCertificate.RawData;
#pragma warning disable CA5350 // the asymmetric security header names the receiver certificate by its SHA-1 thumbprint (OPC 10000-6 §6.7.2.3)
        ReceiverCertificateThumbprint = SHA1.HashData(_serverCertificate);
#pragma warning restore CA5350
    }

    public string Uri => _algorithms.Uri;

    public MessageSecurityMode Mode { get; }

    public byte[]? SenderCertificate { get; }

    public byte[]? ReceiverCertificateThumbprint { get; }

    /// <summary>Tokens whose keys are held (the current one and, during the renewal overlap, the previous one).</summary>
    public IReadOnlyCollection<uint> KeyedTokens
    {
        get
        {
            lock (_keysLock)
            {
                return [.. _keys.Keys];
            }
        }
    }

    public byte[] CreateNonce() => RandomNumberGenerator.GetBytes(SecurityAlgorithms.NonceLength);

    public void DeriveKeys(uint tokenId, byte[] clientNonce, byte[] serverNonce)
    {
        if (serverNonce.Length != SecurityAlgorithms.NonceLength)
        {
            throw new UaException(SampleStatus.BadNonceInvalid, $"the server nonce has {serverNonce.Length} bytes, {_algorithms.Uri} needs {SecurityAlgorithms.NonceLength}");
        }

        var keys = TokenKeys.Derive(_algorithms, clientNonce, serverNonce);
        lock (_keysLock)
        {
            // Keep the previous token: the server may still send with it until it sees our first chunk under the new one.
            foreach (var old in _keys.Keys.Where(k => k != tokenId && k != _currentToken).ToArray())
            {
                _keys.Remove(old);
            }

            _keys[tokenId] = keys;
            _currentToken = tokenId;
        }
    }

    public int MaxBodySize(int chunkSize, int headerSize, bool asymmetric)
    {
        var unencryptedHeader = headerSize - 8; // the sequence header is encrypted
        if (asymmetric)
        {
            var cipherBlock = _serverKey.KeySize / 8;
            var blocks = (chunkSize - unencryptedHeader) / cipherBlock;
            return (blocks * _algorithms.PlainTextBlockSize(_serverKey)) - 8 - (_clientKey.KeySize / 8) - 1 - ExtraPaddingBytes(_serverKey);
        }

        if (Mode == MessageSecurityMode.Sign)
        {
            return chunkSize - headerSize - SymmetricSignatureSize;
        }

        var available = (chunkSize - unencryptedHeader) / AesBlockSize * AesBlockSize;
        return available - 8 - SymmetricSignatureSize - 1;
    }

    public void SecureChunk(UaBuffer chunk, int chunkStart, int securityHeaderEnd, bool asymmetric)
    {
        if (asymmetric)
        {
            SecureAsymmetric(chunk, chunkStart, securityHeaderEnd);
        }
        else
        {
            SecureSymmetric(chunk, chunkStart, securityHeaderEnd);
        }
    }

    private void SecureAsymmetric(UaBuffer chunk, int chunkStart, int securityHeaderEnd)
    {
        var signatureSize = _clientKey.KeySize / 8;
        var plainBlock = _algorithms.PlainTextBlockSize(_serverKey);
        var cipherBlock = _serverKey.KeySize / 8;
        var extra = ExtraPaddingBytes(_serverKey);
        var plainLength = chunk.Length - securityHeaderEnd;
        var padding = WritePadding(chunk, plainLength + 1 + extra + signatureSize, plainBlock, extra);
        var encryptedLength = (plainLength + padding + 1 + extra + signatureSize) / plainBlock * cipherBlock;
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.Written(chunkStart + 4, 4), (uint)(securityHeaderEnd - chunkStart + encryptedLength));

        var signature = _clientKey.SignData(chunk.WrittenSpan[chunkStart..], HashAlgorithmName.SHA256, _algorithms.AsymmetricSignature);
        Write(chunk, signature);
        var cipher = _algorithms.EncryptAsymmetric(_serverKey, chunk.WrittenSpan[securityHeaderEnd..]);
        Replace(chunk, securityHeaderEnd, cipher);
    }

    private void SecureSymmetric(UaBuffer chunk, int chunkStart, int securityHeaderEnd)
    {
        var tokenId = BinaryPrimitives.ReadUInt32LittleEndian(chunk.WrittenSpan.Slice(chunkStart + 12, 4));
        var keys = KeysOf(tokenId);
        var encrypt = Mode == MessageSecurityMode.SignAndEncrypt;
        if (encrypt)
        {
            WritePadding(chunk, chunk.Length - securityHeaderEnd + 1 + SymmetricSignatureSize, AesBlockSize, 0);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(chunk.Written(chunkStart + 4, 4), (uint)(chunk.Length - chunkStart + SymmetricSignatureSize));
        Write(chunk, HMACSHA256.HashData(keys.ClientSigning, chunk.WrittenSpan[chunkStart..]));
        if (encrypt)
        {
            using var aes = Aes.Create();
            aes.Key = keys.ClientEncryption;
            var cipher = aes.EncryptCbc(chunk.WrittenSpan[securityHeaderEnd..], keys.ClientIv, PaddingMode.None);
            Replace(chunk, securityHeaderEnd, cipher);
        }
    }

    public int UnsecureChunk(byte[] chunk, int securityHeaderEnd, bool asymmetric, uint tokenId, byte[]? senderCertificate) =>
        asymmetric ? UnsecureAsymmetric(chunk, securityHeaderEnd, senderCertificate) : UnsecureSymmetric(chunk, securityHeaderEnd, tokenId);

    private int UnsecureAsymmetric(byte[] chunk, int securityHeaderEnd, byte[]? senderCertificate)
    {
        if (senderCertificate is null || !CertificateStore.FirstCertificate(senderCertificate).AsSpan().SequenceEqual(_serverCertificate))
        {
            throw new UaConnectionException(SampleStatus.BadCertificateInvalid, "the server secured OpenSecureChannel with another certificate than the one of its endpoint");
        }

        var cipherBlock = _clientKey.KeySize / 8;
        var encrypted = chunk.AsSpan(securityHeaderEnd);
        if (encrypted.Length % cipherBlock != 0)
        {
            throw new UaConnectionException(SampleStatus.BadSecurityChecksFailed, $"the encrypted part of an OpenSecureChannel chunk ({encrypted.Length} bytes) is not a whole number of {cipherBlock}-byte RSA blocks");
        }

        var plainLength = 0;
        var block = new byte[cipherBlock];
        try
        {
            for (var offset = 0; offset < encrypted.Length; offset += cipherBlock)
            {
                encrypted.Slice(offset, cipherBlock).CopyTo(block);
                var plain = _clientKey.Decrypt(block, _algorithms.AsymmetricEncryption);
                plain.CopyTo(chunk, securityHeaderEnd + plainLength);
                plainLength += plain.Length;
            }
        }
        catch (CryptographicException ex)
        {
            throw new UaConnectionException(SampleStatus.BadSecurityChecksFailed, "cannot decrypt the OpenSecureChannel response with our private key", ex);
        }

        var plainEnd = securityHeaderEnd + plainLength;
        var signatureSize = _serverKey.KeySize / 8;
        var signedEnd = plainEnd - signatureSize;
        if (signedEnd <= securityHeaderEnd ||
            !_serverKey.VerifyData(chunk.AsSpan(0, signedEnd), chunk.AsSpan(signedEnd, signatureSize), HashAlgorithmName.SHA256, _algorithms.AsymmetricSignature))
        {
            throw new UaConnectionException(SampleStatus.BadSecurityChecksFailed, "the signature of the OpenSecureChannel response does not verify with the server certificate");
        }

        return RemovePadding(chunk, securityHeaderEnd, signedEnd, ExtraPaddingBytes(_clientKey));
    }

    private int UnsecureSymmetric(byte[] chunk, int securityHeaderEnd, uint tokenId)
    {
        var keys = KeysOf(tokenId);
        var encrypted = Mode == MessageSecurityMode.SignAndEncrypt;
        if (encrypted)
        {
            var length = chunk.Length - securityHeaderEnd;
            if (length % AesBlockSize != 0)
            {
                throw new UaConnectionException(SampleStatus.BadSecurityChecksFailed, $"the encrypted part of a chunk ({length} bytes) is not a whole number of AES blocks");
            }

            using var aes = Aes.Create();
            aes.Key = keys.ServerEncryption;
            var plain = aes.DecryptCbc(chunk.AsSpan(securityHeaderEnd), keys.ServerIv, PaddingMode.None);
            plain.CopyTo(chunk, securityHeaderEnd);
        }

        var signedEnd = chunk.Length - SymmetricSignatureSize;
        if (signedEnd <= securityHeaderEnd ||
            !CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(keys.ServerSigning, chunk.AsSpan(0, signedEnd)), chunk.AsSpan(signedEnd)))
        {
            throw new UaConnectionException(SampleStatus.BadSecurityChecksFailed, $"a chunk signed under token {tokenId} does not verify");
        }

        return encrypted ? RemovePadding(chunk, securityHeaderEnd, signedEnd, 0) : signedEnd;
    }

    private TokenKeys KeysOf(uint tokenId)
    {
        lock (_keysLock)
        {
            return _keys.TryGetValue(tokenId, out var keys)
                ? keys
                : throw new UaConnectionException(SampleStatus.BadSecureChannelTokenUnknown, $"no keys for security token {tokenId}");
        }
    }

    /// <summary>One byte of padding size, plus one when the encrypting key is longer than 2048 bits (OPC 10000-6 §6.7.2.5).</summary>
    private static int ExtraPaddingBytes(RSA key) => key.KeySize > 2048 ? 1 : 0;

    /// <summary>Writes N bytes of value N (low byte), the padding size and, with <paramref name="extra"/>, its high byte; returns N.</summary>
    private static int WritePadding(UaBuffer chunk, int lengthWithoutPadding, int block, int extra)
    {
        var padding = (block - (lengthWithoutPadding % block)) % block;
        var span = chunk.GetSpan(padding + 1 + extra);
        span[..(padding + 1)].Fill((byte)padding);
        if (extra == 1)
        {
            span[padding + 1] = (byte)(padding >> 8);
        }

        chunk.Advance(padding + 1 + extra);
        return padding;
    }

    /// <summary>Returns the end of the body: before the padding that ends at <paramref name="paddingEnd"/>.</summary>
    private static int RemovePadding(byte[] chunk, int securityHeaderEnd, int paddingEnd, int extra)
    {
        var padding = extra == 1 ? chunk[paddingEnd - 2] | (chunk[paddingEnd - 1] << 8) : chunk[paddingEnd - 1];
        var bodyEnd = paddingEnd - 1 - extra - padding;
        if (bodyEnd < securityHeaderEnd + 8)
        {
            throw new UaConnectionException(SampleStatus.BadSecurityChecksFailed, "invalid padding in a secured chunk");
        }

        for (var i = bodyEnd; i < bodyEnd + padding; i++)
        {
            if (chunk[i] != (byte)padding)
            {
                throw new UaConnectionException(SampleStatus.BadSecurityChecksFailed, "invalid padding in a secured chunk");
            }
        }

        return bodyEnd;
    }

    private static void Write(UaBuffer chunk, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(chunk.GetSpan(bytes.Length));
        chunk.Advance(bytes.Length);
    }

    /// <summary>Replaces everything after <paramref name="start"/> with <paramref name="bytes"/>.</summary>
    private static void Replace(UaBuffer chunk, int start, byte[] bytes)
    {
        var header = chunk.WrittenSpan[..start].ToArray();
        chunk.Clear();
        Write(chunk, header);
        Write(chunk, bytes);
    }

    public void Dispose()
    {
        _clientKey.Dispose();
        _serverKey.Dispose();
    }

    /// <summary>The keys of one security token: the client's secure what we send, the server's what we receive.</summary>
    public sealed record TokenKeys(byte[] ClientSigning, byte[] ClientEncryption, byte[] ClientIv, byte[] ServerSigning, byte[] ServerEncryption, byte[] ServerIv)
    {
        public static TokenKeys Derive(SecurityAlgorithms algorithms, byte[] clientNonce, byte[] serverNonce)
        {
            var length = algorithms.SigningKeyLength + algorithms.EncryptionKeyLength + SecurityAlgorithms.InitializationVectorLength;
            var client = PSha256.Derive(serverNonce, clientNonce, length);
            var server = PSha256.Derive(clientNonce, serverNonce, length);
            var s = algorithms.SigningKeyLength;
            var e = s + algorithms.EncryptionKeyLength;
            return new TokenKeys(client[..s], client[s..e], client[e..], server[..s], server[s..e], server[e..]);
        }
    }
}
