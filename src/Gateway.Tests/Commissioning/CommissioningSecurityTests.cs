using System.Net;
using System.Text.Json;
using Gateway.Commissioning;
using Gateway.Configuration;
using Gateway.Dashboard;
using Gateway.Drivers;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Commissioning;

/// <summary>Issue 16: the commissioning API follows the editor rule (the reload's), and can be turned off.</summary>
[Collection(nameof(ProcessTests))]
public sealed class CommissioningSecurityTests
{
    private static readonly Dictionary<string, string> s_header = new() { [ChangeRequestGuard.HeaderName] = "test" };

    private static DefaultHttpContext Request(string remote, string? origin = null, bool header = true)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1:8080");
        if (header)
        {
            context.Request.Headers[ChangeRequestGuard.HeaderName] = "commission";
        }

        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        return context;
    }

    private static DashboardAuth NoPassword() => new(Options.Create(new GatewayConfig()), TimeProvider.System);

    [Fact]
    public void Refusal_WithoutPassword_OnlyLoopbackWithTheHeaderFromThisOrigin_MayCommission()
    {
        var config = new GatewayConfig();

        Assert.Null(CommissioningEndpoints.Refusal(Request("127.0.0.1"), NoPassword(), config));
        Assert.Equal(403, CommissioningEndpoints.Refusal(Request("10.0.0.5"), NoPassword(), config)!.Value.Status);
        Assert.Equal(403, CommissioningEndpoints.Refusal(Request("127.0.0.1", header: false), NoPassword(), config)!.Value.Status);
        Assert.Equal(403, CommissioningEndpoints.Refusal(Request("127.0.0.1", origin: "http://evil.example"), NoPassword(), config)!.Value.Status);
        Assert.Null(CommissioningEndpoints.Refusal(Request("127.0.0.1", origin: "http://127.0.0.1:8080"), NoPassword(), config));
    }

    [Fact]
    public void Refusal_CommissioningOff_RefusesEvenLoopback_AndSaysWhichKey()
    {
        var config = new GatewayConfig { Http = new HttpOptions { Commissioning = false } };

        var refusal = CommissioningEndpoints.Refusal(Request("127.0.0.1"), NoPassword(), config);

        Assert.Equal(403, refusal!.Value.Status);
        Assert.Contains("http.commissioning", refusal.Value.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_WithPasswordFile_NeedsLoginOrBearer_CrossOriginRefused_AndTheDocumentHoldsNoSecret()
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 100);
        var passwordFile = Path.Combine(config.Directory, "dashboard.password");
        await File.WriteAllTextAsync(passwordFile, "s3cret-commission\n");
        config.Root["http"]!["passwordFile"] = passwordFile;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        var bearer = new Dictionary<string, string> { ["Authorization"] = "Bearer s3cret-commission" };

        var (anonymous, _) = await gateway.PostAsync("/api/commission/save", s_header);
        var (crossSite, _) = await gateway.PostAsync("/api/commission/save", new Dictionary<string, string>(bearer) { ["Origin"] = "http://evil.example" });
        var (scripted, body) = await gateway.PostAsync("/api/commission/save", bearer);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret-commission");
        var document = await http.GetStringAsync(new Uri($"http://127.0.0.1:{config.HttpPort}/api/commission/config"));

        Assert.Equal(401, anonymous);
        Assert.Equal(403, crossSite);
        Assert.Equal(400, scripted); // through the guard; no drivers given
        Assert.Contains("drivers", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("\"passwordFile\"", document, StringComparison.Ordinal); // the path is shown, never the content
        Assert.DoesNotContain("s3cret-commission", document, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-commission", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ViewerPassword_SeesEverything_ChangesNothing_CommissioningReloadAndSessionSayViewer()
    {
        using var config = new TestConfig().WithSimulatedMachine("m1", cycleMs: 100);
        var passwordFile = Path.Combine(config.Directory, "dashboard.password");
        var viewerFile = Path.Combine(config.Directory, "viewer.password");
        await File.WriteAllTextAsync(passwordFile, "editor-pass\n");
        await File.WriteAllTextAsync(viewerFile, "viewer-pass\n");
        config.Root["http"]!["passwordFile"] = passwordFile;
        config.Root["http"]!["viewerPasswordFile"] = viewerFile;
        await using var gateway = new GatewayProcess(config.Write(), config.HttpPort);
        await gateway.StartAsync();
        var viewer = new Dictionary<string, string> { ["Authorization"] = "Bearer viewer-pass" };
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "viewer-pass");

        var status = await http.GetAsync(new Uri($"http://127.0.0.1:{config.HttpPort}/api/status"));
        var session = await http.GetStringAsync(new Uri($"http://127.0.0.1:{config.HttpPort}/api/session"));
        var (save, saveBody) = await gateway.PostAsync("/api/commission/save", viewer);
        var (reload, _) = await gateway.PostAsync("/api/config/reload", viewer);
        var (editorReload, _) = await gateway.PostAsync("/api/config/reload", new Dictionary<string, string> { ["Authorization"] = "Bearer editor-pass" });

        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Contains("\"viewer\":true", session, StringComparison.Ordinal);
        Assert.Equal(403, save);
        Assert.Contains("viewer", saveBody, StringComparison.Ordinal);
        Assert.Equal(403, reload);
        Assert.Equal(200, editorReload);
    }

    [Fact]
    public void ViewerSession_CarriesItsRole_AndIsNoEditorPassword()
    {
        var directory = Directory.CreateTempSubdirectory("gw-viewer-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "editor"), "editor-pass\n");
            File.WriteAllText(Path.Combine(directory, "viewer"), "viewer-pass\n");
            var auth = new DashboardAuth(Options.Create(new GatewayConfig { Http = new HttpOptions { PasswordFile = Path.Combine(directory, "editor"), ViewerPasswordFile = Path.Combine(directory, "viewer") } }), TimeProvider.System);

            Assert.Equal(DashboardRole.Viewer, auth.Authenticate("viewer-pass"));
            Assert.Equal(DashboardRole.Editor, auth.Authenticate("editor-pass"));
            Assert.Null(auth.Authenticate("nope"));
            Assert.False(auth.CheckPassword("viewer-pass"));
            Assert.Equal(DashboardRole.Viewer, auth.SessionRole(auth.IssueSession(DashboardRole.Viewer)));
            Assert.Equal(DashboardRole.Editor, auth.SessionRole(auth.IssueSession()));
            var viewerSession = auth.IssueSession(DashboardRole.Viewer);
            Assert.Null(auth.SessionRole(viewerSession[..viewerSession.IndexOf('.', StringComparison.Ordinal)] + ".e" + viewerSession[(viewerSession.IndexOf('.', StringComparison.Ordinal) + 2)..])); // the role is signed
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void HttpRules_ViewerPasswordFile_NeedsThePasswordFile_AndADifferentPassword()
    {
        var directory = Directory.CreateTempSubdirectory("gw-viewer-").FullName;
        try
        {
            var editor = Path.Combine(directory, "editor");
            var viewer = Path.Combine(directory, "viewer");
            File.WriteAllText(editor, "same\n");
            File.WriteAllText(viewer, "same\n");
            List<ConfigProblem> Check(HttpOptions http)
            {
                var problems = new List<ConfigProblem>();
                new HttpRules().Check(new ConfigContext(new GatewayConfig { Http = http }, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), BuiltInDrivers.Factories), problems);
                return problems;
            }

            var alone = Check(new HttpOptions { ViewerPasswordFile = viewer });
            var same = Check(new HttpOptions { PasswordFile = editor, ViewerPasswordFile = viewer });
            File.WriteAllText(viewer, "other\n");
            var fine = Check(new HttpOptions { PasswordFile = editor, ViewerPasswordFile = viewer });

            Assert.Contains(alone, p => p.Path == "http.viewerPasswordFile" && p.Reason.Contains("needs http.passwordFile", StringComparison.Ordinal));
            Assert.Contains(same, p => p.Path == "http.viewerPasswordFile" && p.Reason.Contains("must differ", StringComparison.Ordinal));
            Assert.Empty(fine);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
