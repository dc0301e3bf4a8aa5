using System.Net;
using Gateway.Configuration;
using Gateway.Dashboard;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Dashboard;

/// <summary>The password check, the session tokens and the failed-login limit, on a fake clock.</summary>
public sealed class DashboardAuthTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));
    private readonly DashboardAuth _auth;

    public DashboardAuthTests()
    {
        File.WriteAllText(_file, "correct horse\r\nsecond line ignored\n");
        _auth = new DashboardAuth(Options.Create(new GatewayConfig { Http = new HttpOptions { PasswordFile = _file } }), _time);
    }

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void CheckPassword_AcceptsOnlyTheFirstLine()
    {
        Assert.True(_auth.Enabled);
        Assert.True(_auth.CheckPassword("correct horse"));
        Assert.False(_auth.CheckPassword("correct horse\r"));
        Assert.False(_auth.CheckPassword("correct hors"));
        Assert.False(_auth.CheckPassword(""));
        Assert.False(_auth.CheckPassword(null));
    }

    [Fact]
    public void Session_IsValidFor12Hours_AndATamperedTokenIsRefused()
    {
        var token = _auth.IssueSession();
        Assert.True(_auth.ValidateSession(token));
        Assert.False(_auth.ValidateSession(token[..^2] + (token[^2] == 'A' ? "BA" : "AA")));
        Assert.False(_auth.ValidateSession("9999999999" + token[token.IndexOf('.', StringComparison.Ordinal)..]));
        Assert.False(_auth.ValidateSession("garbage"));

        _time.Advance(TimeSpan.FromHours(11.9));
        Assert.True(_auth.ValidateSession(token));
        _time.Advance(TimeSpan.FromHours(0.2));
        Assert.False(_auth.ValidateSession(token));
    }

    [Fact]
    public void Session_FromAnotherGatewayProcess_IsRefused()
    {
        var other = new DashboardAuth(Options.Create(new GatewayConfig { Http = new HttpOptions { PasswordFile = _file } }), _time);
        Assert.False(_auth.ValidateSession(other.IssueSession()));
    }

    [Fact]
    public void FailedLogins_LockTheAddressOutForAMinute_OtherAddressesStayOpen()
    {
        var attacker = IPAddress.Parse("192.0.2.10");
        var operatorAddress = IPAddress.Parse("192.0.2.20");
        for (var i = 0; i < DashboardAuth.MaxFailures; i++)
        {
            Assert.False(_auth.IsLockedOut(attacker, out _));
            _auth.RecordFailure(attacker);
        }

        Assert.True(_auth.IsLockedOut(attacker, out var retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), DashboardAuth.FailureWindow);
        Assert.True(_auth.IsLockedOut(IPAddress.Parse("::ffff:192.0.2.10"), out _));
        Assert.False(_auth.IsLockedOut(operatorAddress, out _));

        _time.Advance(DashboardAuth.FailureWindow);
        Assert.False(_auth.IsLockedOut(attacker, out _));
    }

    [Fact]
    public void FailedLogins_FromManyAddresses_HitTheGlobalLimit()
    {
        for (var i = 0; i < DashboardAuth.MaxGlobalFailures; i++)
        {
            _auth.RecordFailure(IPAddress.Parse($"198.51.100.{i % 250}"));
        }

        Assert.True(_auth.IsLockedOut(IPAddress.Parse("203.0.113.1"), out _));
    }

    [Fact]
    public void EmptyPasswordFile_IsRefusedAtStart()
    {
        File.WriteAllText(_file, "\n");
        Assert.Throws<InvalidOperationException>(() => new DashboardAuth(Options.Create(new GatewayConfig { Http = new HttpOptions { PasswordFile = _file } }), _time));
    }
}

/// <summary>The password file as check-config sees it.</summary>
public sealed class DashboardPasswordConfigTests
{
    [Fact]
    public async Task CheckConfig_WithEmptyPasswordFile_ExitsWith2AndNamesTheKey()
    {
        using var config = new Gateway.Tests.Infrastructure.TestConfig();
        var file = Path.Combine(config.Directory, "empty.password");
        await File.WriteAllTextAsync(file, "\n");
        config.Root["http"]!["passwordFile"] = file;

        var (exitCode, _, stderr) = await Gateway.Tests.Infrastructure.GatewayProcess.RunVerbAsync("check-config", config.Write());

        Assert.Equal(2, exitCode);
        Assert.Contains("http.passwordFile: the first line", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_WithPasswordFile_AcceptsAnAddressBeyondLoopback()
    {
        using var config = new Gateway.Tests.Infrastructure.TestConfig();
        var file = Path.Combine(config.Directory, "dashboard.password");
        await File.WriteAllTextAsync(file, "s3cret\n");
        if (!OperatingSystem.IsWindows())
        {
            // Off loopback, a password file others can read is refused.
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        config.Root["http"]!["passwordFile"] = file;
        config.Root["http"]!["urls"] = "http://0.0.0.0:18080";

        var (exitCode, _, stderr) = await Gateway.Tests.Infrastructure.GatewayProcess.RunVerbAsync("check-config", config.Write());

        Assert.True(exitCode == 0, stderr);
        Assert.DoesNotContain("s3cret", stderr, StringComparison.Ordinal);
    }
}
