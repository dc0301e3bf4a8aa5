using System.Collections.Concurrent;
using System.Globalization;

namespace Gateway.Drivers;

/// <summary>
/// The one table of status codes (OPC 10000-4 §7.39; the numbers are OPC UA's) that samples carry with their
/// <see cref="Quality"/>: every driver maps its failures onto these, the OPC UA client reacts to them, and the CLI,
/// the logs and the API print them as <see cref="Describe"/> does, <c>BadSensorFailure (0x808C0000)</c>.
/// </summary>
public static class SampleStatus
{
    public const uint Good = 0;
    public const uint UncertainLastUsableValue = 0x40900000;
    public const uint BadUnexpectedError = 0x80010000;
    public const uint BadInternalError = 0x80020000;
    public const uint BadCommunicationError = 0x80050000;
    public const uint BadEncodingError = 0x80060000;
    public const uint BadDecodingError = 0x80070000;
    public const uint BadEncodingLimitsExceeded = 0x80080000;
    public const uint BadTimeout = 0x800A0000;
    public const uint BadServiceUnsupported = 0x800B0000;
    public const uint BadShutdown = 0x800C0000;
    public const uint BadServerNotConnected = 0x800D0000;
    public const uint BadNothingToDo = 0x800F0000;
    public const uint BadTooManyOperations = 0x80100000;
    public const uint BadCertificateInvalid = 0x80120000;
    public const uint BadSecurityChecksFailed = 0x80130000;
    public const uint BadCertificateTimeInvalid = 0x80140000;
    public const uint BadCertificateUriInvalid = 0x80170000;
    public const uint BadCertificateUntrusted = 0x801A0000;
    public const uint BadUserAccessDenied = 0x801F0000;
    public const uint BadIdentityTokenInvalid = 0x80200000;
    public const uint BadIdentityTokenRejected = 0x80210000;
    public const uint BadSecureChannelIdInvalid = 0x80220000;
    public const uint BadNonceInvalid = 0x80240000;
    public const uint BadSessionIdInvalid = 0x80250000;
    public const uint BadSessionClosed = 0x80260000;
    public const uint BadSessionNotActivated = 0x80270000;
    public const uint BadSubscriptionIdInvalid = 0x80280000;
    public const uint BadNoCommunication = 0x80310000;
    public const uint BadWaitingForInitialData = 0x80320000;
    public const uint BadNodeIdInvalid = 0x80330000;
    public const uint BadNodeIdUnknown = 0x80340000;
    public const uint BadAttributeIdInvalid = 0x80350000;
    public const uint BadDataEncodingInvalid = 0x80380000;
    public const uint BadDataEncodingUnsupported = 0x80390000;
    public const uint BadNotReadable = 0x803A0000;
    public const uint BadNotWritable = 0x803B0000;
    public const uint BadOutOfRange = 0x803C0000;
    public const uint BadNotSupported = 0x803D0000;
    public const uint BadNotFound = 0x803E0000;
    public const uint BadMonitoredItemFilterInvalid = 0x80430000;
    public const uint BadMonitoredItemFilterUnsupported = 0x80440000;
    public const uint BadFilterNotAllowed = 0x80450000;
    public const uint BadContinuationPointInvalid = 0x804A0000;
    public const uint BadNoContinuationPoints = 0x804B0000;
    public const uint BadTooManySessions = 0x80560000;
    public const uint BadApplicationSignatureInvalid = 0x80580000;
    public const uint BadTypeMismatch = 0x80740000;
    public const uint BadTooManyPublishRequests = 0x80780000;
    public const uint BadNoSubscription = 0x80790000;
    public const uint BadSequenceNumberUnknown = 0x807A0000;
    public const uint BadMessageNotAvailable = 0x807B0000;
    public const uint BadTcpMessageTypeInvalid = 0x807E0000;
    public const uint BadTcpSecureChannelUnknown = 0x807F0000;
    public const uint BadTcpMessageTooLarge = 0x80800000;
    public const uint BadTcpEndpointUrlInvalid = 0x80830000;
    public const uint BadRequestTimeout = 0x80850000;
    public const uint BadSecureChannelClosed = 0x80860000;
    public const uint BadSecureChannelTokenUnknown = 0x80870000;
    public const uint BadSequenceNumberInvalid = 0x80880000;
    public const uint BadNotConnected = 0x808A0000;
    public const uint BadDeviceFailure = 0x808B0000;
    public const uint BadSensorFailure = 0x808C0000;
    public const uint BadDeadbandFilterInvalid = 0x808E0000;
    public const uint BadDisconnect = 0x80AD0000;
    public const uint BadConnectionClosed = 0x80AE0000;
    public const uint BadRequestTooLarge = 0x80B80000;
    public const uint BadResponseTooLarge = 0x80B90000;
    public const uint BadTooManyMonitoredItems = 0x80DB0000;

    private static readonly Dictionary<uint, string> s_names = typeof(SampleStatus)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(uint))
        .GroupBy(f => (uint)f.GetRawConstantValue()!)
        .ToDictionary(g => g.Key, g => g.First().Name);

    private const int DescribeCacheLimit = 1024;

    private static readonly ConcurrentDictionary<uint, string> s_described = new();

    /// <summary>The symbolic name when known (ignoring the info bits), else the hex code.</summary>
    public static string Name(uint code) =>
        s_names.TryGetValue(code & 0xFFFF0000, out var name) ? name : Hex(code);

    /// <summary>
    /// The name and the code, <c>BadSensorFailure (0x808C0000)</c>; the hex code alone when the name is unknown.
    /// Cached per code (/api/tags and the dashboard ask per tag per frame); a server sending ever new codes
    /// fills the cache up to <see cref="DescribeCacheLimit"/> entries, the rest is formatted each time.
    /// </summary>
    public static string Describe(uint code)
    {
        if (s_described.TryGetValue(code, out var text))
        {
            return text;
        }

        text = s_names.TryGetValue(code & 0xFFFF0000, out var name) ? $"{name} ({Hex(code)})" : Hex(code);
        if (s_described.Count < DescribeCacheLimit)
        {
            s_described.TryAdd(code, text);
        }

        return text;
    }

    /// <summary>A quality as the API and the UNS payloads write it: <c>Good</c>, <c>Uncertain</c> or <c>Bad</c>.</summary>
    public static string Name(Quality quality) => quality switch
    {
        Quality.Good => "Good",
        Quality.Uncertain => "Uncertain",
        _ => "Bad",
    };

    private static string Hex(uint code) => "0x" + code.ToString("X8", CultureInfo.InvariantCulture);
}
