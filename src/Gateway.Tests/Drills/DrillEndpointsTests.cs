using System.Net;
using Gateway.Drills;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Drills;

/// <summary>Who may start a drill: the loopback rule without a password and the same-origin rule for browsers.</summary>
public sealed class DrillEndpointsTests
{
    [Theory]
    [InlineData("127.0.0.1", false, null, null, null)]
    [InlineData("::1", false, null, null, null)]
    [InlineData("::ffff:127.0.0.1", false, null, null, null)]
    [InlineData("10.0.0.7", false, null, null, "drills from another machine need the dashboard password (http.passwordFile)")]
    [InlineData("10.0.0.7", true, null, null, null)]
    [InlineData("10.0.0.7", true, "http://gateway.lan:8080", "same-origin", null)]
    [InlineData("127.0.0.1", false, "http://evil.example", null, "cross-site request refused: start drills from this gateway's dashboard or its CLI")]
    [InlineData("127.0.0.1", false, "null", null, "cross-site request refused: start drills from this gateway's dashboard or its CLI")]
    [InlineData("10.0.0.7", true, null, "cross-site", "cross-site request refused: start drills from this gateway's dashboard or its CLI")]
    [InlineData("127.0.0.1", false, null, "same-site", "cross-site request refused: start drills from this gateway's dashboard or its CLI")]
    [InlineData("127.0.0.1", false, null, "none", null)]
    public void Refusal_FollowsTheLoopbackAndSameOriginRules(string remote, bool passwordSet, string? origin, string? fetchSite, string? expected)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("gateway.lan:8080");
        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        if (fetchSite is not null)
        {
            context.Request.Headers["Sec-Fetch-Site"] = fetchSite;
        }

        var refusal = DrillEndpoints.Refusal(passwordSet, context);

        Assert.Equal(expected, refusal?.Message);
        if (refusal is not null)
        {
            Assert.Equal(403, refusal.StatusCode);
        }
    }
}
