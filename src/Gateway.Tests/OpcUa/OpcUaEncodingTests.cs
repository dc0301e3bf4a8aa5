#pragma warning disable CA1861 // constant arrays in assertions read better inline
using Gateway.Drivers;
using Gateway.Drivers.OpcUa.Encoding;
using Xunit;

namespace Gateway.Tests.OpcUa;

public sealed class OpcUaEncodingTests
{
    private static byte[] Encode(Action<UaEncoder> write)
    {
        var buffer = new UaBuffer();
        write(new UaEncoder(buffer));
        return buffer.ToArray();
    }

    private static Variant RoundTrip(Variant value)
    {
        var bytes = Encode(e => e.WriteVariant(value));
        var decoder = new UaDecoder(bytes);
        var decoded = decoder.ReadVariant();
        Assert.Equal(0, decoder.Remaining);
        Assert.Equal(bytes, Encode(e => e.WriteVariant(decoded)));
        return decoded;
    }

    public static TheoryData<Variant> EveryBuiltInType() => new()
    {
        new Variant(BuiltInType.Boolean, true),
        new Variant(BuiltInType.SByte, (sbyte)-128),
        new Variant(BuiltInType.Byte, (byte)255),
        new Variant(BuiltInType.Int16, short.MinValue),
        new Variant(BuiltInType.UInt16, ushort.MaxValue),
        new Variant(BuiltInType.Int32, int.MinValue),
        new Variant(BuiltInType.UInt32, uint.MaxValue),
        new Variant(BuiltInType.Int64, long.MinValue),
        new Variant(BuiltInType.UInt64, ulong.MaxValue),
        new Variant(BuiltInType.Float, -1.25f),
        new Variant(BuiltInType.Double, double.Epsilon),
        new Variant(BuiltInType.String, "héllo ✓"),
        new Variant(BuiltInType.String, null),
        new Variant(BuiltInType.DateTime, new DateTime(2026, 11, 26, 10, 0, 0, 123, DateTimeKind.Utc)),
        new Variant(BuiltInType.DateTime, DateTime.MinValue),
        new Variant(BuiltInType.DateTime, DateTime.MaxValue),
        new Variant(BuiltInType.Guid, Guid.Parse("72962b91-fa75-4ae6-8d28-b404dc7daf63")),
        new Variant(BuiltInType.ByteString, new byte[] { 0, 1, 2, 255 }),
        new Variant(BuiltInType.ByteString, null),
        new Variant(BuiltInType.XmlElement, "<a/>"),
        new Variant(BuiltInType.NodeId, new NodeId(2, "Machine1.Temperature")),
        new Variant(BuiltInType.ExpandedNodeId, new ExpandedNodeId(new NodeId(3, 70000u), "urn:x", 2)),
        new Variant(BuiltInType.StatusCode, new StatusCode(SampleStatus.BadNodeIdUnknown)),
        new Variant(BuiltInType.QualifiedName, new QualifiedName(1, "Temperature")),
        new Variant(BuiltInType.LocalizedText, new LocalizedText("en", "Hello")),
        new Variant(BuiltInType.LocalizedText, new LocalizedText(null, null)),
        new Variant(BuiltInType.ExtensionObject, new ExtensionObject(new DataChangeFilter { Trigger = 2, DeadbandType = 1, DeadbandValue = 0.5 })),
        new Variant(BuiltInType.ExtensionObject, new ExtensionObject(new NodeId(0, 886u), 1, [1, 2, 3], null)),
        new Variant(BuiltInType.DataValue, new DataValue { Value = Variant.From(1.5), StatusCode = new StatusCode(0x40900000), SourceTimestamp = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) }),
        new Variant(BuiltInType.Variant, new Variant(BuiltInType.Int32, 5)),
        new Variant(BuiltInType.DiagnosticInfo, new DiagnosticInfo { SymbolicId = 1, AdditionalInfo = "x", InnerDiagnosticInfo = new DiagnosticInfo { InnerStatusCode = new StatusCode(SampleStatus.BadTimeout) } }),
        Variant.Null,
    };

    [Theory]
    [MemberData(nameof(EveryBuiltInType))]
    public void Variant_EveryBuiltInType_RoundTrips(Variant value)
    {
        var decoded = RoundTrip(value);

        Assert.Equal(value, decoded);
    }

    [Theory]
    [MemberData(nameof(EveryBuiltInType))]
    public void Variant_ArrayOfEveryBuiltInType_RoundTrips(Variant scalar)
    {
        if (scalar.IsNull)
        {
            return;
        }

        var array = Array.CreateInstance(UaDecoder.ClrType(scalar.Type), 3);
        for (var i = 0; i < 3; i++)
        {
            array.SetValue(scalar.Value, i);
        }

        var decoded = RoundTrip(new Variant(scalar.Type, array));

        Assert.True(decoded.IsArray);
        Assert.Equal(new Variant(scalar.Type, array), decoded);
    }

    [Fact]
    public void Variant_Matrix_KeepsDimensions()
    {
        var matrix = new Variant(BuiltInType.Int32, new[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);

        var bytes = Encode(e => e.WriteVariant(matrix));
        var decoded = RoundTrip(matrix);

        Assert.Equal(0xC6, bytes[0]); // Int32 | array | dimensions
        Assert.Equal(new[] { 2, 3 }, decoded.Dimensions);
        Assert.Equal(matrix, decoded);
    }

    [Fact]
    public void Variant_MatrixWithWrongDimensions_IsADecodingError()
    {
        var bytes = Encode(e => e.WriteVariant(new Variant(BuiltInType.Int32, new[] { 1, 2, 3 }, [2, 2])));

        Assert.Throws<UaDecodingException>(() => new UaDecoder(bytes).ReadVariant());
    }

    [Theory]
    [InlineData("i=85", new byte[] { 0x00, 85 })]
    [InlineData("ns=1;i=1001", new byte[] { 0x01, 1, 0xE9, 0x03 })]
    [InlineData("ns=300;i=70000", new byte[] { 0x02, 0x2C, 0x01, 0x70, 0x11, 0x01, 0x00 })]
    [InlineData("ns=2;s=AB", new byte[] { 0x03, 2, 0, 2, 0, 0, 0, (byte)'A', (byte)'B' })]
    [InlineData("ns=1;g=72962b91-fa75-4ae6-8d28-b404dc7daf63", new byte[] { 0x04, 1, 0, 0x91, 0x2B, 0x96, 0x72, 0x75, 0xFA, 0xE6, 0x4A, 0x8D, 0x28, 0xB4, 0x04, 0xDC, 0x7D, 0xAF, 0x63 })]
    [InlineData("ns=1;b=AQI=", new byte[] { 0x05, 1, 0, 2, 0, 0, 0, 1, 2 })]
    public void NodeId_SixEncodings_MatchSpecificationBytes(string text, byte[] expected)
    {
        var nodeId = NodeId.Parse(text);

        var bytes = Encode(e => e.WriteNodeId(nodeId));
        var decoded = new UaDecoder(expected).ReadNodeId();

        Assert.Equal(expected, bytes);
        Assert.Equal(nodeId, decoded);
        Assert.Equal(text, decoded.ToString());
    }

    [Fact]
    public void NodeId_NumericThatFitsAByte_InNamespaceZeroOnly_UsesTwoByteEncoding()
    {
        Assert.Equal(new byte[] { 0x01, 1, 5, 0 }, Encode(e => e.WriteNodeId(new NodeId(1, 5u))));
        Assert.Equal(new byte[] { 0x01, 0, 0, 1 }, Encode(e => e.WriteNodeId(new NodeId(0, 256u))));
    }

    [Fact]
    public void ExpandedNodeId_WithUriAndServerIndex_SetsFlagsAndRoundTrips()
    {
        var value = new ExpandedNodeId(new NodeId(0, 85u), "urn:a", 3);

        var bytes = Encode(e => e.WriteExpandedNodeId(value));
        var decoded = new UaDecoder(bytes).ReadExpandedNodeId();

        Assert.Equal(0xC0, bytes[0]);
        Assert.Equal(value, decoded);
    }

    [Fact]
    public void DataValue_AllMaskBits_RoundTripInSpecificationOrder()
    {
        var value = new DataValue
        {
            Value = Variant.From(1.5),
            StatusCode = new StatusCode(SampleStatus.BadTimeout),
            SourceTimestamp = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
            SourcePicoseconds = 10,
            ServerTimestamp = new DateTime(2026, 1, 2, 3, 4, 6, DateTimeKind.Utc),
            ServerPicoseconds = 20,
        };

        var bytes = Encode(e => e.WriteDataValue(value));
        var decoded = new UaDecoder(bytes).ReadDataValue();

        Assert.Equal(0x3F, bytes[0]);
        Assert.Equal(value, decoded);
        Assert.Equal(10, BitConverter.ToUInt16(bytes, 1 + 9 + 4 + 8)); // source picoseconds follow the source timestamp
    }

    [Fact]
    public void DiagnosticInfo_LocaleBeforeLocalizedText_OnTheWire()
    {
        var value = new DiagnosticInfo { Locale = 7, LocalizedText = 9 };

        var bytes = Encode(e => e.WriteDiagnosticInfo(value));

        Assert.Equal(new byte[] { 0x0C, 7, 0, 0, 0, 9, 0, 0, 0 }, bytes);
        Assert.Equal(value, new UaDecoder(bytes).ReadDiagnosticInfo());
    }

    [Fact]
    public void LocalizedTextAndQualifiedName_RoundTrip()
    {
        var text = new LocalizedText("fr", "Deux");
        var name = new QualifiedName(2, "B");

        var bytes = Encode(e =>
        {
            e.WriteLocalizedText(text);
            e.WriteQualifiedName(name);
        });
        var decoder = new UaDecoder(bytes);

        Assert.Equal(text, decoder.ReadLocalizedText());
        Assert.Equal(name, decoder.ReadQualifiedName());
        Assert.Equal(0x03, bytes[0]);
    }

    [Fact]
    public void ExtensionObject_UnknownType_IsKeptRawAndReencodedIdentically()
    {
        var bytes = Encode(e => e.WriteExtensionObject(new ExtensionObject(new NodeId(2, 5001u), 1, [9, 8, 7], null)));

        var decoder = new UaDecoder(bytes);
        var decoded = decoder.ReadExtensionObject();

        Assert.Null(decoded.Body);
        Assert.Equal(new byte[] { 9, 8, 7 }, decoded.RawBody);
        Assert.Equal(bytes, Encode(e => e.WriteExtensionObject(decoded)));
    }

    [Fact]
    public void ExtensionObject_KnownTypeWithBadBody_IsKeptRawNotFatal()
    {
        var bytes = Encode(e => e.WriteExtensionObject(new ExtensionObject(new NodeId(0, 724u), 1, [1, 2], null)));

        var decoded = new UaDecoder(bytes).ReadExtensionObject();

        Assert.Null(decoded.Body);
        Assert.Equal(new byte[] { 1, 2 }, decoded.RawBody);
    }

    [Fact]
    public void DateTime_BeforeEpoch_EncodesAsZero()
    {
        var bytes = Encode(e => e.WriteDateTime(new DateTime(1600, 1, 1, 0, 0, 0, DateTimeKind.Utc)));

        Assert.Equal(new byte[8], bytes);
    }

    [Theory]
    [InlineData("ns=x;s=a")]
    [InlineData("q=1")]
    [InlineData("ns=1;i=-1")]
    [InlineData("ns=1;g=not-a-guid")]
    [InlineData("")]
    public void NodeId_Malformed_DoesNotParse(string text)
    {
        Assert.False(NodeId.TryParse(text, out _));
    }

    public static TheoryData<uint> EveryMessageType() => [.. UaTypeRegistry.EncodingIds];

    [Theory]
    [MemberData(nameof(EveryMessageType))]
    public void Message_EveryRegisteredType_RoundTripsWithSampleContent(uint encodingId)
    {
        Assert.True(UaTypeRegistry.TryCreate(encodingId, out var message));
        SampleMessages.Fill(message);

        var bytes = Encode(e => e.WriteMessage(message));
        var decoder = new UaDecoder(bytes);
        var decoded = decoder.ReadMessage();

        Assert.Equal(message.GetType(), decoded.GetType());
        Assert.Equal(0, decoder.Remaining);
        Assert.Equal(bytes, Encode(e => e.WriteMessage(decoded)));
    }
}

/// <summary>Populates messages with non-default content so that round trips exercise every field.</summary>
internal static class SampleMessages
{
    private static readonly DateTime s_time = new(2026, 11, 26, 10, 0, 0, DateTimeKind.Utc);

    public static EndpointDescription Endpoint() => new()
    {
        EndpointUrl = "opc.tcp://127.0.0.1:4840/UA",
        Server = new ApplicationDescription { ApplicationUri = "urn:s", ProductUri = "urn:p", ApplicationName = new LocalizedText("en", "S"), ApplicationType = 0, DiscoveryUrls = ["opc.tcp://x"] },
        ServerCertificate = [1, 2, 3],
        SecurityMode = MessageSecurityMode.None,
        SecurityPolicyUri = "http://opcfoundation.org/UA/SecurityPolicy#None",
        UserIdentityTokens = [new UserTokenPolicy { PolicyId = "anon", TokenType = UserTokenType.Anonymous }, new UserTokenPolicy { PolicyId = "user", TokenType = UserTokenType.UserName, SecurityPolicyUri = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256" }],
        TransportProfileUri = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary",
        SecurityLevel = 1,
    };

    public static NotificationMessage Notification() => new()
    {
        SequenceNumber = 7,
        PublishTime = s_time,
        NotificationData =
        [
            new ExtensionObject(new DataChangeNotification
            {
                MonitoredItems = [new MonitoredItemNotification { ClientHandle = 1, Value = new DataValue { Value = Variant.From(21.5), SourceTimestamp = s_time } }],
                DiagnosticInfos = [],
            }),
            new ExtensionObject(new StatusChangeNotification { Status = new StatusCode(SampleStatus.BadTimeout) }),
        ],
    };

    public static void Fill(IEncodeable message)
    {
        if (message is UaRequest request)
        {
            request.RequestHeader = new RequestHeader { AuthenticationToken = new NodeId(0, Guid.Parse("72962b91-fa75-4ae6-8d28-b404dc7daf63")), Timestamp = s_time, RequestHandle = 42, TimeoutHint = 5000 };
        }

        if (message is UaResponse response)
        {
            response.ResponseHeader = new ResponseHeader { Timestamp = s_time, RequestHandle = 42, StringTable = ["a"] };
        }

        switch (message)
        {
            case OpenSecureChannelRequest m: m.RequestType = 1; m.ClientNonce = [1]; m.RequestedLifetime = 60000; break;
            case OpenSecureChannelResponse m: m.SecurityToken = new ChannelSecurityToken { ChannelId = 1, TokenId = 2, CreatedAt = s_time, RevisedLifetime = 60000 }; m.ServerNonce = [2]; break;
            case GetEndpointsRequest m: m.EndpointUrl = "opc.tcp://x"; m.LocaleIds = ["en"]; break;
            case GetEndpointsResponse m: m.Endpoints = [Endpoint()]; break;
            case CreateSessionRequest m: m.ClientDescription = Endpoint().Server; m.EndpointUrl = "opc.tcp://x"; m.SessionName = "s"; m.ClientNonce = new byte[32]; m.RequestedSessionTimeout = 60000; m.MaxResponseMessageSize = 1 << 24; break;
            case CreateSessionResponse m: m.SessionId = new NodeId(1, 5u); m.AuthenticationToken = new NodeId(1, new byte[] { 1, 2 }); m.RevisedSessionTimeout = 30000; m.ServerNonce = new byte[32]; m.ServerEndpoints = [Endpoint()]; m.ServerSoftwareCertificates = []; m.MaxRequestMessageSize = 1000; break;
            case ActivateSessionRequest m: m.LocaleIds = ["en"]; m.UserIdentityToken = new ExtensionObject(new UserNameIdentityToken { PolicyId = "user", UserName = "u", Password = [1, 2], EncryptionAlgorithm = "http://www.w3.org/2001/04/xmlenc#rsa-oaep" }); break;
            case ActivateSessionResponse m: m.ServerNonce = new byte[32]; m.Results = [StatusCode.Good]; break;
            case AnonymousIdentityToken m: m.PolicyId = "anon"; break;
            case UserNameIdentityToken m: m.PolicyId = "user"; m.UserName = "u"; m.Password = [3]; break;
            case BrowseRequest m: m.RequestedMaxReferencesPerNode = 100; m.NodesToBrowse = [new BrowseDescription { NodeId = new NodeId(0, 85u), ReferenceTypeId = new NodeId(0, 33u), IncludeSubtypes = true }]; break;
            case BrowseResponse m: m.Results = [BrowseResultSample()]; break;
            case BrowseNextRequest m: m.ContinuationPoints = [[1, 2, 3]]; break;
            case BrowseNextResponse m: m.Results = [BrowseResultSample()]; break;
            case TranslateBrowsePathsToNodeIdsRequest m: m.BrowsePaths = [Gateway.Drivers.OpcUa.Client.UaClient.ParseBrowsePath("/Objects/1:Machine1")]; break;
            case TranslateBrowsePathsToNodeIdsResponse m: m.Results = [new BrowsePathResult { Targets = [new BrowsePathTarget { TargetId = new ExpandedNodeId(new NodeId(1, 1000u)), RemainingPathIndex = uint.MaxValue }] }]; break;
            case ReadRequest m: m.MaxAge = 0; m.NodesToRead = [new ReadValueId { NodeId = new NodeId(1, "a"), IndexRange = "1:2" }]; break;
            case ReadResponse m: m.Results = [new DataValue { Value = Variant.From("x"), ServerTimestamp = s_time }]; m.DiagnosticInfos = [null]; break;
            case WriteRequest m: m.NodesToWrite = [new WriteValue { NodeId = new NodeId(1, "a"), Value = new DataValue { Value = Variant.From(true) } }]; break;
            case WriteResponse m: m.Results = [new StatusCode(SampleStatus.BadNotWritable)]; break;
            case CreateSubscriptionRequest m: m.RequestedPublishingInterval = 100; m.RequestedLifetimeCount = 30; m.RequestedMaxKeepAliveCount = 10; m.Priority = 1; break;
            case CreateSubscriptionResponse m: m.SubscriptionId = 9; m.RevisedPublishingInterval = 100; m.RevisedLifetimeCount = 30; m.RevisedMaxKeepAliveCount = 10; break;
            case CreateMonitoredItemsRequest m: m.SubscriptionId = 9; m.ItemsToCreate = [new MonitoredItemCreateRequest { ItemToMonitor = new ReadValueId { NodeId = new NodeId(1, "a") }, RequestedParameters = new MonitoringParameters { ClientHandle = 1, SamplingInterval = 100, QueueSize = 10, Filter = new ExtensionObject(new DataChangeFilter { DeadbandType = 1, DeadbandValue = 0.5 }) } }]; break;
            case CreateMonitoredItemsResponse m: m.Results = [new MonitoredItemCreateResult { MonitoredItemId = 3, RevisedSamplingInterval = 100, RevisedQueueSize = 10 }]; break;
            case PublishRequest m: m.SubscriptionAcknowledgements = [new SubscriptionAcknowledgement { SubscriptionId = 9, SequenceNumber = 6 }]; break;
            case PublishResponse m: m.SubscriptionId = 9; m.AvailableSequenceNumbers = [7]; m.NotificationMessage = Notification(); m.Results = [StatusCode.Good]; break;
            case RepublishRequest m: m.SubscriptionId = 9; m.RetransmitSequenceNumber = 7; break;
            case RepublishResponse m: m.NotificationMessage = Notification(); break;
            case TransferSubscriptionsRequest m: m.SubscriptionIds = [9]; m.SendInitialValues = true; break;
            case TransferSubscriptionsResponse m: m.Results = [new TransferResult { AvailableSequenceNumbers = [7, 8] }]; break;
            case DeleteSubscriptionsRequest m: m.SubscriptionIds = [9]; break;
            case DeleteSubscriptionsResponse m: m.Results = [StatusCode.Good]; break;
            case DataChangeFilter m: m.DeadbandType = 1; m.DeadbandValue = 2; break;
            case DataChangeNotification m: m.MonitoredItems = [new MonitoredItemNotification { ClientHandle = 2, Value = new DataValue { Value = Variant.From(1) } }]; break;
            case StatusChangeNotification m: m.Status = new StatusCode(SampleStatus.BadTimeout); m.DiagnosticInfo = new DiagnosticInfo { SymbolicId = 1 }; break;
        }
    }

    private static BrowseResult BrowseResultSample() => new()
    {
        ContinuationPoint = [5],
        References =
        [
            new ReferenceDescription
            {
                ReferenceTypeId = new NodeId(0, 35u), IsForward = true, NodeId = new ExpandedNodeId(new NodeId(1, "Machine1")),
                BrowseName = new QualifiedName(1, "Machine1"), DisplayName = new LocalizedText(null, "Machine1"), NodeClass = NodeClass.Object,
                TypeDefinition = new ExpandedNodeId(new NodeId(0, 58u)),
            },
        ],
    };
}
