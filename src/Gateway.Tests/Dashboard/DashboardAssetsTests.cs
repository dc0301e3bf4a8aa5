using System.Text;
using Gateway.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Tests.Dashboard;

/// <summary>The embedded dashboard files: ETags from the content (FNV-1a, no OpenSSL at start), 304 when the browser has the file.</summary>
public sealed class DashboardAssetsTests
{
    [Theory]
    [InlineData("", 0xcbf29ce484222325UL)]
    [InlineData("a", 0xaf63dc4c8601ec8cUL)]
    [InlineData("foobar", 0x85944171f73967e8UL)]
    public void Fnv1a64_MatchesTheReferenceVectors(string text, ulong expected) =>
        Assert.Equal(expected, DashboardAssets.Fnv1a64(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Serve_SendsTheFileWithItsETag_And304WhenTheBrowserHasIt()
    {
        var assets = new DashboardAssets();
        Assert.True(assets.TryGet("app.js", out var asset));
        Assert.Matches("^\"[0-9a-f]{16}\"$", asset.ETag);
        Assert.NotEqual(asset.ETag, Assert.IsType<DashboardAssets.Asset>(assets.TryGet("app.css", out var css) ? css : null).ETag);

        var first = new DefaultHttpContext();
        var sent = Assert.IsType<FileContentHttpResult>(assets.Serve(first, "app.js"));
        Assert.Equal(asset.Bytes.Length, sent.FileContents.Length);
        Assert.Equal(asset.ETag, first.Response.Headers.ETag.ToString());

        var again = new DefaultHttpContext();
        again.Request.Headers.IfNoneMatch = asset.ETag;
        Assert.Equal(StatusCodes.Status304NotModified, Assert.IsType<StatusCodeHttpResult>(assets.Serve(again, "app.js")).StatusCode);

        var stale = new DefaultHttpContext();
        stale.Request.Headers.IfNoneMatch = "\"0000000000000000\"";
        Assert.IsType<FileContentHttpResult>(assets.Serve(stale, "app.js"));
    }
}
