using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Commissioning;

/// <summary>One change to the <c>drivers</c> array of a configuration file.</summary>
/// <param name="Index">The driver's index in the file's <c>drivers[]</c>; null for a new driver (appended).</param>
/// <param name="Driver">Its new object; null removes the driver at <paramref name="Index"/>.</param>
public readonly record struct DriverEdit(int? Index, JsonObject? Driver)
{
    public static DriverEdit Replace(int index, JsonObject driver) => new(index, driver);

    public static DriverEdit Remove(int index) => new(index, null);

    public static DriverEdit Append(JsonObject driver) => new(null, driver);
}

/// <summary>
/// Edits the text of a configuration file by spans, so that what the user did not change keeps its comments, its
/// formatting and its order: a replaced driver's object is rewritten in place (indented as it was), a removed one is
/// cut out with its separating comma and the comments just above it, a new one is appended at the end of
/// <c>drivers[]</c> (the array is created before the root's closing brace when the file has none). Everything outside
/// the edited objects is copied byte for byte. Offsets come from <see cref="Utf8JsonReader"/> (comments and trailing
/// commas allowed, as the loader allows them).
/// </summary>
public static partial class ConfigTextEditor
{
    private static readonly JsonReaderOptions s_reader = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Where the drivers are in the file: the array's brackets and each element's span, byte offsets.</summary>
    /// <param name="ArrayStart">Offset of <c>[</c>; -1 when the file has no <c>drivers</c>.</param>
    /// <param name="ArrayEnd">Offset of <c>]</c>, or of the root's closing <c>}</c> when there is no array.</param>
    /// <param name="Elements">Each element: its first byte and the byte after its last.</param>
    /// <param name="RootHasProperties">False for an empty root object (a new <c>drivers</c> key needs no comma).</param>
    public sealed record DriversLayout(int ArrayStart, int ArrayEnd, IReadOnlyList<(int Start, int End)> Elements, bool RootHasProperties);

    /// <summary>Finds the drivers array; throws <see cref="JsonException"/> for text that is not a JSON object.</summary>
    public static DriversLayout Locate(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, s_reader);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("the configuration is not a JSON object");
        }

        var elements = new List<(int, int)>();
        var arrayStart = -1;
        var arrayEnd = -1;
        var rootHasProperties = false;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
            {
                return new DriversLayout(arrayStart, arrayStart >= 0 ? arrayEnd : (int)reader.TokenStartIndex, elements, rootHasProperties);
            }

            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
            {
                continue;
            }

            rootHasProperties = true;
            var isDrivers = reader.ValueTextEquals("drivers"u8);
            reader.Read();
            if (!isDrivers || reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                continue;
            }

            elements.Clear();
            arrayStart = (int)reader.TokenStartIndex;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                elements.Add((start, (int)reader.BytesConsumed));
            }

            arrayEnd = (int)reader.TokenStartIndex;
        }

        throw new JsonException("the configuration ends before its closing brace");
    }

    /// <summary>The file's text with the edits applied; <paramref name="utf8"/> may start with a BOM (kept).</summary>
    public static byte[] Apply(byte[] utf8, IReadOnlyList<DriverEdit> edits)
    {
        var bom = utf8.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var text = utf8.AsSpan(bom);
        var layout = Locate(text);
        var newline = text.IndexOf("\r\n"u8) >= 0 ? "\r\n" : "\n";
        var appended = edits.Where(e => e.Index is null).Select(e => e.Driver ?? throw new ArgumentException("a new driver needs its object", nameof(edits))).ToList();
        var replaced = new Dictionary<int, JsonObject>();
        var removed = new SortedSet<int>();
        var count = layout.Elements.Count;
        foreach (var edit in edits.Where(e => e.Index is not null))
        {
            var index = edit.Index!.Value;
            if (index < 0 || index >= count)
            {
                throw new ArgumentOutOfRangeException(nameof(edits), $"drivers[{index}] is not in the file");
            }

            if (replaced.ContainsKey(index) || removed.Contains(index))
            {
                throw new ArgumentException($"two edits of drivers[{index}]", nameof(edits));
            }

            if (edit.Driver is { } driver)
            {
                replaced[index] = driver;
            }
            else
            {
                removed.Add(index);
            }
        }

        var spans = ArraySpans(text, layout, replaced, removed, appended, newline, tagLevel: true);
        return [.. utf8[..bom], .. Splice(text, spans, 0, text.Length)];
    }

    /// <summary>
    /// The spans that edit one array (<paramref name="layout"/>): replaced elements rewritten at their indentation
    /// (with <paramref name="tagLevel"/>, a driver whose other keys are unchanged keeps its text and only its
    /// <c>tags</c> are edited), removed ones cut with their comma and the comments above, new ones appended.
    /// </summary>
    private static List<(int Start, int End, string Text)> ArraySpans(
        ReadOnlySpan<byte> text, DriversLayout layout, Dictionary<int, JsonObject> replaced, SortedSet<int> removed, List<JsonObject> appended, string newline, bool tagLevel)
    {
        var spans = new List<(int Start, int End, string Text)>();
        var count = layout.Elements.Count;
        // A removed last driver with new ones to add: the first new one takes its place (no comma to mend).
        if (appended.Count > 0 && removed.Remove(count - 1))
        {
            replaced[count - 1] = appended[0];
            appended.RemoveAt(0);
        }

        foreach (var (index, driver) in replaced)
        {
            var (start, end) = layout.Elements[index];
            spans.Add((start, end, (tagLevel ? TagLevelEdit(text, (start, end), driver, newline) : null) ?? Indent(driver, Column(text, start), newline)));
        }

        if (removed.Count == count && count > 0)
        {
            spans.Add((layout.ArrayStart + 1, layout.ArrayEnd, ""));
        }
        else
        {
            // The first drivers removed: cut up to the first one kept (its line's indentation stays).
            var leading = 0;
            while (removed.Contains(leading))
            {
                leading++;
            }

            if (leading > 0)
            {
                spans.Add((layout.ArrayStart + 1, AfterComma(text, layout.Elements[leading - 1].End), ""));
            }

            // The others: from the end of the one before, so that the comma and the comments above go with them.
            foreach (var index in removed.Where(i => i > leading))
            {
                spans.Add((layout.Elements[index - 1].End, layout.Elements[index].End, ""));
            }
        }

        if (appended.Count > 0)
        {
            spans.Add(AppendSpan(text, layout, appended, newline));
        }

        return spans;
    }

    /// <summary><paramref name="text"/> from <paramref name="from"/> to <paramref name="to"/> with the spans (absolute offsets, inside that range) replaced.</summary>
    private static byte[] Splice(ReadOnlySpan<byte> text, List<(int Start, int End, string Text)> spans, int from, int to)
    {
        // Apply from the end so that earlier offsets stay valid; overlapping spans mean two edits of one driver.
        spans.Sort((a, b) => b.Start.CompareTo(a.Start));
        var result = new List<byte>(to - from + 256);
        var cursor = to;
        var pieces = new List<byte[]>();
        foreach (var (start, end, replacement) in spans)
        {
            if (end > cursor)
            {
                throw new ArgumentException("two edits touch the same driver", nameof(spans));
            }

            pieces.Add(text[end..cursor].ToArray());
            pieces.Add(Encoding.UTF8.GetBytes(replacement));
            cursor = start;
        }

        pieces.Add(text[from..cursor].ToArray());
        pieces.Reverse();
        foreach (var piece in pieces)
        {
            result.AddRange(piece);
        }

        return [.. result];
    }

    /// <summary>Past the comma after an element (and the rest of its line when that is blank): where the next one's trivia begins.</summary>
    private static int AfterComma(ReadOnlySpan<byte> text, int end)
    {
        var i = end;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t')
        {
            i++;
        }

        if (i < text.Length && text[i] == (byte)',')
        {
            i++;
        }

        var j = i;
        while (j < text.Length && text[j] is (byte)' ' or (byte)'\t' or (byte)'\r')
        {
            j++;
        }

        return j < text.Length && text[j] == (byte)'\n' ? j : i;
    }

    private static (int, int, string) AppendSpan(ReadOnlySpan<byte> text, DriversLayout layout, List<JsonObject> drivers, string newline)
    {
        if (layout.ArrayStart < 0)
        {
            // No drivers key: a new one before the root's closing brace, at the indentation of a top-level key.
            var rootIndent = 2;
            var body = string.Join("," + newline, drivers.Select(d => new string(' ', rootIndent * 2) + Indent(d, rootIndent * 2, newline)));
            var insertAt = layout.ArrayEnd;
            var before = TrimEndTrivia(text, insertAt);
            var comma = layout.RootHasProperties && text[before - 1] != (byte)',' ? "," : "";
            return (before, insertAt, comma + newline + new string(' ', rootIndent) + "\"drivers\": [" + newline + body + newline + new string(' ', rootIndent) + "]" + newline);
        }

        if (layout.Elements.Count == 0)
        {
            var arrayIndent = Column(text, layout.ArrayStart) - ArrayKeyOffset(text, layout.ArrayStart);
            var indent = arrayIndent + 2;
            var body = string.Join("," + newline, drivers.Select(d => new string(' ', indent) + Indent(d, indent, newline)));
            return (layout.ArrayStart + 1, layout.ArrayEnd, newline + body + newline + new string(' ', arrayIndent));
        }

        var last = layout.Elements[^1];
        var column = Column(text, last.Start);
        var insert = last.End;
        var after = SkipTrivia(text, insert);
        if (after < text.Length && text[after] == (byte)',')
        {
            insert = after + 1; // a trailing comma: the new drivers go after it, and end without one
        }

        var separator = insert == last.End ? "," : "";
        var items = string.Join("," + newline, drivers.Select(d => new string(' ', column) + Indent(d, column, newline)));
        return (insert, insert, separator + newline + items);
    }

    /// <summary>The driver serialized with two-space indentation, every line after the first shifted by <paramref name="column"/>.</summary>
    private static string Indent(JsonObject driver, int column, string newline)
    {
        var json = driver.ToJsonString(s_indented).Replace("\r\n", "\n", StringComparison.Ordinal);
        var pad = new string(' ', column);
        return json.Replace("\n", newline + pad, StringComparison.Ordinal);
    }

    /// <summary>The column (in bytes, which is characters for the spaces and tabs of an indentation) of an offset.</summary>
    private static int Column(ReadOnlySpan<byte> text, int offset) => offset - LineStart(text, offset);

    private static int LineStart(ReadOnlySpan<byte> text, int offset)
    {
        var newline = text[..offset].LastIndexOf((byte)'\n');
        return newline + 1;
    }

    /// <summary>How far the <c>[</c> is from the line's indentation (<c>"drivers": [</c> on one line: the key's width).</summary>
    private static int ArrayKeyOffset(ReadOnlySpan<byte> text, int arrayStart)
    {
        var lineStart = LineStart(text, arrayStart);
        var line = text[lineStart..arrayStart];
        var indent = 0;
        while (indent < line.Length && line[indent] is (byte)' ' or (byte)'\t')
        {
            indent++;
        }

        return line.Length - indent;
    }

    private static bool IsBlank(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The first offset at or after <paramref name="offset"/> that is not whitespace or a comment.</summary>
    internal static int SkipTrivia(ReadOnlySpan<byte> text, int offset)
    {
        var i = offset;
        while (i < text.Length)
        {
            if (text[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                i++;
            }
            else if (text[i] == (byte)'/' && i + 1 < text.Length && text[i + 1] == (byte)'/')
            {
                var end = text[i..].IndexOf((byte)'\n');
                i = end < 0 ? text.Length : i + end + 1;
            }
            else if (text[i] == (byte)'/' && i + 1 < text.Length && text[i + 1] == (byte)'*')
            {
                var end = text[(i + 2)..].IndexOf("*/"u8);
                i = end < 0 ? text.Length : i + 2 + end + 2;
            }
            else
            {
                break;
            }
        }

        return i;
    }

    /// <summary>The offset just after the last byte before <paramref name="offset"/> that is not whitespace.</summary>
    private static int TrimEndTrivia(ReadOnlySpan<byte> text, int offset)
    {
        var i = offset;
        while (i > 0 && text[i - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i--;
        }

        return i;
    }
}
