using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Configuration;

namespace Gateway.Hosting;

/// <summary>
/// The host's own JSON documents (<c>/health</c>, the reload answer), source-generated like the lower layers' in
/// <see cref="Dashboard.GatewayJsonContext"/> and with the same web defaults (camelCase, ISO 8601 times). Kept here
/// so that the dashboard's context does not reach up into the host (docs/architecture.md).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(HealthDocument))]
[JsonSerializable(typeof(ReloadDocument))]
internal sealed partial class HostingJsonContext : JsonSerializerContext;
