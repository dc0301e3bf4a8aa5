using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Gateway.Configuration;
using Gateway.Dashboard;
using Gateway.Discovery;

namespace Gateway.Commissioning;

/// <summary>
/// The JSON answers of the commissioning API, source-generated (see <see cref="GatewayJsonContext"/>): the same
/// camelCase documents the page has always read, without reflection over anonymous types.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(ConfigDocument))]
[JsonSerializable(typeof(SaveDocument))]
[JsonSerializable(typeof(TrustDocument))]
[JsonSerializable(typeof(PreviewDocument))]
[JsonSerializable(typeof(PreviewRefusal))]
[JsonSerializable(typeof(OpcUaChildrenDocument))]
[JsonSerializable(typeof(OpcUaFolderDocument))]
[JsonSerializable(typeof(OpcUaCertificatesDocument))]
[JsonSerializable(typeof(ModbusScanDocument))]
[JsonSerializable(typeof(ModbusBitRow))]
[JsonSerializable(typeof(ModbusRegisterRow))]
[JsonSerializable(typeof(ModbusUnitsDocument))]
[JsonSerializable(typeof(S7ScanDocument))]
internal sealed partial class CommissioningJsonContext : JsonSerializerContext
{
    /// <summary>A discovery answer as the node the commissioning endpoint writes.</summary>
    public static JsonNode Node<T>(T document, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.SerializeToNode(document, typeInfo)!;
}

internal sealed record ConfigDocument(string Hash, string Path, string Format, IEnumerable<string> DriverTypes, JsonObject Document);

internal sealed record SaveDocument(string Result, IEnumerable<ProblemDocument> Problems, IReadOnlyList<string> Changes, string? Backup, string Hash, ReloadDocument? Reload);

internal sealed record TrustDocument(string Trusted, string Path, string Subject, string Thumbprint);

internal sealed record PreviewDocument(string Format, List<PreviewSample> Samples);

internal sealed record PreviewRefusal(string Error, IEnumerable<ProblemDocument> Problems);

internal sealed record OpcUaChildrenDocument(string NodeId, List<OpcUaChild> Children);

internal sealed record OpcUaFolderDocument(string NodeId, List<JsonObject> Tags);

internal sealed record OpcUaCertificatesDocument(string EndpointUrl, string TrustedDirectory, List<ServerCertificateInfo> Certificates);

internal sealed record ModbusScanDocument(int Unit, List<ModbusScanRangeDocument> Ranges);

/// <summary>One range of a scan; its rows are <see cref="ModbusBitRow"/> (coils, discrete inputs) or <see cref="ModbusRegisterRow"/>.</summary>
internal sealed record ModbusScanRangeDocument(string Table, int First, int Last, bool Bits, List<object> Rows, IEnumerable<ModbusScanHole> Holes);

internal sealed record ModbusBitRow(int Address, ushort Raw);

internal sealed record ModbusRegisterRow(int Address, ushort Raw, string Hex, ushort U16, short I16, Dictionary<string, string>? F32, Dictionary<string, long>? I32);

internal sealed record ModbusScanHole(int First, int Last, byte Code, string Reason);

internal sealed record ModbusUnitsDocument(int First, int Last, int TimeoutMs, IEnumerable<ModbusUnitDocument> Units);

internal sealed record ModbusUnitDocument(int Unit, ushort? Value, byte? Exception, string? Reason);

internal sealed record S7ScanDocument(int? Db, int Start, int Length, int PduSize, long Jobs, List<S7ScanRow> Rows);
