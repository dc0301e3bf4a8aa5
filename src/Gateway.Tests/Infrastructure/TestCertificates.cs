using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tests.Infrastructure;

/// <summary>A throw-away CA with server and client certificates, written as PEM files.</summary>
public sealed class TestCertificates
{
    private TestCertificates(string directory, string name)
    {
        CaFile = Path.Combine(directory, name + "-ca.crt");
        ServerCertFile = Path.Combine(directory, name + "-server.crt");
        ServerKeyFile = Path.Combine(directory, name + "-server.key");
        ClientCertFile = Path.Combine(directory, name + "-client.crt");
        ClientKeyFile = Path.Combine(directory, name + "-client.key");
    }

    public string CaFile { get; }

    public string ServerCertFile { get; }

    public string ServerKeyFile { get; }

    public string ClientCertFile { get; }

    public string ClientKeyFile { get; }

    /// <summary>Creates a CA, a server certificate for <paramref name="serverNames"/> and a client certificate.</summary>
    public static TestCertificates Create(string directory, string name, params string[] serverNames)
    {
        var files = new TestCertificates(directory, name);
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest($"CN={name} test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        File.WriteAllText(files.CaFile, ca.ExportCertificatePem());

        Issue(ca, "CN=broker", serverNames, ExtendedKeyUsage.GetServerAuthOid(), files.ServerCertFile, files.ServerKeyFile, now, 2);
        Issue(ca, "CN=gateway", [], ExtendedKeyUsage.GetClientAuthOid(), files.ClientCertFile, files.ClientKeyFile, now, 3);
        return files;
    }

    /// <summary>
    /// A root CA, an intermediate CA under it, and a server certificate for <paramref name="serverNames"/> and a
    /// client certificate, both issued by the intermediate (the layout of most company PKIs).
    /// </summary>
    public static ChainedCertificates CreateChained(string directory, string name, params string[] serverNames)
    {
        var files = new ChainedCertificates(directory, name);
        var now = DateTimeOffset.UtcNow;
        using var rootKey = RSA.Create(2048);
        var rootRequest = new CertificateRequest($"CN={name} root CA", rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false));
        using var root = rootRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var intermediateKey = RSA.Create(2048);
        var intermediateRequest = new CertificateRequest($"CN={name} intermediate CA", intermediateKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        intermediateRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(intermediateRequest.PublicKey, false));
        intermediateRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        using var intermediatePublic = intermediateRequest.Create(root, now.AddDays(-1), now.AddDays(30), [9, (byte)Random.Shared.Next(256)]);
        using var intermediate = intermediatePublic.CopyWithPrivateKey(intermediateKey);

        File.WriteAllText(files.RootCaFile, root.ExportCertificatePem());
        File.WriteAllText(files.IntermediateCaFile, intermediate.ExportCertificatePem());
        File.WriteAllText(files.CaBundleFile, intermediate.ExportCertificatePem() + "\n" + root.ExportCertificatePem());
        Issue(intermediate, "CN=broker", serverNames, ExtendedKeyUsage.GetServerAuthOid(), files.ServerCertFile, files.ServerKeyFile, now, 2);
        Issue(intermediate, "CN=gateway", [], ExtendedKeyUsage.GetClientAuthOid(), files.ClientCertFile, files.ClientKeyFile, now, 3);
        File.WriteAllText(files.ServerChainFile, File.ReadAllText(files.ServerCertFile) + "\n" + intermediate.ExportCertificatePem());
        return files;
    }

    private static void Issue(X509Certificate2 ca, string subject, string[] names, Oid usage, string certFile, string keyFile, DateTimeOffset now, byte serial)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        if (names.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in names)
            {
                if (IPAddress.TryParse(name, out var address))
                {
                    san.AddIpAddress(address);
                }
                else
                {
                    san.AddDnsName(name);
                }
            }

            request.CertificateExtensions.Add(san.Build());
        }

        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(30), [serial, (byte)Random.Shared.Next(256)]);
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }
}


/// <summary>PEM files of a two-level PKI: root CA, intermediate CA, and the certificates the intermediate issued.</summary>
public sealed class ChainedCertificates(string directory, string name)
{
    public string RootCaFile { get; } = Path.Combine(directory, name + "-root.crt");

    public string IntermediateCaFile { get; } = Path.Combine(directory, name + "-intermediate.crt");

    /// <summary>Intermediate then root, in one file.</summary>
    public string CaBundleFile { get; } = Path.Combine(directory, name + "-bundle.crt");

    /// <summary>The server certificate alone.</summary>
    public string ServerCertFile { get; } = Path.Combine(directory, name + "-server.crt");

    /// <summary>The server certificate followed by the intermediate CA (what a broker should send).</summary>
    public string ServerChainFile { get; } = Path.Combine(directory, name + "-server-chain.crt");

    public string ServerKeyFile { get; } = Path.Combine(directory, name + "-server.key");

    public string ClientCertFile { get; } = Path.Combine(directory, name + "-client.crt");

    public string ClientKeyFile { get; } = Path.Combine(directory, name + "-client.key");
}

internal static class ExtendedKeyUsage
{
    public static Oid GetServerAuthOid() => new("1.3.6.1.5.5.7.3.1");

    public static Oid GetClientAuthOid() => new("1.3.6.1.5.5.7.3.2");
}
