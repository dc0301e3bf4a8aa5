using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Discovery;

namespace Gateway.Cli;

/// <summary>The JSON the verbs print (<c>opcua browse --json</c>), source-generated like every JSON of the gateway.</summary>
[JsonSerializable(typeof(OpcUaBrowser.TreeNode))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    /// <summary>Indented, relaxed escaping, the property names as declared: what a person reads in a terminal.</summary>
    public static CliJsonContext Indented { get; } = new(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
