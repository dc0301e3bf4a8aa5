using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Discovery;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Gateway.Drivers.OpcUa;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Microsoft.Extensions.Configuration;

namespace Gateway.Commissioning;

/// <summary>
/// The discovery calls of the commissioning page, each given the driver object being edited (saved or not): an OPC UA
/// node's children, an OPC UA folder's variables as proposed tags, a Modbus scan. Each opens its own connection to
/// the PLC and closes it; the running drivers are not touched.
/// </summary>
internal static partial class DiscoveryApi
{
    /// <summary>At most this many registers or bits per scan request (a scan is a burst of reads towards a PLC).</summary>
    public const int MaxScanAddresses = 4000;

    /// <summary>A folder selected whole: at most this many levels below it.</summary>
    public const int MaxFolderDepth = 6;

    public static async Task<JsonNode> OpcUaChildrenAsync(JsonObject driver, string? nodeId, string stateDirectory, CancellationToken ct)
    {
        await using var client = new UaClient(OpcUaOptions(driver, stateDirectory));
        await client.ConnectAsync(ct);
        try
        {
            var start = await ResolveAsync(client, nodeId, ct);
            var children = await OpcUaBrowser.ChildrenAsync(client, start, ct);
            return CommissioningJsonContext.Node(new OpcUaChildrenDocument(start.ToString(), children), CommissioningJsonContext.Default.OpcUaChildrenDocument);
        }
        finally
        {
            await client.CloseAsync(CancellationToken.None);
        }
    }

    public static async Task<JsonNode> OpcUaFolderAsync(JsonObject driver, string? nodeId, string stateDirectory, CancellationToken ct)
    {
        await using var client = new UaClient(OpcUaOptions(driver, stateDirectory));
        await client.ConnectAsync(ct);
        try
        {
            var start = await ResolveAsync(client, nodeId, ct);
            var tree = await OpcUaBrowser.BrowseTreeAsync(client, start, MaxFolderDepth, ct);
            return CommissioningJsonContext.Node(new OpcUaFolderDocument(start.ToString(), TagEmitter.OpcUa(tree)), CommissioningJsonContext.Default.OpcUaFolderDocument);
        }
        finally
        {
            await client.CloseAsync(CancellationToken.None);
        }
    }

    /// <summary>The scan table: each register as u16/i16 and each pair as float32/int32 in the four word orders.</summary>
    public static async Task<JsonNode> ModbusScanAsync(JsonObject driver, string? rangesText, int? unitOverride, CancellationToken ct)
    {
        var settings = BindModbus(driver);
        var ranges = new List<ScanRange>();
        if (ModbusRangeReader.ParseRanges(rangesText ?? ModbusLink.DefaultScanRanges, ranges) is { } problem)
        {
            throw new ArgumentException("ranges " + problem);
        }

        if (ranges.Sum(r => r.Last - r.First + 1) > MaxScanAddresses)
        {
            throw new ArgumentException($"ranges: at most {MaxScanAddresses} addresses per scan");
        }

        var unit = unitOverride ?? settings.UnitId;
        await using var client = ModbusClientFor(driver, settings);
        var timeout = TimeSpan.FromMilliseconds(settings.TimeoutMs);
        var result = new List<ModbusScanRangeDocument>();
        foreach (var range in ranges)
        {
            var scanned = await ModbusRangeReader.ReadRangeAsync(client, (byte)unit, range, Math.Min(64, range.Table.MaxReadCount()), timeout, ct);
            result.Add(Rows(scanned));
        }

        return CommissioningJsonContext.Node(new ModbusScanDocument(unit, result), CommissioningJsonContext.Default.ModbusScanDocument);
    }

    /// <summary>The unit ids that answer holding:0 on the driver's line or TCP gateway (<see cref="ModbusUnitFinder"/>).</summary>
    public static async Task<JsonNode> ModbusUnitsAsync(JsonObject driver, string? unitsText, int? timeoutMs, CancellationToken ct)
    {
        var settings = BindModbus(driver);
        var text = string.IsNullOrWhiteSpace(unitsText) ? "1-247" : unitsText.Trim();
        if (!ModbusRangeReader.TryRange(text, out var first, out var last) || first < 1 || last > 247)
        {
            throw new ArgumentException($"units '{text}' must be FIRST-LAST between 1 and 247");
        }

        // A missing unit costs one timeout: the whole scan must end within the discovery call's time.
        var timeout = timeoutMs ?? Math.Min(settings.TimeoutMs, DefaultUnitTimeoutMs);
        if (timeout is < 10 or > 5000 || (long)(last - first + 1) * timeout > MaxUnitScanMs)
        {
            throw new ArgumentException($"timeoutMs {timeout} for {last - first + 1} unit ids: give 10 to 5000 ms and at most {MaxUnitScanMs / 1000} s in all (narrow the units or shorten the timeout)");
        }

        await using var client = ModbusClientFor(driver, settings);
        var answers = await ModbusUnitFinder.FindAsync(client, first, last, TimeSpan.FromMilliseconds(timeout), ct);
        return CommissioningJsonContext.Node(
            new ModbusUnitsDocument(first, last, timeout, answers.Select(a => new ModbusUnitDocument(a.Unit, a.Value, a.Exception is { } c ? (byte?)c : null, a.Exception is { } e ? ModbusException.Name((byte)e) : null))),
            CommissioningJsonContext.Default.ModbusUnitsDocument);
    }

    /// <summary>Per unit id of a unit scan, unless the call gives <c>timeoutMs</c>.</summary>
    public const int DefaultUnitTimeoutMs = 300;

    /// <summary>A unit scan asks at most for this long in all (the discovery call gives up after 60 s).</summary>
    public const int MaxUnitScanMs = 50_000;

    /// <summary>A client on the driver's TCP target, RTU-over-TCP converter or serial line, as <c>modbus scan</c> opens it.</summary>
    private static ModbusClient ModbusClientFor(JsonObject driver, ModbusSettings settings)
    {
        var serial = string.Equals((string?)driver["type"], "modbus-rtu", StringComparison.Ordinal);
        if (!serial && string.IsNullOrWhiteSpace(settings.Host))
        {
            throw new ArgumentException("host: give the PLC's address");
        }

        return new ModbusClient(ModbusLink.Open(settings.Host ?? "", settings.Port, settings.RtuOverTcp, serial ? settings.SerialPort : null, settings.Baud, settings.Parity));
    }

    private static ModbusScanRangeDocument Rows(ScannedRange scan)
    {
        var table = ModbusAddress.TableName(scan.Range.Table);
        var bits = scan.Range.Table.IsBitTable();
        var rows = new List<object>(scan.Values.Count);
        Span<ushort> pair = stackalloc ushort[2];
        foreach (var (address, value) in scan.Values)
        {
            if (bits)
            {
                rows.Add(new ModbusBitRow(address, value));
                continue;
            }

            Dictionary<string, string>? f32 = null;
            Dictionary<string, long>? i32 = null;
            if (scan.Values.TryGetValue(address + 1, out var next))
            {
                pair[0] = value;
                pair[1] = next;
                f32 = [];
                i32 = [];
                foreach (var order in (ModbusWordOrder[])[ModbusWordOrder.ABCD, ModbusWordOrder.CDAB, ModbusWordOrder.BADC, ModbusWordOrder.DCBA])
                {
                    // As text: a pair that is not a float is often NaN or 1e-39, which JSON numbers cannot all carry.
                    f32[order.ToString()] = ModbusValueCodec.Decode(pair, new ModbusValueFormat(ModbusDataType.Float32, order)).AsDouble.ToString("G7", CultureInfo.InvariantCulture);
                    i32[order.ToString()] = ModbusValueCodec.Decode(pair, new ModbusValueFormat(ModbusDataType.Int32, order)).AsInteger;
                }
            }

            rows.Add(new ModbusRegisterRow(address, value, "0x" + value.ToString("X4", CultureInfo.InvariantCulture), value, (short)value, f32, i32));
        }

        return new ModbusScanRangeDocument(table, scan.Range.First, scan.Range.Last, bits, rows, scan.Holes.Select(h => new ModbusScanHole(h.First, h.Last, (byte)h.Code, h.Code.ToString())));
    }

    /// <summary>The client options of an opcua driver object, as the driver itself would connect.</summary>
    internal static UaClientOptions OpcUaOptions(JsonObject driver, string stateDirectory)
    {
        var settings = BindOpcUa(driver);
        if (string.IsNullOrWhiteSpace(settings.EndpointUrl))
        {
            throw new ArgumentException("endpointUrl: give the server's opc.tcp:// address");
        }

        if (SecurityChoice.Check(settings.SecurityPolicy, settings.SecurityMode) is [var problem, ..])
        {
            throw new ArgumentException((problem.Field == SecurityChoiceField.Policy ? "securityPolicy: " : "securityMode: ") + problem.Reason);
        }

        UaClient.ParseEndpoint(settings.EndpointUrl);
        return new UaClientOptions
        {
            EndpointUrl = settings.EndpointUrl,
            SecurityPolicy = settings.SecurityPolicy,
            SecurityMode = settings.SecurityMode,
            UserName = settings.Username,
            Password = settings.PasswordFile is null ? null : File.ReadAllText(settings.PasswordFile).TrimEnd('\r', '\n'),
            UserCertificate = settings.UserCertificateFile is null ? null : CertificateStore.LoadUserCertificate(settings.UserCertificateFile, settings.UserKeyFile!),
            ApplicationUri = settings.ApplicationUri,
            SessionName = "iiot-gateway/commissioning",
            RequestTimeout = TimeSpan.FromMilliseconds(settings.RequestTimeoutMs),
            PkiDirectory = settings.PkiDirectory ?? Path.Combine(stateDirectory, "pki"),
            ServerCertificateTrust = settings.TrustServerCertificate == "tofu" ? ServerCertificateTrust.TrustOnFirstUse : ServerCertificateTrust.TrustList,
        };
    }

    private static async Task<NodeId> ResolveAsync(UaClient client, string? nodeId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(nodeId))
        {
            return new NodeId(0, 85u); // the Objects folder
        }

        if (!ExpandedNodeId.TryParse(nodeId, out var id))
        {
            throw new ArgumentException($"nodeId '{nodeId}' is not a NodeId");
        }

        return await client.ResolveNamespaceAsync(id, ct) ?? throw new ArgumentException($"the server has no namespace {id.NamespaceUri}");
    }

    /// <summary>An opcua driver object bound to its settings, as the factory binds its section.</summary>
    internal static OpcUaSettings BindOpcUa(JsonObject driver)
    {
        var settings = new OpcUaSettings();
        ClosedChoice.Spelled(Root(driver), typeof(OpcUaSettings)).Bind(settings);
        return settings;
    }

    /// <summary>A modbus driver object bound to its settings, as the factory binds its section.</summary>
    internal static ModbusSettings BindModbus(JsonObject driver)
    {
        var settings = new ModbusSettings();
        Root(driver).Bind(settings);
        return settings;
    }

    // Concrete types (not a generic Bind<T>): the trimmed publish's configuration binder is source-generated.
    private static IConfigurationRoot Root(JsonObject driver) =>
        new ConfigurationBuilder().Add(new IndexedJsonConfigurationSource { Stream = new MemoryStream(Encoding.UTF8.GetBytes(driver.ToJsonString())) }).Build();
}
