using System.Collections.Concurrent;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Gateway.Tests.OpcUa;

/// <summary>The session layer against a scripted server: exact request sequences, time driven by FakeTimeProvider.</summary>
public sealed class UaClientScriptedTests
{
    /// <summary>
    /// Holds the Publish requests that arrive before CreateMonitoredItems and answers them just after it. The client
    /// publishes as soon as its subscription exists; a real server has no notification to send before the items are
    /// created, while a script answering at once could name a handle the client does not know yet (and that message
    /// would be dropped).
    /// </summary>
    private static Func<uint, IEncodeable, ScriptedUaServer, IEnumerable<byte[]>> PublishesAfterItems(Func<uint, IEncodeable, ScriptedUaServer, IEnumerable<byte[]>> inner)
    {
        var gate = new object();
        var created = false;
        var held = new List<(uint Id, IEncodeable Request)>();
        return (id, request, s) =>
        {
            lock (gate)
            {
                if (request is PublishRequest && !created)
                {
                    held.Add((id, request));
                    return [];
                }

                var replies = inner(id, request, s).ToList();
                if (request is CreateMonitoredItemsRequest && !created)
                {
                    created = true;
                    foreach (var (heldId, heldRequest) in held)
                    {
                        replies.AddRange(inner(heldId, heldRequest, s));
                    }

                    held.Clear();
                }

                return replies;
            }
        };
    }

    /// <summary>A scripted session: endpoints, CreateSession, ActivateSession, CloseSession, then <paramref name="extra"/>; a Read it leaves unanswered reads 0 for every node.</summary>
    internal static IEnumerable<byte[]> Session(uint id, IEncodeable request, ScriptedUaServer s, Func<IEncodeable, UaResponse?>? extra = null)
    {
        UaResponse? response = request switch
        {
            GetEndpointsRequest => new GetEndpointsResponse
            {
                Endpoints =
                [
                    new EndpointDescription
                    {
                        EndpointUrl = "opc.tcp://scripted:4840/Path",
                        SecurityMode = MessageSecurityMode.None,
                        SecurityPolicyUri = SecurityPolicies.None,
                        UserIdentityTokens = [new UserTokenPolicy { PolicyId = "anonymous-policy", TokenType = UserTokenType.Anonymous }],
                    },
                ],
            },
            CreateSessionRequest => new CreateSessionResponse { SessionId = new NodeId(1, 1u), AuthenticationToken = new NodeId(1, 99u), ServerNonce = new byte[32], RevisedSessionTimeout = 60000 },
            ActivateSessionRequest => new ActivateSessionResponse { ServerNonce = new byte[32] },
            CloseSessionRequest => new CloseSessionResponse(),
            _ => extra?.Invoke(request),
        };
        if (response is null && request is ReadRequest read)
        {
            response = new ReadResponse { Results = read.NodesToRead!.Select(_ => new DataValue { Value = new Variant(BuiltInType.UInt32, 0u) }).ToArray() };
        }

        if (response is null)
        {
            return [];
        }

        response.ResponseHeader.RequestHandle = ((UaRequest)request).RequestHeader.RequestHandle;
        return [s.Chunk("MSG", 'F', id, ScriptedUaServer.Encode(response))];
    }

    [Fact]
    public async Task Publish_AcknowledgesOnlyMessagesThatCarriedNotifications()
    {
        await using var server = new ScriptedUaServer();
        var acks = new ConcurrentQueue<uint[]>();
        var publishes = 0;
        var authentication = new ConcurrentQueue<NodeId>();
        server.OnMessage = PublishesAfterItems((id, request, s) => Session(id, request, s, r =>
        {
            authentication.Enqueue(((UaRequest)r).RequestHeader.AuthenticationToken);
            switch (r)
            {
                case CreateSubscriptionRequest:
                    return new CreateSubscriptionResponse { SubscriptionId = 9, RevisedPublishingInterval = 100, RevisedMaxKeepAliveCount = 10, RevisedLifetimeCount = 30 };
                case CreateMonitoredItemsRequest create:
                    return new CreateMonitoredItemsResponse { Results = create.ItemsToCreate!.Select((_, i) => new MonitoredItemCreateResult { MonitoredItemId = (uint)i + 1 }).ToArray() };
                case PublishRequest publish:
                    acks.Enqueue(publish.SubscriptionAcknowledgements?.Select(a => a.SequenceNumber).ToArray() ?? []);
                    var n = Interlocked.Increment(ref publishes);
                    if (n > 3)
                    {
                        return null; // keep it outstanding
                    }

                    var message = new NotificationMessage { SequenceNumber = n == 1 ? 1u : (uint)(n - 1) };
                    if (n > 1)
                    {
                        message.NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = [new MonitoredItemNotification { ClientHandle = 1, Value = new DataValue { Value = Variant.From(n) } }] })];
                    }

                    return new PublishResponse { SubscriptionId = 9, NotificationMessage = message };
                default:
                    return null;
            }
        }));
        await using var client = new UaClient(new UaClientOptions { EndpointUrl = $"opc.tcp://127.0.0.1:{server.Port}", PublishRequests = 1 }, new FakeTimeProvider());
        await client.ConnectAsync(CancellationToken.None);
        var values = new ConcurrentQueue<object?>();

        var subscription = await client.CreateSubscriptionAsync(100, (_, v) => values.Enqueue(v.Value.Value), CancellationToken.None);
        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "a"), 100)], CancellationToken.None);
        await OpcUaIntegrationTests.WaitUntilAsync(() => acks.Count >= 4);

        Assert.Equal("opc.tcp://127.0.0.1:" + server.Port + "/Path", client.SessionEndpointUrl);
        Assert.All(authentication, token => Assert.Equal(new NodeId(1, 99u), token));
        Assert.Equal([[], [], [1u], [2u]], acks.Take(4).ToArray());
        Assert.Equal([2, 3], values.ToArray());
        Assert.Equal(1, subscription.KeepAlives);
        Assert.Equal(2u, subscription.LastSequenceNumber);
    }

    [Fact]
    public async Task Publish_WhenDataChangeHandlerThrows_DeliversTheOtherItemsAndLaterMessages()
    {
        await using var server = new ScriptedUaServer();
        var publishes = 0;
        var itemsCreated = false;
        (uint Id, uint Handle)? held = null;

        PublishResponse Message(uint n)
        {
            // Message 1 carries both items (the first one's handler throws), message 2 the second item.
            MonitoredItemNotification[] items = n == 1
                ? [new() { ClientHandle = 1, Value = new DataValue { Value = Variant.From(10) } }, new() { ClientHandle = 2, Value = new DataValue { Value = Variant.From(20) } }]
                : [new() { ClientHandle = 2, Value = new DataValue { Value = Variant.From(21) } }];
            return new PublishResponse
            {
                SubscriptionId = 9,
                NotificationMessage = new NotificationMessage { SequenceNumber = n, NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = items })] },
            };
        }

        server.OnMessage = (id, request, s) =>
        {
            switch (request)
            {
                case PublishRequest publish when !itemsCreated:
                    // The client publishes as soon as the subscription exists; a message naming items the client has
                    // not asked for yet would be dropped, so the first answer waits for CreateMonitoredItems.
                    held = (id, publish.RequestHeader.RequestHandle);
                    return [];
                case PublishRequest publish:
                    var n = (uint)Interlocked.Increment(ref publishes);
                    if (n > 2)
                    {
                        return []; // keep it outstanding
                    }

                    var response = Message(n);
                    response.ResponseHeader.RequestHandle = publish.RequestHeader.RequestHandle;
                    return [s.Chunk("MSG", 'F', id, ScriptedUaServer.Encode(response))];
                case CreateMonitoredItemsRequest create:
                    itemsCreated = true;
                    var created = new CreateMonitoredItemsResponse { Results = create.ItemsToCreate!.Select((_, i) => new MonitoredItemCreateResult { MonitoredItemId = (uint)i + 1 }).ToArray() };
                    created.ResponseHeader.RequestHandle = create.RequestHeader.RequestHandle;
                    var chunks = new List<byte[]> { s.Chunk("MSG", 'F', id, ScriptedUaServer.Encode(created)) };
                    if (held is { } h)
                    {
                        var first = Message((uint)Interlocked.Increment(ref publishes));
                        first.ResponseHeader.RequestHandle = h.Handle;
                        chunks.Add(s.Chunk("MSG", 'F', h.Id, ScriptedUaServer.Encode(first)));
                    }

                    return chunks;
                default:
                    return Session(id, request, s, r => r is CreateSubscriptionRequest
                        ? new CreateSubscriptionResponse { SubscriptionId = 9, RevisedPublishingInterval = 100, RevisedMaxKeepAliveCount = 10, RevisedLifetimeCount = 30 }
                        : null);
            }
        };
        await using var client = new UaClient(new UaClientOptions { EndpointUrl = $"opc.tcp://127.0.0.1:{server.Port}", PublishRequests = 1 }, new FakeTimeProvider());
        await client.ConnectAsync(CancellationToken.None);
        var values = new ConcurrentQueue<object?>();

        var subscription = await client.CreateSubscriptionAsync(100, (item, v) =>
        {
            if (item.NodeId == new NodeId(1, "a"))
            {
                throw new InvalidOperationException("handler failure");
            }

            values.Enqueue(v.Value.Value);
        }, CancellationToken.None);
        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "a"), 100), new MonitoredItem(new NodeId(1, "b"), 100)], CancellationToken.None);
        await OpcUaIntegrationTests.WaitUntilAsync(() => values.Count >= 2);

        Assert.Equal([20, 21], values.ToArray());
        Assert.Equal(2u, subscription.LastSequenceNumber);
        Assert.Empty(subscription.Ahead);
    }

    [Fact]
    public async Task Publish_ResponsesArrivingOutOfOrder_AreDeliveredInSequenceOrder()
    {
        await using var server = new ScriptedUaServer();
        var publishes = 0;
        uint firstRequestId = 0;
        server.OnMessage = PublishesAfterItems((id, request, s) =>
        {
            if (request is not PublishRequest publish)
            {
                return Session(id, request, s, r => r switch
                {
                    CreateSubscriptionRequest => new CreateSubscriptionResponse { SubscriptionId = 9, RevisedPublishingInterval = 100, RevisedMaxKeepAliveCount = 10 },
                    CreateMonitoredItemsRequest => new CreateMonitoredItemsResponse { Results = [new MonitoredItemCreateResult { MonitoredItemId = 1 }] },
                    _ => null,
                });
            }

            PublishResponse Data(uint sequence, int value, uint handle) => new()
            {
                ResponseHeader = new ResponseHeader { RequestHandle = handle },
                SubscriptionId = 9,
                NotificationMessage = new NotificationMessage
                {
                    SequenceNumber = sequence,
                    NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = [new MonitoredItemNotification { ClientHandle = 1, Value = new DataValue { Value = Variant.From(value) } }] })],
                },
            };

            switch (Interlocked.Increment(ref publishes))
            {
                case 1:
                    firstRequestId = id;
                    return [];
                case 2:
                    // The second request is answered first, with the later message.
                    return [s.Chunk("MSG", 'F', id, ScriptedUaServer.Encode(Data(2, 2, publish.RequestHeader.RequestHandle))), s.Chunk("MSG", 'F', firstRequestId, ScriptedUaServer.Encode(Data(1, 1, 0)))];
                case 3:
                    return [s.Chunk("MSG", 'F', id, ScriptedUaServer.Encode(Data(3, 3, publish.RequestHeader.RequestHandle)))];
                default:
                    return [];
            }
        });
        await using var client = new UaClient(new UaClientOptions { EndpointUrl = $"opc.tcp://127.0.0.1:{server.Port}", PublishRequests = 2 }, new FakeTimeProvider());
        await client.ConnectAsync(CancellationToken.None);
        var values = new ConcurrentQueue<object?>();

        var subscription = await client.CreateSubscriptionAsync(100, (_, v) => values.Enqueue(v.Value.Value), CancellationToken.None);
        await client.AddMonitoredItemsAsync(subscription, [new MonitoredItem(new NodeId(1, "a"), 100)], CancellationToken.None);
        await OpcUaIntegrationTests.WaitUntilAsync(() => values.Count >= 3);

        Assert.Equal([1, 2, 3], values.ToArray());
        Assert.Equal(3u, subscription.LastSequenceNumber);
    }

    [Fact]
    public async Task KeepAlive_ReadsServerStateOnlyAfterTheIdleInterval()
    {
        var time = new FakeTimeProvider();
        await using var server = new ScriptedUaServer();
        var stateReads = 0;
        server.OnMessage = (id, request, s) =>
        {
            if (request is ReadRequest { NodesToRead: [var only] } && only.NodeId == UaClient.ServerStatusState)
            {
                Interlocked.Increment(ref stateReads);
            }

            return Session(id, request, s);
        };
        await using var client = new UaClient(new UaClientOptions { EndpointUrl = $"opc.tcp://127.0.0.1:{server.Port}", KeepAliveInterval = TimeSpan.FromSeconds(5) }, time);
        await client.ConnectAsync(CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(200);
        var beforeInterval = Volatile.Read(ref stateReads);
        time.Advance(TimeSpan.FromSeconds(1));
        await OpcUaIntegrationTests.WaitUntilAsync(() => Volatile.Read(ref stateReads) == 1);
        // The loop arms its next timer only after the read's response: step the clock until the next read
        // rather than jump once (a jump taken before the timer is armed would never fire it).
        var stepped = TimeSpan.Zero;
        while (Volatile.Read(ref stateReads) < 2 && stepped < TimeSpan.FromMinutes(5))
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            stepped += TimeSpan.FromMilliseconds(500);
            await Task.Delay(20);
        }

        Assert.Equal(0, beforeInterval);
        Assert.Equal(2, Volatile.Read(ref stateReads));
        Assert.True(stepped >= TimeSpan.FromSeconds(5), $"second read after {stepped.TotalSeconds} s of idle time");
    }
}
