using System.Globalization;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>
/// OPC UA values as the gateway's and back: a Variant as a sample value and the datatype it is published with
/// (scaled as its tag says), and a sample value as a Variant of the node's built-in type (a write). Used by the driver
/// and by the structure decoder, for the scalar fields of a structure.
/// </summary>
public static class UaVariantValues
{
    /// <summary>
    /// The datatype a value of this Variant is published with (<see cref="Convert"/>): its built-in type for the
    /// numbers and booleans (Double when scaled), String for what is published as text; for an array, its elements'
    /// type (<see cref="OpcUaArrays.ElementTypeOf"/>, never scaled).
    /// </summary>
    public static SourceType SourceTypeOf(Variant variant, TagConfig? config = null)
    {
        // A scalar is published as an array element of its type would be, except DateTime (its text) and
        // ExtensionObject (its text, when not decoded as a structure by the driver).
        var raw = variant.IsArray ? (OpcUaArrays.IsMatrix(variant) ? SourceType.String : OpcUaArrays.ElementTypeOf(variant.Type)) : variant.Type switch
        {
            BuiltInType.Null => SourceType.Unknown,
            BuiltInType.DateTime or BuiltInType.ExtensionObject => SourceType.String,
            var scalar => OpcUaArrays.ElementTypeOf(scalar),
        };
        return config is null || variant.IsArray ? raw : SourceTypes.Published(raw, config.Scale, config.Offset);
    }

    /// <summary>
    /// A Variant as a sample value: booleans, integers, UInt64 as an exact unsigned integer, Float at its float32 width,
    /// doubles (a scaled tag gives a Double), text for the rest; an array as a typed array (<see cref="OpcUaArrays"/>).
    /// </summary>
    public static SampleValue Convert(Variant variant, TagConfig? config = null)
    {
        if (variant.IsArray)
        {
            return OpcUaArrays.IsMatrix(variant) ? SampleValue.FromString(variant.ToString()) : SampleValue.FromArray(OpcUaArrays.Convert(variant));
        }

        var raw = variant.Value switch
        {
            null => SampleValue.None,
            bool b => SampleValue.FromBoolean(b),
            sbyte or byte or short or ushort or int or uint or long => SampleValue.FromInteger(System.Convert.ToInt64(variant.Value, CultureInfo.InvariantCulture)),
            ulong u => SampleValue.FromUnsignedInteger(u),
            float f => SampleValue.FromFloat(f),
            double d => SampleValue.FromDouble(d),
            string s => SampleValue.FromString(s),
            LocalizedText text => SampleValue.FromString(text.Text ?? ""),
            _ => SampleValue.FromString(variant.ToString()),
        };
        if (config is null || !raw.IsNumeric || raw.Kind == SampleValueKind.Boolean || (config.Scale == 1.0 && config.Offset == 0))
        {
            return raw;
        }

        return SampleValue.FromDouble(raw.AsDouble * config.Scale + config.Offset);
    }

    /// <summary>A sample value in the node's own built-in type.</summary>
    public static Variant ToVariant(SampleValue value, BuiltInType type)
    {
        return type switch
        {
            BuiltInType.Boolean => new Variant(type, value.AsBoolean),
            BuiltInType.SByte => new Variant(type, checked((sbyte)Math.Round(value.AsDouble))),
            BuiltInType.Byte => new Variant(type, checked((byte)Math.Round(value.AsDouble))),
            BuiltInType.Int16 => new Variant(type, checked((short)Math.Round(value.AsDouble))),
            BuiltInType.UInt16 => new Variant(type, checked((ushort)Math.Round(value.AsDouble))),
            BuiltInType.Int32 => new Variant(type, checked((int)Math.Round(value.AsDouble))),
            BuiltInType.UInt32 => new Variant(type, checked((uint)Math.Round(value.AsDouble))),
            BuiltInType.Int64 => new Variant(type, value.Kind == SampleValueKind.Integer ? value.AsInteger : checked((long)Math.Round(value.AsDouble))),
            BuiltInType.UInt64 => new Variant(type, value.Kind == SampleValueKind.UnsignedInteger ? value.AsUnsignedInteger : checked((ulong)(value.Kind == SampleValueKind.Integer ? value.AsInteger : Math.Round(value.AsDouble)))),
            BuiltInType.Float => new Variant(type, (float)value.AsDouble),
            BuiltInType.Double => new Variant(type, value.AsDouble),
            BuiltInType.String => new Variant(type, value.ToString()),
            _ => value.Kind switch
            {
                SampleValueKind.Boolean => new Variant(BuiltInType.Boolean, value.AsBoolean),
                SampleValueKind.Integer => new Variant(BuiltInType.Int64, value.AsInteger),
                SampleValueKind.Double => new Variant(BuiltInType.Double, value.AsDouble),
                _ => new Variant(BuiltInType.String, value.ToString()),
            },
        };
    }
}
