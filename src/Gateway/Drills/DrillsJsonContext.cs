using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Drills;

/// <summary>
/// The drills' JSON documents (<c>/api/drill</c>, the answer to a drill action, the <c>drill</c> member of
/// <c>/api/status</c>), source-generated with the web defaults of every API document. Kept here so that the
/// dashboard's context does not reach into the drills, which use the dashboard (docs/architecture.md).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DrillState))]
[JsonSerializable(typeof(DrillAnswer))]
internal sealed partial class DrillsJsonContext : JsonSerializerContext;
