#pragma warning disable CA1861 // constant arrays in assertions read better inline
using System.Collections.Concurrent;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Transport;
using Xunit;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.OpcUa;

/// <summary>One node-opcua server shared by the tests of a class.</summary>
public sealed class NodeOpcUaServerFixture : IAsyncLifetime
{
    public NodeOpcUaServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await NodeOpcUaServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class OpcUaIntegrationTests(NodeOpcUaServerFixture fixture) : IClassFixture<NodeOpcUaServerFixture>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    private async Task<UaClient> ConnectAsync(Func<UaClientOptions, UaClientOptions>? configure = null)
    {
        var options = new UaClientOptions { EndpointUrl = fixture.Server.Url };
        var client = new UaClient(configure?.Invoke(options) ?? options);
        await client.ConnectAsync(CancellationToken.None);
        return client;
    }

    [Fact]
    public async Task Connect_KeepsTypedHostAndAdvertisedPath()
    {
        await using var client = await ConnectAsync();

        Assert.Equal($"opc.tcp://127.0.0.1:{fixture.Server.Port}/UA/TestPeer", client.SessionEndpointUrl);
        Assert.False(client.SessionId.IsNull);
        Assert.Equal(100u, client.MaxNodesPerRead);
    }

    [Fact]
    public async Task Browse_WholeSampleNamespace_FollowsContinuationPointsThroughBigFolder()
    {
        await using var client = await ConnectAsync(o => o with { MaxReferencesPerNode = 150 });

        var objects = await client.BrowseAsync(UaClient.ObjectsFolder, CancellationToken.None);
        var machine = objects.Single(r => r.BrowseName == new QualifiedName(1, "Machine1"));
        var types = objects.Single(r => r.BrowseName == new QualifiedName(1, "Types"));
        var big = objects.Single(r => r.BrowseName == new QualifiedName(1, "Big"));
        var machineChildren = await client.BrowseAsync(machine.NodeId.NodeId, CancellationToken.None);
        var typeChildren = await client.BrowseAsync(types.NodeId.NodeId, CancellationToken.None);
        var bigChildren = await client.BrowseAsync(big.NodeId.NodeId, CancellationToken.None);

        Assert.Contains(machineChildren, r => r.NodeId.NodeId == new NodeId(1, "Machine1.Temperature") && r.NodeClass == NodeClass.Variable);
        Assert.Contains(machineChildren, r => r.NodeId.NodeId == new NodeId(1, Guid.Parse("72962b91-fa75-4ae6-8d28-b404dc7daf63")));
        Assert.Contains(machineChildren, r => r.NodeId.NodeId == new NodeId(1, "Opaque"u8.ToArray()));
        Assert.Equal(46, typeChildren.Count);
        Assert.Equal(2000, bigChildren.Count);
        Assert.Equal(2000, bigChildren.Select(r => r.NodeId.NodeId).Distinct().Count());
        Assert.Equal("Item01999", bigChildren.Max(r => r.BrowseName.Name));
    }

    [Fact]
    public async Task Translate_BrowsePath_ResolvesNodeId()
    {
        await using var client = await ConnectAsync();

        var result = await client.TranslateAsync([UaClient.ParseBrowsePath("/Objects/1:Machine1/1:Temperature"), UaClient.ParseBrowsePath("/Objects/1:Machine1/1:Missing")], CancellationToken.None);

        Assert.Equal(new NodeId(1, "Machine1.Temperature"), result[0].NodeId);
        Assert.Null(result[1].NodeId);
        Assert.True(result[1].Status.IsBad);
    }

    [Fact]
    public async Task Read_EveryBuiltInType_ScalarsArraysAndMatrix()
    {
        await using var client = await ConnectAsync();
        var expected = new Dictionary<string, object?>
        {
            ["Boolean"] = true, ["BooleanArray"] = new[] { true, false, true },
            ["SByte"] = (sbyte)-5, ["SByteArray"] = new sbyte[] { -128, 0, 127 },
            ["Byte"] = (byte)200, ["ByteArray"] = new byte[] { 0, 1, 255 },
            ["Int16"] = (short)-1234, ["Int16Array"] = new short[] { -32768, 0, 32767 },
            ["UInt16"] = (ushort)54321, ["UInt16Array"] = new ushort[] { 0, 1, 65535 },
            ["Int32"] = -123456, ["Int32Array"] = new[] { int.MinValue, 0, int.MaxValue },
            ["UInt32"] = 4000000000u, ["UInt32Array"] = new[] { 0u, 1u, uint.MaxValue },
            ["Int64"] = -2L, ["Int64Array"] = new[] { 1L, long.MaxValue },
            ["UInt64"] = 4294967298UL, ["UInt64Array"] = new[] { 3UL, ulong.MaxValue },
            ["Float"] = 1.5f, ["FloatArray"] = new[] { 0.5f, -2.25f, 3.125f },
            ["Double"] = 3.14159, ["DoubleArray"] = new[] { 1.0, -2.5, 1e300 },
            ["String"] = "héllo wörld", ["StringArray"] = new[] { "a", "", "ü" },
            ["DateTime"] = new DateTime(2026, 11, 26, 10, 0, 0, 123, DateTimeKind.Utc),
            ["DateTimeArray"] = new[] { new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2030, 6, 15, 12, 0, 0, DateTimeKind.Utc) },
            ["Guid"] = Guid.Parse("72962B91-FA75-4AE6-8D28-B404DC7DAF63"),
            ["GuidArray"] = new[] { Guid.Parse("00000000-0000-0000-0000-000000000001"), Guid.Parse("72962B91-FA75-4AE6-8D28-B404DC7DAF63") },
            ["ByteString"] = new byte[] { 1, 2, 3, 250 }, ["ByteStringArray"] = new[] { new byte[] { 1 }, new byte[] { 2, 3 } },
            ["XmlElement"] = "<a>1</a>", ["XmlElementArray"] = new[] { "<b/>", "<c/>" },
            ["NodeId"] = new NodeId(1, "Machine1.Temperature"), ["NodeIdArray"] = new[] { new NodeId(0, 85u), new NodeId(1, 1001u) },
            ["ExpandedNodeId"] = new ExpandedNodeId(new NodeId(0, 2253u)), ["ExpandedNodeIdArray"] = new[] { new ExpandedNodeId(new NodeId(0, 84u)) },
            ["StatusCode"] = new StatusCode(SampleStatus.BadNodeIdUnknown), ["StatusCodeArray"] = new[] { StatusCode.Good, new StatusCode(SampleStatus.UncertainLastUsableValue) },
            ["QualifiedName"] = new QualifiedName(1, "Qn"), ["QualifiedNameArray"] = new[] { new QualifiedName(0, "A"), new QualifiedName(2, "B") },
            ["LocalizedText"] = new LocalizedText("en", "Hello"), ["LocalizedTextArray"] = new[] { new LocalizedText(null, "One"), new LocalizedText("fr", "Deux") },
        };
        var names = expected.Keys.Concat(["ExtensionObject", "ExtensionObjectArray", "DoubleMatrix", "Variant"]).ToArray();

        var values = await client.ReadAsync(names.Select(n => new NodeId(1, "Types." + n)).ToArray(), CancellationToken.None);

        var byName = names.Zip(values).ToDictionary(p => p.First, p => p.Second);
        Assert.All(byName.Values, v => Assert.True(v.StatusCode.IsGood));
        foreach (var (name, value) in expected)
        {
            Assert.True(Variant.ValueEquals(value, byName[name].Value.Value), $"{name}: expected {Variant.Format(value)}, got {byName[name].Value}");
            Assert.Equal(Enum.Parse<BuiltInType>(name.Replace("Array", "", StringComparison.Ordinal)), byName[name].Value.Type);
        }

        var extension = Assert.IsType<ExtensionObject>(byName["ExtensionObject"].Value.Value);
        var range = Assert.IsType<Gateway.Drivers.OpcUa.Encoding.Range>(extension.Body); // EURange's type: decoded since analog items carry it
        Assert.Equal((1.0, 99.0), (range.Low, range.High));
        Assert.Single((ExtensionObject[])byName["ExtensionObjectArray"].Value.Value!);
        Assert.Equal(new[] { 2, 3 }, byName["DoubleMatrix"].Value.Dimensions);
        Assert.Equal(new[] { 1.0, 2, 3, 4, 5, 6 }, (double[])byName["DoubleMatrix"].Value.Value!);
        Assert.Equal(new Variant(BuiltInType.Int32, 5), byName["Variant"].Value.Value);
    }

    [Fact]
    public async Task Read_MoreNodesThanMaxNodesPerRead_SplitsIntoSeveralRequests()
    {
        await using var client = await ConnectAsync();
        var nodes = Enumerable.Range(0, 250).Select(i => new NodeId(1, $"Big.Item{i:D5}")).ToArray();

        var values = await client.ReadAsync(nodes, CancellationToken.None);

        Assert.Equal(3, client.ReadRequestsSent);
        Assert.Equal(Enumerable.Range(0, 250), values.Select(v => (int)v.Value.Value!));
    }

    [Fact]
    public async Task Subscribe_At100Milliseconds_ReceivesDataChangesAndAcknowledges()
    {
        await using var client = await ConnectAsync();
        var changes = new ConcurrentQueue<DataValue>();
        var enough = new TaskCompletionSource();

        var subscription = await client.CreateSubscriptionAsync(100, (_, value) =>
        {
            changes.Enqueue(value);
            if (changes.Count >= 10)
            {
                enough.TrySetResult();
            }
        }, CancellationToken.None);
        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "Machine1.Temperature"), 100, 10)], CancellationToken.None);
        await enough.Task.WaitAsync(s_wait);

        Assert.True(subscription.MonitoredItems.Single().Status.IsGood);
        Assert.All(changes, v => Assert.IsType<double>(v.Value.Value));
        Assert.True(changes.Select(v => v.SourceTimestamp).Distinct().Count() >= 5);
        Assert.True(subscription.NotificationMessages >= 2);
        await client.DeleteSubscriptionsAsync([subscription], CancellationToken.None);
        Assert.Empty(client.Subscriptions);
    }

    [Fact]
    public async Task Subscribe_WithAbsoluteDeadband_ReportsOnlyChangesBeyondIt()
    {
        await using var client = await ConnectAsync();
        var values = new ConcurrentQueue<double>();
        var subscription = await client.CreateSubscriptionAsync(100, (_, value) => values.Enqueue((double)value.Value.Value!), CancellationToken.None);

        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "Machine1.Temperature"), 100, 10, deadband: 1.0)], CancellationToken.None);
        await WaitUntilAsync(() => values.Count >= 5);

        Assert.True(subscription.MonitoredItems.Single().Status.IsGood);
        var reported = values.ToArray();
        Assert.All(reported.Zip(reported.Skip(1)), pair => Assert.True(Math.Abs(pair.Second - pair.First) > 1.0, $"{pair.First} -> {pair.Second}"));
    }

    [Fact]
    public async Task Subscribe_AfterChannelAbort_ReactivatesSessionAndResumes()
    {
        await using var client = await ConnectAsync();
        var count = 0;
        var subscription = await client.CreateSubscriptionAsync(100, (_, _) => Interlocked.Increment(ref count), CancellationToken.None);
        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "Machine1.Temperature"), 100, 10)], CancellationToken.None);
        await WaitUntilAsync(() => Volatile.Read(ref count) >= 3);
        var sessionId = client.SessionId;
        var subscriptionId = subscription.Id;

        await client.Channel!.AbortAsync();
        var newSession = await client.ReconnectAsync(CancellationToken.None);
        var before = Volatile.Read(ref count);
        await WaitUntilAsync(() => Volatile.Read(ref count) >= before + 3);

        Assert.False(newSession);
        Assert.Equal(sessionId, client.SessionId);
        Assert.Equal(subscriptionId, subscription.Id);
        Assert.Equal(0, subscription.Recreated);
    }

    [Fact]
    public async Task Subscribe_SessionClosedKeepingSubscriptions_TransfersToNewSessionOfSameUser()
    {
        // Anonymous transfers need a secured channel (OPC 10000-4 §5.13.7, enforced by node-opcua): use a user name.
        await using var client = await ConnectAsync(o => o with { UserName = "gwuser", Password = "gwpass" });
        var count = 0;
        var subscription = await client.CreateSubscriptionAsync(100, (_, _) => Interlocked.Increment(ref count), CancellationToken.None);
        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "Machine1.Temperature"), 100, 10)], CancellationToken.None);
        await WaitUntilAsync(() => Volatile.Read(ref count) >= 3);
        var oldSession = client.SessionId;
        var subscriptionId = subscription.Id;

        // The session ends but its subscriptions stay on the server, as after a session lost with its client.
        await client.CallAsync<CloseSessionResponse>(new CloseSessionRequest { DeleteSubscriptions = false }, CancellationToken.None);
        await client.Channel!.AbortAsync();
        var newSession = await client.ReconnectAsync(CancellationToken.None);
        var before = Volatile.Read(ref count);
        await WaitUntilAsync(() => Volatile.Read(ref count) >= before + 3);

        Assert.True(newSession);
        Assert.NotEqual(oldSession, client.SessionId);
        Assert.Equal(1, subscription.Transferred);
        Assert.Equal(0, subscription.Recreated);
        Assert.Equal(subscriptionId, subscription.Id);
    }

    [Fact]
    public async Task Publish_MoreRequestsThanServerQueues_BacksOffOnBadTooManyPublishRequests()
    {
        await using var client = await ConnectAsync(o => o with { PublishRequests = 110 });
        var count = 0;

        var subscription = await client.CreateSubscriptionAsync(1000, (_, _) => Interlocked.Increment(ref count), CancellationToken.None, keepAliveCount: 100);
        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "Types.Int32"), 1000)], CancellationToken.None);
        await WaitUntilAsync(() => client.OutstandingPublishTarget <= 100 && Volatile.Read(ref count) >= 1);
        var read = await client.ReadAsync([UaClient.ServerStatusState], CancellationToken.None);

        Assert.True(client.OutstandingPublishTarget >= 1);
        Assert.True(read[0].StatusCode.IsGood);
    }

    [Fact]
    public async Task UserName_PasswordEncryptedWithServerCertificate_IsAccepted()
    {
        await using var client = await ConnectAsync(o => o with { UserName = "gwuser", Password = "gwpass" });

        var values = await client.ReadAsync([UaClient.ServerStatusState], CancellationToken.None);

        Assert.Equal(0, values[0].Value.Value);
    }

    [Fact]
    public async Task UserName_WrongPassword_IsRejected()
    {
        var client = new UaClient(new UaClientOptions { EndpointUrl = fixture.Server.Url, UserName = "gwuser", Password = "wrong" });
        await using (client)
        {
            var error = await Assert.ThrowsAnyAsync<UaException>(() => client.ConnectAsync(CancellationToken.None));

            Assert.True((error.StatusCode & 0x80000000) != 0);
        }
    }

    [Fact]
    public async Task Write_WritableNode_ChangesValue()
    {
        await using var client = await ConnectAsync();

        var results = await client.WriteAsync([(new NodeId(1, "Machine1.Setpoint"), new Variant(BuiltInType.Double, 55.5))], CancellationToken.None);
        var read = await client.ReadAsync([new NodeId(1, "Machine1.Setpoint")], CancellationToken.None);
        var refused = await client.WriteAsync([(new NodeId(1, "Machine1.Temperature"), new Variant(BuiltInType.Double, 1.0))], CancellationToken.None);

        Assert.True(results[0].IsGood);
        Assert.Equal(55.5, read[0].Value.Value);
        Assert.True(refused[0].IsBad);
    }

    [Fact]
    public async Task Channel_ShortTokenLifetime_RenewsAt75PercentAndKeepsWorking()
    {
        await using var client = await ConnectAsync(o => o with { ChannelLifetime = TimeSpan.FromSeconds(2) });
        var lifetime = client.Channel!.TokenLifetime;

        await WaitUntilAsync(() => client.Channel!.Renewals >= 2);
        var values = await client.ReadAsync([UaClient.ServerStatusState], CancellationToken.None);

        Assert.True(lifetime > 0);
        Assert.True(values[0].StatusCode.IsGood);
    }

    internal static Task WaitUntilAsync(Func<bool> condition) =>
        Eventually.TrueAsync(condition, "condition", s_wait);
}

public sealed class OpcUaSmallChunkTests
{
    [Fact]
    public async Task SmallServerBuffers_ChunksRequestsAndReassemblesResponses()
    {
        await using var server = await NodeOpcUaServer.StartAsync("--small-chunks", "--big", "600", "--max-nodes-per-read", "1000");
        await using var client = new UaClient(new UaClientOptions
        {
            EndpointUrl = server.Url,
            TransportLimits = new TransportLimits { ReceiveBufferSize = 8192, SendBufferSize = 65535 },
            MaxReferencesPerNode = 200, // the server's 32 KB message limit applies to its responses too
        });
        await client.ConnectAsync(CancellationToken.None);
        var nodes = Enumerable.Range(0, 600).Select(i => new NodeId(1, $"Big.Item{i:D5}")).ToArray();

        // ~16 KB of request: 2-3 chunks of 8192 bytes; the response (~13 KB) comes back in several chunks too.
        var values = await client.ReadAsync(nodes, CancellationToken.None);
        var big = await client.TranslateAsync([UaClient.ParseBrowsePath("/Objects/1:Big")], CancellationToken.None);
        var references = await client.BrowseAsync(big[0].NodeId!, CancellationToken.None);

        Assert.Equal(8192u, client.Channel!.Connection.SendBufferSize);
        Assert.Equal(4u, client.Channel.Connection.SendMaxChunkCount);
        Assert.Equal(Enumerable.Range(0, 600), values.Select(v => (int)v.Value.Value!));
        Assert.Equal(600, references.Count);
    }

    [Fact]
    public async Task SmallServerBuffers_RequestOverMaxChunkCount_IsSplitIntoRequestsThatFit()
    {
        await using var server = await NodeOpcUaServer.StartAsync("--small-chunks", "--big", "10", "--max-nodes-per-read", "5000");
        await using var client = new UaClient(new UaClientOptions { EndpointUrl = server.Url });
        await client.ConnectAsync(CancellationToken.None);
        var nodes = Enumerable.Range(0, 3000).Select(i => new NodeId(1, $"Big.Item{i:D5}.With.A.Long.Name")).ToArray();

        // 3000 long NodeIds need more than the server's 4 chunks: refused locally (BadRequestTooLarge), then halved.
        var values = await client.ReadAsync(nodes, CancellationToken.None);
        var requests = client.ReadRequestsSent;
        var after = await client.ReadAsync([UaClient.ServerStatusState], CancellationToken.None);

        Assert.Equal(3000, values.Length);
        Assert.All(values, v => Assert.Equal(SampleStatus.BadNodeIdUnknown, v.StatusCode.Code));
        Assert.True(requests > 1, $"{requests} Read requests");
        Assert.True(after[0].StatusCode.IsGood);
    }
}
