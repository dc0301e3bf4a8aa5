namespace Gateway.Drivers.S7;

/// <summary>Where an S7 error code came from.</summary>
public enum S7ErrorSource
{
    /// <summary>The ack-data header's error class and code: the whole job was refused.</summary>
    Header,

    /// <summary>One item's return code: that item failed, the others may have succeeded.</summary>
    Item,
}

/// <summary>The CPU refused a job or an item; <see cref="Code"/> is the header's error class and code, or an item's return code.</summary>
public sealed class S7Exception : Exception
{
    public S7Exception(S7ErrorSource source, ushort code, string? detail = null)
        : base(S7Errors.Describe(source, code) + (detail is null ? "" : ": " + detail))
    {
        Source7 = source;
        Code = code;
    }

    public S7ErrorSource Source7 { get; }

    public ushort Code { get; }

    /// <summary>The OPC UA status code the tags of this item or job turn to.</summary>
    public uint StatusCode => S7Errors.StatusCode(Source7, Code);
}

/// <summary>The peer broke the protocol (malformed or mismatched frame): the connection can no longer be trusted.</summary>
public sealed class S7ProtocolException : IOException
{
    public S7ProtocolException(string message)
        : base(message)
    {
    }
}

/// <summary>The connection could not be made or was refused at the ISO (COTP) or S7 level.</summary>
public sealed class S7ConnectionException : IOException
{
    public S7ConnectionException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>S7 error and return codes: names, what to change in TIA Portal, and the OPC UA status they map to.</summary>
public static class S7Errors
{
    public const byte ItemHardwareFault = 0x01;
    public const byte ItemAccessDenied = 0x03;
    public const byte ItemAddressOutOfRange = 0x05;
    public const byte ItemDataTypeNotSupported = 0x06;
    public const byte ItemDataTypeInconsistent = 0x07;
    public const byte ItemObjectDoesNotExist = 0x0A;

    /// <summary>Header error 0x8104: the function (PUT/GET access) is not available: S7-1200/1500 without "Permit access with PUT/GET".</summary>
    public const ushort HeaderFunctionNotAvailable = 0x8104;

    /// <summary>Header error 0x8500: the request or its answer does not fit the negotiated PDU.</summary>
    public const ushort HeaderPduSizeExceeded = 0x8500;

    public static string Name(S7ErrorSource source, ushort code) => source == S7ErrorSource.Item
        ? code switch
        {
            ItemHardwareFault => "hardware fault",
            ItemAccessDenied => "object access not allowed",
            ItemAddressOutOfRange => "address out of range",
            ItemDataTypeNotSupported => "data type not supported",
            ItemDataTypeInconsistent => "data type inconsistent",
            ItemObjectDoesNotExist => "object does not exist",
            _ => $"item return code 0x{code:X2}",
        }
        : code switch
        {
            HeaderFunctionNotAvailable => "function not available",
            HeaderPduSizeExceeded => "PDU size exceeded",
            0x8304 => "resource not available",
            0xD209 => "object does not exist",
            0xD241 => "protected by password",
            0xDC01 => "invalid value",
            _ => $"error class 0x{code >> 8:X2} code 0x{code & 0xFF:X2}",
        };

    /// <summary>The message of an S7 error: the code, its name and what to change on the CPU.</summary>
    public static string Describe(S7ErrorSource source, ushort code)
    {
        var hint = Hint(source, code);
        var prefix = source == S7ErrorSource.Item ? $"S7 item error 0x{code:X2}" : $"S7 error 0x{code:X4}";
        return $"{prefix} ({Name(source, code)}){(hint.Length == 0 ? "" : "; " + hint)}";
    }

    /// <summary>What the engineer changes in TIA Portal (or STEP 7) for the usual causes of this code.</summary>
    public static string Hint(S7ErrorSource source, ushort code) => (source, code) switch
    {
        (S7ErrorSource.Item, ItemObjectDoesNotExist) or (S7ErrorSource.Header, 0xD209) =>
            "the DB does not exist on the CPU (check its number), or it has 'Optimized block access' (S7-1200/1500: in TIA Portal open the DB's Properties > Attributes, clear 'Optimized block access', compile and download)",
        (S7ErrorSource.Item, ItemAddressOutOfRange) =>
            "the address lies past the end of the DB or area (make the DB longer or correct the offset; on S7-1200/1500 an optimized DB has no absolute addresses at all: clear 'Optimized block access' in its Properties > Attributes)",
        (S7ErrorSource.Item, ItemAccessDenied) =>
            "the CPU does not allow this access (S7-1200/1500: in TIA Portal, device configuration > Protection & Security, set 'Full access' or allow the access level, and tick 'Permit access with PUT/GET communication from remote partner')",
        (S7ErrorSource.Header, HeaderFunctionNotAvailable) =>
            "PUT/GET is not allowed on this CPU (S7-1200/1500: in TIA Portal open the CPU's Properties > Protection & Security > Connection mechanisms, tick 'Permit access with PUT/GET communication from remote partner', then download the hardware configuration)",
        (S7ErrorSource.Header, HeaderPduSizeExceeded) => "the request is larger than the negotiated PDU (lower pduSize or the tags per DB)",
        (S7ErrorSource.Header, 0xD241) => "the CPU's protection level needs a password for this access (lower the protection level in the CPU's Properties > Protection)",
        _ => "",
    };

    /// <summary>The OPC UA Bad status of a failed item or job.</summary>
    public static uint StatusCode(S7ErrorSource source, ushort code) => (source, code) switch
    {
        (S7ErrorSource.Item, ItemObjectDoesNotExist) or (S7ErrorSource.Header, 0xD209) => S7StatusCodes.BadNotFound,
        (S7ErrorSource.Item, ItemAddressOutOfRange) => S7StatusCodes.BadOutOfRange,
        (S7ErrorSource.Item, ItemAccessDenied) or (S7ErrorSource.Header, 0xD241) => S7StatusCodes.BadUserAccessDenied,
        (S7ErrorSource.Header, HeaderFunctionNotAvailable) => S7StatusCodes.BadNotSupported,
        (S7ErrorSource.Item, ItemDataTypeNotSupported or ItemDataTypeInconsistent) => S7StatusCodes.BadTypeMismatch,
        (S7ErrorSource.Header, HeaderPduSizeExceeded) => S7StatusCodes.BadEncodingLimitsExceeded,
        (S7ErrorSource.Item, ItemHardwareFault) => S7StatusCodes.BadDeviceFailure,
        _ => S7StatusCodes.BadDeviceFailure,
    };
}

/// <summary>OPC UA status codes the S7 driver maps its failures onto.</summary>
public static class S7StatusCodes
{
    /// <summary>The CPU did not answer in time.</summary>
    public const uint BadNoCommunication = SampleStatus.BadNoCommunication;

    /// <summary>No connection: TCP refused, or the CPU refused the ISO connection (rack/slot, TSAP) or Setup Communication.</summary>
    public const uint BadNotConnected = SampleStatus.BadNotConnected;

    /// <summary>The connection broke or the answer made no sense.</summary>
    public const uint BadCommunicationError = SampleStatus.BadCommunicationError;

    /// <summary>Item 0x0A: the DB does not exist (or is optimized).</summary>
    public const uint BadNotFound = SampleStatus.BadNotFound;

    /// <summary>Item 0x05: the address lies past the end of the DB or area.</summary>
    public const uint BadOutOfRange = SampleStatus.BadOutOfRange;

    /// <summary>Header 0x8104: PUT/GET not permitted on an S7-1200/1500.</summary>
    public const uint BadNotSupported = SampleStatus.BadNotSupported;

    /// <summary>Item 0x03: access not allowed by the CPU's protection.</summary>
    public const uint BadUserAccessDenied = SampleStatus.BadUserAccessDenied;

    /// <summary>Item 0x06/0x07: the CPU does not accept the data type of the item.</summary>
    public const uint BadTypeMismatch = SampleStatus.BadTypeMismatch;

    /// <summary>Header 0x8500: the request or its answer exceeds the negotiated PDU.</summary>
    public const uint BadEncodingLimitsExceeded = SampleStatus.BadEncodingLimitsExceeded;

    /// <summary>The bytes read are no valid value of the tag's type (an S7 STRING longer than its maximum, BCD digits above 9).</summary>
    public const uint BadDataEncodingInvalid = SampleStatus.BadDataEncodingInvalid;

    /// <summary>Any other refusal by the CPU.</summary>
    public const uint BadDeviceFailure = SampleStatus.BadDeviceFailure;

    /// <summary>The status of the tags of a request that failed with <paramref name="exception"/>.</summary>
    public static uint For(Exception? exception) => exception switch
    {
        S7Exception s7 => s7.StatusCode,
        TimeoutException => BadNoCommunication,
        S7ConnectionException => BadNotConnected,
        _ => BadCommunicationError,
    };
}
