using System.Globalization;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>
/// OPC UA Variant arrays as sample arrays: the numeric, boolean, string and DateTime built-in types keep their
/// element type (a Float[1000] is a float[1000]); LocalizedText gives its text, and the other built-in types (Guid,
/// NodeId, StatusCode, QualifiedName, ByteString …) their text form, as a String array. A matrix (ValueRank 2 or
/// more) is not an array sample: it stays published as its text (<c>[[1, 2], [3, 4]]</c>). Arrays are never scaled.
/// </summary>
public static class OpcUaArrays
{
    /// <summary>True for a Variant matrix (two or more dimensions), which is published as text, not as an array.</summary>
    public static bool IsMatrix(Variant variant) => variant.Dimensions is { Length: > 1 };

    /// <summary>The element type a Variant array of <paramref name="type"/> is published with.</summary>
    public static SourceType ElementTypeOf(BuiltInType type) => type switch
    {
        BuiltInType.Boolean => SourceType.Boolean,
        BuiltInType.SByte => SourceType.Int8,
        BuiltInType.Byte => SourceType.UInt8,
        BuiltInType.Int16 => SourceType.Int16,
        BuiltInType.UInt16 => SourceType.UInt16,
        BuiltInType.Int32 => SourceType.Int32,
        BuiltInType.UInt32 => SourceType.UInt32,
        BuiltInType.Int64 => SourceType.Int64,
        BuiltInType.UInt64 => SourceType.UInt64,
        BuiltInType.Float => SourceType.Float,
        BuiltInType.Double => SourceType.Double,
        BuiltInType.DateTime => SourceType.DateTime,
        BuiltInType.ExtensionObject => SourceType.Structure,
        _ => SourceType.String,
    };

    /// <summary>
    /// The sample array of a Variant array (<see cref="Variant.IsArray"/>); <paramref name="structure"/> converts each
    /// element of an ExtensionObject array (null when the driver does not decode them: the elements' text then).
    /// </summary>
    public static SampleArray Convert(Variant variant, Func<ExtensionObject, SampleValue>? structure = null)
    {
        // Arrays of the fixed-size types are copied, not shared: the decoder's array belongs to the notification.
        switch (variant.Type)
        {
            case BuiltInType.Boolean:
                return SampleArray.Of([.. (bool[])variant.Value!]);
            case BuiltInType.SByte:
                return SampleArray.Of([.. (sbyte[])variant.Value!]);
            case BuiltInType.Byte:
                return SampleArray.Of([.. (byte[])variant.Value!]);
            case BuiltInType.Int16:
                return SampleArray.Of([.. (short[])variant.Value!]);
            case BuiltInType.UInt16:
                return SampleArray.Of([.. (ushort[])variant.Value!]);
            case BuiltInType.Int32:
                return SampleArray.Of([.. (int[])variant.Value!]);
            case BuiltInType.UInt32:
                return SampleArray.Of([.. (uint[])variant.Value!]);
            case BuiltInType.Int64:
                return SampleArray.Of([.. (long[])variant.Value!]);
            case BuiltInType.UInt64:
                return SampleArray.Of([.. (ulong[])variant.Value!]);
            case BuiltInType.Float:
                return SampleArray.Of([.. (float[])variant.Value!]);
            case BuiltInType.Double:
                return SampleArray.Of([.. (double[])variant.Value!]);
            case BuiltInType.DateTime:
                return SampleArray.Of([.. (DateTime[])variant.Value!]);
            case BuiltInType.String or BuiltInType.XmlElement:
                return SampleArray.Of((string?[])variant.Value!);
            case BuiltInType.ExtensionObject when structure is not null:
                var objects = (ExtensionObject[])variant.Value!;
                var items = new SampleValue[objects.Length];
                for (var i = 0; i < objects.Length; i++)
                {
                    items[i] = structure(objects[i]);
                    if (items[i].Kind != SampleValueKind.Structure)
                    {
                        throw new UaDecodingException($"element {i} of the ExtensionObject array is not a known structure");
                    }
                }

                return SampleArray.OfStructures(items);
            default:
                var array = (Array)variant.Value!;
                var texts = new string[array.Length];
                for (var i = 0; i < array.Length; i++)
                {
                    texts[i] = array.GetValue(i) switch
                    {
                        null => string.Empty,
                        LocalizedText text => text.Text ?? string.Empty,
                        byte[] bytes => System.Convert.ToBase64String(bytes),
                        var other => System.Convert.ToString(other, CultureInfo.InvariantCulture) ?? string.Empty,
                    };
                }

                return SampleArray.Of(texts);
        }
    }
}
