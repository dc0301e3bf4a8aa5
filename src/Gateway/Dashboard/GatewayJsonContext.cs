using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Gateway.Commissioning;
using Gateway.Discovery;
using Gateway.Drills;
using Gateway.Oee;

namespace Gateway.Dashboard;

/// <summary>
/// Every JSON document the HTTP API, the live stream, the OEE store and the CLI write or read, with its serializer
/// compiled in (System.Text.Json source generation): no reflection over the documents at run time, so the native AOT
/// build (docs/performance.md, sixth round) writes the same bytes as the JIT one. A type missing here fails at the
/// first call with "JsonTypeInfo metadata for type ... was not provided", in both builds.
/// camelCase names and ISO 8601 times: the ASP.NET Core web defaults.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonArray))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(StatusDocument))]
[JsonSerializable(typeof(SessionDocument))]
[JsonSerializable(typeof(OeeReport))]
[JsonSerializable(typeof(DrillState))]
[JsonSerializable(typeof(DrillAnswer))]
[JsonSerializable(typeof(OeePeriod))]
[JsonSerializable(typeof(IReadOnlyList<OeeDowntimeReason>))]
[JsonSerializable(typeof(OeeHistoryBody))]
[JsonSerializable(typeof(OpcUaBrowser.TreeNode))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext
{
    /// <summary>The same documents with relaxed escaping (a time reads +01:00 with curl), indented when asked.</summary>
    public static GatewayJsonContext Relaxed { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>As <see cref="Relaxed"/>, indented, with the property names as declared (the CLI's <c>--json</c>).</summary>
    public static GatewayJsonContext Indented { get; } = new(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}

/// <summary><c>{"error": "..."}</c>, the body of every refused API call.</summary>
internal sealed record ApiError(string Error);

/// <summary><c>{"path", "reason"}</c>: one problem of a refused configuration.</summary>
internal sealed record ProblemDocument(string Path, string Reason);
