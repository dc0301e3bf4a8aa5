using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Dashboard;

/// <summary>
/// The dashboard password (<c>http.passwordFile</c>) and the sessions it opens. Without a password file there is
/// no login (the config loader only allows loopback URLs then). With one, every page and API needs a session
/// cookie or an <c>Authorization: Bearer &lt;password&gt;</c> header (for Prometheus and scripts), except
/// <c>/healthz</c>, the login page and its static assets.
/// <para>
/// The password is the file's first line, read once at start, kept only as its SHA-256 and compared in constant
/// time; it is never logged. A session is a signed cookie (<c>expiry.nonce.HMAC-SHA256</c>) with a key drawn at
/// start: nothing is stored per session, and a restart logs everybody out. Failed logins are limited per client
/// address (<see cref="MaxFailures"/> per <see cref="FailureWindow"/>) and for the whole gateway
/// (<see cref="MaxGlobalFailures"/> per window, against guessing from many addresses).
/// </para>
/// </summary>
public sealed partial class DashboardAuth
{
    public const string CookieName = "gateway_session";

    /// <summary>The <see cref="HttpContext.Items"/> key holding the <see cref="DashboardRole"/> of an authenticated request.</summary>
    public const string RoleItem = "gateway.role";

    /// <summary>How long a session lasts after login: one long shift.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(12);

    /// <summary>Failed attempts allowed per client address within <see cref="FailureWindow"/>.</summary>
    public const int MaxFailures = 5;

    /// <summary>Failed attempts allowed for all addresses together within <see cref="FailureWindow"/>.</summary>
    public const int MaxGlobalFailures = 50;

    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(1);

    private const int MaxTrackedAddresses = 4096;

    private readonly byte[]? _passwordHash;
    private readonly byte[]? _viewerHash;
    // Made at the first sign-in or cookie check, not at start: RandomNumberGenerator loads OpenSSL (libcrypto, ~4 MB of
    // RSS), which a gateway whose dashboard nobody signs in to never needs (docs/performance.md, fifth round).
    private byte[]? _key;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, FailureWindowState> _failures = [];
    private FailureWindowState _globalFailures;

    public DashboardAuth(IOptions<GatewayConfig> config, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        if (config.Value.Http.PasswordFile is { } file)
        {
            var password = ReadPassword(file);
            _passwordHash = SHA256.HashData(Encoding.UTF8.GetBytes(password));
            if (config.Value.Http.ViewerPasswordFile is { } viewerFile)
            {
                _viewerHash = SHA256.HashData(Encoding.UTF8.GetBytes(ReadPassword(viewerFile)));
            }
        }
    }

    /// <summary>True when the request was authenticated with the viewer password (a viewer may change nothing).</summary>
    public static bool IsViewer(HttpContext context) => context.Items[RoleItem] is DashboardRole.Viewer;

    /// <summary>True when a password file is configured.</summary>
    public bool Enabled => _passwordHash is not null;

    /// <summary>The first line of the file, without its line ending; an empty password is refused.</summary>
    internal static string ReadPassword(string file)
    {
        using var reader = new StreamReader(file, Encoding.UTF8);
        var line = reader.ReadLine();
        if (string.IsNullOrEmpty(line))
        {
            throw new InvalidOperationException("http.passwordFile: the first line (the password) is empty");
        }

        return line;
    }

    /// <summary>True for the dashboard (editor) password only.</summary>
    public bool CheckPassword(string? candidate) => Authenticate(candidate) == DashboardRole.Editor;

    /// <summary>
    /// The role a password opens: <see cref="DashboardRole.Editor"/> for <c>http.passwordFile</c>'s,
    /// <see cref="DashboardRole.Viewer"/> for <c>http.viewerPasswordFile</c>'s, null for anything else. Compared in
    /// constant time (both sides hashed to 32 bytes first, so the length leaks nothing; both hashes always compared).
    /// </summary>
    public DashboardRole? Authenticate(string? candidate)
    {
        if (_passwordHash is null || candidate is null)
        {
            return null;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(candidate));
        var editor = CryptographicOperations.FixedTimeEquals(hash, _passwordHash);
        var viewer = _viewerHash is not null && CryptographicOperations.FixedTimeEquals(hash, _viewerHash);
        return editor ? DashboardRole.Editor : viewer ? DashboardRole.Viewer : null;
    }

    /// <summary>True while <paramref name="address"/> (or the gateway as a whole) is over its failed-login limit.</summary>
    public bool IsLockedOut(IPAddress? address, out TimeSpan retryAfter)
    {
        var now = _timeProvider.GetUtcNow();
        lock (_lock)
        {
            retryAfter = TimeSpan.Zero;
            if (Over(_globalFailures, MaxGlobalFailures, now, ref retryAfter))
            {
                return true;
            }

            return address is not null && _failures.TryGetValue(Normalize(address), out var state) && Over(state, MaxFailures, now, ref retryAfter);
        }
    }

    /// <summary>Counts a failed attempt (a wrong password in the form or a wrong bearer token).</summary>
    public void RecordFailure(IPAddress? address)
    {
        var now = _timeProvider.GetUtcNow();
        lock (_lock)
        {
            _globalFailures = _globalFailures.Add(now);
            if (address is null)
            {
                return;
            }

            if (_failures.Count >= MaxTrackedAddresses)
            {
                // Bounded: forget the windows that are over; the global limit still holds if that is not enough.
                foreach (var stale in _failures.Where(f => now - f.Value.Start >= FailureWindow).Select(f => f.Key).ToList())
                {
                    _failures.Remove(stale);
                }

                if (_failures.Count >= MaxTrackedAddresses)
                {
                    return;
                }
            }

            var key = Normalize(address);
            _failures[key] = (_failures.TryGetValue(key, out var state) ? state : default).Add(now);
        }
    }

    /// <summary>Forgets the failures of an address after a successful login.</summary>
    public void RecordSuccess(IPAddress? address)
    {
        if (address is null)
        {
            return;
        }

        lock (_lock)
        {
            _failures.Remove(Normalize(address));
        }
    }

    /// <summary>A new session token: <c>expiry(unix s).nonce.mac</c>, base64url; the nonce's first letter is the role (signed with it).</summary>
    public string IssueSession(DashboardRole role = DashboardRole.Editor)
    {
        var expiry = (_timeProvider.GetUtcNow() + SessionLifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var nonce = (role == DashboardRole.Viewer ? "v" : "e") + Base64Url(RandomNumberGenerator.GetBytes(16));
        var payload = expiry + "." + nonce;
        return payload + "." + Base64Url(Mac(payload));
    }

    /// <summary>True for an unexpired session token signed with this process's key.</summary>
    public bool ValidateSession(string? token) => SessionRole(token) is not null;

    /// <summary>The role of an unexpired session token signed with this process's key; null for any other token.</summary>
    public DashboardRole? SessionRole(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            return null;
        }

        var lastDot = token.LastIndexOf('.');
        var firstDot = token.IndexOf('.', StringComparison.Ordinal);
        if (firstDot <= 0 || lastDot <= firstDot)
        {
            return null;
        }

        var payload = token[..lastDot];
        byte[] mac;
        try
        {
            mac = Convert.FromBase64String(FromBase64Url(token[(lastDot + 1)..]));
        }
        catch (FormatException)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(mac, Mac(payload)))
        {
            return null;
        }

        var valid = long.TryParse(token.AsSpan(0, firstDot), NumberStyles.None, CultureInfo.InvariantCulture, out var expiry)
            && _timeProvider.GetUtcNow().ToUnixTimeSeconds() < expiry;
        return !valid ? null : token[firstDot + 1] == 'v' ? DashboardRole.Viewer : DashboardRole.Editor;
    }

    /// <summary>The session cookie: HttpOnly, SameSite=Strict, Secure over https, path /.</summary>
    public static CookieOptions CookieOptions(HttpRequest request, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = request.IsHttps,
        Path = "/",
        MaxAge = maxAge,
        IsEssential = true,
    };

    private byte[] Mac(string payload) => HMACSHA256.HashData(LazyInitializer.EnsureInitialized(ref _key, static () => RandomNumberGenerator.GetBytes(32)), Encoding.ASCII.GetBytes(payload));

    private static bool Over(FailureWindowState state, int limit, DateTimeOffset now, ref TimeSpan retryAfter)
    {
        if (state.Count >= limit && now - state.Start < FailureWindow)
        {
            retryAfter = FailureWindow - (now - state.Start);
            return true;
        }

        return false;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
    }

    /// <summary>A fixed window of failed attempts: its start and how many failed in it.</summary>
    private readonly record struct FailureWindowState(DateTimeOffset Start, int Count)
    {
        public FailureWindowState Add(DateTimeOffset now) =>
            Count == 0 || now - Start >= FailureWindow ? new FailureWindowState(now, 1) : this with { Count = Count + 1 };
    }
}

/// <summary>What a login may do: an editor changes the configuration (reload, commissioning, drills); a viewer only looks.</summary>
public enum DashboardRole
{
    Editor,
    Viewer,
}
