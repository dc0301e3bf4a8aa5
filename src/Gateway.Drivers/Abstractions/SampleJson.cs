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
            case SampleValueKind.Array:
                WriteArray(json, value.AsArray!);
                break;
            case SampleValueKind.Structure:
                var structure = value.AsStructure!;
                json.WriteStartObject();
                for (var i = 0; i < structure.Count; i++)
                {
                    json.WritePropertyName(structure.NameAt(i));
                    WriteValue(json, structure.ValueAt(i));
                }

                json.WriteEndObject();
                break;
            default:
                json.WriteNullValue();
                break;
        }
    }

    /// <summary>The value as JSON text (for logs, <see cref="SampleValue.ToString"/> of arrays and structures, and tests).</summary>
    public static string ToJson(SampleValue value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            WriteValue(json, value);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteArray(Utf8JsonWriter json, SampleArray array)
    {
        json.WriteStartArray();
        // By ElementType, not by array type patterns (see SampleArray's indexer).
        switch (array.ElementType)
        {
            case SourceType.Boolean:
                foreach (var item in (bool[])array.Items)
                {
                    json.WriteBooleanValue(item);
                }

                break;
            case SourceType.Float:
                foreach (var item in (float[])array.Items)
                {
                    if (float.IsFinite(item))
                    {
                        json.WriteNumberValue(item);
                    }
                    else
                    {
                        json.WriteNullValue();
                    }
                }

                break;
            case SourceType.Double:
                foreach (var item in (double[])array.Items)
                {
                    if (double.IsFinite(item))
                    {
                        json.WriteNumberValue(item);
                    }
                    else
                    {
                        json.WriteNullValue();
                    }
                }

                break;
            case SourceType.String:
                foreach (var item in (string[])array.Items)
                {
                    json.WriteStringValue(item);
                }

                break;
            case SourceType.DateTime:
                foreach (var item in (DateTime[])array.Items)
                {
                    json.WriteStringValue(item);
                }

                break;
            case SourceType.Int64:
                foreach (var item in (long[])array.Items)
                {
                    json.WriteNumberValue(item);
                }

                break;
            case SourceType.UInt64:
                foreach (var item in (ulong[])array.Items)
                {
                    json.WriteNumberValue(item);
                }

                break;
            default:
                // The narrower integers and the structures, element by element.
                for (var i = 0; i < array.Length; i++)
                {
                    WriteValue(json, array[i]);
                }

                break;
        }

        json.WriteEndArray();
    }
}
