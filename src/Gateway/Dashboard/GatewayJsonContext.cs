using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Gateway.Oee;

namespace Gateway.Dashboard;

/// <summary>
/// The dashboard's JSON documents (status, session, OEE, the live stream, the error body), with their serializer
/// compiled in (System.Text.Json source generation): no reflection over the documents at run time, so the native AOT
/// build (docs/performance.md, sixth round) writes the same bytes as the JIT one. A type missing here fails at the
/// first call with "JsonTypeInfo metadata for type ... was not provided", in both builds. Each layer that writes JSON
/// of its own has its own context beside it (Drills, Commissioning, Oee, Hosting, Cli), so that none reaches into
/// another layer for it (docs/architecture.md). camelCase names and ISO 8601 times: the ASP.NET Core web defaults.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonArray))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(StatusDocument))]
[JsonSerializable(typeof(SessionDocument))]
[JsonSerializable(typeof(OeeReport))]
[JsonSerializable(typeof(OeePeriod))]
[JsonSerializable(typeof(IReadOnlyList<OeeDowntimeReason>))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext
{
    /// <summary>The same documents with relaxed escaping (a time reads +01:00 with curl).</summary>
    public static GatewayJsonContext Relaxed { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}

/// <summary><c>{"error": "..."}</c>, the body of every refused API call.</summary>
internal sealed record ApiError(string Error);
