using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Drivers.Modbus;

namespace Gateway.Discovery;

/// <summary>
/// The <c>--emit-tags</c> output of the discovery verbs: a <c>tags[]</c> JSON fragment that check-config accepts
/// inside a driver of the same family, with a name and UNS path proposed from the address or the browse path.
/// </summary>
internal static class TagEmitter
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The fragment, indented: paste it as the <c>tags</c> of a driver.</summary>
    public static string ToJson(IEnumerable<JsonObject> tags) => new JsonArray([.. tags]).ToJsonString(s_indented);

    /// <summary>
    /// A Modbus tag: name and path <c>holding-183</c> (the printed address, so with <paramref name="addressBase"/>), the
    /// wire address (the driver's default <c>addressBase</c> 0), the type and, for a multi-register value, its order.
    /// </summary>
    public static JsonObject Modbus(ModbusTable table, int wireAddress, ModbusDataType type, ModbusWordOrder order, int addressBase = 0)
    {
        var name = ModbusAddress.TableName(table) + "-" + (wireAddress + addressBase).ToString(CultureInfo.InvariantCulture);
        var tag = new JsonObject
        {
            ["name"] = name,
            ["address"] = ModbusAddress.TableName(table) + ":" + wireAddress.ToString(CultureInfo.InvariantCulture),
            ["type"] = type.ToString().ToLowerInvariant(),
        };
        if (new ModbusValueFormat(type, order).RegisterCount > 1 && order != ModbusWordOrder.ABCD)
        {
            tag["order"] = order.ToString();
        }

        return tag;
    }

    /// <summary>
    /// The variables of a browsed tree (not the standard ones of namespace 0, not the properties of a variable):
    /// address the NodeId, path the browse names below the start node in lower case joined by '/', name the path
    /// with '.' for '/', type from the DataType (a type the gateway does not name is left out: the driver reads it as it comes).
    /// </summary>
    public static List<JsonObject> OpcUa(OpcUaBrowser.TreeNode root)
    {
        var tags = new List<JsonObject>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in root.Children ?? [])
        {
            Walk(child, [], parentIsVariable: false, tags, names);
        }

        return tags;
    }

    /// <summary>An OPC UA built-in DataType as a tag type; null for others (structures, enumerations, DateTime...).</summary>
    public static string? OpcUaType(string? dataType) => dataType switch
    {
        "Boolean" => "bool",
        "SByte" or "Int16" => "int16",
        "Byte" or "UInt16" => "uint16",
        "Int32" => "int32",
        "UInt32" => "uint32",
        "Int64" => "int64",
        "UInt64" => "uint64",
        "Float" => "float32",
        "Double" => "float64",
        "String" or "LocalizedText" => "string",
        _ => null,
    };

    /// <summary>A UNS level from a display or browse name: lower case, spaces and characters MQTT reserves as '-'.</summary>
    public static string Level(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && int.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            text = text[(colon + 1)..]; // "1:Temperature": the namespace index is not part of the name
        }

        var level = new StringBuilder(text.Length);
        foreach (var c in text.Trim())
        {
            level.Append(char.IsLetterOrDigit(c) || c is '_' or '.' ? char.ToLowerInvariant(c) : '-');
        }

        var result = level.ToString().Trim('-');
        return result.Length == 0 ? "node" : result;
    }

    private static void Walk(OpcUaBrowser.TreeNode node, List<string> path, bool parentIsVariable, List<JsonObject> tags, HashSet<string> names)
    {
        var here = new List<string>(path) { Level(node.BrowseName) };
        var isVariable = node.NodeClass == "Variable";
        var standard = !node.NodeId.StartsWith("ns=", StringComparison.Ordinal) && !node.NodeId.StartsWith("nsu=", StringComparison.Ordinal);
        if (isVariable && !parentIsVariable && !standard)
        {
            var proposed = string.Join('/', here);
            var unsPath = proposed;
            for (var i = 2; !names.Add(unsPath); i++)
            {
                unsPath = proposed + "-" + i.ToString(CultureInfo.InvariantCulture);
            }

            var name = unsPath.Replace('/', '.');

            var tag = new JsonObject { ["name"] = name, ["path"] = unsPath, ["address"] = node.NodeId };
            if (OpcUaType(node.DataType) is { } type)
            {
                tag["type"] = type;
            }

            tags.Add(tag);
        }

        foreach (var child in node.Children ?? [])
        {
            Walk(child, here, isVariable, tags, names);
        }
    }
}
