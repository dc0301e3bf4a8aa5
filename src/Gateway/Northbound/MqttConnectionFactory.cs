using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Configuration;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Gateway.Northbound;

/// <summary>Builds MQTTnet client options from the configuration: broker, TLS, credentials, last will.</summary>
public static class MqttConnectionFactory
{
    public static MqttClientOptions Build(GatewayConfig config, string willTopic, ReadOnlySpan<byte> willPayload, bool willRetain = true, string clientIdSuffix = "", Action<string>? certificateRejected = null, Action? certificateAccepted = null)
    {
        var mqtt = config.Mqtt;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(mqtt.Host ?? "127.0.0.1", mqtt.Port)
            .WithClientId((mqtt.ClientId ?? $"gateway-{config.Gateway.Id}") + clientIdSuffix)
            .WithProtocolVersion(mqtt.ProtocolVersion == MqttVersion.V311 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(mqtt.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithCleanSession(true)
            .WithWillTopic(willTopic)
            .WithWillPayload(willPayload.ToArray())
            .WithWillRetain(willRetain)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);

        if (mqtt.Username is not null)
        {
            var password = mqtt.PasswordFile is null ? null : ReadSecret(mqtt.PasswordFile);
            builder.WithCredentials(mqtt.Username, password is null ? null : Encoding.UTF8.GetBytes(password));
        }

        if (mqtt.Tls is { Enabled: true } tls)
        {
            builder.WithTlsOptions(o => ConfigureTls(o, tls, mqtt.Host ?? "127.0.0.1", certificateRejected, certificateAccepted));
        }

        return builder.Build();
    }

    /// <summary>Reads a secret file's first line. The value is never logged.</summary>
    public static string ReadSecret(string path)
    {
        using var reader = new StreamReader(path);
        return (reader.ReadLine() ?? string.Empty).TrimEnd('\r');
    }

    private static void ConfigureTls(MqttClientTlsOptionsBuilder options, MqttTlsOptions tls, string host, Action<string>? certificateRejected, Action? certificateAccepted)
    {
        options.UseTls()
            .WithSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
            .WithTargetHost(host);
        X509Certificate2Collection? trust = null;
        if (tls.CaFile is not null)
        {
            trust = [];
            trust.ImportFromPemFile(tls.CaFile);
        }

        if (tls.CertFile is not null && tls.KeyFile is not null)
        {
            var certificate = X509Certificate2.CreateFromPemFile(tls.CertFile, tls.KeyFile);
            // Export and re-import so the key is usable by SslStream on every platform.
            var usable = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
            options.WithClientCertificates([usable]);
        }

        options.WithCertificateValidationHandler(args =>
        {
            var problem = Validate(args.Certificate, args.Chain, args.SslPolicyErrors, trust, tls.VerifyHostname, host);
            if (problem is not null)
            {
                certificateRejected?.Invoke(problem);
            }
            else
            {
                certificateAccepted?.Invoke();
            }

            return problem is null;
        });
    }

    /// <summary>
    /// Checks the broker's certificate: against the configured CA when there is one (else the system store),
    /// and its name against the host unless the configuration turned that off. Returns why it is refused,
    /// or null when it is accepted.
    /// </summary>
    internal static string? Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2Collection? trust, bool verifyHostname, string host)
    {
        if (certificate is null)
        {
            return "the broker presented no certificate";
        }

        using var leaf = new X509Certificate2(certificate);
        if (verifyHostname && errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return $"the broker's certificate ({leaf.Subject}) does not name '{host}'; it names {Names(leaf)} - connect by one of those names (mqtt.host), or set mqtt.tls.verifyHostname to false only for a lab broker";
        }

        if (trust is null)
        {
            return (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None
                ? null
                : $"the broker's certificate ({leaf.Subject}, issued by {leaf.Issuer}) is not trusted by the system: {errors}";
        }

        using var customChain = new X509Chain();
        customChain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        customChain.ChainPolicy.CustomTrustStore.AddRange(trust);
        // An intermediate CA given in caFile (a bundle) also links a chain whose broker sends only its own certificate.
        customChain.ChainPolicy.ExtraStore.AddRange(trust);
        customChain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                customChain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (customChain.Build(leaf))
        {
            return null;
        }

        var issuer = leaf.Issuer;
        var statuses = string.Join("; ", customChain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct());
        if (customChain.ChainStatus.Any(s => s.Status is X509ChainStatusFlags.NotTimeValid))
        {
            return $"the broker's certificate ({leaf.Subject}, valid {leaf.NotBefore:u} to {leaf.NotAfter:u}) or a CA above it is expired or not yet valid: {statuses}";
        }

        var chainTop = customChain.ChainElements.Count > 0 ? customChain.ChainElements[^1].Certificate : leaf;
        if (!IsSelfSigned(chainTop) && trust.All(t => t.Subject != chainTop.Issuer))
        {
            // The chain stops below a root: the broker did not send the intermediate CA, or caFile lacks the root.
            return $"the broker's certificate ({leaf.Subject}) is not signed by the CA in mqtt.tls.caFile ({Subjects(trust)}): its chain stops at '{chainTop.Subject}', issued by '{chainTop.Issuer}', which the broker did not send and caFile does not contain - if that is an intermediate CA, put the whole chain (intermediate and root) in caFile or have the broker send it (mosquitto: certfile holding the server certificate then the intermediate)";
        }

        return $"the broker's certificate ({leaf.Subject}, issued by {issuer}) is not signed by the CA in mqtt.tls.caFile ({Subjects(trust)}): {statuses}";
    }

    private static bool IsSelfSigned(X509Certificate2 certificate) => certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);

    private static string Subjects(X509Certificate2Collection certificates) =>
        certificates.Count == 0 ? "no certificate" : string.Join(", ", certificates.Select(c => "'" + c.Subject + "'"));

    /// <summary>The names a certificate is valid for: its subjectAltName entries, else its common name.</summary>
    private static string Names(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var extension in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.AddRange(extension.EnumerateDnsNames().Select(n => "DNS:" + n));
            names.AddRange(extension.EnumerateIPAddresses().Select(a => "IP:" + a));
        }

        if (names.Count == 0)
        {
            names.Add("no subjectAltName (CN " + certificate.GetNameInfo(X509NameType.SimpleName, false) + ")");
        }

        return string.Join(", ", names);
    }
}
