using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Gateway.Drivers.S7;

/// <summary>
/// S7 values from and to their bytes, big-endian as the CPU stores them. REAL becomes <see cref="SampleValueKind.Float"/>,
/// LREAL <see cref="SampleValueKind.Double"/>, signed integers Integer, unsigned ones and bit strings (byte, word,
/// dword) UnsignedInteger, STRING and WSTRING String, DATE_AND_TIME and DTL an ISO 8601 string of the CPU's local
/// time (no offset: the CPU does not know its time zone), timers milliseconds and counters their count.
/// </summary>
public static class S7Values
{
    /// <summary>Decodes one value; false (and <paramref name="status"/>) when the bytes are no valid value of the type.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, S7DataType type, int bit, out SampleValue value, out uint status)
    {
        status = 0;
        value = default;
        switch (type)
        {
            case S7DataType.Bool:
                value = SampleValue.FromBoolean((bytes[0] & (1 << Math.Max(bit, 0))) != 0);
                return true;
            case S7DataType.Byte or S7DataType.USInt:
                value = SampleValue.FromUnsignedInteger(bytes[0]);
                return true;
            case S7DataType.SInt:
                value = SampleValue.FromInteger((sbyte)bytes[0]);
                return true;
            case S7DataType.Int:
                value = SampleValue.FromInteger(BinaryPrimitives.ReadInt16BigEndian(bytes));
                return true;
            case S7DataType.UInt or S7DataType.Word:
                value = SampleValue.FromUnsignedInteger(BinaryPrimitives.ReadUInt16BigEndian(bytes));
                return true;
            case S7DataType.DInt:
                value = SampleValue.FromInteger(BinaryPrimitives.ReadInt32BigEndian(bytes));
                return true;
            case S7DataType.UDInt or S7DataType.DWord:
                value = SampleValue.FromUnsignedInteger(BinaryPrimitives.ReadUInt32BigEndian(bytes));
                return true;
            case S7DataType.Real:
                value = SampleValue.FromFloat(BinaryPrimitives.ReadSingleBigEndian(bytes));
                return true;
            case S7DataType.LInt:
                value = SampleValue.FromInteger(BinaryPrimitives.ReadInt64BigEndian(bytes));
                return true;
            case S7DataType.ULInt:
                value = SampleValue.FromUnsignedInteger(BinaryPrimitives.ReadUInt64BigEndian(bytes));
                return true;
            case S7DataType.LReal:
                value = SampleValue.FromDouble(BinaryPrimitives.ReadDoubleBigEndian(bytes));
                return true;
            case S7DataType.String:
                return TryDecodeString(bytes, out value, out status);
            case S7DataType.WString:
                return TryDecodeWString(bytes, out value, out status);
            case S7DataType.DateAndTime:
                return TryDecodeDateAndTime(bytes, out value, out status);
            case S7DataType.Dtl:
                return TryDecodeDtl(bytes, out value, out status);
            case S7DataType.Timer:
                return TryDecodeTimer(bytes, out value, out status);
            default:
                if (!TryBcd(bytes[0] & 0x0F, bytes[1], out var count))
                {
                    status = S7StatusCodes.BadDataEncodingInvalid;
                    return false;
                }

                value = SampleValue.FromInteger(count);
                return true;
        }
    }

    /// <summary>S7 STRING: maximum length byte, actual length byte, then that many characters (Windows-1252; read as Latin-1).</summary>
    private static bool TryDecodeString(ReadOnlySpan<byte> bytes, out SampleValue value, out uint status)
    {
        value = default;
        status = S7StatusCodes.BadDataEncodingInvalid;
        int max = bytes[0], actual = bytes[1];
        if (actual > max || actual > bytes.Length - 2)
        {
            return false;
        }

        value = SampleValue.FromString(Encoding.Latin1.GetString(bytes.Slice(2, actual)));
        status = 0;
        return true;
    }

    /// <summary>S7 WSTRING: maximum and actual length as UInt16, then UTF-16 big-endian characters.</summary>
    private static bool TryDecodeWString(ReadOnlySpan<byte> bytes, out SampleValue value, out uint status)
    {
        value = default;
        status = S7StatusCodes.BadDataEncodingInvalid;
        int max = BinaryPrimitives.ReadUInt16BigEndian(bytes), actual = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        if (actual > max || (2 * actual) > bytes.Length - 4)
        {
            return false;
        }

        value = SampleValue.FromString(Encoding.BigEndianUnicode.GetString(bytes.Slice(4, 2 * actual)));
        status = 0;
        return true;
    }

    /// <summary>DATE_AND_TIME: BCD year (90-99 are 1990-1999), month, day, hour, minute, second, then milliseconds in 3 BCD digits and the weekday.</summary>
    private static bool TryDecodeDateAndTime(ReadOnlySpan<byte> bytes, out SampleValue value, out uint status)
    {
        value = default;
        status = S7StatusCodes.BadDataEncodingInvalid;
        if (!TryBcd(bytes[0], out var year) || !TryBcd(bytes[1], out var month) || !TryBcd(bytes[2], out var day)
            || !TryBcd(bytes[3], out var hour) || !TryBcd(bytes[4], out var minute) || !TryBcd(bytes[5], out var second)
            || !TryBcd(bytes[6], out var msHigh) || (bytes[7] >> 4) > 9)
        {
            return false;
        }

        var milliseconds = (msHigh * 10) + (bytes[7] >> 4);
        year += year >= 90 ? 1900 : 2000;
        if (!TryDate(year, month, day, hour, minute, second, out var date))
        {
            return false;
        }

        value = SampleValue.FromString(date.AddMilliseconds(milliseconds).ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture));
        status = 0;
        return true;
    }

    /// <summary>DTL: year as UInt16, month, day, weekday, hour, minute, second, nanoseconds as UInt32.</summary>
    private static bool TryDecodeDtl(ReadOnlySpan<byte> bytes, out SampleValue value, out uint status)
    {
        value = default;
        status = S7StatusCodes.BadDataEncodingInvalid;
        var year = BinaryPrimitives.ReadUInt16BigEndian(bytes);
        var nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]);
        if (nanoseconds > 999_999_999 || !TryDate(year, bytes[2], bytes[3], bytes[5], bytes[6], bytes[7], out var date))
        {
            return false;
        }

        value = SampleValue.FromString(date.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "." + nanoseconds.ToString("D9", CultureInfo.InvariantCulture));
        status = 0;
        return true;
    }

    /// <summary>S5TIME: time base in bits 12-13 (10 ms, 100 ms, 1 s, 10 s), three BCD digits; published in milliseconds.</summary>
    private static bool TryDecodeTimer(ReadOnlySpan<byte> bytes, out SampleValue value, out uint status)
    {
        value = default;
        status = S7StatusCodes.BadDataEncodingInvalid;
        if (!TryBcd(bytes[0] & 0x0F, bytes[1], out var count))
        {
            return false;
        }

        long unit = ((bytes[0] >> 4) & 0x03) switch
        {
            0 => 10,
            1 => 100,
            2 => 1000,
            _ => 10_000,
        };
        value = SampleValue.FromInteger(count * unit);
        status = 0;
        return true;
    }

    private static bool TryDate(int year, int month, int day, int hour, int minute, int second, out DateTime date)
    {
        date = default;
        if (year is < 1 or > 9999 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        date = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified);
        return true;
    }

    private static bool TryBcd(int value, out int result)
    {
        int high = value >> 4, low = value & 0x0F;
        result = (high * 10) + low;
        return high <= 9 && low <= 9;
    }

    private static bool TryBcd(int hundreds, int tensAndUnits, out int result)
    {
        result = 0;
        if (hundreds > 9 || !TryBcd(tensAndUnits, out var rest))
        {
            return false;
        }

        result = (hundreds * 100) + rest;
        return true;
    }

    /// <summary>Engineering value = raw × scale + offset; raw values stay as they are when scale is 1 and offset 0.</summary>
    public static SampleValue Scale(SampleValue raw, double scale, double offset)
    {
        if (scale == 1.0 && offset == 0.0)
        {
            return raw;
        }

        return raw.IsWholeNumber || raw.IsFloatingPoint
            ? SampleValue.FromDouble((raw.AsDouble * scale) + offset)
            : raw;
    }

    /// <summary>
    /// Encodes <paramref name="value"/> (an engineering value; scale and offset undone) as <paramref name="type"/> into
    /// <paramref name="bytes"/> of <see cref="S7Types.Width"/> bytes. Throws <see cref="ArgumentException"/> for a value the type cannot hold.
    /// </summary>
    public static void Encode(SampleValue value, S7DataType type, int stringLength, double scale, double offset, Span<byte> bytes)
    {
        var raw = scale == 1.0 && offset == 0.0 ? value : value.Kind is SampleValueKind.String or SampleValueKind.Boolean ? value : SampleValue.FromDouble((value.AsDouble - offset) / scale);
        switch (type)
        {
            case S7DataType.Bool:
                bytes[0] = (byte)(raw.Kind == SampleValueKind.Boolean ? (raw.AsBoolean ? 1 : 0) : (Integer(raw, 0, 1) != 0 ? 1 : 0));
                break;
            case S7DataType.Byte or S7DataType.USInt:
                bytes[0] = (byte)Integer(raw, 0, byte.MaxValue);
                break;
            case S7DataType.SInt:
                bytes[0] = (byte)(sbyte)Integer(raw, sbyte.MinValue, sbyte.MaxValue);
                break;
            case S7DataType.Int:
                BinaryPrimitives.WriteInt16BigEndian(bytes, (short)Integer(raw, short.MinValue, short.MaxValue));
                break;
            case S7DataType.UInt or S7DataType.Word:
                BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)Integer(raw, 0, ushort.MaxValue));
                break;
            case S7DataType.DInt:
                BinaryPrimitives.WriteInt32BigEndian(bytes, (int)Integer(raw, int.MinValue, int.MaxValue));
                break;
            case S7DataType.UDInt or S7DataType.DWord:
                BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)Integer(raw, 0, uint.MaxValue));
                break;
            case S7DataType.LInt:
                BinaryPrimitives.WriteInt64BigEndian(bytes, Integer(raw, long.MinValue, long.MaxValue));
                break;
            case S7DataType.ULInt:
                BinaryPrimitives.WriteUInt64BigEndian(bytes, raw.Kind == SampleValueKind.UnsignedInteger ? raw.AsUnsignedInteger : (ulong)Integer(raw, 0, long.MaxValue));
                break;
            case S7DataType.Real:
                BinaryPrimitives.WriteSingleBigEndian(bytes, raw.Kind == SampleValueKind.Float ? raw.AsFloat : (float)Number(raw));
                break;
            case S7DataType.LReal:
                BinaryPrimitives.WriteDoubleBigEndian(bytes, Number(raw));
                break;
            case S7DataType.String:
            {
                var text = raw.Kind == SampleValueKind.String && raw.AsString is { } s ? s : throw new ArgumentException($"a string tag takes a string, got {raw.Kind}");
                if (text.Length > stringLength || text.Any(c => c > 0xFF))
                {
                    throw new ArgumentException($"'{text}' does not fit string[{stringLength}] (at most {stringLength} Latin-1 characters)");
                }

                bytes.Clear();
                bytes[0] = (byte)stringLength;
                bytes[1] = (byte)text.Length;
                Encoding.Latin1.GetBytes(text, bytes[2..]);
                break;
            }

            case S7DataType.WString:
            {
                var text = raw.Kind == SampleValueKind.String && raw.AsString is { } s ? s : throw new ArgumentException($"a wstring tag takes a string, got {raw.Kind}");
                if (text.Length > stringLength)
                {
                    throw new ArgumentException($"'{text}' does not fit wstring[{stringLength}]");
                }

                bytes.Clear();
                BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)stringLength);
                BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], (ushort)text.Length);
                Encoding.BigEndianUnicode.GetBytes(text, bytes[4..]);
                break;
            }

            default:
                throw new ArgumentException($"writing {S7Types.Name(type)} tags is not supported");
        }
    }

    private static double Number(SampleValue value) => value.Kind switch
    {
        SampleValueKind.Boolean => value.AsBoolean ? 1 : 0,
        _ when value.IsWholeNumber || value.IsFloatingPoint => value.AsDouble,
        _ => throw new ArgumentException($"a numeric tag takes a number, got {value.Kind}"),
    };

    private static long Integer(SampleValue value, long min, long max)
    {
        long result;
        if (value.Kind == SampleValueKind.Integer)
        {
            result = value.AsInteger;
        }
        else if (value.Kind == SampleValueKind.UnsignedInteger)
        {
            result = value.AsUnsignedInteger > long.MaxValue ? long.MaxValue : (long)value.AsUnsignedInteger;
        }
        else
        {
            var number = Math.Round(Number(value));
            if (double.IsNaN(number) || number < min || number > max)
            {
                throw new ArgumentException($"{number} is outside {min} to {max}");
            }

            result = (long)number;
        }

        if (result < min || result > max)
        {
            throw new ArgumentException($"{result} is outside {min} to {max}");
        }

        return result;
    }
}
