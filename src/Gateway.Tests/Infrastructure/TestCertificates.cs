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


internal static class ExtendedKeyUsage
{
    public static Oid GetServerAuthOid() => new("1.3.6.1.5.5.7.3.1");

    public static Oid GetClientAuthOid() => new("1.3.6.1.5.5.7.3.2");
}
