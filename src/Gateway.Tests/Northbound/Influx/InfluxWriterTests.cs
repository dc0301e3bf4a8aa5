using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound.Influx;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Northbound.Influx;

/// <summary>
/// The InfluxDB 2.x/3 path (InfluxDB.Client) and the line protocol. No InfluxDB 2 server can be installed
/// here (Debian ships 1.6), so the v2 writer is checked against a loopback HTTP endpoint that records the
/// request the real client library sends and answers as /api/v2/write does (204, 400, 503).
/// </summary>
public sealed class InfluxWriterTests
{
    private static readonly DateTimeOffset s_t = new(2026, 11, 26, 10, 0, 0, 123, TimeSpan.Zero);

    [Fact]
    public void LineProtocol_EscapesAndTypesEveryValueKind()
    {
        var protocol = new LineProtocol(new GatewayIdentity { Id = "gw", Enterprise = "acme corp", Site = "lyon", Area = "a,b", Line = "l=1" });
        var line = new StringBuilder();

        Assert.True(protocol.Append(line, Sample.Good(new TagInfo("press 1", "spindle/temp", "degC"), s_t, s_t, SampleValue.FromDouble(65))));
        Assert.Equal(@"press\ 1,enterprise=acme\ corp,site=lyon,area=a\,b,line=l\=1,unit=degC spindle/temp=65.0 1795687200123000000", line.ToString());

        line.Clear();
        protocol.Append(line, Sample.Good(new TagInfo("press", "count"), s_t, s_t, SampleValue.FromInteger(-42)));
        Assert.EndsWith(" count=-42i 1795687200123000000", line.ToString(), StringComparison.Ordinal);

        line.Clear();
        protocol.Append(line, Sample.Good(new TagInfo("press", "reason"), s_t, s_t, SampleValue.FromString("jam \"A\" \\ B")));
        Assert.EndsWith(" reason=\"jam \\\"A\\\" \\\\ B\" 1795687200123000000", line.ToString(), StringComparison.Ordinal);

        line.Clear();
        protocol.Append(line, new Sample(new TagInfo("press", "running"), s_t, s_t, SampleValue.FromBoolean(true), Quality.Uncertain, 0x40000000));
        Assert.EndsWith(" running=true,running_quality=\"Uncertain\" 1795687200123000000", line.ToString(), StringComparison.Ordinal);

        line.Clear();
        protocol.Append(line, Sample.Bad(new TagInfo("press", "speed"), s_t, 0x80310000));
        Assert.EndsWith(" speed_quality=\"Bad\" 1795687200123000000", line.ToString(), StringComparison.Ordinal);

        line.Clear();
        Assert.False(protocol.Append(line, Sample.Good(new TagInfo("press", "nan"), s_t, s_t, SampleValue.FromDouble(double.NaN))));
        Assert.Equal(0, line.Length);
    }

    [Theory]
    [InlineData(22.1f, "22.1")]
    [InlineData(65f, "65.0")]
    [InlineData(-0.1f, "-0.1")]
    [InlineData(1e-39f, "1E-39")]
    [InlineData(float.MaxValue, "3.4028235E+38")]
    public void LineProtocol_WritesAFloat32AsItsShortestText_AlwaysAFloatField(float value, string expected)
    {
        var protocol = new LineProtocol(new GatewayIdentity { Id = "gw", Enterprise = "acme", Site = "lyon", Area = "a", Line = "l" });
        var line = new StringBuilder();

        Assert.True(protocol.Append(line, Sample.Good(new TagInfo("press", "temp"), s_t, s_t, SampleValue.FromFloat(value))));
        Assert.EndsWith($" temp={expected} 1795687200123000000", line.ToString(), StringComparison.Ordinal);

        line.Clear();
        Assert.False(protocol.Append(line, Sample.Good(new TagInfo("press", "temp"), s_t, s_t, SampleValue.FromFloat(float.NaN))));
    }

    [Theory]
    [InlineData(false, 42ul, "42i")]
    [InlineData(false, ulong.MaxValue, "9223372036854775807i")]
    [InlineData(true, 42ul, "42u")]
    [InlineData(true, ulong.MaxValue, "18446744073709551615u")]
    public void LineProtocol_WritesAnUnsignedInteger_WithUOnlyWhenTheVersionAcceptsIt(bool unsignedIntegers, ulong value, string expected)
    {
        // InfluxDB 1.x refuses "u" (invalid number): there an unsigned value is an integer field, capped at long.MaxValue.
        var protocol = new LineProtocol(new GatewayIdentity { Id = "gw", Enterprise = "acme", Site = "lyon", Area = "a", Line = "l" }, unsignedIntegers);
        var line = new StringBuilder();

        Assert.True(protocol.Append(line, Sample.Good(new TagInfo("press", "count"), s_t, s_t, SampleValue.FromUnsignedInteger(value))));
        Assert.EndsWith($" count={expected} 1795687200123000000", line.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(204, InfluxOutcome.Written)]
    [InlineData(400, InfluxOutcome.Rejected)]
    [InlineData(503, InfluxOutcome.Retry)]
    public async Task V2Writer_SendsTokenOrgBucketAndNanosecondPrecision_AndMapsTheStatus(int status, InfluxOutcome expected)
    {
        var port = PortAllocator.FreeTcpPort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var tokenFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(tokenFile, "my-token\n");
        try
        {
            using var writer = new InfluxV2Writer(new InfluxOptions { Url = $"http://127.0.0.1:{port}", Version = 2, Org = "acme", Bucket = "plant", TokenFile = tokenFile, TimeoutMs = 5000 });
            var serve = ServeOnceAsync(listener, status);

            var (outcome, _) = await writer.WriteAsync(["m1 a=1i 1795687200123000000", "m1 b=2.5 1795687200123000000"], CancellationToken.None);
            var request = await serve;

            Assert.Equal(expected, outcome);
            Assert.Equal("POST", request.Method);
            Assert.Equal("/api/v2/write", request.Path);
            Assert.Contains("org=acme", request.Query, StringComparison.Ordinal);
            Assert.Contains("bucket=plant", request.Query, StringComparison.Ordinal);
            Assert.Contains("precision=ns", request.Query, StringComparison.Ordinal);
            Assert.Equal("Token my-token", request.Authorization);
            Assert.Equal("m1 a=1i 1795687200123000000\nm1 b=2.5 1795687200123000000", request.Body.Trim());
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    private static async Task<RecordedRequest> ServeOnceAsync(HttpListener listener, int status)
    {
        var context = await listener.GetContextAsync();
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var recorded = new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Url.Query, context.Request.Headers["Authorization"], body);
        context.Response.StatusCode = status;
        if (status >= 400)
        {
            var error = Encoding.UTF8.GetBytes("{\"code\":\"invalid\",\"message\":\"refused by the test\"}");
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(error);
        }

        context.Response.Close();
        return recorded;
    }

    private sealed record RecordedRequest(string Method, string Path, string Query, string? Authorization, string Body);
}
