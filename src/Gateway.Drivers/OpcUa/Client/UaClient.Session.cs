using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Gateway.Drivers.OpcUa.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Drivers.OpcUa.Client;

// The client's session (OPC 10000-4 §5.6.2-§5.6.3): CreateSession, the server's signature over our certificate and
// nonce, ActivateSession with the user identity token (anonymous, user name with its secret encrypted, X.509 with
// its signature), then the server's operation limits.
public sealed partial class UaClient
{
    private async Task CreateAndActivateSessionAsync(CancellationToken cancellationToken)
    {
        var clientNonce = RandomNumberGenerator.GetBytes(SecurityAlgorithms.NonceLength);
        var request = new CreateSessionRequest
        {
            ClientDescription = new ApplicationDescription
            {
                ApplicationUri = _options.ApplicationUri,
                ProductUri = "urn:iiot-gateway",
                ApplicationName = new LocalizedText(null, _options.ApplicationName),
                ApplicationType = 1,
            },
            ServerUri = Endpoint?.Server.ApplicationUri,
            EndpointUrl = SessionEndpointUrl,
            SessionName = _options.SessionName,
            ClientNonce = clientNonce,
            ClientCertificate = IsSecure ? _certificate!.RawData : null,
            RequestedSessionTimeout = _options.SessionTimeout.TotalMilliseconds,
            MaxResponseMessageSize = _options.TransportLimits.MaxMessageSize,
        };
        var response = await CallAsync<CreateSessionResponse>(request, cancellationToken);
        SessionId = response.SessionId;
        RevisedSessionTimeout = response.RevisedSessionTimeout > 0 ? TimeSpan.FromMilliseconds(response.RevisedSessionTimeout) : _options.SessionTimeout;
        _authenticationToken = response.AuthenticationToken;
        _serverNonce = response.ServerNonce ?? [];
        if (response.ServerCertificate is { Length: > 0 } certificate && Endpoint is not null && Endpoint.ServerCertificate is null or { Length: 0 })
        {
            Endpoint.ServerCertificate = certificate;
        }

        if (IsSecure)
        {
            VerifyServerSignature(response, clientNonce);
        }

        await ActivateAsync(cancellationToken);
        SessionsCreated++;
        ClientLog.SessionActivated(_logger, SessionId.ToString(), SessionEndpointUrl, _options.UserCertificate is not null ? "X.509 user" : _options.UserName is null ? "anonymous" : "user name");
    }

    /// <summary>The server proves it holds its key: it signs our certificate and nonce (OPC 10000-4 §5.6.2).</summary>
    private void VerifyServerSignature(CreateSessionResponse response, byte[] clientNonce)
    {
        var algorithms = SecurityAlgorithms.Find(Endpoint!.SecurityPolicyUri)!;
        var serverCertificate = response.ServerCertificate is { Length: > 0 } sent ? sent : Endpoint.ServerCertificate!;
        if (!CertificateStore.FirstCertificate(serverCertificate).AsSpan().SequenceEqual(CertificateStore.FirstCertificate(Endpoint.ServerCertificate!)))
        {
            throw new UaException(SampleStatus.BadCertificateInvalid, "CreateSession returned another server certificate than the endpoint's");
        }

        if ((response.ServerNonce?.Length ?? 0) < SecurityAlgorithms.NonceLength)
        {
            throw new UaException(SampleStatus.BadNonceInvalid, "CreateSession returned a server nonce shorter than 32 bytes on a secure endpoint");
        }

        using var certificate = X509CertificateLoader.LoadCertificate(CertificateStore.FirstCertificate(serverCertificate));
        using var key = certificate.GetRSAPublicKey()!;
        var signature = response.ServerSignature;
        if (signature.Algorithm != algorithms.AsymmetricSignatureUri || signature.Signature is null ||
            !key.VerifyData((byte[])[.. _certificate!.RawData, .. clientNonce], signature.Signature, HashAlgorithmName.SHA256, algorithms.AsymmetricSignature))
        {
            throw new UaException(SampleStatus.BadApplicationSignatureInvalid, $"the server's CreateSession signature ({signature.Algorithm ?? "none"}) does not verify with its certificate");
        }

        _serverCertificate = serverCertificate;
    }

    private async Task ActivateAsync(CancellationToken cancellationToken)
    {
        var identity = CreateIdentityToken();
        var request = new ActivateSessionRequest
        {
            LocaleIds = ["en"],
            UserIdentityToken = new ExtensionObject(identity),
        };
        if (identity is X509IdentityToken)
        {
            request.UserTokenSignature = SignUserToken();
        }

        if (IsSecure)
        {
            // We prove we hold our key: we sign the server certificate and its latest nonce.
            var algorithms = SecurityAlgorithms.Find(Endpoint!.SecurityPolicyUri)!;
            using var key = _certificate!.GetRSAPrivateKey()!;
            request.ClientSignature = new SignatureData
            {
                Algorithm = algorithms.AsymmetricSignatureUri,
                Signature = key.SignData((byte[])[.. _serverCertificate, .. _serverNonce], HashAlgorithmName.SHA256, algorithms.AsymmetricSignature),
            };
        }

        ActivateSessionResponse response;
        try
        {
            response = await CallAsync<ActivateSessionResponse>(request, cancellationToken);
        }
        catch (UaException ex) when (ex is not UaConnectionException &&
                                     (ex.StatusCode & 0xFFFF0000) is SampleStatus.BadUserAccessDenied or SampleStatus.BadIdentityTokenRejected or SampleStatus.BadIdentityTokenInvalid)
        {
            var who = identity switch
            {
                UserNameIdentityToken user => $"user '{user.UserName}': wrong user name or password",
                X509IdentityToken => $"the X.509 user '{_options.UserCertificate?.Subject}': unknown or untrusted user certificate",
                _ => "anonymous access",
            };
            throw new UaException(ex.StatusCode, $"the server refused {who}", ex);
        }

        _serverNonce = response.ServerNonce ?? _serverNonce;
    }

    /// <summary>The X.509 user proves it holds its key: it signs the server certificate and nonce with the token policy's algorithm.</summary>
    private SignatureData SignUserToken()
    {
        var policy = (Endpoint?.UserIdentityTokens ?? []).First(p => p.TokenType == UserTokenType.Certificate);
        var tokenPolicyUri = string.IsNullOrEmpty(policy.SecurityPolicyUri) ? Endpoint!.SecurityPolicyUri : policy.SecurityPolicyUri;
        var algorithms = SecurityAlgorithms.Find(tokenPolicyUri)
            ?? throw new UaException(SampleStatus.BadSecurityChecksFailed, $"the X.509 user token policy {tokenPolicyUri} is not supported");
        var serverCertificate = _serverCertificate.Length > 0 ? _serverCertificate : Endpoint!.ServerCertificate ?? [];
        using var key = _options.UserCertificate!.GetRSAPrivateKey()
            ?? throw new UaException(SampleStatus.BadIdentityTokenInvalid, "the user certificate has no RSA private key");
        return new SignatureData
        {
            Algorithm = algorithms.AsymmetricSignatureUri,
            Signature = key.SignData((byte[])[.. serverCertificate, .. _serverNonce], HashAlgorithmName.SHA256, algorithms.AsymmetricSignature),
        };
    }

    /// <summary>
    /// The identity token for the endpoint's token policy: anonymous, an X.509 user certificate, or user name with the
    /// password encrypted when the policy asks for it.
    /// </summary>
    private IEncodeable CreateIdentityToken()
    {
        var policies = Endpoint?.UserIdentityTokens ?? [];
        if (_options.UserCertificate is { } userCertificate)
        {
            var x509 = policies.FirstOrDefault(p => p.TokenType == UserTokenType.Certificate)
                ?? throw new UaException(SampleStatus.BadIdentityTokenInvalid, "the endpoint does not accept X.509 user certificates");
            return new X509IdentityToken { PolicyId = x509.PolicyId, CertificateData = userCertificate.RawData };
        }

        if (_options.UserName is null)
        {
            var anonymous = policies.FirstOrDefault(p => p.TokenType == UserTokenType.Anonymous)
                ?? throw new UaException(SampleStatus.BadIdentityTokenInvalid, "the endpoint does not accept anonymous users: give a user name");
            return new AnonymousIdentityToken { PolicyId = anonymous.PolicyId };
        }

        var policy = policies.FirstOrDefault(p => p.TokenType == UserTokenType.UserName)
            ?? throw new UaException(SampleStatus.BadIdentityTokenInvalid, "the endpoint does not accept user names");
        var tokenPolicyUri = string.IsNullOrEmpty(policy.SecurityPolicyUri) ? Endpoint!.SecurityPolicyUri : policy.SecurityPolicyUri;
        var password = System.Text.Encoding.UTF8.GetBytes(_options.Password ?? "");
        if (tokenPolicyUri is null or SecurityPolicies.None)
        {
            return new UserNameIdentityToken { PolicyId = policy.PolicyId, UserName = _options.UserName, Password = password };
        }

        var algorithms = SecurityAlgorithms.Find(tokenPolicyUri);
        if (algorithms is null)
        {
            throw new UaException(SampleStatus.BadSecurityChecksFailed, $"the user token policy {tokenPolicyUri} is not supported");
        }

        var certificate = Endpoint!.ServerCertificate is { Length: > 0 } der ? der : throw new UaException(SampleStatus.BadSecurityChecksFailed, "the endpoint has no server certificate to encrypt the password with");
        return new UserNameIdentityToken
        {
            PolicyId = policy.PolicyId,
            UserName = _options.UserName,
            Password = EncryptSecret(certificate, password, _serverNonce, algorithms),
            EncryptionAlgorithm = algorithms.AsymmetricEncryptionUri,
        };
    }

    /// <summary>UInt32 length ‖ secret ‖ server nonce, RSA-OAEP encrypted (SHA-1 unless the token policy says otherwise) block by block with the server's public key.</summary>
    public static byte[] EncryptSecret(byte[] serverCertificateDer, byte[] secret, byte[] serverNonce, SecurityAlgorithms? algorithms = null)
    {
        algorithms ??= SecurityAlgorithms.Basic256Sha256;
        var plain = new byte[4 + secret.Length + serverNonce.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(plain, (uint)(secret.Length + serverNonce.Length));
        secret.CopyTo(plain, 4);
        serverNonce.CopyTo(plain, 4 + secret.Length);
        using var certificate = X509CertificateLoader.LoadCertificate(CertificateStore.FirstCertificate(serverCertificateDer));
        using var rsa = certificate.GetRSAPublicKey() ?? throw new UaException(SampleStatus.BadSecurityChecksFailed, "the server certificate has no RSA key");
        var encrypted = algorithms.EncryptAsymmetric(rsa, plain);
        CryptographicOperations.ZeroMemory(plain);
        return encrypted;
    }

    /// <summary>
    /// Reads ServerCapabilities.OperationLimits. The five limits go in one Read when the server takes it; a server whose
    /// MaxNodesPerRead is below five refuses that Read with BadTooManyOperations, so then each limit is read alone
    /// (otherwise every limit would stay unknown and every later batch would be refused the same way).
    /// </summary>
    private async Task ReadOperationLimitsAsync(CancellationToken cancellationToken)
    {
        NodeId[] limits = [MaxNodesPerReadId, MaxNodesPerBrowseId, MaxMonitoredItemsPerCallId, MaxNodesPerWriteId, MaxNodesPerTranslateId];
        var values = new DataValue?[limits.Length];
        try
        {
            var response = await CallAsync<ReadResponse>(new ReadRequest { NodesToRead = limits.Select(id => new ReadValueId { NodeId = id }).ToArray() }, cancellationToken);
            for (var i = 0; i < limits.Length && i < (response.Results?.Length ?? 0); i++)
            {
                values[i] = response.Results![i];
            }
        }
        catch (UaException ex) when (ex is not UaConnectionException && ex.StatusCode == SampleStatus.BadTooManyOperations)
        {
            for (var i = 0; i < limits.Length; i++)
            {
                try
                {
                    var response = await CallAsync<ReadResponse>(new ReadRequest { NodesToRead = [new ReadValueId { NodeId = limits[i] }] }, cancellationToken);
                    values[i] = response.Results is { Length: 1 } results ? results[0] : null;
                }
                catch (UaException single) when (single is not UaConnectionException)
                {
                    // this limit stays unknown
                }
            }
        }
        catch (UaException ex) when (ex is not UaConnectionException)
        {
            // Servers without OperationLimits: no limits known.
        }

        MaxNodesPerRead = LimitOf(values[0]);
        MaxNodesPerBrowse = LimitOf(values[1]);
        MaxMonitoredItemsPerCall = LimitOf(values[2]);
        MaxNodesPerWrite = LimitOf(values[3]);
        MaxNodesPerTranslate = LimitOf(values[4]);

        // The limits are UInt32 (OPC 10000-5 §6.3.11); some servers expose them as another integer type.
        static uint LimitOf(DataValue? value) =>
            value is { StatusCode.IsGood: true } ? value.Value.Value switch
            {
                uint u => u,
                int i when i > 0 => (uint)i,
                ushort us => us,
                short sh when sh > 0 => (uint)sh,
                ulong ul => (uint)Math.Min(ul, uint.MaxValue),
                long l when l > 0 => (uint)Math.Min(l, uint.MaxValue),
                _ => 0,
            } : 0;
    }
}
