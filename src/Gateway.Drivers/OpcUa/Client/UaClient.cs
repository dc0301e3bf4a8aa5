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

/// <summary>
/// An OPC UA client session (OPC 10000-4 §5.6) over a secure channel: endpoint selection, CreateSession and
/// ActivateSession (anonymous or user name), the attribute, view and subscription services, keep-alive, and the
/// reconnect ladder (new channel → re-activate → new session → transfer or recreate subscriptions).
/// </summary>
public sealed partial class UaClient : IAsyncDisposable
{
    public static readonly NodeId ServerStatusState = new(0, 2259u);
    public static readonly NodeId MaxNodesPerReadId = new(0, 11705u);
    public static readonly NodeId MaxNodesPerBrowseId = new(0, 11710u);
    public static readonly NodeId MaxMonitoredItemsPerCallId = new(0, 11714u);
    public static readonly NodeId MaxNodesPerWriteId = new(0, 11707u);
    public static readonly NodeId MaxNodesPerTranslateId = new(0, 11712u);

    private readonly UaClientOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _host;
    private readonly int _port;
    private readonly SemaphoreSlim _reconnectLock = new(1, 1);
    private SecureChannel? _channel;
    private NodeId _authenticationToken = NodeId.Null;
    private byte[] _serverNonce = [];
    private long _lastActivityTicks;
    private CancellationTokenSource? _sessionCts;
    private Task _keepAlive = Task.CompletedTask;
    private uint _requestHandle;
    private X509Certificate2? _certificate;
    private byte[] _serverCertificate = [];

    public UaClient(UaClientOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        (_host, _port) = ParseEndpoint(options.EndpointUrl);
        if (SecurityChoice.Check(options.SecurityPolicy, options.SecurityMode) is [var problem, ..])
        {
            throw new ArgumentException($"security {(problem.Field == SecurityChoiceField.Policy ? "policy" : "mode")}: {problem.Reason}", nameof(options));
        }
    }

    /// <summary>Our application instance certificate, once a secure endpoint needed it.</summary>
    public X509Certificate2? ApplicationCertificate => _certificate;

    /// <summary>The PKI folder used for secure endpoints.</summary>
    public CertificateStore CertificateStore => field ??= new CertificateStore(_options.PkiDirectory ?? CertificateStore.DefaultRoot, _timeProvider);

    /// <summary>True when the chosen endpoint signs (and maybe encrypts) its messages.</summary>
    public bool IsSecure => Endpoint is { SecurityMode: MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt };

    /// <summary>The endpoint chosen from GetEndpoints.</summary>
    public EndpointDescription? Endpoint { get; private set; }

    /// <summary>The endpoint URL used for the session: the host the user typed, the path the server advertises.</summary>
    public string SessionEndpointUrl { get; private set; } = "";

    public NodeId SessionId { get; private set; } = NodeId.Null;

    public SecureChannel? Channel => _channel;

    public bool IsConnected => _channel is { IsOpen: true } && !_authenticationToken.IsNull;

    /// <summary>Server operation limits read after activation; 0 = no limit.</summary>
    public uint MaxNodesPerRead { get; private set; }

    public uint MaxNodesPerBrowse { get; private set; }

    public uint MaxMonitoredItemsPerCall { get; private set; }

    public uint MaxNodesPerWrite { get; private set; }

    public uint MaxNodesPerTranslate { get; private set; }

    /// <summary>The session timeout the server granted (it may be far shorter than the one asked for).</summary>
    public TimeSpan RevisedSessionTimeout { get; private set; }

    /// <summary>
    /// How long the session may stay silent before ServerStatus.State is read: the configured keep-alive interval, but
    /// at most a third of the revised session timeout, since a server closes a session that sent no request within its
    /// timeout (OPC 10000-4 §5.6.2) even while Publish requests wait in its queue; a third leaves room for one late
    /// keep-alive (a busy Pi, a slow network) before the session is lost.
    /// </summary>
    public TimeSpan EffectiveKeepAliveInterval =>
        RevisedSessionTimeout > TimeSpan.Zero && RevisedSessionTimeout / 3 < _options.KeepAliveInterval
            ? TimeSpan.FromTicks(Math.Max(RevisedSessionTimeout.Ticks / 3, TimeSpan.FromMilliseconds(50).Ticks))
            : _options.KeepAliveInterval;

    /// <summary>How many times the session had to be created anew after a reconnect.</summary>
    public int SessionsCreated { get; private set; }

    /// <summary>Completes when the current channel is lost.</summary>
    public Task<Exception?> ChannelLost => _channel?.Completion ?? Task.FromResult<Exception?>(null);

    /// <summary>Splits <c>opc.tcp://host:port/path</c>; the default port is 4840.</summary>
    public static (string Host, int Port) ParseEndpoint(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "opc.tcp" || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"'{url}' is not an opc.tcp://host:port URL", nameof(url));
        }

        return (uri.Host.Trim('[', ']'), uri.Port > 0 ? uri.Port : 4840);
    }

    /// <summary>Connects: channel, GetEndpoints, CreateSession, ActivateSession, operation limits, keep-alive.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await StopSessionTasksAsync();
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }

        _authenticationToken = NodeId.Null;
        await OpenDiscoveredChannelAsync(cancellationToken);
        await CreateAndActivateSessionAsync(cancellationToken);
        await ReadOperationLimitsAsync(cancellationToken);
        StartSessionTasks();
    }

    private Task<SecureChannel> OpenChannelAsync(ISecurityPolicy policy, CancellationToken cancellationToken) =>
        SecureChannel.OpenAsync(_host, _port, _options.EndpointUrl, policy, _options.TransportLimits,
            (uint)_options.ChannelLifetime.TotalMilliseconds, _timeProvider, _logger, cancellationToken, _options.RequestTimeout);

    /// <summary>
    /// GetEndpoints on an unsecured channel and endpoint selection; for a secure endpoint, the server certificate is
    /// checked against the trust list and a second channel is opened under the endpoint's policy. Done on every
    /// (re)connect, so that a server that changed its certificate or endpoints is checked again.
    /// </summary>
    private async Task OpenDiscoveredChannelAsync(CancellationToken cancellationToken)
    {
        _channel = null;
        var discovery = await OpenChannelAsync(SecurityPolicyNone.Instance, cancellationToken);
        _channel = discovery;
        try
        {
            await SelectEndpointAsync(cancellationToken);
        }
        catch
        {
            _channel = null;
            await discovery.DisposeAsync();
            throw;
        }

        if (!IsSecure)
        {
            return;
        }

        _channel = null;
        await discovery.CloseAsync(cancellationToken);
        PrepareSecurity();
        _channel = await OpenSessionChannelAsync(cancellationToken);
    }

    /// <summary>A channel under the chosen endpoint's policy.</summary>
    private async Task<SecureChannel> OpenSessionChannelAsync(CancellationToken cancellationToken)
    {
        if (!IsSecure)
        {
            return await OpenChannelAsync(SecurityPolicyNone.Instance, cancellationToken);
        }

        var algorithms = SecurityAlgorithms.Find(Endpoint!.SecurityPolicyUri)!;
        var policy = new RsaSecurityPolicy(algorithms, Endpoint.SecurityMode, _certificate!, Endpoint.ServerCertificate!);
        try
        {
            return await OpenChannelAsync(policy, cancellationToken);
        }
        catch (UaException ex) when (ex.StatusCode is SampleStatus.BadSecurityChecksFailed or SampleStatus.BadCertificateUntrusted or SampleStatus.BadCertificateInvalid
                                         or SampleStatus.BadCertificateUriInvalid or SampleStatus.BadCertificateTimeInvalid)
        {
            policy.Dispose();
            throw new UaConnectionException(ex.StatusCode,
                $"the server refused the {algorithms.Uri.Split('#')[^1]}/{Endpoint.SecurityMode} channel ({SampleStatus.Name(ex.StatusCode)}: {ex.Message}); " +
                $"if it does not trust our certificate yet, add {CertificateStore.OwnCertificatePath} to its trusted certificates", ex);
        }
        catch
        {
            policy.Dispose();
            throw;
        }
    }

    /// <summary>Checks the server certificate against the trust list and loads (or creates) our own.</summary>
    private void PrepareSecurity()
    {
        var serverCertificate = Endpoint!.ServerCertificate is { Length: > 0 } der
            ? der
            : throw new UaException(SampleStatus.BadCertificateInvalid, "the secure endpoint has no server certificate");
        var store = CertificateStore;
        var trusted = store.ValidateServerCertificate(serverCertificate, _options.ServerCertificateTrust);
        if (trusted is not null)
        {
            ClientLog.ServerCertificateTrustedOnFirstUse(_logger, trusted);
        }

        _certificate ??= store.LoadOrCreateApplicationCertificate(_options.ApplicationUri, _options.ApplicationName);
    }

    private async Task SelectEndpointAsync(CancellationToken cancellationToken)
    {
        var response = await CallAsync<GetEndpointsResponse>(new GetEndpointsRequest { EndpointUrl = _options.EndpointUrl }, cancellationToken);
        var endpoints = response.Endpoints ?? [];
        Endpoint = SelectEndpoint(endpoints, _options.SecurityPolicy, _options.SecurityMode)
            ?? throw new UaException(SampleStatus.BadSecurityChecksFailed,
                $"the server offers no endpoint with security {SecurityChoice.Spelling(_options.SecurityPolicy)}/{SecurityChoice.Spelling(_options.SecurityMode) ?? "any mode"} (offered: {string.Join(", ", endpoints.Select(e => $"{e.SecurityPolicyUri?.Split('#').Last()}/{e.SecurityMode}"))})");
        SessionEndpointUrl = CombineEndpointUrl(_options.EndpointUrl, Endpoint.EndpointUrl);
    }

    /// <summary>
    /// The endpoint matching a short policy name and mode (null mode: None under policy None, SignAndEncrypt otherwise);
    /// under <c>auto</c>, the one with the highest security level among the policies we implement (any mode, unless given).
    /// </summary>
    public static EndpointDescription? SelectEndpoint(IEnumerable<EndpointDescription> endpoints, OpcUaSecurityPolicy policy, OpcUaSecurityMode? mode) =>
        SelectEndpoint(endpoints, SecurityChoice.Spelling(policy), SecurityChoice.Spelling(mode));

    /// <summary>As <see cref="SelectEndpoint(IEnumerable{EndpointDescription}, OpcUaSecurityPolicy, OpcUaSecurityMode?)"/>, for a checked policy and mode as written.</summary>
    public static EndpointDescription? SelectEndpoint(IEnumerable<EndpointDescription> endpoints, string policy, string? mode)
    {
        var usable = endpoints.Where(e => e.SecurityPolicyUri == SecurityPolicies.None
            ? e.SecurityMode == MessageSecurityMode.None
            : SecurityAlgorithms.Find(e.SecurityPolicyUri) is not null && e.SecurityMode is MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt);
        var wanted = SecurityChoice.WantedMode(policy, mode);
        if (policy == SecurityChoice.Auto)
        {
            return usable
                .Where(e => wanted is null || e.SecurityMode == wanted)
                .OrderByDescending(e => e.SecurityLevel)
                .ThenByDescending(e => e.SecurityMode)
                .ThenByDescending(e => SecurityPolicies.ShortNames.ToList().FindIndex(n => SecurityPolicies.UriOf(n) == e.SecurityPolicyUri))
                .FirstOrDefault();
        }

        var policyUri = SecurityPolicies.UriOf(policy);
        return usable.FirstOrDefault(e => e.SecurityPolicyUri == policyUri && e.SecurityMode == wanted);
    }

    /// <summary>Keeps the scheme, host and port the user typed, with the path the server advertises.</summary>
    public static string CombineEndpointUrl(string typed, string? advertised)
    {
        if (advertised is null || !Uri.TryCreate(advertised, UriKind.Absolute, out var server) || !Uri.TryCreate(typed, UriKind.Absolute, out var user))
        {
            return typed;
        }

        var path = server.AbsolutePath == "/" && !advertised.EndsWith('/') ? "" : server.AbsolutePath;
        return $"{user.Scheme}://{user.Authority}{path}";
    }

    /// <summary>Sends a request with the session's authentication token; a Bad service result throws <see cref="UaException"/>.</summary>
    public async Task<TResponse> CallAsync<TResponse>(UaRequest request, CancellationToken cancellationToken, TimeSpan? timeout = null)
        where TResponse : UaResponse
    {
        var channel = _channel ?? throw new UaConnectionException(SampleStatus.BadNotConnected, "not connected");
        request.RequestHeader.AuthenticationToken = _authenticationToken;
        request.RequestHeader.RequestHandle = Interlocked.Increment(ref _requestHandle);
        var response = await channel.SendRequestAsync(request, timeout ?? _options.RequestTimeout, cancellationToken);
        Touch();
        return response as TResponse ?? throw new UaException(SampleStatus.BadUnexpectedError, $"expected {typeof(TResponse).Name}, got {response.GetType().Name}");
    }

    /// <summary>
    /// After a lost connection: a new channel, then ActivateSession of the existing session on it; if the session is
    /// gone, a new session. Returns true when the session is new (subscriptions must be transferred or recreated).
    /// </summary>
    public async Task<bool> ReconnectAsync(CancellationToken cancellationToken)
    {
        await _reconnectLock.WaitAsync(cancellationToken);
        try
        {
            await StopSessionTasksAsync();
            if (_channel is not null)
            {
                await _channel.DisposeAsync();
            }

            await OpenDiscoveredChannelAsync(cancellationToken);
            var newSession = false;
            if (!_authenticationToken.IsNull && Endpoint is not null)
            {
                try
                {
                    await ActivateAsync(cancellationToken);
                    ClientLog.SessionReactivated(_logger, SessionId.ToString());
                }
                catch (UaException ex) when (ex is not UaConnectionException)
                {
                    ClientLog.SessionRecreated(_logger, SampleStatus.Name(ex.StatusCode));
                    newSession = true;
                }
            }
            else
            {
                newSession = true;
            }

            if (newSession)
            {
                await CreateAndActivateSessionAsync(cancellationToken);
                await ReadOperationLimitsAsync(cancellationToken);
            }

            await RestoreSubscriptionsAsync(newSession, cancellationToken);
            StartSessionTasks();
            return newSession;
        }
        finally
        {
            _reconnectLock.Release();
        }
    }

    /// <summary>Closes the session (deleting its subscriptions) and the channel.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        await StopSessionTasksAsync();
        if (_channel is { IsOpen: true } && !_authenticationToken.IsNull)
        {
            try
            {
                await CallAsync<CloseSessionResponse>(new CloseSessionRequest { DeleteSubscriptions = true }, cancellationToken, TimeSpan.FromSeconds(5));
            }
            catch (UaException)
            {
                // closing anyway
            }
        }

        _authenticationToken = NodeId.Null;
        if (_channel is not null)
        {
            await _channel.CloseAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopSessionTasksAsync();
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }
    }
}
