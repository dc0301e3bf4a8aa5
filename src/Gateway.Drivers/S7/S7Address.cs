using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.Drivers.S7;

/// <summary>The data types of S7 tags, as STEP 7 and TIA Portal name them.</summary>
public enum S7DataType
{
    Bool,
    Byte,
    SInt,
    USInt,
    Int,
    UInt,
    Word,
    DInt,
    UDInt,
    DWord,
    Real,
    LInt,
    ULInt,
    LReal,
    String,
    WString,
    DateAndTime,
    Dtl,

    /// <summary>A timer (T area) in S5TIME, published in milliseconds.</summary>
    Timer,

    /// <summary>A counter (C area), three BCD digits.</summary>
    Counter,
}

/// <summary>How an address says the width of what it reads.</summary>
public enum S7AddressWidth
{
    Bit,
    Byte,
    Word,
    DoubleWord,
    String,
    WString,
    Timer,
    Counter,
}

/// <summary>
/// A parsed S7 address as engineers write it: <c>DB1.DBX0.0</c>, <c>DB1.DBB2</c>, <c>DB1.DBW4</c>, <c>DB1.DBD6</c>,
/// <c>DB1.STRING10.20</c>, <c>DB1.WSTRING40.10</c>, <c>M10.1</c>, <c>MB5</c>, <c>MW20</c>, <c>MD24</c>, <c>I0.0</c> /
/// <c>E0.0</c>, <c>Q0.1</c> / <c>A0.1</c>, <c>IW64</c>, <c>QW80</c>, <c>T5</c>, <c>C3</c> / <c>Z3</c>.
/// </summary>
/// <param name="Area">The memory area.</param>
/// <param name="DbNumber">The DB number (data blocks only; else 0).</param>
/// <param name="Start">The byte offset, or the timer or counter number.</param>
/// <param name="Bit">The bit for bit addresses, 0 to 7; else -1.</param>
/// <param name="Width">What the address names: a bit, byte, word, double word, string, timer or counter.</param>
/// <param name="StringLength">Strings: the declared maximum length in characters; else 0.</param>
public readonly partial record struct S7Address(S7Area Area, int DbNumber, int Start, int Bit, S7AddressWidth Width, int StringLength = 0)
{
    /// <summary>The forms accepted, for error messages.</summary>
    public const string Examples = "DB1.DBX0.0 (bool), DB1.DBB2 (byte; also the start of lreal, date_and_time, dtl), DB1.DBW4 (int, word), DB1.DBD6 (dint, dword, real), DB1.STRING10.20 (string of up to 20 characters), DB1.WSTRING40.10, M10.1, MB5, MW20, MD24, I0.0 or E0.0, Q0.1 or A0.1, IW64, QW80, T5, C3 or Z3";

    public const int MaxDbNumber = 65535;
    public const int MaxOffset = 65535;
    public const int MaxStringLength = 254;

    public static bool TryParse(string? text, out S7Address address, out string error)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"is required: an S7 address such as {Examples}";
            return false;
        }

        var trimmed = text.Trim();
        var db = DbPattern().Match(trimmed);
        var area = AreaPattern().Match(trimmed);
        var counter = TimerCounterPattern().Match(trimmed);
        S7Area which;
        int dbNumber = 0, start, bit = -1, length = 0;
        S7AddressWidth width;
        if (db.Success)
        {
            which = S7Area.DataBlock;
            if (!TryNumber(db.Groups["db"].Value, 1, MaxDbNumber, out dbNumber))
            {
                error = $"'{text}': DB numbers run from 1 to {MaxDbNumber}";
                return false;
            }

            (width, start, bit, length, error) = Tail(text, db.Groups["kind"].Value, db.Groups["offset"].Value, db.Groups["bit"].Value, db.Groups["length"].Value);
        }
        else if (area.Success)
        {
            which = char.ToUpperInvariant(area.Groups["area"].Value[0]) switch
            {
                'M' => S7Area.Merkers,
                'I' or 'E' => S7Area.Inputs,
                _ => S7Area.Outputs,
            };
            var kind = area.Groups["kind"].Value.ToUpperInvariant();
            (width, start, bit, length, error) = Tail(text, kind.Length == 0 ? "X" : kind, area.Groups["offset"].Value, area.Groups["bit"].Value, "");
            if (error.Length == 0 && kind.Length == 0 && bit < 0)
            {
                error = $"'{text}' names no bit: write {area.Groups["area"].Value}{start}.0 for a bit, or {area.Groups["area"].Value}B{start} / {area.Groups["area"].Value}W{start} / {area.Groups["area"].Value}D{start}";
            }
        }
        else if (counter.Success)
        {
            var isTimer = char.ToUpperInvariant(counter.Groups["area"].Value[0]) == 'T';
            which = isTimer ? S7Area.Timers : S7Area.Counters;
            width = isTimer ? S7AddressWidth.Timer : S7AddressWidth.Counter;
            error = TryNumber(counter.Groups["number"].Value, 0, MaxOffset, out start) ? "" : $"'{text}': timer and counter numbers run from 0 to {MaxOffset}";
        }
        else
        {
            error = $"'{text}' is not an S7 address; write it as one of {Examples}";
            return false;
        }

        if (error.Length > 0)
        {
            return false;
        }

        address = new S7Address(which, dbNumber, start, bit, width, length);
        return true;
    }

    private static (S7AddressWidth Width, int Start, int Bit, int Length, string Error) Tail(string text, string kind, string offsetText, string bitText, string lengthText)
    {
        if (!TryNumber(offsetText, 0, MaxOffset, out var start))
        {
            return default((S7AddressWidth, int, int, int, string)) with { Item5 = $"'{text}': byte offsets run from 0 to {MaxOffset}" };
        }

        var upper = kind.ToUpperInvariant();
        var bit = -1;
        if (bitText.Length > 0)
        {
            if (upper != "X" || !TryNumber(bitText, 0, 7, out bit))
            {
                return (S7AddressWidth.Bit, start, -1, 0, upper == "X"
                    ? $"'{text}': bits run from 0 to 7 (for example DB1.DBX{start}.7 or M{start}.7)"
                    : $"'{text}': only bit addresses (DBX, or M/I/Q with a bit) have a '.bit' part; write DB1.DBX{start}.0 for a bit");
            }
        }

        switch (upper)
        {
            case "X":
                return bitText.Length == 0 && text.Contains("DBX", StringComparison.OrdinalIgnoreCase)
                    ? (S7AddressWidth.Bit, start, -1, 0, $"'{text}' names no bit: write DBX{start}.0 to DBX{start}.7")
                    : (S7AddressWidth.Bit, start, bit, 0, "");
            case "B":
                return (S7AddressWidth.Byte, start, -1, 0, "");
            case "W":
                return (S7AddressWidth.Word, start, -1, 0, "");
            case "D":
                return (S7AddressWidth.DoubleWord, start, -1, 0, "");
            default:
                var wide = upper == "WSTRING";
                if (!TryNumber(lengthText, 1, MaxStringLength, out var length))
                {
                    return (S7AddressWidth.String, start, -1, 0, $"'{text}': a string address ends with its declared length, 1 to {MaxStringLength} (for example DB1.{upper}{start}.20 for {upper.ToLowerInvariant()}[20])");
                }

                return (wide ? S7AddressWidth.WString : S7AddressWidth.String, start, -1, length, "");
        }
    }

    private static bool TryNumber(string text, int min, int max, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    /// <summary>The type an address implies when a tag names none.</summary>
    public S7DataType DefaultType => Width switch
    {
        S7AddressWidth.Bit => S7DataType.Bool,
        S7AddressWidth.Byte => S7DataType.Byte,
        S7AddressWidth.Word => S7DataType.Word,
        S7AddressWidth.DoubleWord => S7DataType.DWord,
        S7AddressWidth.String => S7DataType.String,
        S7AddressWidth.WString => S7DataType.WString,
        S7AddressWidth.Timer => S7DataType.Timer,
        _ => S7DataType.Counter,
    };

    /// <summary>Why <paramref name="type"/> cannot be read at this address, with the right form; null when it can.</summary>
    public string? Mismatch(S7DataType type, string text)
    {
        var name = S7Types.Name(type);
        var prefix = Area == S7Area.DataBlock ? $"DB{DbNumber}.DB" : AreaLetter;
        var stringPrefix = Area == S7Area.DataBlock ? $"DB{DbNumber}." : AreaLetter;
        return (Width, type) switch
        {
            (S7AddressWidth.Bit, S7DataType.Bool) => null,
            (S7AddressWidth.Bit, _) => $"'{text}' is one bit, type bool; a {name} is read as {prefix}{(S7Types.Width(type, 0) switch { 2 => "W", 4 => "D", _ => "B" })}{Start}",
            (_, S7DataType.Bool) => $"'{text}' is not a bit address; a bool is read as {prefix}{(Area == S7Area.DataBlock ? "X" : "")}{Start}.0",
            (S7AddressWidth.Timer, S7DataType.Timer) or (S7AddressWidth.Counter, S7DataType.Counter) => null,
            (S7AddressWidth.Timer or S7AddressWidth.Counter, _) => $"'{text}' is a {(Width == S7AddressWidth.Timer ? "timer" : "counter")}: its type is {(Width == S7AddressWidth.Timer ? "timer" : "counter")}, got {name}",
            (_, S7DataType.Timer or S7DataType.Counter) => $"type {name} is read from a {(type == S7DataType.Timer ? "timer address such as T5" : "counter address such as C3")}",
            (S7AddressWidth.String, S7DataType.String) or (S7AddressWidth.WString, S7DataType.WString) => null,
            (S7AddressWidth.String or S7AddressWidth.WString, _) => $"'{text}' is a {(Width == S7AddressWidth.String ? "string" : "wstring")} address: its type is {(Width == S7AddressWidth.String ? "string" : "wstring")}, got {name}",
            (_, S7DataType.String or S7DataType.WString) => $"a {name} needs its declared length in the address: write {stringPrefix}{(type == S7DataType.String ? "STRING" : "WSTRING")}{Start}.20 for {name}[20]",
            (S7AddressWidth.Byte, _) => null,
            (S7AddressWidth.Word, _) when S7Types.Width(type, 0) == 2 => null,
            (S7AddressWidth.DoubleWord, _) when S7Types.Width(type, 0) == 4 => null,
            _ => $"'{text}' is a {(Width == S7AddressWidth.Word ? "word (2 bytes)" : "double word (4 bytes)")} but {name} has {S7Types.Width(type, 0)} bytes: write {prefix}{(S7Types.Width(type, 0) switch { 1 => "B", 2 => "W", 4 => "D", _ => "B" })}{Start}",
        };
    }

    private string AreaLetter => Area switch
    {
        S7Area.Merkers => "M",
        S7Area.Inputs => "I",
        S7Area.Outputs => "Q",
        _ => "",
    };

    /// <summary>An item in the engineers' notation (for log lines and errors): <c>DB1.DBB0 x20</c>, <c>MB10 x4</c>, <c>T5 x2</c>.</summary>
    public static string Describe(S7Item item)
    {
        var area = item.Area switch
        {
            S7Area.DataBlock => $"DB{item.DbNumber}.DB",
            S7Area.Merkers => "M",
            S7Area.Inputs => "I",
            S7Area.Outputs => "Q",
            S7Area.Timers => "T",
            _ => "C",
        };
        if (item.Area is S7Area.Timers or S7Area.Counters)
        {
            return item.Count == 1 ? $"{area}{item.Start}" : $"{area}{item.Start} x{item.Count}";
        }

        if (item.Bit >= 0)
        {
            return $"{area}{(item.Area == S7Area.DataBlock ? "X" : "")}{item.Start}.{item.Bit}";
        }

        return $"{area}B{item.Start} x{item.Count}";
    }

    [GeneratedRegex(@"^DB(?<db>\d+)\.(?:DB(?<kind>[XBWD])(?<offset>\d+)(?:\.(?<bit>\d+))?|(?<kind>W?STRING)(?<offset>\d+)(?:\.(?<length>\d+))?)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DbPattern();

    [GeneratedRegex(@"^(?<area>[MIEQA])(?<kind>[BWD]?)(?<offset>\d+)(?:\.(?<bit>\d+))?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AreaPattern();

    [GeneratedRegex(@"^(?<area>[TCZ])(?<number>\d+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TimerCounterPattern();
}

/// <summary>Widths, names and parsing of <see cref="S7DataType"/>.</summary>
public static class S7Types
{
    public const string Names = "bool, byte, sint, usint, int, uint, word, dint, udint, dword, real, lint, ulint, lreal, string, wstring, date_and_time, dtl, timer, counter";

    /// <summary>
    /// The datatype of a raw value of <paramref name="type"/> as the driver publishes it (before any scale): Byte,
    /// Word and DWord are unsigned, S7 dates are published as text, timers (in ms) and counters as Int64.
    /// </summary>
    public static SourceType SourceTypeOf(S7DataType type) => type switch
    {
        S7DataType.Bool => SourceType.Boolean,
        S7DataType.Byte or S7DataType.USInt => SourceType.UInt8,
        S7DataType.SInt => SourceType.Int8,
        S7DataType.Int => SourceType.Int16,
        S7DataType.UInt or S7DataType.Word => SourceType.UInt16,
        S7DataType.DInt => SourceType.Int32,
        S7DataType.UDInt or S7DataType.DWord => SourceType.UInt32,
        S7DataType.LInt => SourceType.Int64,
        S7DataType.ULInt => SourceType.UInt64,
        S7DataType.Real => SourceType.Float,
        S7DataType.LReal => SourceType.Double,
        S7DataType.String or S7DataType.WString or S7DataType.DateAndTime or S7DataType.Dtl => SourceType.String,
        _ => SourceType.Int64,
    };

    /// <summary>Bytes a value of <paramref name="type"/> takes in memory; strings with their header bytes.</summary>
    public static int Width(S7DataType type, int stringLength) => type switch
    {
        S7DataType.Bool or S7DataType.Byte or S7DataType.SInt or S7DataType.USInt => 1,
        S7DataType.Int or S7DataType.UInt or S7DataType.Word or S7DataType.Timer or S7DataType.Counter => 2,
        S7DataType.DInt or S7DataType.UDInt or S7DataType.DWord or S7DataType.Real => 4,
        S7DataType.LInt or S7DataType.ULInt or S7DataType.LReal or S7DataType.DateAndTime => 8,
        S7DataType.Dtl => 12,
        S7DataType.String => stringLength + 2,
        _ => 4 + (2 * stringLength),
    };

    public static string Name(S7DataType type) => type switch
    {
        S7DataType.DateAndTime => "date_and_time",
        _ => type.ToString().ToLowerInvariant(),
    };

    public static bool TryParse(string? text, out S7DataType type)
    {
        type = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var normalized = text.Trim().ToLowerInvariant().Replace("_", "", StringComparison.Ordinal);
        switch (normalized)
        {
            case "dateandtime" or "dt":
                type = S7DataType.DateAndTime;
                return true;
            case "s5time":
                type = S7DataType.Timer;
                return true;
            default:
                return Enum.TryParse(normalized, ignoreCase: true, out type) && Enum.IsDefined(type) && !int.TryParse(normalized, CultureInfo.InvariantCulture, out _);
        }
    }
}
