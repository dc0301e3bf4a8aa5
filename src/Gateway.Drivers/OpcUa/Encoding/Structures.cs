namespace Gateway.Drivers.OpcUa.Encoding;

#pragma warning disable CA1724 // names follow OPC 10000-4

public enum MessageSecurityMode
{
    Invalid = 0,
    None = 1,
    Sign = 2,
    SignAndEncrypt = 3,
}

public enum UserTokenType
{
    Anonymous = 0,
    UserName = 1,
    Certificate = 2,
    IssuedToken = 3,
}

public enum NodeClass
{
    Unspecified = 0,
    Object = 1,
    Variable = 2,
    Method = 4,
    ObjectType = 8,
    VariableType = 16,
    ReferenceType = 32,
    DataType = 64,
    View = 128,
}

public enum BrowseDirection
{
    Forward = 0,
    Inverse = 1,
    Both = 2,
}

public enum TimestampsToReturn
{
    Source = 0,
    Server = 1,
    Both = 2,
    Neither = 3,
}

public enum MonitoringMode
{
    Disabled = 0,
    Sampling = 1,
    Reporting = 2,
}

/// <summary>Attribute ids (OPC 10000-6 Annex A).</summary>
public static class AttributeIds
{
    public const uint NodeId = 1;
    public const uint NodeClass = 2;
    public const uint BrowseName = 3;
    public const uint DisplayName = 4;
    public const uint Value = 13;
    public const uint DataType = 14;
    public const uint ValueRank = 15;
    public const uint AccessLevel = 17;
    public const uint UserAccessLevel = 18;

    /// <summary>A DataType's StructureDefinition or EnumDefinition (OPC 10000-3 §5.8.3; servers of 1.04 and later).</summary>
    public const uint DataTypeDefinition = 23;
}

public sealed class ApplicationDescription : IEncodeable
{
    public string? ApplicationUri { get; set; }

    public string? ProductUri { get; set; }

    public LocalizedText ApplicationName { get; set; }

    /// <summary>0 server, 1 client, 2 client and server, 3 discovery server.</summary>
    public int ApplicationType { get; set; }

    public string? GatewayServerUri { get; set; }

    public string? DiscoveryProfileUri { get; set; }

    public string?[]? DiscoveryUrls { get; set; }

    public uint BinaryEncodingId => 310;

    public void Encode(UaEncoder e)
    {
        e.WriteString(ApplicationUri);
        e.WriteString(ProductUri);
        e.WriteLocalizedText(ApplicationName);
        e.WriteInt32(ApplicationType);
        e.WriteString(GatewayServerUri);
        e.WriteString(DiscoveryProfileUri);
        e.WriteStringArray(DiscoveryUrls);
    }

    public void Decode(ref UaDecoder d)
    {
        ApplicationUri = d.ReadString();
        ProductUri = d.ReadString();
        ApplicationName = d.ReadLocalizedText();
        ApplicationType = d.ReadInt32();
        GatewayServerUri = d.ReadString();
        DiscoveryProfileUri = d.ReadString();
        DiscoveryUrls = d.ReadStringArray();
    }
}

public sealed class UserTokenPolicy : IEncodeable
{
    public string? PolicyId { get; set; }

    public UserTokenType TokenType { get; set; }

    public string? IssuedTokenType { get; set; }

    public string? IssuerEndpointUrl { get; set; }

    public string? SecurityPolicyUri { get; set; }

    public uint BinaryEncodingId => 306;

    public void Encode(UaEncoder e)
    {
        e.WriteString(PolicyId);
        e.WriteInt32((int)TokenType);
        e.WriteString(IssuedTokenType);
        e.WriteString(IssuerEndpointUrl);
        e.WriteString(SecurityPolicyUri);
    }

    public void Decode(ref UaDecoder d)
    {
        PolicyId = d.ReadString();
        TokenType = (UserTokenType)d.ReadInt32();
        IssuedTokenType = d.ReadString();
        IssuerEndpointUrl = d.ReadString();
        SecurityPolicyUri = d.ReadString();
    }
}

public sealed class EndpointDescription : IEncodeable
{
    public string? EndpointUrl { get; set; }

    public ApplicationDescription Server { get; set; } = new();

    public byte[]? ServerCertificate { get; set; }

    public MessageSecurityMode SecurityMode { get; set; }

    public string? SecurityPolicyUri { get; set; }

    public UserTokenPolicy[]? UserIdentityTokens { get; set; }

    public string? TransportProfileUri { get; set; }

    public byte SecurityLevel { get; set; }

    public uint BinaryEncodingId => 314;

    public void Encode(UaEncoder e)
    {
        e.WriteString(EndpointUrl);
        Server.Encode(e);
        e.WriteByteString(ServerCertificate);
        e.WriteInt32((int)SecurityMode);
        e.WriteString(SecurityPolicyUri);
        e.WriteEncodeableArray(UserIdentityTokens);
        e.WriteString(TransportProfileUri);
        e.WriteByte(SecurityLevel);
    }

    public void Decode(ref UaDecoder d)
    {
        EndpointUrl = d.ReadString();
        Server = d.ReadEncodeable<ApplicationDescription>();
        ServerCertificate = d.ReadByteString();
        SecurityMode = (MessageSecurityMode)d.ReadInt32();
        SecurityPolicyUri = d.ReadString();
        UserIdentityTokens = d.ReadEncodeableArray<UserTokenPolicy>();
        TransportProfileUri = d.ReadString();
        SecurityLevel = d.ReadByte();
    }
}

public sealed class ChannelSecurityToken : IEncodeable
{
    public uint ChannelId { get; set; }

    public uint TokenId { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>Milliseconds.</summary>
    public uint RevisedLifetime { get; set; }

    public uint BinaryEncodingId => 443;

    public void Encode(UaEncoder e)
    {
        e.WriteUInt32(ChannelId);
        e.WriteUInt32(TokenId);
        e.WriteDateTime(CreatedAt);
        e.WriteUInt32(RevisedLifetime);
    }

    public void Decode(ref UaDecoder d)
    {
        ChannelId = d.ReadUInt32();
        TokenId = d.ReadUInt32();
        CreatedAt = d.ReadDateTime();
        RevisedLifetime = d.ReadUInt32();
    }
}

public sealed class SignatureData : IEncodeable
{
    public string? Algorithm { get; set; }

    public byte[]? Signature { get; set; }

    public uint BinaryEncodingId => 458;

    public void Encode(UaEncoder e)
    {
        e.WriteString(Algorithm);
        e.WriteByteString(Signature);
    }

    public void Decode(ref UaDecoder d)
    {
        Algorithm = d.ReadString();
        Signature = d.ReadByteString();
    }
}

public sealed class SignedSoftwareCertificate : IEncodeable
{
    public byte[]? CertificateData { get; set; }

    public byte[]? Signature { get; set; }

    public uint BinaryEncodingId => 346;

    public void Encode(UaEncoder e)
    {
        e.WriteByteString(CertificateData);
        e.WriteByteString(Signature);
    }

    public void Decode(ref UaDecoder d)
    {
        CertificateData = d.ReadByteString();
        Signature = d.ReadByteString();
    }
}

public sealed class AnonymousIdentityToken : IEncodeable
{
    public string? PolicyId { get; set; }

    public uint BinaryEncodingId => 321;

    public void Encode(UaEncoder e) => e.WriteString(PolicyId);

    public void Decode(ref UaDecoder d) => PolicyId = d.ReadString();
}

public sealed class UserNameIdentityToken : IEncodeable
{
    public string? PolicyId { get; set; }

    public string? UserName { get; set; }

    public byte[]? Password { get; set; }

    public string? EncryptionAlgorithm { get; set; }

    public uint BinaryEncodingId => 324;

    public void Encode(UaEncoder e)
    {
        e.WriteString(PolicyId);
        e.WriteString(UserName);
        e.WriteByteString(Password);
        e.WriteString(EncryptionAlgorithm);
    }

    public void Decode(ref UaDecoder d)
    {
        PolicyId = d.ReadString();
        UserName = d.ReadString();
        Password = d.ReadByteString();
        EncryptionAlgorithm = d.ReadString();
    }
}

/// <summary>OPC 10000-4 §7.41.5: a user identified by an X.509 certificate; the proof is the ActivateSession user token signature.</summary>
public sealed class X509IdentityToken : IEncodeable
{
    public string? PolicyId { get; set; }

    public byte[]? CertificateData { get; set; }

    public uint BinaryEncodingId => 327;

    public void Encode(UaEncoder e)
    {
        e.WriteString(PolicyId);
        e.WriteByteString(CertificateData);
    }

    public void Decode(ref UaDecoder d)
    {
        PolicyId = d.ReadString();
        CertificateData = d.ReadByteString();
    }
}

public sealed class ViewDescription : IEncodeable
{
    public NodeId ViewId { get; set; } = NodeId.Null;

    public DateTime Timestamp { get; set; }

    public uint ViewVersion { get; set; }

    public uint BinaryEncodingId => 513;

    public void Encode(UaEncoder e)
    {
        e.WriteNodeId(ViewId);
        e.WriteDateTime(Timestamp);
        e.WriteUInt32(ViewVersion);
    }

    public void Decode(ref UaDecoder d)
    {
        ViewId = d.ReadNodeId();
        Timestamp = d.ReadDateTime();
        ViewVersion = d.ReadUInt32();
    }
}

public sealed class BrowseDescription : IEncodeable
{
    public NodeId NodeId { get; set; } = NodeId.Null;

    public BrowseDirection BrowseDirection { get; set; }

    public NodeId ReferenceTypeId { get; set; } = NodeId.Null;

    public bool IncludeSubtypes { get; set; }

    public uint NodeClassMask { get; set; }

    /// <summary>0x3F: every field of the reference description.</summary>
    public uint ResultMask { get; set; } = 0x3F;

    public uint BinaryEncodingId => 516;

    public void Encode(UaEncoder e)
    {
        e.WriteNodeId(NodeId);
        e.WriteInt32((int)BrowseDirection);
        e.WriteNodeId(ReferenceTypeId);
        e.WriteBoolean(IncludeSubtypes);
        e.WriteUInt32(NodeClassMask);
        e.WriteUInt32(ResultMask);
    }

    public void Decode(ref UaDecoder d)
    {
        NodeId = d.ReadNodeId();
        BrowseDirection = (BrowseDirection)d.ReadInt32();
        ReferenceTypeId = d.ReadNodeId();
        IncludeSubtypes = d.ReadBoolean();
        NodeClassMask = d.ReadUInt32();
        ResultMask = d.ReadUInt32();
    }
}

public sealed class ReferenceDescription : IEncodeable
{
    public NodeId ReferenceTypeId { get; set; } = OpcUa.Encoding.NodeId.Null;

    public bool IsForward { get; set; }

    public ExpandedNodeId NodeId { get; set; } = ExpandedNodeId.Null;

    public QualifiedName BrowseName { get; set; }

    public LocalizedText DisplayName { get; set; }

    public NodeClass NodeClass { get; set; }

    public ExpandedNodeId TypeDefinition { get; set; } = ExpandedNodeId.Null;

    public uint BinaryEncodingId => 520;

    public void Encode(UaEncoder e)
    {
        e.WriteNodeId(ReferenceTypeId);
        e.WriteBoolean(IsForward);
        e.WriteExpandedNodeId(NodeId);
        e.WriteQualifiedName(BrowseName);
        e.WriteLocalizedText(DisplayName);
        e.WriteInt32((int)NodeClass);
        e.WriteExpandedNodeId(TypeDefinition);
    }

    public void Decode(ref UaDecoder d)
    {
        ReferenceTypeId = d.ReadNodeId();
        IsForward = d.ReadBoolean();
        NodeId = d.ReadExpandedNodeId();
        BrowseName = d.ReadQualifiedName();
        DisplayName = d.ReadLocalizedText();
        NodeClass = (NodeClass)d.ReadInt32();
        TypeDefinition = d.ReadExpandedNodeId();
    }
}

public sealed class BrowseResult : IEncodeable
{
    public StatusCode StatusCode { get; set; }

    public byte[]? ContinuationPoint { get; set; }

    public ReferenceDescription[]? References { get; set; }

    public uint BinaryEncodingId => 524;

    public void Encode(UaEncoder e)
    {
        e.WriteStatusCode(StatusCode);
        e.WriteByteString(ContinuationPoint);
        e.WriteEncodeableArray(References);
    }

    public void Decode(ref UaDecoder d)
    {
        StatusCode = d.ReadStatusCode();
        ContinuationPoint = d.ReadByteString();
        References = d.ReadEncodeableArray<ReferenceDescription>();
    }
}

public sealed class RelativePathElement : IEncodeable
{
    public NodeId ReferenceTypeId { get; set; } = new(0, 33u);

    public bool IsInverse { get; set; }

    public bool IncludeSubtypes { get; set; } = true;

    public QualifiedName TargetName { get; set; }

    public uint BinaryEncodingId => 539;

    public void Encode(UaEncoder e)
    {
        e.WriteNodeId(ReferenceTypeId);
        e.WriteBoolean(IsInverse);
        e.WriteBoolean(IncludeSubtypes);
        e.WriteQualifiedName(TargetName);
    }

    public void Decode(ref UaDecoder d)
    {
        ReferenceTypeId = d.ReadNodeId();
        IsInverse = d.ReadBoolean();
        IncludeSubtypes = d.ReadBoolean();
        TargetName = d.ReadQualifiedName();
    }
}

public sealed class BrowsePath : IEncodeable
{
    public NodeId StartingNode { get; set; } = NodeId.Null;

    public RelativePathElement[]? Elements { get; set; }

    public uint BinaryEncodingId => 545;

    public void Encode(UaEncoder e)
    {
        e.WriteNodeId(StartingNode);
        e.WriteEncodeableArray(Elements);
    }

    public void Decode(ref UaDecoder d)
    {
        StartingNode = d.ReadNodeId();
        Elements = d.ReadEncodeableArray<RelativePathElement>();
    }
}

public sealed class BrowsePathTarget : IEncodeable
{
    public ExpandedNodeId TargetId { get; set; } = ExpandedNodeId.Null;

    public uint RemainingPathIndex { get; set; }

    public uint BinaryEncodingId => 548;

    public void Encode(UaEncoder e)
    {
        e.WriteExpandedNodeId(TargetId);
        e.WriteUInt32(RemainingPathIndex);
    }

    public void Decode(ref UaDecoder d)
    {
        TargetId = d.ReadExpandedNodeId();
        RemainingPathIndex = d.ReadUInt32();
    }
}

public sealed class BrowsePathResult : IEncodeable
{
    public StatusCode StatusCode { get; set; }

    public BrowsePathTarget[]? Targets { get; set; }

    public uint BinaryEncodingId => 551;

    public void Encode(UaEncoder e)
    {
        e.WriteStatusCode(StatusCode);
        e.WriteEncodeableArray(Targets);
    }

    public void Decode(ref UaDecoder d)
    {
        StatusCode = d.ReadStatusCode();
        Targets = d.ReadEncodeableArray<BrowsePathTarget>();
    }
}

public sealed class ReadValueId : IEncodeable
{
    public NodeId NodeId { get; set; } = NodeId.Null;

    public uint AttributeId { get; set; } = AttributeIds.Value;

    public string? IndexRange { get; set; }

    public QualifiedName DataEncoding { get; set; }

    public uint BinaryEncodingId => 628;

    public void Encode(UaEncoder e)
    {
        e.WriteNodeId(NodeId);
        e.WriteUInt32(AttributeId);
        e.WriteString(IndexRange);
        e.WriteQualifiedName(DataEncoding);
    }

    public void Decode(ref UaDecoder d)
    {
        NodeId = d.ReadNodeId();
        AttributeId = d.ReadUInt32();
        IndexRange = d.ReadString();
        DataEncoding = d.ReadQualifiedName();
    }
}

public sealed class WriteValue : IEncodeable
{
    public NodeId NodeId { get; set; } = NodeId.Null;

    public uint AttributeId { get; set; } = AttributeIds.Value;

    public string? IndexRange { get; set; }

    public DataValue Value { get; set; } = new();

    public uint BinaryEncodingId => 670;

    public void Encode(UaEncoder e)
    {
        e.WriteNodeId(NodeId);
        e.WriteUInt32(AttributeId);
        e.WriteString(IndexRange);
        e.WriteDataValue(Value);
    }

    public void Decode(ref UaDecoder d)
    {
        NodeId = d.ReadNodeId();
        AttributeId = d.ReadUInt32();
        IndexRange = d.ReadString();
        Value = d.ReadDataValue();
    }
}

/// <summary>DataChangeFilter (encoding id 724): trigger 0 status, 1 status+value, 2 status+value+timestamp; deadband 0 none, 1 absolute, 2 percent.</summary>
public sealed class DataChangeFilter : IEncodeable
{
    public int Trigger { get; set; } = 1;

    public uint DeadbandType { get; set; }

    public double DeadbandValue { get; set; }

    public uint BinaryEncodingId => 724;

    public void Encode(UaEncoder e)
    {
        e.WriteInt32(Trigger);
        e.WriteUInt32(DeadbandType);
        e.WriteDouble(DeadbandValue);
    }

    public void Decode(ref UaDecoder d)
    {
        Trigger = d.ReadInt32();
        DeadbandType = d.ReadUInt32();
        DeadbandValue = d.ReadDouble();
    }

    public override bool Equals(object? obj) => obj is DataChangeFilter f && f.Trigger == Trigger && f.DeadbandType == DeadbandType && f.DeadbandValue.Equals(DeadbandValue);

    public override int GetHashCode() => HashCode.Combine(Trigger, DeadbandType, DeadbandValue);
}

public sealed class MonitoringParameters : IEncodeable
{
    public uint ClientHandle { get; set; }

    /// <summary>Milliseconds; -1 means the publishing interval.</summary>
    public double SamplingInterval { get; set; }

    public ExtensionObject Filter { get; set; } = ExtensionObject.Null;

    public uint QueueSize { get; set; } = 1;

    public bool DiscardOldest { get; set; } = true;

    public uint BinaryEncodingId => 742;

    public void Encode(UaEncoder e)
    {
        e.WriteUInt32(ClientHandle);
        e.WriteDouble(SamplingInterval);
        e.WriteExtensionObject(Filter);
        e.WriteUInt32(QueueSize);
        e.WriteBoolean(DiscardOldest);
    }

    public void Decode(ref UaDecoder d)
    {
        ClientHandle = d.ReadUInt32();
        SamplingInterval = d.ReadDouble();
        Filter = d.ReadExtensionObject();
        QueueSize = d.ReadUInt32();
        DiscardOldest = d.ReadBoolean();
    }
}

public sealed class MonitoredItemCreateRequest : IEncodeable
{
    public ReadValueId ItemToMonitor { get; set; } = new();

    public MonitoringMode MonitoringMode { get; set; } = MonitoringMode.Reporting;

    public MonitoringParameters RequestedParameters { get; set; } = new();

    public uint BinaryEncodingId => 745;

    public void Encode(UaEncoder e)
    {
        ItemToMonitor.Encode(e);
        e.WriteInt32((int)MonitoringMode);
        RequestedParameters.Encode(e);
    }

    public void Decode(ref UaDecoder d)
    {
        ItemToMonitor = d.ReadEncodeable<ReadValueId>();
        MonitoringMode = (MonitoringMode)d.ReadInt32();
        RequestedParameters = d.ReadEncodeable<MonitoringParameters>();
    }
}

public sealed class MonitoredItemCreateResult : IEncodeable
{
    public StatusCode StatusCode { get; set; }

    public uint MonitoredItemId { get; set; }

    public double RevisedSamplingInterval { get; set; }

    public uint RevisedQueueSize { get; set; }

    public ExtensionObject FilterResult { get; set; } = ExtensionObject.Null;

    public uint BinaryEncodingId => 748;

    public void Encode(UaEncoder e)
    {
        e.WriteStatusCode(StatusCode);
        e.WriteUInt32(MonitoredItemId);
        e.WriteDouble(RevisedSamplingInterval);
        e.WriteUInt32(RevisedQueueSize);
        e.WriteExtensionObject(FilterResult);
    }

    public void Decode(ref UaDecoder d)
    {
        StatusCode = d.ReadStatusCode();
        MonitoredItemId = d.ReadUInt32();
        RevisedSamplingInterval = d.ReadDouble();
        RevisedQueueSize = d.ReadUInt32();
        FilterResult = d.ReadExtensionObject();
    }
}

public sealed class SubscriptionAcknowledgement : IEncodeable
{
    public uint SubscriptionId { get; set; }

    public uint SequenceNumber { get; set; }

    public uint BinaryEncodingId => 823;

    public void Encode(UaEncoder e)
    {
        e.WriteUInt32(SubscriptionId);
        e.WriteUInt32(SequenceNumber);
    }

    public void Decode(ref UaDecoder d)
    {
        SubscriptionId = d.ReadUInt32();
        SequenceNumber = d.ReadUInt32();
    }
}

public sealed class NotificationMessage : IEncodeable
{
    public uint SequenceNumber { get; set; }

    public DateTime PublishTime { get; set; }

    public ExtensionObject[]? NotificationData { get; set; }

    public uint BinaryEncodingId => 805;

    public void Encode(UaEncoder e)
    {
        e.WriteUInt32(SequenceNumber);
        e.WriteDateTime(PublishTime);
        e.WriteArray(NotificationData, static (enc, x) => enc.WriteExtensionObject(x));
    }

    public void Decode(ref UaDecoder d)
    {
        SequenceNumber = d.ReadUInt32();
        PublishTime = d.ReadDateTime();
        NotificationData = d.ReadExtensionObjectArray();
    }
}

public sealed class MonitoredItemNotification : IEncodeable
{
    public uint ClientHandle { get; set; }

    public DataValue Value { get; set; } = new();

    public uint BinaryEncodingId => 808;

    public void Encode(UaEncoder e)
    {
        e.WriteUInt32(ClientHandle);
        e.WriteDataValue(Value);
    }

    public void Decode(ref UaDecoder d)
    {
        ClientHandle = d.ReadUInt32();
        Value = d.ReadDataValue();
    }
}

public sealed class DataChangeNotification : IEncodeable
{
    public MonitoredItemNotification[]? MonitoredItems { get; set; }

    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    public uint BinaryEncodingId => 811;

    public void Encode(UaEncoder e)
    {
        e.WriteEncodeableArray(MonitoredItems);
        e.WriteDiagnosticInfoArray(DiagnosticInfos);
    }

    public void Decode(ref UaDecoder d)
    {
        MonitoredItems = d.ReadEncodeableArray<MonitoredItemNotification>();
        DiagnosticInfos = d.ReadDiagnosticInfoArray();
    }
}

public sealed class StatusChangeNotification : IEncodeable
{
    public StatusCode Status { get; set; }

    public DiagnosticInfo? DiagnosticInfo { get; set; }

    public uint BinaryEncodingId => 820;

    public void Encode(UaEncoder e)
    {
        e.WriteStatusCode(Status);
        e.WriteDiagnosticInfo(DiagnosticInfo);
    }

    public void Decode(ref UaDecoder d)
    {
        Status = d.ReadStatusCode();
        DiagnosticInfo = d.ReadDiagnosticInfo();
    }
}

public sealed class TransferResult : IEncodeable
{
    public StatusCode StatusCode { get; set; }

    public uint[]? AvailableSequenceNumbers { get; set; }

    public uint BinaryEncodingId => 838;

    public void Encode(UaEncoder e)
    {
        e.WriteStatusCode(StatusCode);
        e.WriteUInt32Array(AvailableSequenceNumbers);
    }

    public void Decode(ref UaDecoder d)
    {
        StatusCode = d.ReadStatusCode();
        AvailableSequenceNumbers = d.ReadUInt32Array();
    }
}

/// <summary>
/// Range (DataType i=884, DefaultBinary i=886, OPC 10000-8 §5.6.2): the EURange and InstrumentRange of analog items.
/// Printed as JSON so that tools and string tags show the numbers, not a type name.
/// </summary>
public sealed class Range : IEncodeable
{
    public double Low { get; set; }

    public double High { get; set; }

    public uint BinaryEncodingId => 886;

    public void Encode(UaEncoder e)
    {
        e.WriteDouble(Low);
        e.WriteDouble(High);
    }

    public void Decode(ref UaDecoder d)
    {
        Low = d.ReadDouble();
        High = d.ReadDouble();
    }

    public override bool Equals(object? obj) => obj is Range r && r.Low.Equals(Low) && r.High.Equals(High);

    public override int GetHashCode() => HashCode.Combine(Low, High);

    public override string ToString() => StructureJson.Write(json =>
    {
        json.WriteNumber("low", Low);
        json.WriteNumber("high", High);
    });
}

/// <summary>
/// EUInformation (DataType i=887, DefaultBinary i=889, OPC 10000-8 §5.6.3): the EngineeringUnits of analog items
/// (UNECE code in <see cref="UnitId"/>). Printed as JSON.
/// </summary>
public sealed class EUInformation : IEncodeable
{
    public string? NamespaceUri { get; set; }

    public int UnitId { get; set; }

    public LocalizedText DisplayName { get; set; }

    public LocalizedText Description { get; set; }

    public uint BinaryEncodingId => 889;

    public void Encode(UaEncoder e)
    {
        e.WriteString(NamespaceUri);
        e.WriteInt32(UnitId);
        e.WriteLocalizedText(DisplayName);
        e.WriteLocalizedText(Description);
    }

    public void Decode(ref UaDecoder d)
    {
        NamespaceUri = d.ReadString();
        UnitId = d.ReadInt32();
        DisplayName = d.ReadLocalizedText();
        Description = d.ReadLocalizedText();
    }

    public override bool Equals(object? obj) =>
        obj is EUInformation u && u.NamespaceUri == NamespaceUri && u.UnitId == UnitId && u.DisplayName == DisplayName && u.Description == Description;

    public override int GetHashCode() => HashCode.Combine(NamespaceUri, UnitId, DisplayName, Description);

    public override string ToString() => StructureJson.Write(json =>
    {
        json.WriteString("namespaceUri", NamespaceUri);
        json.WriteNumber("unitId", UnitId);
        json.WriteString("displayName", DisplayName.Text);
        json.WriteString("description", Description.Text);
    });
}

/// <summary>
/// The JSON text of a structure's <c>ToString</c>, written with <see cref="System.Text.Json.Utf8JsonWriter"/> (no
/// reflection: the native AOT build prints the same), relaxed escaping as before.
/// </summary>
internal static class StructureJson
{
    private static readonly System.Text.Json.JsonWriterOptions s_options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(Action<System.Text.Json.Utf8JsonWriter> body)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var json = new System.Text.Json.Utf8JsonWriter(output, s_options))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
