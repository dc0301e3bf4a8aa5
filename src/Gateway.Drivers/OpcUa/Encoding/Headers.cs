namespace Gateway.Drivers.OpcUa.Encoding;

/// <summary>OPC 10000-4 §7.33.</summary>
public sealed record RequestHeader
{
    public NodeId AuthenticationToken { get; set; } = NodeId.Null;

    public DateTime Timestamp { get; set; }

    public uint RequestHandle { get; set; }

    public uint ReturnDiagnostics { get; set; }

    public string? AuditEntryId { get; set; }

    public uint TimeoutHint { get; set; }

    public ExtensionObject AdditionalHeader { get; set; } = ExtensionObject.Null;

    public void Encode(UaEncoder e)
    {
        e.WriteNodeId(AuthenticationToken);
        e.WriteDateTime(Timestamp);
        e.WriteUInt32(RequestHandle);
        e.WriteUInt32(ReturnDiagnostics);
        e.WriteString(AuditEntryId);
        e.WriteUInt32(TimeoutHint);
        e.WriteExtensionObject(AdditionalHeader);
    }

    public static RequestHeader Decode(ref UaDecoder d) => new()
    {
        AuthenticationToken = d.ReadNodeId(),
        Timestamp = d.ReadDateTime(),
        RequestHandle = d.ReadUInt32(),
        ReturnDiagnostics = d.ReadUInt32(),
        AuditEntryId = d.ReadString(),
        TimeoutHint = d.ReadUInt32(),
        AdditionalHeader = d.ReadExtensionObject(),
    };
}

/// <summary>OPC 10000-4 §7.34.</summary>
public sealed record ResponseHeader
{
    public DateTime Timestamp { get; set; }

    public uint RequestHandle { get; set; }

    public StatusCode ServiceResult { get; set; }

    public DiagnosticInfo? ServiceDiagnostics { get; set; }

    public string?[]? StringTable { get; set; }

    public ExtensionObject AdditionalHeader { get; set; } = ExtensionObject.Null;

    public void Encode(UaEncoder e)
    {
        e.WriteDateTime(Timestamp);
        e.WriteUInt32(RequestHandle);
        e.WriteStatusCode(ServiceResult);
        e.WriteDiagnosticInfo(ServiceDiagnostics);
        e.WriteStringArray(StringTable);
        e.WriteExtensionObject(AdditionalHeader);
    }

    public static ResponseHeader Decode(ref UaDecoder d) => new()
    {
        Timestamp = d.ReadDateTime(),
        RequestHandle = d.ReadUInt32(),
        ServiceResult = d.ReadStatusCode(),
        ServiceDiagnostics = d.ReadDiagnosticInfo(),
        StringTable = d.ReadStringArray(),
        AdditionalHeader = d.ReadExtensionObject(),
    };

    public bool Equals(ResponseHeader? other) =>
        other is not null && Timestamp == other.Timestamp && RequestHandle == other.RequestHandle && ServiceResult == other.ServiceResult &&
        Equals(ServiceDiagnostics, other.ServiceDiagnostics) && Equals(AdditionalHeader, other.AdditionalHeader) &&
        (StringTable ?? []).SequenceEqual(other.StringTable ?? []);

    public override int GetHashCode() => HashCode.Combine(Timestamp, RequestHandle, ServiceResult);
}

/// <summary>A service request: its header, then its fields.</summary>
public abstract class UaRequest : IEncodeable
{
    public RequestHeader RequestHeader { get; set; } = new();

    public abstract uint BinaryEncodingId { get; }

    public void Encode(UaEncoder e)
    {
        RequestHeader.Encode(e);
        EncodeBody(e);
    }

    public void Decode(ref UaDecoder d)
    {
        RequestHeader = RequestHeader.Decode(ref d);
        DecodeBody(ref d);
    }

    protected abstract void EncodeBody(UaEncoder e);

    protected abstract void DecodeBody(ref UaDecoder d);
}

/// <summary>A service response: its header, then its fields.</summary>
public abstract class UaResponse : IEncodeable
{
    public ResponseHeader ResponseHeader { get; set; } = new();

    public abstract uint BinaryEncodingId { get; }

    public void Encode(UaEncoder e)
    {
        ResponseHeader.Encode(e);
        EncodeBody(e);
    }

    public void Decode(ref UaDecoder d)
    {
        ResponseHeader = ResponseHeader.Decode(ref d);
        DecodeBody(ref d);
    }

    protected abstract void EncodeBody(UaEncoder e);

    protected abstract void DecodeBody(ref UaDecoder d);
}

/// <summary>Any service may answer with a fault (encoding id 397).</summary>
public sealed class ServiceFault : UaResponse
{
    public override uint BinaryEncodingId => 397;

    protected override void EncodeBody(UaEncoder e)
    {
    }

    protected override void DecodeBody(ref UaDecoder d)
    {
    }
}
