using System.Globalization;
using System.Text.Json;
using Gateway.Drivers;

namespace Gateway.Configuration;

/// <summary>The value kinds a write is checked against, from a tag's configured <c>type</c> (any driver's spelling).</summary>
public enum TagWriteType
{
    /// <summary>No configured type (OPC UA takes the node's own): any bool, number or string; the driver converts.</summary>
    Any,
    Boolean,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float32,
    Float64,
    Text,
}

/// <summary>Parsing and range facts of <see cref="TagWriteType"/>.</summary>
public static class TagWriteTypes
{
    /// <summary>
    /// The write type of a configured tag type: Modbus (<c>int16</c>, <c>float32</c>), S7 (<c>INT</c>, <c>REAL</c>,
    /// <c>DWORD</c>), OPC UA (<c>Double</c>, <c>UInt32</c>) names; <see cref="TagWriteType.Any"/> when absent or unknown.
    /// </summary>
    public static TagWriteType Parse(string? type) => type?.Trim().ToLowerInvariant() switch
    {
        "bool" or "boolean" or "bit" => TagWriteType.Boolean,
        "int8" or "sbyte" or "sint" => TagWriteType.Int8,
        "uint8" or "byte" or "usint" => TagWriteType.UInt8,
        "int16" or "short" or "int" => TagWriteType.Int16,
        "uint16" or "ushort" or "uint" or "word" => TagWriteType.UInt16,
        "int32" or "dint" => TagWriteType.Int32,
        "uint32" or "udint" or "dword" => TagWriteType.UInt32,
        "int64" or "long" or "lint" => TagWriteType.Int64,
        "uint64" or "ulong" or "ulint" or "lword" => TagWriteType.UInt64,
        "float32" or "float" or "real" => TagWriteType.Float32,
        "float64" or "double" or "lreal" => TagWriteType.Float64,
        "string" or "wstring" => TagWriteType.Text,
        _ => TagWriteType.Any,
    };

    /// <summary>Whether the type holds whole numbers.</summary>
    public static bool IsInteger(TagWriteType type) => type is >= TagWriteType.Int8 and <= TagWriteType.UInt64;

    /// <summary>The raw range of an integer type, as doubles (the 64-bit ends are checked again exactly).</summary>
    public static (double Min, double Max) Range(TagWriteType type) => type switch
    {
        TagWriteType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        TagWriteType.UInt8 => (byte.MinValue, byte.MaxValue),
        TagWriteType.Int16 => (short.MinValue, short.MaxValue),
        TagWriteType.UInt16 => (ushort.MinValue, ushort.MaxValue),
        TagWriteType.Int32 => (int.MinValue, int.MaxValue),
        TagWriteType.UInt32 => (uint.MinValue, uint.MaxValue),
        TagWriteType.Int64 => (long.MinValue, long.MaxValue),
        TagWriteType.UInt64 => (0, ulong.MaxValue),
        TagWriteType.Float32 => (-float.MaxValue, float.MaxValue),
        _ => (double.MinValue, double.MaxValue),
    };

    /// <summary>
    /// A JSON value as a sample value: <c>true</c>/<c>false</c>, a number (whole numbers as integers, exact up to 64 bits),
    /// a string. Null, objects and arrays are no write value: false.
    /// </summary>
    public static bool TryFromJson(JsonElement element, out SampleValue value)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.True:
                value = SampleValue.FromBoolean(true);
                return true;
            case JsonValueKind.False:
                value = SampleValue.FromBoolean(false);
                return true;
            case JsonValueKind.String:
                value = SampleValue.FromString(element.GetString()!);
                return true;
            case JsonValueKind.Number:
                if (element.TryGetInt64(out var integer))
                {
                    value = SampleValue.FromInteger(integer);
                }
                else if (element.TryGetUInt64(out var unsigned))
                {
                    value = SampleValue.FromUnsignedInteger(unsigned);
                }
                else
                {
                    value = SampleValue.FromDouble(element.GetDouble());
                }

                return true;
            default:
                value = SampleValue.None;
                return false;
        }
    }

    /// <summary>A value as an audit line writes it: strings quoted, numbers invariant.</summary>
    public static string Describe(SampleValue value) => value.Kind switch
    {
        SampleValueKind.None => "(none)",
        SampleValueKind.String => "\"" + value.AsString + "\"",
        SampleValueKind.Boolean => value.AsBoolean ? "true" : "false",
        SampleValueKind.Integer => value.AsInteger.ToString(CultureInfo.InvariantCulture),
        SampleValueKind.UnsignedInteger => value.AsUnsignedInteger.ToString(CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
