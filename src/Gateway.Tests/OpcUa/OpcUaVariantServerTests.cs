#pragma warning disable CA1861 // constant arrays in assertions read better inline
using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Cli;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa.DataTypes;
using Gateway.Drivers.OpcUa;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Gateway.Drivers.OpcUa.Transport;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// tests/peers/opcua/server-variant.mjs with its defaults: namespaces 2 and 3, odd NodeIds, extreme and structured
/// types, MaxNodesPerRead/Browse/MonitoredItemsPerCall of 2, 5 references per Browse, sampling no faster than 500 ms.
/// </summary>
public sealed class NodeOpcUaVariantServerFixture : IAsyncLifetime
{
    public NodeOpcUaServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await NodeOpcUaServer.StartVariantAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

internal static class Variant2
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    public static Task UntilAsync(Func<bool> condition, string what) =>
        Eventually.TrueAsync(condition, what, Wait);

    public static async Task<UaClient> ConnectAsync(string url, Func<UaClientOptions, UaClientOptions>? configure = null)
    {
        var options = new UaClientOptions { EndpointUrl = url };
        var client = new UaClient(configure?.Invoke(options) ?? options);
        await client.ConnectAsync(CancellationToken.None);
        return client;
    }
}

public sealed class OpcUaVariantServerTests(NodeOpcUaVariantServerFixture fixture) : IClassFixture<NodeOpcUaVariantServerFixture>
{
    [Fact]
    public async Task Connect_MaxNodesPerReadBelowTheFiveLimits_LearnsEveryOperationLimit()
    {
        await using var client = await Variant2.ConnectAsync(fixture.Server.Url);

        // The five limits no longer go in one Read that this server refuses (BadTooManyOperations).
        Assert.Equal(2u, client.MaxNodesPerRead);
        Assert.Equal(2u, client.MaxNodesPerBrowse);
        Assert.Equal(2u, client.MaxMonitoredItemsPerCall);
        Assert.Equal(2u, client.MaxNodesPerWrite);
        Assert.Equal(2u, client.MaxNodesPerTranslate);
    }

    [Fact]
    public async Task Read_NodeIdsOfEveryKindInNamespacesTwoAndThree_ReturnsTheirValues()
    {
        await using var client = await Variant2.ConnectAsync(fixture.Server.Url);
        string[] texts =
        [
            "ns=2;s=ns=1;s=Fake", "ns=2;s= padded ", "ns=2;i=4294967295", "ns=3;s=温度/センサー 1",
            "ns=3;g=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "ns=3;b=AP8vKzs9", "ns=2;s=Line 1/Zone=A;Temp.°C",
        ];

        var values = await client.ReadAsync(texts.Select(NodeId.Parse).ToArray(), CancellationToken.None);

        Assert.All(values, v => Assert.True(v.StatusCode.IsGood, v.ToString()));
        Assert.Equal(11, values[0].Value.Value);
        Assert.Equal(12, values[1].Value.Value);
        Assert.Equal(uint.MaxValue, values[2].Value.Value);
        Assert.Equal(21.5, values[3].Value.Value);
        Assert.Equal(13, values[4].Value.Value);
        Assert.Equal(14, values[5].Value.Value);
        Assert.IsType<double>(values[6].Value.Value);
        Assert.Equal(4, client.ReadRequestsSent); // 7 nodes, 2 per Read
    }

    [Fact]
    public async Task Read_ExtremeAndStructuredTypes_DecodeToTheirValues()
    {
        await using var client = await Variant2.ConnectAsync(fixture.Server.Url);
        string[] names = ["Int64Max", "Int64Min", "UInt64Max", "DateTime", "ByteString", "ByteStringEmpty", "Int32Cube", "StringMatrix", "Range", "State", "EmptyArray"];

        var values = await client.ReadAsync(names.Select(n => new NodeId(2, n)).ToArray(), CancellationToken.None);
        var units = await client.TranslateAsync([UaClient.ParseBrowsePath("/Objects/2:Line 1/2:Pressure/EngineeringUnits"), UaClient.ParseBrowsePath("/Objects/2:Line 1/2:Pressure/EURange")], CancellationToken.None);
        var properties = await client.ReadAsync([units[0].NodeId!, units[1].NodeId!], CancellationToken.None);

        Assert.Equal(long.MaxValue, values[0].Value.Value);
        Assert.Equal(long.MinValue, values[1].Value.Value);
        Assert.Equal(ulong.MaxValue, values[2].Value.Value);
        Assert.Equal(new DateTime(2026, 11, 26, 10, 0, 0, 123, DateTimeKind.Utc), values[3].Value.Value);
        Assert.Equal(new byte[] { 0, 1, 0xfe, 0xff }, values[4].Value.Value);
        Assert.Equal(Array.Empty<byte>(), values[5].Value.Value);
        Assert.Equal(new[] { 2, 2, 2 }, values[6].Value.Dimensions);
        Assert.Equal("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]", values[6].Value.ToString());
        Assert.Equal("[[a, b], [c, d], [e, f]]", values[7].Value.ToString());
        var range = Assert.IsType<Gateway.Drivers.OpcUa.Encoding.Range>(Assert.IsType<ExtensionObject>(values[8].Value.Value).Body);
        Assert.Equal((-10.5, 99.25), (range.Low, range.High));
        Assert.Equal(1, values[9].Value.Value);
        Assert.Equal(Array.Empty<int>(), values[10].Value.Value);
        var unit = Assert.IsType<EUInformation>(Assert.IsType<ExtensionObject>(properties[0].Value.Value).Body);
        Assert.Equal(("bar", 4342098), (unit.DisplayName.Text, unit.UnitId));
        Assert.Equal("""{"low":0,"high":16}""", properties[1].Value.ToString());
    }

    [Fact]
    public async Task ResolveNamespace_NodeIdByNamespaceUri_MapsToTheServersIndex()
    {
        await using var client = await Variant2.ConnectAsync(fixture.Server.Url);
        Assert.True(ExpandedNodeId.TryParse("nsu=urn:gateway-test:vendor;s=温度/センサー 1", out var vendor));
        Assert.True(ExpandedNodeId.TryParse("nsu=urn:gateway-test:plant;i=70000", out var plant));
        Assert.True(ExpandedNodeId.TryParse("nsu=urn:not-there;i=1", out var missing));

        var vendorId = await client.ResolveNamespaceAsync(vendor, CancellationToken.None);
        var plantId = await client.ResolveNamespaceAsync(plant, CancellationToken.None);
        var missingId = await client.ResolveNamespaceAsync(missing, CancellationToken.None);
        var value = await client.ReadAsync([vendorId!], CancellationToken.None);

        Assert.Equal(new NodeId(3, "温度/センサー 1"), vendorId);
        Assert.Equal(new NodeId(2, 70000u), plantId);
        Assert.Null(missingId);
        Assert.Equal(21.5, value[0].Value.Value);
    }

    [Fact]
    public async Task Translate_BrowsePathsWithSpacesSeparatorsAndNonAscii_ResolveInBatchesOfTheLimit()
    {
        await using var client = await Variant2.ConnectAsync(fixture.Server.Url);

        var results = await client.TranslateAsync(
        [
            UaClient.ParseBrowsePath("/Objects/2:Line 1/2:Zone=A;Temp.°C"), UaClient.ParseBrowsePath("/Objects/3:セル/3:温度"),
            UaClient.ParseBrowsePath("/Objects/2:Line 1/2:Padded"),
        ], CancellationToken.None);

        Assert.Equal(new NodeId(2, "Line 1/Zone=A;Temp.°C"), results[0].NodeId);
        Assert.Equal(new NodeId(3, "温度/センサー 1"), results[1].NodeId);
        Assert.Equal(new NodeId(2, " padded "), results[2].NodeId);
    }

    [Fact]
    public async Task Browse_MoreChildrenThanTheServerReturnsPerBrowse_FollowsContinuationPoints()
    {
        await using var client = await Variant2.ConnectAsync(fixture.Server.Url);

        var references = await client.BrowseAsync(new NodeId(2, "Many"), CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 23).Select(i => $"M{i}"), references.Where(r => r.NodeClass == NodeClass.Variable).Select(r => r.BrowseName.Name));
    }

    [Fact]
    public async Task Subscribe_MoreItemsThanMaxMonitoredItemsPerCall_EveryItemReports()
    {
        await using var client = await Variant2.ConnectAsync(fixture.Server.Url);
        var seen = new ConcurrentDictionary<NodeId, DataValue>();
        var subscription = await client.CreateSubscriptionAsync(200, (item, value) => seen[item.NodeId] = value, CancellationToken.None);
        NodeId[] nodes = [new(2, 70000u), new(2, "Line 1/Zone=A;Temp.°C"), new(2, "Line 1/Pressure"), new(2, uint.MaxValue), new(3, "温度/センサー 1")];

        await client.AddMonitoredItemsAsync(subscription, nodes.Select(n => new MonitoredItem(n, 100, 10)).ToArray(), CancellationToken.None);
        await Variant2.UntilAsync(() => nodes.All(seen.ContainsKey), "a value from every item");

        Assert.All(subscription.MonitoredItems, item => Assert.True(item.Status.IsGood, $"{item.NodeId}: {item.Status}"));
        Assert.True(subscription.MonitoredItems.Single(i => i.NodeId == nodes[0]).RevisedSamplingInterval >= 500, "the node's minimum sampling interval applies");
        Assert.All(seen.Values, v => Assert.True(v.StatusCode.IsGood));
    }
}

public sealed class OpcUaVariantServerLimitTests
{
    [Fact]
    public async Task HiddenLimits_ReadWriteAndSubscribe_HalveTheirBatchesOnBadTooManyOperations()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync("--hide-limits");
        await using var client = await Variant2.ConnectAsync(server.Url);
        Assert.Equal(0u, client.MaxNodesPerRead);
        var nodes = Enumerable.Range(0, 7).Select(i => new NodeId(2, (uint)(1000 + i))).ToArray();

        var values = await client.ReadAsync(nodes, CancellationToken.None);
        var seen = new ConcurrentDictionary<NodeId, bool>();
        var subscription = await client.CreateSubscriptionAsync(200, (item, _) => seen[item.NodeId] = true, CancellationToken.None);
        await client.AddMonitoredItemsAsync(subscription, nodes.Select(n => new MonitoredItem(n, 100)).ToArray(), CancellationToken.None);
        await Variant2.UntilAsync(() => seen.Count == nodes.Length, "a value from every item");

        Assert.Equal(Enumerable.Range(0, 7), values.Select(v => (int)v.Value.Value!));
        Assert.InRange(client.MaxNodesPerRead, 1u, 2u);
        Assert.InRange(client.MaxMonitoredItemsPerCall, 1u, 2u);
        Assert.All(subscription.MonitoredItems, item => Assert.True(item.Status.IsGood, item.Status.ToString()));
    }

    [Fact]
    public async Task ShortSessionTimeout_KeepAliveRunsWithinIt_SessionSurvivesSeveralTimeouts()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync("--max-session-timeout", "3000");
        // Asks for one minute and a keep-alive every 5 s: the server grants 3 s.
        await using var client = await Variant2.ConnectAsync(server.Url, o => o with { SessionTimeout = TimeSpan.FromMinutes(1), KeepAliveInterval = TimeSpan.FromSeconds(5) });
        var sessionId = client.SessionId;

        await Task.Delay(client.RevisedSessionTimeout * 3);
        var value = await client.ReadAsync([new NodeId(2, 70000u)], CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(3), client.RevisedSessionTimeout);
        Assert.True(client.EffectiveKeepAliveInterval <= TimeSpan.FromSeconds(1), client.EffectiveKeepAliveInterval.ToString());
        Assert.True(value[0].StatusCode.IsGood, value[0].StatusCode.ToString());
        Assert.Equal(sessionId, client.SessionId);
        Assert.Equal(1, client.SessionsCreated);
    }

    [Fact]
    public async Task SmallMessages_ReadWithOneValueOverTheMessageSize_OtherValuesStillArrive()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync("--small-messages", "--max-nodes-per-read", "10");
        await using var client = await Variant2.ConnectAsync(server.Url);

        // ns=2;s=Big is a 20000-Double array (160 KB): more than the server's 32 KB messages.
        var values = await client.ReadAsync([new NodeId(2, "Int32Array"), new NodeId(2, "Big"), new NodeId(2, "Int64Max")], CancellationToken.None);
        var after = await client.ReadAsync([UaClient.ServerStatusState], CancellationToken.None);

        Assert.Equal(new[] { 1, -2, 3 }, values[0].Value.Value);
        Assert.True(values[1].StatusCode.IsBad);
        Assert.Contains(values[1].StatusCode.Code & 0xFFFF0000, new[] { SampleStatus.BadResponseTooLarge, SampleStatus.BadTcpMessageTooLarge, SampleStatus.BadEncodingLimitsExceeded });
        Assert.Equal(long.MaxValue, values[2].Value.Value);
        Assert.True(after[0].StatusCode.IsGood);
    }

    [Fact]
    public async Task SecureOnlyUserOnlyServer_UnderAnotherHostName_ConnectsWithUserAndExplainsRefusals()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync("--secure-only", "--no-anonymous");
        var pki = Directory.CreateTempSubdirectory("gw-variant-pki-");
        try
        {
            UaClientOptions Options(UaClientOptions o) => o with { SecurityPolicy = OpcUaSecurityPolicy.Basic256Sha256, PkiDirectory = pki.FullName, ServerCertificateTrust = ServerCertificateTrust.TrustOnFirstUse };
            await using var user = await Variant2.ConnectAsync(server.Url, o => Options(o) with { UserName = "gwuser", Password = "gwpass" });
            var state = await user.ReadAsync([UaClient.ServerStatusState], CancellationToken.None);
            await using var anonymous = new UaClient(Options(new UaClientOptions { EndpointUrl = server.Url }));
            var refused = await Assert.ThrowsAnyAsync<UaException>(() => anonymous.ConnectAsync(CancellationToken.None));
            await using var unsecured = new UaClient(new UaClientOptions { EndpointUrl = server.Url, UserName = "gwuser", Password = "gwpass" });
            var noNone = await Assert.ThrowsAnyAsync<UaException>(() => unsecured.ConnectAsync(CancellationToken.None));

            // The server calls itself variant-plc.invalid: we keep the host we were given and its path.
            Assert.Equal($"opc.tcp://127.0.0.1:{server.Port}/plc/variant", user.SessionEndpointUrl);
            Assert.True(state[0].StatusCode.IsGood);
            Assert.Contains("does not accept anonymous", refused.Message, StringComparison.Ordinal);
            Assert.Contains("Basic256Sha256/SignAndEncrypt", noNone.Message, StringComparison.Ordinal);
        }
        finally
        {
            pki.Delete(recursive: true);
        }
    }
}

public sealed class OpcUaVariantDriverTests
{
    private static OpcUaDriver Create(string url, string mode, string tags, int publishingIntervalMs = 200)
    {
        var (config, section) = DriverConfigs.Load($$"""
            { "drivers": [ { "name": "variant", "type": "opcua", "machine": "plc", "endpointUrl": "{{url}}", "mode": "{{mode}}",
              "publishingIntervalMs": {{publishingIntervalMs}}, "samplingIntervalMs": 100, "reconnectDelayMs": 200, "maxReconnectDelayMs": 1000,
              "tags": [ {{tags}} ] } ] }
            """);
        Assert.Empty(new OpcUaDriverFactory().Validate(config, section, "drivers[0]"));
        return (OpcUaDriver)new OpcUaDriverFactory().Create(config, section, new DriverContext(TimeProvider.System, NullLoggerFactory.Instance));
    }

    [Fact]
    public async Task Driver_SmallLimitsOddNodeIdsAndTypes_EveryTagGood()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync();
        await using var driver = Create(server.Url, "subscription", """
            { "name": "temp", "address": "ns=2;s=Line 1/Zone=A;Temp.°C" }, { "name": "counter", "address": "ns=2;i=70000" },
            { "name": "pressure", "address": "/Objects/2:Line 1/2:Pressure" }, { "name": "jp", "address": "/Objects/3:セル/3:温度" },
            { "name": "guid", "address": "ns=3;g=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" }, { "name": "i64", "address": "ns=2;s=Int64Min" },
            { "name": "range", "address": "ns=2;s=Range" }, { "name": "cube", "address": "ns=2;s=Int32Cube" },
            { "name": "padded", "address": "ns=2;s= padded " }, { "name": "byuri", "address": "nsu=urn:gateway-test:vendor;g=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" }
            """);
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);

        await Variant2.UntilAsync(() => driver.Tags.All(t => writer.Samples.Any(s => s.Tag == t && s.Quality == Quality.Good)), "a Good sample for every tag");
        await cts.CancelAsync();
        await run;

        SampleValue Last(string path) => writer.Samples.Last(s => s.Tag.Path == path).Value;
        Assert.Equal(SampleValue.FromInteger(long.MinValue), Last("i64"));
        Assert.Equal(SampleValue.FromInteger(12), Last("padded"));
        Assert.Equal(SampleValue.FromDouble(21.5), Last("jp"));
        Assert.Equal(SampleValue.FromInteger(13), Last("byuri"));
        Assert.Equal(SampleValue.FromString("""{"low":-10.5,"high":99.25}"""), Last("range"));
        Assert.Equal(SampleValue.FromString("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]"), Last("cube"));
        Assert.DoesNotContain(writer.Samples, s => s.Quality == Quality.Bad);
    }

    [Fact]
    public async Task Driver_PollingWithOneValueOverTheMessageSize_OtherTagsStayGood()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync("--small-messages");
        await using var driver = Create(server.Url, "polling", """
            { "name": "counter", "address": "ns=2;i=70000" }, { "name": "big", "address": "ns=2;s=Big" }, { "name": "array", "address": "ns=2;s=Int32Array" }
            """);
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);

        await Variant2.UntilAsync(() => writer.Samples.Count(s => s.Tag.Path == "counter" && s.Quality == Quality.Good) >= 2
                                        && writer.Samples.Any(s => s.Tag.Path == "big"), "counter values and a sample for the big array");
        await cts.CancelAsync();
        await run;

        var big = writer.Samples.First(s => s.Tag.Path == "big");
        Assert.Equal(Quality.Bad, big.Quality);
        Assert.Equal(SampleValue.FromArray(SampleArray.Of([1, -2, 3])), writer.Samples.First(s => s.Tag.Path == "array").Value);
        Assert.DoesNotContain(writer.Samples, s => s.Tag.Path != "big" && s.Quality == Quality.Bad);
    }
}

public sealed class OpcUaVariantCommandTests(NodeOpcUaVariantServerFixture fixture) : IClassFixture<NodeOpcUaVariantServerFixture>
{
    [Fact]
    public async Task Read_ByNamespaceUriAndMatrix_PrintsValuesWithDimensions()
    {
        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("opcua", "read", fixture.Server.Url,
            "nsu=urn:gateway-test:vendor;s=温度/センサー 1", "ns=2;s=Int32Cube", "ns=2;s=Range", "ns=2;i=70000", "ns=2;s= padded ");

        Assert.True(exit == ExitCodes.Success, stderr);
        Assert.Contains("nsu=urn:gateway-test:vendor;s=温度/センサー 1 = 21.5 (Double) Good", stdout, StringComparison.Ordinal);
        Assert.Contains("ns=2;s=Int32Cube = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] (Int32[2,2,2]) Good", stdout, StringComparison.Ordinal);
        Assert.Contains("""ns=2;s=Range = {"low":-10.5,"high":99.25} (ExtensionObject) Good""", stdout, StringComparison.Ordinal);
        Assert.Contains("ns=2;s= padded  = 12 (Int32) Good", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrowseJson_NonAsciiNamesAndStructuredDataTypes_PrintedAsTheyAre()
    {
        var (exit, stdout, stderr) = await GatewayProcess.RunVerbAsync("opcua", "browse", fixture.Server.Url, "--node", "/Objects/2:Line 1", "--depth", "2", "--json");
        var (exit3, stdout3, stderr3) = await GatewayProcess.RunVerbAsync("opcua", "browse", fixture.Server.Url, "--node", "nsu=urn:gateway-test:vendor;s=セル", "--depth", "1", "--json");

        Assert.True(exit == ExitCodes.Success, stderr);
        Assert.True(exit3 == ExitCodes.Success, stderr3);
        var tree = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        var pressure = tree.GetProperty("Children").EnumerateArray().Single(c => c.GetProperty("BrowseName").GetString() == "2:Pressure");
        var types = pressure.GetProperty("Children").EnumerateArray().ToDictionary(c => c.GetProperty("BrowseName").GetString()!, c => c.GetProperty("DataType").GetString());
        Assert.Equal("Range", types["EURange"]);
        Assert.Equal("EUInformation", types["EngineeringUnits"]);
        Assert.Contains("\"NodeId\": \"ns=2;s=Line 1/Zone=A;Temp.°C\"", stdout, StringComparison.Ordinal);
        Assert.Contains("\"BrowseName\": \"3:温度\"", stdout3, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subscribe_ServerRestarts_ReportsTheLossReconnectsAndPrintsChangesAgain()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync();
        var info = new ProcessStartInfo("dotnet", [GatewayProcess.GatewayDll, "opcua", "subscribe", server.Url, "ns=2;i=70000", "--interval", "200"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var stdout = new ConcurrentQueue<string>();
        var stderr = new ConcurrentQueue<string>();
        using var cli = Process.Start(info)!;
        cli.OutputDataReceived += (_, e) => { if (e.Data is not null) { stdout.Enqueue(e.Data); } };
        cli.ErrorDataReceived += (_, e) => { if (e.Data is not null) { stderr.Enqueue(e.Data); } };
        cli.BeginOutputReadLine();
        cli.BeginErrorReadLine();
        try
        {
            await Variant2.UntilAsync(() => stdout.Count >= 2, "changes before the restart");
            await server.KillAsync();
            await Variant2.UntilAsync(() => stderr.Any(l => l.StartsWith("connection lost", StringComparison.Ordinal)), "the loss reported");
            var before = stdout.Count;
            await server.RestartAsync();
            await Variant2.UntilAsync(() => stdout.Count >= before + 2, "changes after the restart");

            Assert.False(cli.HasExited);
            Assert.Contains(stderr, l => l.StartsWith("reconnected", StringComparison.Ordinal));
            Assert.All(stdout, l => Assert.StartsWith("ns=2;i=70000 = ", l, StringComparison.Ordinal));
        }
        finally
        {
            if (!cli.HasExited)
            {
                cli.Kill();
                await cli.WaitForExitAsync();
            }
        }
    }
}

public sealed class OpcUaVariantUnitTests
{
    [Theory]
    [InlineData("ns=2;s= padded ", 2, " padded ")]
    [InlineData("  ns=2;s=Line 1/Zone=A;Temp.°C", 2, "Line 1/Zone=A;Temp.°C")]
    [InlineData("ns=3;s=ns=1;s=x", 3, "ns=1;s=x")]
    public void NodeIdParse_StringIdentifier_KeptVerbatim(string text, ushort ns, string identifier)
    {
        Assert.Equal(new NodeId(ns, identifier), NodeId.Parse(text));
        Assert.Equal(text.TrimStart(), NodeId.Parse(text).ToString());
    }

    [Theory]
    [InlineData("nsu=urn:plant;s=Line 1", "urn:plant", "s=Line 1")]
    [InlineData("nsu=http://vendor.example/UA%3Bv2/;i=5", "http://vendor.example/UA;v2/", "i=5")]
    [InlineData("ns=2;i=5", null, "ns=2;i=5")]
    public void ExpandedNodeIdParse_NamespaceUriForm_KeepsTheUriUnescaped(string text, string? uri, string nodeId)
    {
        Assert.True(ExpandedNodeId.TryParse(text, out var parsed));

        Assert.Equal(uri, parsed.NamespaceUri);
        Assert.Equal(nodeId, parsed.NodeId.ToString());
    }

    [Theory]
    [InlineData("nsu=;i=5")]
    [InlineData("nsu=urn:x;ns=2;i=5")]
    [InlineData("nsu=urn:x")]
    public void ExpandedNodeIdParse_Malformed_IsRefused(string text)
    {
        Assert.False(ExpandedNodeId.TryParse(text, out _));
    }

    [Fact]
    public void RangeAndEUInformation_DecodeFromTheirBinaryEncoding()
    {
        // Range body: two little-endian Doubles; the ExtensionObject names encoding i=886.
        var buffer = new UaBuffer();
        var encoder = new UaEncoder(buffer);
        encoder.WriteExtensionObject(new ExtensionObject(new Gateway.Drivers.OpcUa.Encoding.Range { Low = -1.5, High = 2 }));
        encoder.WriteExtensionObject(new ExtensionObject(new EUInformation { NamespaceUri = "http://www.opcfoundation.org/UA/units/un/cefact", UnitId = 4408652, DisplayName = new LocalizedText("en", "°C") }));
        var bytes = buffer.ToArray();

        var decoder = new UaDecoder(bytes);
        var range = decoder.ReadExtensionObject();
        var unit = decoder.ReadExtensionObject();

        Assert.Equal([0x01, 0x00, 0x76, 0x03, 0x01, 0x10, 0x00, 0x00, 0x00], bytes[..9]); // i=886, binary, 16 bytes
        Assert.Equal("""{"low":-1.5,"high":2}""", range.ToString());
        Assert.Equal("""{"namespaceUri":"http://www.opcfoundation.org/UA/units/un/cefact","unitId":4408652,"displayName":"°C","description":null}""", unit.ToString());
        Assert.Equal(0, decoder.Remaining);
    }

    [Fact]
    public void MatrixVariant_PrintsNestedRowsLastDimensionFastest()
    {
        var matrix = new Variant(BuiltInType.Int32, new[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);

        Assert.Equal("[[1, 2, 3], [4, 5, 6]]", matrix.ToString());
        Assert.Equal(SampleValue.FromString("[[1, 2, 3], [4, 5, 6]]"), UaVariantValues.Convert(matrix));
    }
}
