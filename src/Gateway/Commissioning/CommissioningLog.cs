namespace Gateway.Commissioning;

/// <summary>Audit lines of the commissioning page beyond the save's (1760/1761, <see cref="ConfigSaver"/>).</summary>
internal static partial class CommissioningLog
{
    [LoggerMessage(EventId = 1762, Level = LogLevel.Warning, Message = "Server certificate trusted from the commissioning page by {Origin}: '{Subject}' (SHA-1 {Thumbprint}) of {EndpointUrl}, written to {Path}")]
    public static partial void ServerCertificateTrusted(ILogger logger, string origin, string subject, string thumbprint, string endpointUrl, string path);
}
