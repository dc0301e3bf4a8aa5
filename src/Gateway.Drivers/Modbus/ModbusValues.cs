using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Gateway.Drivers.Modbus;

/// <summary>The value types a Modbus tag can have.</summary>
public enum ModbusDataType
{
    Bool,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,

    /// <summary>Unsigned 64-bit: an unsigned-integer sample, exact over the whole range (up to 18446744073709551615).</summary>
    UInt64,

    /// <summary>IEEE float32: a Float sample at its source width (22.1 stays 22.1), unless scale or offset compute an engineering value.</summary>
    Float32,
    Float64,
    String,
}

/// <summary>
/// How the bytes of a multi-register value are laid out, A being the most significant byte.
/// ABCD: big-endian (the specification's own order); CDAB: words swapped (common on PLCs); BADC: bytes swapped in each
/// word; DCBA: little-endian. For 64-bit values the same rule extends: CDAB reverses the word order, BADC swaps the bytes
/// of every word, DCBA does both.
/// </summary>
public enum ModbusWordOrder
{
    ABCD,
    CDAB,
    BADC,
    DCBA,
}

/// <summary>Where a value lives: table, address as written (before the address base), and an optional bit in a register.</summary>
public readonly record struct ModbusAddress(ModbusTable Table, int Address, int Bit = -1)
{
    public bool HasBit => Bit >= 0;

    /// <summary>Parses <c>holding:100</c>, <c>input:3</c>, <c>coil:5</c>, <c>discrete:7</c>, <c>holding:20.3</c> (bit 3, 0 = least significant).</summary>
    public static bool TryParse(string? text, out ModbusAddress address, out string error)
    {
        address = default;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is required (for example 'holding:100', 'input:3', 'coil:5', 'discrete:7', 'holding:20.3')";
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !TryParseTable(text[..colon], out var table))
        {
            error = $"'{text}' must be TABLE:ADDRESS with TABLE one of holding, input, coil, discrete";
            return false;
        }

        var rest = text[(colon + 1)..];
        var bit = -1;
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            if (table.IsBitTable() || !int.TryParse(rest[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out bit) || bit > 15)
            {
                error = $"'{text}': a bit number (0-15) can follow only a holding or input register address";
                return false;
            }

            rest = rest[..dot];
        }

        if (!int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > 65536)
        {
            error = $"'{text}': the address must be a number from 0 to 65536";
            return false;
        }

        address = new ModbusAddress(table, number, bit);
        return true;
    }

    public static bool TryParseTable(string text, out ModbusTable table)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "holding" or "hr" or "holdings":
                table = ModbusTable.HoldingRegister;
                return true;
            case "input" or "ir" or "inputs":
                table = ModbusTable.InputRegister;
                return true;
            case "coil" or "coils" or "co":
                table = ModbusTable.Coil;
                return true;
            case "discrete" or "di" or "discretes":
                table = ModbusTable.DiscreteInput;
                return true;
            default:
                table = default;
                return false;
        }
    }

    public override string ToString() => $"{TableName(Table)}:{Address.ToString(CultureInfo.InvariantCulture)}{(HasBit ? "." + Bit.ToString(CultureInfo.InvariantCulture) : "")}";

    public static string TableName(ModbusTable table) => table switch
    {
        ModbusTable.Coil => "coil",
        ModbusTable.DiscreteInput => "discrete",
        ModbusTable.HoldingRegister => "holding",
        _ => "input",
    };
}

/// <summary>Type, byte order and (for strings) length in characters of a value.</summary>
public readonly record struct ModbusValueFormat(ModbusDataType Type, ModbusWordOrder Order = ModbusWordOrder.ABCD, int StringLength = 0)
{
    /// <summary>Registers the value occupies (1 for bool and 16-bit types, 2, 4, or half the string length rounded up).</summary>
    public int RegisterCount => Type switch
    {
        ModbusDataType.Int32 or ModbusDataType.UInt32 or ModbusDataType.Float32 => 2,
        ModbusDataType.Int64 or ModbusDataType.UInt64 or ModbusDataType.Float64 => 4,
        ModbusDataType.String => Math.Max(1, (StringLength + 1) / 2),
        _ => 1,
    };

    /// <summary>The datatype of the raw value at the source (before any scale).</summary>
    public SourceType SourceType => Type switch
    {
        ModbusDataType.Bool => SourceType.Boolean,
        ModbusDataType.Int16 => SourceType.Int16,
        ModbusDataType.UInt16 => SourceType.UInt16,
        ModbusDataType.Int32 => SourceType.Int32,
        ModbusDataType.UInt32 => SourceType.UInt32,
        ModbusDataType.Int64 => SourceType.Int64,
        ModbusDataType.UInt64 => SourceType.UInt64,
        ModbusDataType.Float32 => SourceType.Float,
        ModbusDataType.Float64 => SourceType.Double,
        ModbusDataType.String => SourceType.String,
        _ => SourceType.Unknown,
    };

    public static bool TryParseType(string? text, out ModbusDataType type) =>
        Enum.TryParse(text, ignoreCase: true, out type) && Enum.IsDefined(type) && !int.TryParse(text, out _);

    public static bool TryParseOrder(string? text, out ModbusWordOrder order) =>
        Enum.TryParse(text, ignoreCase: true, out order) && Enum.IsDefined(order) && !int.TryParse(text, out _);
}

/// <summary>Typed values to and from registers, with word order, scale and offset. Shared by the driver, the CLI and the server.</summary>
public static class ModbusValueCodec
{
    /// <summary>Puts registers into big-endian byte order (ABCD) according to <paramref name="order"/>.</summary>
    public static void ToBigEndianBytes(ReadOnlySpan<ushort> registers, ModbusWordOrder order, Span<byte> bytes)
    {
        var n = registers.Length;
        var swapWords = order is ModbusWordOrder.CDAB or ModbusWordOrder.DCBA;
        var swapBytes = order is ModbusWordOrder.BADC or ModbusWordOrder.DCBA;
        for (var i = 0; i < n; i++)
        {
            var word = registers[swapWords ? n - 1 - i : i];
            if (swapBytes)
            {
                word = BinaryPrimitives.ReverseEndianness(word);
            }

            BinaryPrimitives.WriteUInt16BigEndian(bytes[(2 * i)..], word);
        }
    }

    /// <summary>The inverse of <see cref="ToBigEndianBytes"/>: the layout is its own inverse.</summary>
    public static void FromBigEndianBytes(ReadOnlySpan<byte> bytes, ModbusWordOrder order, Span<ushort> registers)
    {
        var n = registers.Length;
        var swapWords = order is ModbusWordOrder.CDAB or ModbusWordOrder.DCBA;
        var swapBytes = order is ModbusWordOrder.BADC or ModbusWordOrder.DCBA;
        for (var i = 0; i < n; i++)
        {
            var word = BinaryPrimitives.ReadUInt16BigEndian(bytes[(2 * i)..]);
            if (swapBytes)
            {
                word = BinaryPrimitives.ReverseEndianness(word);
            }

            registers[swapWords ? n - 1 - i : i] = word;
        }
    }

    /// <summary>Decodes the raw value (no scale) from <paramref name="registers"/> (exactly <see cref="ModbusValueFormat.RegisterCount"/> of them).</summary>
    public static SampleValue Decode(ReadOnlySpan<ushort> registers, ModbusValueFormat format, int bit = -1)
    {
        if (format.Type == ModbusDataType.Bool)
        {
            return SampleValue.FromBoolean(bit >= 0 ? (registers[0] & (1 << bit)) != 0 : registers[0] != 0);
        }

        Span<byte> bytes = stackalloc byte[2 * registers.Length];
        if (format.Type == ModbusDataType.String)
        {
            // Strings are byte sequences: only the byte swap within a word applies.
            var stringOrder = format.Order is ModbusWordOrder.BADC or ModbusWordOrder.DCBA ? ModbusWordOrder.BADC : ModbusWordOrder.ABCD;
            ToBigEndianBytes(registers, stringOrder, bytes);
            var text = bytes[..Math.Min(bytes.Length, format.StringLength > 0 ? format.StringLength : bytes.Length)];
            var end = text.IndexOf((byte)0);
            if (end >= 0)
            {
                text = text[..end];
            }

            return SampleValue.FromString(Encoding.Latin1.GetString(text).TrimEnd(' '));
        }

        ToBigEndianBytes(registers, format.Order, bytes);
        return format.Type switch
        {
            ModbusDataType.Int16 => SampleValue.FromInteger(BinaryPrimitives.ReadInt16BigEndian(bytes)),
            ModbusDataType.UInt16 => SampleValue.FromInteger(BinaryPrimitives.ReadUInt16BigEndian(bytes)),
            ModbusDataType.Int32 => SampleValue.FromInteger(BinaryPrimitives.ReadInt32BigEndian(bytes)),
            ModbusDataType.UInt32 => SampleValue.FromInteger(BinaryPrimitives.ReadUInt32BigEndian(bytes)),
            ModbusDataType.Int64 => SampleValue.FromInteger(BinaryPrimitives.ReadInt64BigEndian(bytes)),
            ModbusDataType.UInt64 => FromUInt64(BinaryPrimitives.ReadUInt64BigEndian(bytes)),
            ModbusDataType.Float32 => SampleValue.FromFloat(BinaryPrimitives.ReadSingleBigEndian(bytes)),
            ModbusDataType.Float64 => SampleValue.FromDouble(BinaryPrimitives.ReadDoubleBigEndian(bytes)),
            _ => SampleValue.None,
        };
    }

    /// <summary>The exact unsigned 64-bit value of four registers.</summary>
    public static ulong DecodeUInt64(ReadOnlySpan<ushort> registers, ModbusWordOrder order)
    {
        Span<byte> bytes = stackalloc byte[8];
        ToBigEndianBytes(registers[..4], order, bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    /// <summary>An unsigned 64-bit register value as a sample: always the unsigned-integer kind, exact over the whole range.</summary>
    public static SampleValue FromUInt64(ulong value) => SampleValue.FromUnsignedInteger(value);

    /// <summary>Encodes a raw value into registers; throws <see cref="ArgumentOutOfRangeException"/> when it does not fit the type.</summary>
    public static void Encode(SampleValue value, ModbusValueFormat format, Span<ushort> registers)
    {
        Span<byte> bytes = stackalloc byte[2 * registers.Length];
        bytes.Clear();
        switch (format.Type)
        {
            case ModbusDataType.Bool:
                registers[0] = value.AsBoolean ? (ushort)1 : (ushort)0;
                return;
            case ModbusDataType.String:
                {
                    var text = value.AsString ?? value.ToString();
                    var max = format.StringLength > 0 ? format.StringLength : bytes.Length;
                    if (Encoding.Latin1.GetByteCount(text) > max)
                    {
                        throw new ArgumentOutOfRangeException(nameof(value), $"string of {text.Length} characters does not fit {max}");
                    }

                    Encoding.Latin1.GetBytes(text, bytes);
                    FromBigEndianBytes(bytes, format.Order is ModbusWordOrder.BADC or ModbusWordOrder.DCBA ? ModbusWordOrder.BADC : ModbusWordOrder.ABCD, registers);
                    return;
                }

            default:
                try
                {
                    EncodeNumber(value, format.Type, bytes);
                }
                catch (OverflowException ex)
                {
                    throw new ArgumentOutOfRangeException($"{value} does not fit {format.Type}", ex);
                }

                break;
        }

        FromBigEndianBytes(bytes, format.Order, registers);
    }

    private static void EncodeNumber(SampleValue value, ModbusDataType type, Span<byte> bytes)
    {
        switch (type)
        {
            case ModbusDataType.Int16:
                BinaryPrimitives.WriteInt16BigEndian(bytes, checked((short)Integer(value)));
                break;
            case ModbusDataType.UInt16:
                BinaryPrimitives.WriteUInt16BigEndian(bytes, checked((ushort)Integer(value)));
                break;
            case ModbusDataType.Int32:
                BinaryPrimitives.WriteInt32BigEndian(bytes, checked((int)Integer(value)));
                break;
            case ModbusDataType.UInt32:
                BinaryPrimitives.WriteUInt32BigEndian(bytes, checked((uint)Integer(value)));
                break;
            case ModbusDataType.Int64:
                BinaryPrimitives.WriteInt64BigEndian(bytes, Integer(value));
                break;
            case ModbusDataType.UInt64:
                BinaryPrimitives.WriteUInt64BigEndian(bytes, UnsignedInteger(value));
                break;
            case ModbusDataType.Float32:
                BinaryPrimitives.WriteSingleBigEndian(bytes, value.AsFloat);
                break;
            case ModbusDataType.Float64:
                BinaryPrimitives.WriteDoubleBigEndian(bytes, value.AsDouble);
                break;
        }
    }

    private const double TwoToThe63 = 9223372036854775808.0;

    private static ulong UnsignedInteger(SampleValue value)
    {
        if (value.Kind == SampleValueKind.UnsignedInteger)
        {
            return value.AsUnsignedInteger;
        }

        if (value.IsFloatingPoint)
        {
            var rounded = Math.Round(value.AsDouble, MidpointRounding.AwayFromZero);
            if (double.IsNaN(rounded) || rounded < 0 || rounded >= 2 * TwoToThe63)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value.AsDouble, "not representable as an unsigned 64-bit integer");
            }

            return (ulong)rounded;
        }

        return checked((ulong)value.AsInteger);
    }

    private static long Integer(SampleValue value)
    {
        if (value.Kind == SampleValueKind.UnsignedInteger)
        {
            // AsInteger would saturate at long.MaxValue: refuse instead of writing a different number.
            var unsigned = value.AsUnsignedInteger;
            return unsigned <= long.MaxValue
                ? (long)unsigned
                : throw new ArgumentOutOfRangeException(nameof(value), unsigned, "not representable as a signed integer");
        }

        if (value.IsFloatingPoint)
        {
            var rounded = Math.Round(value.AsDouble, MidpointRounding.AwayFromZero);
            // (double)long.MaxValue is 2^63, itself out of range: the upper bound is exclusive.
            if (double.IsNaN(rounded) || rounded < long.MinValue || rounded >= TwoToThe63)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value.AsDouble, "not representable as an integer");
            }

            return (long)rounded;
        }

        return value.AsInteger;
    }

    /// <summary>
    /// Engineering value = raw × scale + offset, a Double (a computed value has no source width). With scale 1 and
    /// offset 0 the raw value is returned as it is: integers stay integers, a float32 stays a Float, a uint64 exact.
    /// </summary>
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

    /// <summary>Raw value = (engineering − offset) / scale.</summary>
    public static SampleValue Unscale(SampleValue engineering, double scale, double offset)
    {
        if (scale == 1.0 && offset == 0.0)
        {
            return engineering;
        }

        return engineering.IsWholeNumber || engineering.IsFloatingPoint
            ? SampleValue.FromDouble((engineering.AsDouble - offset) / scale)
            : engineering;
    }
}
