using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Drivers.OpcUa.Security;

/// <summary>How a server certificate that is not in <c>trusted/</c> is handled.</summary>
public enum ServerCertificateTrust
{
    /// <summary>Refused and copied to <c>rejected/</c>; an operator moves it to <c>trusted/</c> to accept it (the default).</summary>
    TrustList,

    /// <summary>Trust on first use: copied to <c>trusted/</c> and accepted. For demos and labs.</summary>
    TrustOnFirstUse,
}

/// <summary>
/// The PKI folder of the OPC UA client, laid out as OPC UA applications usually do:
/// <c>own/certs</c> and <c>own/private</c> (our application instance certificate and its key, created on first use),
/// <c>trusted/certs</c> (server certificates or CAs we accept), <c>issuers/certs</c> (intermediate CAs) and
/// <c>rejected/certs</c> (certificates we refused, for an operator to inspect and move to trusted).
/// </summary>
public sealed class CertificateStore
{
    private const string OwnCertificateName = "gateway.der";
    private const string OwnKeyName = "gateway.key.pem";

    // Several drivers of one gateway share the PKI folder: the first start must create one certificate, not one each.
    private static readonly Lock s_ownCertificateLock = new();

    private readonly TimeProvider _timeProvider;

    public CertificateStore(string root, TimeProvider? timeProvider = null)
    {
        Root = Path.GetFullPath(root);
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The default PKI folder of the command line tools: <c>~/.local/share/gateway/pki</c> on Linux.</summary>
    public static string DefaultRoot =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "gateway", "pki");

    public string Root { get; }

    public string OwnCertificatePath => Path.Combine(Root, "own", "certs", OwnCertificateName);

    public string OwnKeyPath => Path.Combine(Root, "own", "private", OwnKeyName);

    public string TrustedDirectory => Path.Combine(Root, "trusted", "certs");

    public string RejectedDirectory => Path.Combine(Root, "rejected", "certs");

    public string IssuersDirectory => Path.Combine(Root, "issuers", "certs");

    /// <summary>
    /// Our application instance certificate with its private key: loaded from <c>own/</c>, or created there (RSA 2048,
    /// SHA-256, self-signed, <paramref name="applicationUri"/> in the subjectAltName) when absent or made for another URI.
    /// </summary>
    public X509Certificate2 LoadOrCreateApplicationCertificate(string applicationUri, string applicationName)
    {
        lock (s_ownCertificateLock)
        {
            return LoadOrCreate(applicationUri, applicationName);
        }
    }

    private X509Certificate2 LoadOrCreate(string applicationUri, string applicationName)
    {
        foreach (var directory in new[] { Path.GetDirectoryName(OwnCertificatePath)!, Path.GetDirectoryName(OwnKeyPath)!, TrustedDirectory, RejectedDirectory, IssuersDirectory })
        {
            Directory.CreateDirectory(directory);
        }

        if (File.Exists(OwnCertificatePath) && File.Exists(OwnKeyPath))
        {
            var certificate = X509CertificateLoader.LoadCertificateFromFile(OwnCertificatePath);
            var now = _timeProvider.GetUtcNow();
            if (ApplicationUriOf(certificate) == applicationUri && certificate.NotAfter.ToUniversalTime() > now.UtcDateTime.AddDays(1))
            {
                using var key = RSA.Create();
                key.ImportFromPem(File.ReadAllText(OwnKeyPath));
                using (certificate)
                {
                    return certificate.CopyWithPrivateKey(key);
                }
            }

            certificate.Dispose();
        }

        return Create(applicationUri, applicationName);
    }

    private X509Certificate2 Create(string applicationUri, string applicationName)
    {
        using var key = RSA.Create(2048);
        var hostName = Dns.GetHostName();
        var subject = new X500DistinguishedNameBuilder();
        subject.AddDomainComponent(hostName);
        subject.AddOrganizationName("IIoT Gateway");
        subject.AddCommonName(applicationName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.KeyEncipherment |
            X509KeyUsageFlags.DataEncipherment | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"), new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri(applicationUri));
        names.AddDnsName(hostName);
        request.CertificateExtensions.Add(names.Build());
        var keyIdentifier = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(keyIdentifier);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(keyIdentifier));
        var now = _timeProvider.GetUtcNow();
        var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));

        File.WriteAllBytes(OwnCertificatePath, certificate.RawData);
        WritePrivate(OwnKeyPath, key.ExportPkcs8PrivateKeyPem());
        return certificate;
    }

    private static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }

    /// <summary>
    /// Accepts a server certificate found in <c>trusted/</c> (itself, or a CA of it with intermediates from
    /// <c>issuers/</c>) and within its validity period. Any other is copied to <c>rejected/</c> and refused with
    /// <see cref="SampleStatus.BadCertificateUntrusted"/>, unless <paramref name="trust"/> is trust on first use, which
    /// copies it to <c>trusted/</c>. Returns the path of the file written, or null when it was already trusted.
    /// </summary>
    public string? ValidateServerCertificate(byte[] certificateBlob, ServerCertificateTrust trust)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(FirstCertificate(certificateBlob));
        }
        catch (CryptographicException ex)
        {
            throw new UaException(SampleStatus.BadCertificateInvalid, "the server certificate cannot be parsed", ex);
        }

        using (certificate)
        {
            var now = _timeProvider.GetUtcNow().UtcDateTime;
            if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
            {
                throw new UaException(SampleStatus.BadCertificateTimeInvalid,
                    $"the server certificate '{certificate.Subject}' is valid from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}, not now");
            }

            Directory.CreateDirectory(TrustedDirectory);
            Directory.CreateDirectory(RejectedDirectory);
            if (IsTrusted(certificate))
            {
                return null;
            }

            var fileName = FileNameOf(certificate);
            if (trust == ServerCertificateTrust.TrustOnFirstUse)
            {
                var trusted = Path.Combine(TrustedDirectory, fileName);
                File.WriteAllBytes(trusted, certificate.RawData);
                return trusted;
            }

            var rejected = Path.Combine(RejectedDirectory, fileName);
            File.WriteAllBytes(rejected, certificate.RawData);
            throw new UaException(SampleStatus.BadCertificateUntrusted,
                $"the server certificate '{certificate.Subject}' (SHA-1 {certificate.Thumbprint}) is not trusted; it was saved as {rejected}: " +
                $"move it to {TrustedDirectory} to trust it, or trust on first use (trustServerCertificate \"tofu\", --trust-on-first-use) in a lab");
        }
    }

    /// <summary>True when the certificate is in <c>trusted/</c>, itself or through a trusted CA (as <see cref="ValidateServerCertificate"/> checks it).</summary>
    public bool IsTrustedCertificate(X509Certificate2 certificate) => IsTrusted(certificate);

    /// <summary>
    /// Writes a server certificate to <c>trusted/</c> (an operator's decision, such as the commissioning page's
    /// "trust this server certificate") and removes its copy from <c>rejected/</c>; returns the file written.
    /// </summary>
    public string Trust(X509Certificate2 certificate)
    {
        Directory.CreateDirectory(TrustedDirectory);
        var fileName = FileNameOf(certificate);
        var trusted = Path.Combine(TrustedDirectory, fileName);
        var temporary = trusted + ".tmp";
        File.WriteAllBytes(temporary, certificate.RawData);
        File.Move(temporary, trusted, overwrite: true);
        var rejected = Path.Combine(RejectedDirectory, fileName);
        if (File.Exists(rejected))
        {
            File.Delete(rejected);
        }

        return trusted;
    }

    private bool IsTrusted(X509Certificate2 certificate)
    {
        var trusted = LoadAll(Path.Combine(Root, "trusted"));
        try
        {
            if (trusted.Any(t => t.Thumbprint == certificate.Thumbprint))
            {
                return true;
            }

            var authorities = trusted.Where(t => t.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority)).ToArray();
            if (authorities.Length == 0)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationTime = _timeProvider.GetUtcNow().UtcDateTime;
            chain.ChainPolicy.CustomTrustStore.AddRange(new X509Certificate2Collection(authorities));
            var issuers = LoadAll(Path.Combine(Root, "issuers"));
            chain.ChainPolicy.ExtraStore.AddRange(new X509Certificate2Collection(issuers.ToArray()));
            var built = chain.Build(certificate);
            foreach (var issuer in issuers)
            {
                issuer.Dispose();
            }

            return built;
        }
        finally
        {
            foreach (var t in trusted)
            {
                t.Dispose();
            }
        }
    }

    private static List<X509Certificate2> LoadAll(string directory)
    {
        var certificates = new List<X509Certificate2>();
        if (!Directory.Exists(directory))
        {
            return certificates;
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            try
            {
                certificates.Add(X509CertificateLoader.LoadCertificateFromFile(file));
            }
            catch (CryptographicException)
            {
                // not a certificate (a CRL, a note): ignored
            }
        }

        return certificates;
    }

    private static string FileNameOf(X509Certificate2 certificate)
    {
        var name = certificate.GetNameInfo(X509NameType.SimpleName, false);
        var safe = new string(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        return $"{safe} [{certificate.Thumbprint}].der";
    }

    /// <summary>A user certificate (DER or PEM) with its RSA private key (PEM, PKCS#8 or PKCS#1), for X.509 user tokens.</summary>
    public static X509Certificate2 LoadUserCertificate(string certificateFile, string keyFile)
    {
        var bytes = File.ReadAllBytes(certificateFile);
        using var certificate = bytes.Length > 0 && bytes[0] == 0x30
            ? X509CertificateLoader.LoadCertificate(bytes)
            : X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(bytes));
        using var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(keyFile));
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>The URI in the certificate's subjectAltName (the ApplicationUri of an OPC UA application), or null.</summary>
    public static string? ApplicationUriOf(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions.FirstOrDefault(e => e.Oid?.Value == "2.5.29.17");
        if (extension is null)
        {
            return null;
        }

        try
        {
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
            while (names.HasData)
            {
                if (names.PeekTag().HasSameClassAndValue(uriTag))
                {
                    return names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag);
                }

                names.ReadEncodedValue();
            }
        }
        catch (AsnContentException)
        {
        }

        return null;
    }

    /// <summary>A server may send a chain: the first DER element is its own certificate.</summary>
    public static byte[] FirstCertificate(byte[] der)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var first = reader.ReadEncodedValue();
            return first.Length == der.Length ? der : first.ToArray();
        }
        catch (AsnContentException)
        {
            return der;
        }
    }
}
