using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.Channel;

/// <summary>
/// How chunks are secured (OPC 10000-6 §6.7). The channel builds each chunk with room for what the policy adds,
/// then lets the policy pad, sign and encrypt it in place; on receipt the policy verifies and decrypts before the
/// channel reads the body. None adds nothing; Basic256Sha256 and Aes128_Sha256_RsaOaep plug in here (part 2).
/// </summary>
public interface ISecurityPolicy
{
    /// <summary>The policy URI, for example <c>http://opcfoundation.org/UA/SecurityPolicy#None</c>.</summary>
    string Uri { get; }

    MessageSecurityMode Mode { get; }

    /// <summary>Our certificate (DER) for the asymmetric header; null under None.</summary>
    byte[]? SenderCertificate { get; }

    /// <summary>SHA-1 thumbprint of the server certificate for the asymmetric header; null under None.</summary>
    byte[]? ReceiverCertificateThumbprint { get; }

    /// <summary>A fresh nonce for OpenSecureChannel; empty under None.</summary>
    byte[] CreateNonce();

    /// <summary>
    /// Derives the symmetric keys of token <paramref name="tokenId"/> once the nonces are exchanged. Keys of the
    /// previous token stay usable for received chunks until its lifetime ends (renewal overlap).
    /// </summary>
    void DeriveKeys(uint tokenId, byte[] clientNonce, byte[] serverNonce);

    /// <summary>The most body bytes that fit a chunk of <paramref name="chunkSize"/> after <paramref name="headerSize"/> bytes of headers.</summary>
    int MaxBodySize(int chunkSize, int headerSize, bool asymmetric);

    /// <summary>
    /// Secures a chunk whose headers and body are written in <paramref name="chunk"/> (the size field not yet final):
    /// appends padding and signature, encrypts, and fixes the size. <paramref name="securityHeaderEnd"/> is where the
    /// sequence header starts (encryption starts there).
    /// </summary>
    void SecureChunk(UaBuffer chunk, int chunkStart, int securityHeaderEnd, bool asymmetric);

    /// <summary>
    /// Verifies and decrypts a received chunk in place; returns the length of the plain chunk without padding and
    /// signature. Asymmetric (OPN) chunks come with the sender certificate of their security header; symmetric ones
    /// name the token whose keys secured them.
    /// </summary>
    int UnsecureChunk(byte[] chunk, int securityHeaderEnd, bool asymmetric, uint tokenId, byte[]? senderCertificate);
}

/// <summary>SecurityPolicy None: no signature, no encryption.</summary>
public sealed class SecurityPolicyNone : ISecurityPolicy
{
    public const string PolicyUri = "http://opcfoundation.org/UA/SecurityPolicy#None";

    public static SecurityPolicyNone Instance { get; } = new();

    public string Uri => PolicyUri;

    public MessageSecurityMode Mode => MessageSecurityMode.None;

    public byte[]? SenderCertificate => null;

    public byte[]? ReceiverCertificateThumbprint => null;

    public byte[] CreateNonce() => [];

    public void DeriveKeys(uint tokenId, byte[] clientNonce, byte[] serverNonce)
    {
    }

    public int MaxBodySize(int chunkSize, int headerSize, bool asymmetric) => chunkSize - headerSize;

    public void SecureChunk(UaBuffer chunk, int chunkStart, int securityHeaderEnd, bool asymmetric)
    {
    }

    public int UnsecureChunk(byte[] chunk, int securityHeaderEnd, bool asymmetric, uint tokenId, byte[]? senderCertificate) => chunk.Length;
}

/// <summary>The policy URIs the tools and the driver accept by short name.</summary>
public static class SecurityPolicies
{
    public const string None = SecurityPolicyNone.PolicyUri;
    public const string Basic256Sha256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
    public const string Aes128Sha256RsaOaep = "http://opcfoundation.org/UA/SecurityPolicy#Aes128_Sha256_RsaOaep";
    public const string Aes256Sha256RsaPss = "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss";

    /// <summary>The short names accepted in configuration and on the command line, from least to most secure.</summary>
    public static IReadOnlyList<string> ShortNames { get; } = ["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"];

    public static string? UriOf(string shortName) => shortName switch
    {
        "None" => None,
        "Basic256Sha256" => Basic256Sha256,
        "Aes128_Sha256_RsaOaep" => Aes128Sha256RsaOaep,
        "Aes256_Sha256_RsaPss" => Aes256Sha256RsaPss,
        _ => null,
    };
}
