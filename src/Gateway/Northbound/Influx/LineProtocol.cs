using System.Globalization;
using System.Text;
using Gateway.Configuration;
using Gateway.Drivers;

namespace Gateway.Northbound.Influx;

/// <summary>
/// InfluxDB line protocol for samples: the measurement is the machine, the ISA-95 place is in tags, the field
/// is the tag's path, the timestamp the source timestamp in nanoseconds. A sample that is not Good also writes
/// <c>&lt;path&gt;_quality</c> (a string field); a Bad sample without a value writes only that.
/// <code>press,enterprise=acme,site=lyon,area=assembly,line=line-1 temperature=65.2 1764151200123000000</code>
/// <para>
/// Integers are written with <c>i</c>. An unsigned integer is written with <c>u</c> (exact up to
/// <see cref="ulong.MaxValue"/>) only when <paramref name="unsignedIntegers"/> is set, for InfluxDB 2.x and 3, which
/// accept it; InfluxDB 1.x refuses <c>u</c> ("invalid number", the whole batch with it), so the default, which works
/// on every version, is <c>i</c>, an unsigned value above <see cref="long.MaxValue"/> capped there (as
/// <see cref="SampleValue.AsInteger"/> does, and Telegraf without <c>influx_uint_support</c>). Either way one tag
/// always writes one field type, so that InfluxDB never sees a type conflict on its field.
/// </para>
/// </summary>
/// <param name="identity">The gateway's place in the plant, written as tags.</param>
/// <param name="unsignedIntegers">Write unsigned integers with <c>u</c> (InfluxDB 2.x and 3 only).</param>
public sealed class LineProtocol(GatewayIdentity identity, bool unsignedIntegers = false)
{
    private readonly string _placeTags =
        $",enterprise={EscapeTag(identity.Enterprise)},site={EscapeTag(identity.Site)},area={EscapeTag(identity.Area)},line={EscapeTag(identity.Line)}";

    /// <summary>Appends the sample's line (without a newline); returns false when there is nothing to write.</summary>
    public bool Append(StringBuilder line, in Sample sample)
    {
        var start = line.Length;
        line.Append(EscapeMeasurement(sample.Tag.Machine)).Append(_placeTags);
        if (sample.Tag.Unit is { } unit)
        {
            line.Append(",unit=").Append(EscapeTag(unit));
        }

        line.Append(' ');
        var field = EscapeTag(sample.Tag.Path);
        var hasValue = AppendValue(line, field, sample.Value);
        if (sample.Quality != Quality.Good)
        {
            if (hasValue)
            {
                line.Append(',');
            }

            line.Append(field).Append("_quality=\"").Append(SampleStatus.Name(sample.Quality)).Append('"');
            hasValue = true;
        }

        if (!hasValue)
        {
            line.Length = start;
            return false;
        }

        var nanoseconds = (sample.SourceTimestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        line.Append(' ').Append(nanoseconds.ToString(CultureInfo.InvariantCulture));
        return true;
    }

    private bool AppendValue(StringBuilder line, string field, SampleValue value)
    {
        switch (value.Kind)
        {
            case SampleValueKind.Boolean:
                line.Append(field).Append('=').Append(value.AsBoolean ? "true" : "false");
                return true;
            case SampleValueKind.Integer:
                line.Append(field).Append('=').Append(value.AsInteger.ToString(CultureInfo.InvariantCulture)).Append('i');
                return true;
            case SampleValueKind.UnsignedInteger when unsignedIntegers:
                line.Append(field).Append('=').Append(value.AsUnsignedInteger.ToString(CultureInfo.InvariantCulture)).Append('u');
                return true;
            case SampleValueKind.UnsignedInteger:
                line.Append(field).Append('=').Append(value.AsInteger.ToString(CultureInfo.InvariantCulture)).Append('i');
                return true;
            case SampleValueKind.Float when float.IsFinite(value.AsFloat):
                // The shortest text that reads back as the float32 (22.1, not 22.100000381469727).
                AppendFloat(line, field, value.AsFloat.ToString("R", CultureInfo.InvariantCulture));
                return true;
            case SampleValueKind.Double when double.IsFinite(value.AsDouble):
                AppendFloat(line, field, value.AsDouble.ToString("R", CultureInfo.InvariantCulture));
                return true;
            case SampleValueKind.String:
                line.Append(field).Append("=\"").Append(EscapeString(value.AsString!)).Append('"');
                return true;
            case SampleValueKind.Array or SampleValueKind.Structure:
                // InfluxDB has no array or object field: a string field with the JSON the UNS publishes.
                line.Append(field).Append("=\"").Append(EscapeString(value.ToString())).Append('"');
                return true;
            default:
                return false;
        }
    }

    /// <summary>A float field, always with a decimal point or exponent, so that a whole number stays a float field.</summary>
    private static void AppendFloat(StringBuilder line, string field, string text)
    {
        line.Append(field).Append('=').Append(text);
        if (!text.Contains('.', StringComparison.Ordinal) && !text.Contains('E', StringComparison.Ordinal))
        {
            line.Append(".0");
        }
    }

    /// <summary>Measurements escape commas and spaces.</summary>
    public static string EscapeMeasurement(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal).Replace(" ", "\\ ", StringComparison.Ordinal);

    /// <summary>Tag keys, tag values and field keys escape commas, equal signs and spaces.</summary>
    public static string EscapeTag(string value) =>
        EscapeMeasurement(value).Replace("=", "\\=", StringComparison.Ordinal);

    /// <summary>String field values escape double quotes and backslashes.</summary>
    public static string EscapeString(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
