namespace Gateway.Drivers.OpcUa.Encoding;

// Service requests and responses of OPC 10000-4, field order as in the specification's tables.

public sealed class OpenSecureChannelRequest : UaRequest
{
    public uint ClientProtocolVersion { get; set; }

    /// <summary>0 issue, 1 renew.</summary>
    public int RequestType { get; set; }

    public MessageSecurityMode SecurityMode { get; set; } = MessageSecurityMode.None;

    public byte[]? ClientNonce { get; set; }

    /// <summary>Milliseconds.</summary>
    public uint RequestedLifetime { get; set; }

    public override uint BinaryEncodingId => 446;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteUInt32(ClientProtocolVersion);
        e.WriteInt32(RequestType);
        e.WriteInt32((int)SecurityMode);
        e.WriteByteString(ClientNonce);
        e.WriteUInt32(RequestedLifetime);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        ClientProtocolVersion = d.ReadUInt32();
        RequestType = d.ReadInt32();
        SecurityMode = (MessageSecurityMode)d.ReadInt32();
        ClientNonce = d.ReadByteString();
        RequestedLifetime = d.ReadUInt32();
    }
}

public sealed class OpenSecureChannelResponse : UaResponse
{
    public uint ServerProtocolVersion { get; set; }

    public ChannelSecurityToken SecurityToken { get; set; } = new();

    public byte[]? ServerNonce { get; set; }

    public override uint BinaryEncodingId => 449;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteUInt32(ServerProtocolVersion);
        SecurityToken.Encode(e);
        e.WriteByteString(ServerNonce);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        ServerProtocolVersion = d.ReadUInt32();
        SecurityToken = d.ReadEncodeable<ChannelSecurityToken>();
        ServerNonce = d.ReadByteString();
    }
}

public sealed class CloseSecureChannelRequest : UaRequest
{
    public override uint BinaryEncodingId => 452;

    protected override void EncodeBody(UaEncoder e)
    {
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
    }
}

public sealed class GetEndpointsRequest : UaRequest
{
    public string? EndpointUrl { get; set; }

    public string?[]? LocaleIds { get; set; }

    public string?[]? ProfileUris { get; set; }

    public override uint BinaryEncodingId => 428;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteString(EndpointUrl);
        e.WriteStringArray(LocaleIds);
        e.WriteStringArray(ProfileUris);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        EndpointUrl = d.ReadString();
        LocaleIds = d.ReadStringArray();
        ProfileUris = d.ReadStringArray();
    }
}

public sealed class GetEndpointsResponse : UaResponse
{
    public EndpointDescription[]? Endpoints { get; set; }

    public override uint BinaryEncodingId => 431;

    protected override void EncodeBody(UaEncoder e) => e.WriteEncodeableArray(Endpoints);

    protected override void DecodeBody(ref UaDecoder d) => Endpoints = d.ReadEncodeableArray<EndpointDescription>();
}

public sealed class CreateSessionRequest : UaRequest
{
    public ApplicationDescription ClientDescription { get; set; } = new();

    public string? ServerUri { get; set; }

    public string? EndpointUrl { get; set; }

    public string? SessionName { get; set; }

    public byte[]? ClientNonce { get; set; }

    public byte[]? ClientCertificate { get; set; }

    /// <summary>Milliseconds.</summary>
    public double RequestedSessionTimeout { get; set; }

    public uint MaxResponseMessageSize { get; set; }

    public override uint BinaryEncodingId => 461;

    protected override void EncodeBody(UaEncoder e)
    {
        ClientDescription.Encode(e);
        e.WriteString(ServerUri);
        e.WriteString(EndpointUrl);
        e.WriteString(SessionName);
        e.WriteByteString(ClientNonce);
        e.WriteByteString(ClientCertificate);
        e.WriteDouble(RequestedSessionTimeout);
        e.WriteUInt32(MaxResponseMessageSize);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        ClientDescription = d.ReadEncodeable<ApplicationDescription>();
        ServerUri = d.ReadString();
        EndpointUrl = d.ReadString();
        SessionName = d.ReadString();
        ClientNonce = d.ReadByteString();
        ClientCertificate = d.ReadByteString();
        RequestedSessionTimeout = d.ReadDouble();
        MaxResponseMessageSize = d.ReadUInt32();
    }
}

public sealed class CreateSessionResponse : UaResponse
{
    public NodeId SessionId { get; set; } = NodeId.Null;

    public NodeId AuthenticationToken { get; set; } = NodeId.Null;

    public double RevisedSessionTimeout { get; set; }

    public byte[]? ServerNonce { get; set; }

    public byte[]? ServerCertificate { get; set; }

    public EndpointDescription[]? ServerEndpoints { get; set; }

    public SignedSoftwareCertificate[]? ServerSoftwareCertificates { get; set; }

    public SignatureData ServerSignature { get; set; } = new();

    public uint MaxRequestMessageSize { get; set; }

    public override uint BinaryEncodingId => 464;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteNodeId(SessionId);
        e.WriteNodeId(AuthenticationToken);
        e.WriteDouble(RevisedSessionTimeout);
        e.WriteByteString(ServerNonce);
        e.WriteByteString(ServerCertificate);
        e.WriteEncodeableArray(ServerEndpoints);
        e.WriteEncodeableArray(ServerSoftwareCertificates);
        ServerSignature.Encode(e);
        e.WriteUInt32(MaxRequestMessageSize);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        SessionId = d.ReadNodeId();
        AuthenticationToken = d.ReadNodeId();
        RevisedSessionTimeout = d.ReadDouble();
        ServerNonce = d.ReadByteString();
        ServerCertificate = d.ReadByteString();
        ServerEndpoints = d.ReadEncodeableArray<EndpointDescription>();
        ServerSoftwareCertificates = d.ReadEncodeableArray<SignedSoftwareCertificate>();
        ServerSignature = d.ReadEncodeable<SignatureData>();
        MaxRequestMessageSize = d.ReadUInt32();
    }
}

public sealed class ActivateSessionRequest : UaRequest
{
    public SignatureData ClientSignature { get; set; } = new();

    public SignedSoftwareCertificate[]? ClientSoftwareCertificates { get; set; }

    public string?[]? LocaleIds { get; set; }

    public ExtensionObject UserIdentityToken { get; set; } = ExtensionObject.Null;

    public SignatureData UserTokenSignature { get; set; } = new();

    public override uint BinaryEncodingId => 467;

    protected override void EncodeBody(UaEncoder e)
    {
        ClientSignature.Encode(e);
        e.WriteEncodeableArray(ClientSoftwareCertificates);
        e.WriteStringArray(LocaleIds);
        e.WriteExtensionObject(UserIdentityToken);
        UserTokenSignature.Encode(e);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        ClientSignature = d.ReadEncodeable<SignatureData>();
        ClientSoftwareCertificates = d.ReadEncodeableArray<SignedSoftwareCertificate>();
        LocaleIds = d.ReadStringArray();
        UserIdentityToken = d.ReadExtensionObject();
        UserTokenSignature = d.ReadEncodeable<SignatureData>();
    }
}

public sealed class ActivateSessionResponse : UaResponse
{
    public byte[]? ServerNonce { get; set; }

    public StatusCode[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 470;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteByteString(ServerNonce);
        e.WriteStatusCodeArray(Results);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        ServerNonce = d.ReadByteString();
        Results = d.ReadStatusCodeArray();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class CloseSessionRequest : UaRequest
{
    public bool DeleteSubscriptions { get; set; } = true;

    public override uint BinaryEncodingId => 473;

    protected override void EncodeBody(UaEncoder e) => e.WriteBoolean(DeleteSubscriptions);

    protected override void DecodeBody(ref UaDecoder d) => DeleteSubscriptions = d.ReadBoolean();
}

public sealed class CloseSessionResponse : UaResponse
{
    public override uint BinaryEncodingId => 476;

    protected override void EncodeBody(UaEncoder e)
    {
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
    }
}

public sealed class BrowseRequest : UaRequest
{
    public ViewDescription View { get; set; } = new();

    public uint RequestedMaxReferencesPerNode { get; set; }

    public BrowseDescription[]? NodesToBrowse { get; set; }

    public override uint BinaryEncodingId => 527;

    protected override void EncodeBody(UaEncoder e)
    {
        View.Encode(e);
        e.WriteUInt32(RequestedMaxReferencesPerNode);
        e.WriteEncodeableArray(NodesToBrowse);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        View = d.ReadEncodeable<ViewDescription>();
        RequestedMaxReferencesPerNode = d.ReadUInt32();
        NodesToBrowse = d.ReadEncodeableArray<BrowseDescription>();
    }
}

public sealed class BrowseResponse : UaResponse
{
    public BrowseResult[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 530;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteEncodeableArray(Results);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        Results = d.ReadEncodeableArray<BrowseResult>();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class BrowseNextRequest : UaRequest
{
    public bool ReleaseContinuationPoints { get; set; }

    public byte[]?[]? ContinuationPoints { get; set; }

    public override uint BinaryEncodingId => 533;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteBoolean(ReleaseContinuationPoints);
        e.WriteByteStringArray(ContinuationPoints);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        ReleaseContinuationPoints = d.ReadBoolean();
        ContinuationPoints = d.ReadByteStringArray();
    }
}

public sealed class BrowseNextResponse : UaResponse
{
    public BrowseResult[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 536;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteEncodeableArray(Results);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        Results = d.ReadEncodeableArray<BrowseResult>();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class TranslateBrowsePathsToNodeIdsRequest : UaRequest
{
    public BrowsePath[]? BrowsePaths { get; set; }

    public override uint BinaryEncodingId => 554;

    protected override void EncodeBody(UaEncoder e) => e.WriteEncodeableArray(BrowsePaths);

    protected override void DecodeBody(ref UaDecoder d) => BrowsePaths = d.ReadEncodeableArray<BrowsePath>();
}

public sealed class TranslateBrowsePathsToNodeIdsResponse : UaResponse
{
    public BrowsePathResult[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 557;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteEncodeableArray(Results);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        Results = d.ReadEncodeableArray<BrowsePathResult>();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class ReadRequest : UaRequest
{
    /// <summary>Milliseconds; 0 asks for a fresh value.</summary>
    public double MaxAge { get; set; }

    public TimestampsToReturn TimestampsToReturn { get; set; } = TimestampsToReturn.Both;

    public ReadValueId[]? NodesToRead { get; set; }

    public override uint BinaryEncodingId => 631;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteDouble(MaxAge);
        e.WriteInt32((int)TimestampsToReturn);
        e.WriteEncodeableArray(NodesToRead);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        MaxAge = d.ReadDouble();
        TimestampsToReturn = (TimestampsToReturn)d.ReadInt32();
        NodesToRead = d.ReadEncodeableArray<ReadValueId>();
    }
}

public sealed class ReadResponse : UaResponse
{
    public DataValue[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 634;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteArray(Results, static (enc, v) => enc.WriteDataValue(v));
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        Results = d.ReadDataValueArray();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class WriteRequest : UaRequest
{
    public WriteValue[]? NodesToWrite { get; set; }

    public override uint BinaryEncodingId => 673;

    protected override void EncodeBody(UaEncoder e) => e.WriteEncodeableArray(NodesToWrite);

    protected override void DecodeBody(ref UaDecoder d) => NodesToWrite = d.ReadEncodeableArray<WriteValue>();
}

public sealed class WriteResponse : UaResponse
{
    public StatusCode[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 676;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteStatusCodeArray(Results);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        Results = d.ReadStatusCodeArray();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class CreateSubscriptionRequest : UaRequest
{
    public double RequestedPublishingInterval { get; set; }

    public uint RequestedLifetimeCount { get; set; }

    public uint RequestedMaxKeepAliveCount { get; set; }

    public uint MaxNotificationsPerPublish { get; set; }

    public bool PublishingEnabled { get; set; } = true;

    public byte Priority { get; set; }

    public override uint BinaryEncodingId => 787;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteDouble(RequestedPublishingInterval);
        e.WriteUInt32(RequestedLifetimeCount);
        e.WriteUInt32(RequestedMaxKeepAliveCount);
        e.WriteUInt32(MaxNotificationsPerPublish);
        e.WriteBoolean(PublishingEnabled);
        e.WriteByte(Priority);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        RequestedPublishingInterval = d.ReadDouble();
        RequestedLifetimeCount = d.ReadUInt32();
        RequestedMaxKeepAliveCount = d.ReadUInt32();
        MaxNotificationsPerPublish = d.ReadUInt32();
        PublishingEnabled = d.ReadBoolean();
        Priority = d.ReadByte();
    }
}

public sealed class CreateSubscriptionResponse : UaResponse
{
    public uint SubscriptionId { get; set; }

    public double RevisedPublishingInterval { get; set; }

    public uint RevisedLifetimeCount { get; set; }

    public uint RevisedMaxKeepAliveCount { get; set; }

    public override uint BinaryEncodingId => 790;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteUInt32(SubscriptionId);
        e.WriteDouble(RevisedPublishingInterval);
        e.WriteUInt32(RevisedLifetimeCount);
        e.WriteUInt32(RevisedMaxKeepAliveCount);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        SubscriptionId = d.ReadUInt32();
        RevisedPublishingInterval = d.ReadDouble();
        RevisedLifetimeCount = d.ReadUInt32();
        RevisedMaxKeepAliveCount = d.ReadUInt32();
    }
}

public sealed class CreateMonitoredItemsRequest : UaRequest
{
    public uint SubscriptionId { get; set; }

    public TimestampsToReturn TimestampsToReturn { get; set; } = TimestampsToReturn.Both;

    public MonitoredItemCreateRequest[]? ItemsToCreate { get; set; }

    public override uint BinaryEncodingId => 751;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteUInt32(SubscriptionId);
        e.WriteInt32((int)TimestampsToReturn);
        e.WriteEncodeableArray(ItemsToCreate);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        SubscriptionId = d.ReadUInt32();
        TimestampsToReturn = (TimestampsToReturn)d.ReadInt32();
        ItemsToCreate = d.ReadEncodeableArray<MonitoredItemCreateRequest>();
    }
}

public sealed class CreateMonitoredItemsResponse : UaResponse
{
    public MonitoredItemCreateResult[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 754;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteEncodeableArray(Results);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        Results = d.ReadEncodeableArray<MonitoredItemCreateResult>();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class PublishRequest : UaRequest
{
    public SubscriptionAcknowledgement[]? SubscriptionAcknowledgements { get; set; }

    public override uint BinaryEncodingId => 826;

    protected override void EncodeBody(UaEncoder e) => e.WriteEncodeableArray(SubscriptionAcknowledgements);

    protected override void DecodeBody(ref UaDecoder d) => SubscriptionAcknowledgements = d.ReadEncodeableArray<SubscriptionAcknowledgement>();
}

public sealed class PublishResponse : UaResponse
{
    public uint SubscriptionId { get; set; }

    public uint[]? AvailableSequenceNumbers { get; set; }

    public bool MoreNotifications { get; set; }

    public NotificationMessage NotificationMessage { get; set; } = new();

    public StatusCode[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 829;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteUInt32(SubscriptionId);
        e.WriteUInt32Array(AvailableSequenceNumbers);
        e.WriteBoolean(MoreNotifications);
        NotificationMessage.Encode(e);
        e.WriteStatusCodeArray(Results);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        SubscriptionId = d.ReadUInt32();
        AvailableSequenceNumbers = d.ReadUInt32Array();
        MoreNotifications = d.ReadBoolean();
        NotificationMessage = d.ReadEncodeable<NotificationMessage>();
        Results = d.ReadStatusCodeArray();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class RepublishRequest : UaRequest
{
    public uint SubscriptionId { get; set; }

    public uint RetransmitSequenceNumber { get; set; }

    public override uint BinaryEncodingId => 832;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteUInt32(SubscriptionId);
        e.WriteUInt32(RetransmitSequenceNumber);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        SubscriptionId = d.ReadUInt32();
        RetransmitSequenceNumber = d.ReadUInt32();
    }
}

public sealed class RepublishResponse : UaResponse
{
    public NotificationMessage NotificationMessage { get; set; } = new();

    public override uint BinaryEncodingId => 835;

    protected override void EncodeBody(UaEncoder e) => NotificationMessage.Encode(e);

    protected override void DecodeBody(ref UaDecoder d) => NotificationMessage = d.ReadEncodeable<NotificationMessage>();
}

public sealed class TransferSubscriptionsRequest : UaRequest
{
    public uint[]? SubscriptionIds { get; set; }

    public bool SendInitialValues { get; set; }

    public override uint BinaryEncodingId => 841;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteUInt32Array(SubscriptionIds);
        e.WriteBoolean(SendInitialValues);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        SubscriptionIds = d.ReadUInt32Array();
        SendInitialValues = d.ReadBoolean();
    }
}

public sealed class TransferSubscriptionsResponse : UaResponse
{
    public TransferResult[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 844;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteEncodeableArray(Results);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        Results = d.ReadEncodeableArray<TransferResult>();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class DeleteSubscriptionsRequest : UaRequest
{
    public uint[]? SubscriptionIds { get; set; }

    public override uint BinaryEncodingId => 847;

    protected override void EncodeBody(UaEncoder e) => e.WriteUInt32Array(SubscriptionIds);

    protected override void DecodeBody(ref UaDecoder d) => SubscriptionIds = d.ReadUInt32Array();
}

public sealed class DeleteSubscriptionsResponse : UaResponse
{
    public StatusCode[]? Results { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public override uint BinaryEncodingId => 850;

    protected override void EncodeBody(UaEncoder e)
    {
        e.WriteStatusCodeArray(Results);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
        Results = d.ReadStatusCodeArray();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

/// <summary>The structures the decoder knows by binary encoding id; anything else stays an opaque ExtensionObject.</summary>
public static class UaTypeRegistry
{
    private static readonly Dictionary<uint, Func<IEncodeable>> s_factories = new()
    {
        [397] = () => new ServiceFault(),
        [446] = () => new OpenSecureChannelRequest(),
        [449] = () => new OpenSecureChannelResponse(),
        [452] = () => new CloseSecureChannelRequest(),
        [428] = () => new GetEndpointsRequest(),
        [431] = () => new GetEndpointsResponse(),
        [461] = () => new CreateSessionRequest(),
        [464] = () => new CreateSessionResponse(),
        [467] = () => new ActivateSessionRequest(),
        [470] = () => new ActivateSessionResponse(),
        [473] = () => new CloseSessionRequest(),
        [476] = () => new CloseSessionResponse(),
        [527] = () => new BrowseRequest(),
        [530] = () => new BrowseResponse(),
        [533] = () => new BrowseNextRequest(),
        [536] = () => new BrowseNextResponse(),
        [554] = () => new TranslateBrowsePathsToNodeIdsRequest(),
        [557] = () => new TranslateBrowsePathsToNodeIdsResponse(),
        [631] = () => new ReadRequest(),
        [634] = () => new ReadResponse(),
        [673] = () => new WriteRequest(),
        [676] = () => new WriteResponse(),
        [787] = () => new CreateSubscriptionRequest(),
        [790] = () => new CreateSubscriptionResponse(),
        [751] = () => new CreateMonitoredItemsRequest(),
        [754] = () => new CreateMonitoredItemsResponse(),
        [826] = () => new PublishRequest(),
        [829] = () => new PublishResponse(),
        [832] = () => new RepublishRequest(),
        [835] = () => new RepublishResponse(),
        [841] = () => new TransferSubscriptionsRequest(),
        [844] = () => new TransferSubscriptionsResponse(),
        [847] = () => new DeleteSubscriptionsRequest(),
        [850] = () => new DeleteSubscriptionsResponse(),
        [321] = () => new AnonymousIdentityToken(),
        [324] = () => new UserNameIdentityToken(),
        [327] = () => new X509IdentityToken(),
        [724] = () => new DataChangeFilter(),
        [811] = () => new DataChangeNotification(),
        [820] = () => new StatusChangeNotification(),
        [886] = () => new Range(),
        [889] = () => new EUInformation(),
        [StructureDefinition.EncodingId] = () => new StructureDefinition(),
        [EnumDefinition.EncodingId] = () => new EnumDefinition(),
    };

    public static bool TryCreate(uint encodingId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IEncodeable? instance)
    {
        if (s_factories.TryGetValue(encodingId, out var factory))
        {
            instance = factory();
            return true;
        }

        instance = null;
        return false;
    }

    /// <summary>Every registered encoding id (for tests).</summary>
    public static IEnumerable<uint> EncodingIds => s_factories.Keys;
}
