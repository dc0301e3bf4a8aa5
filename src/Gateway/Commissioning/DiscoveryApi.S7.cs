using System.Text.Json.Nodes;
using Gateway.Discovery;
using Gateway.Drivers.S7;
using Microsoft.Extensions.Configuration;

namespace Gateway.Commissioning;

/// <summary>The S7 scan of the commissioning page: a DB's bytes, every offset in every S7 interpretation.</summary>
internal static partial class DiscoveryApi
{
    /// <summary>
    /// Reads <paramref name="length"/> bytes of DB <paramref name="db"/> from <paramref name="start"/> with the
    /// driver object's host, port, rack and slot (or TSAPs), PDU size and timeout, and answers the rows.
    /// </summary>
    public static async Task<JsonNode> S7ScanAsync(JsonObject driver, int? db, int? start, int? length, CancellationToken ct)
    {
        var settings = BindS7(driver);
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            throw new ArgumentException("host: give the CPU's address");
        }

        if (db is not (>= 1 and <= 65535))
        {
            throw new ArgumentException("db: give the DB number, 1 to 65535");
        }

        var first = start ?? 0;
        var count = length ?? 64;
        if (first < 0 || count is < 1 or > S7DbReader.MaxBytes)
        {
            throw new ArgumentException($"start must be 0 or more and length 1 to {S7DbReader.MaxBytes} bytes");
        }

        var (local, remote) = Tsaps(settings);
        await using var client = new S7Client(new S7IsoTransport(settings.Host, settings.Port, local, remote), TimeProvider.System, settings.PduSize);
        var bytes = await S7DbReader.ReadAsync(client, db.Value, first, count, TimeSpan.FromMilliseconds(settings.TimeoutMs), ct);
        return CommissioningJsonContext.Node(new S7ScanDocument(db, first, count, client.PduSize, client.RequestCount, S7DbReader.Rows(db.Value, first, bytes)), CommissioningJsonContext.Default.S7ScanDocument);
    }

    /// <summary>Our TSAP and the CPU's, as the driver takes them: <c>localTsap</c>/<c>remoteTsap</c>, or rack and slot (slot 1 when neither is given).</summary>
    private static (ushort Local, ushort Remote) Tsaps(S7Settings settings)
    {
        if (settings.LocalTsap is null && settings.RemoteTsap is null)
        {
            if (settings.Rack is < 0 or > 7 || settings.Slot is < 0 or > 31)
            {
                throw new ArgumentException("rack runs from 0 to 7 and slot from 0 to 31");
            }

            return (S7DriverFactory.DefaultLocalTsap, S7Wire.RemoteTsap(settings.Rack, settings.Slot ?? 1));
        }

        if (!S7DriverFactory.TryParseTsap(settings.LocalTsap, out var local) || !S7DriverFactory.TryParseTsap(settings.RemoteTsap, out var remote))
        {
            throw new ArgumentException("localTsap and remoteTsap: give both, in hex (for example 01.00 and 02.00)");
        }

        return (local, remote);
    }

    /// <summary>An s7 driver object bound to its settings, as the factory binds its section.</summary>
    internal static S7Settings BindS7(JsonObject driver)
    {
        var settings = new S7Settings();
        Root(driver).Bind(settings);
        return settings;
    }
}
