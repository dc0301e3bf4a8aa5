using System.Text.Json;

namespace Gateway.Drivers;

/// <summary>How a sample value is written as JSON, in one place for every output (UNS payloads, /api/tags, the dashboard).</summary>
public static class SampleJson
{
    /// <summary>
    /// Booleans, integers at their width (unsigned above <see cref="long.MaxValue"/> exact), a float32 as the shortest
    /// text that reads back as the same float32 (22.1, where the double would print 22.100000381469727), doubles,
    /// strings; null when there is no value or it is not finite (JSON has no NaN).
    /// </summary>
    public static void WriteValue(Utf8JsonWriter json, SampleValue value)
    {
        switch (value.Kind)
        {
            case SampleValueKind.Boolean:
                json.WriteBooleanValue(value.AsBoolean);
                break;
            case SampleValueKind.Integer:
                json.WriteNumberValue(value.AsInteger);
                break;
            case SampleValueKind.UnsignedInteger:
                json.WriteNumberValue(value.AsUnsignedInteger);
                break;
            case SampleValueKind.Float when float.IsFinite(value.AsFloat):
                // Formats the float itself, the shortest round-trip text (as float.ToString("R"); SampleJsonTests checks it).
                json.WriteNumberValue(value.AsFloat);
                break;
            case SampleValueKind.Double when double.IsFinite(value.AsDouble):
                json.WriteNumberValue(value.AsDouble);
                break;
            case SampleValueKind.String:
                json.WriteStringValue(value.AsString);
                break;
            default:
                json.WriteNullValue();
                break;
        }
    }
}
