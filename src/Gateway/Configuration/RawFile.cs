using System.Text;
using System.Text.Json;
using Gateway.Drivers;

namespace Gateway.Configuration;

/// <summary>
/// What the configuration binder cannot see, checked on the file's bytes before it is loaded: invalid UTF-8 (with the
/// byte offset), JSON syntax errors (with line, column and the offending text) and sections set to <c>null</c>
/// (the binder reads <c>"mqtt": null</c> as an absent section, so defaults would run silently).
/// </summary>
internal static class RawFile
{
    private static readonly JsonDocumentOptions s_options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The first problem of the file's content (<paramref name="bytes"/>, as read from disk); null when it can be loaded.</summary>
    public static ConfigProblem? Check(byte[] bytes)
    {
        var start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException ex)
        {
            var offset = start + ex.Index;
            return new ConfigProblem("$", $"not valid UTF-8 at byte {offset} (0x{offset:X}): byte 0x{bytes[offset]:X2}; save the file as UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes.AsMemory(start), s_options);
        }
        catch (JsonException ex)
        {
            var line = (ex.LineNumber ?? 0) + 1;
            var column = (ex.BytePositionInLine ?? 0) + 1;
            return new ConfigProblem("$", $"not valid JSON at line {line}, column {column}: {FirstSentence(ex.Message)} near '{Near(bytes, start, ex)}'");
        }

        using (document)
        {
            return document.RootElement.ValueKind == JsonValueKind.Object ? NullSection(document.RootElement, "") : new ConfigProblem("$", "must be a JSON object");
        }
    }

    /// <summary>A section (object property or list entry at the top two levels) set to null.</summary>
    private static ConfigProblem? NullSection(JsonElement element, string path, int depth = 0)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                var childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (property.Value.ValueKind == JsonValueKind.Null && depth == 0)
                {
                    return new ConfigProblem(childPath, "is null: give the section as an object, or leave the key out for its defaults");
                }

                if (depth < 1 && NullSection(property.Value, childPath, depth + 1) is { } problem)
                {
                    return problem;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in element.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Null)
                {
                    return new ConfigProblem($"{path}[{i}]", "is null: give the entry as an object, or remove it");
                }

                i++;
            }
        }

        return null;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }

    /// <summary>Up to 30 characters of the line where the parser stopped, from the column it names.</summary>
    private static string Near(byte[] bytes, int start, JsonException ex)
    {
        var lines = Encoding.UTF8.GetString(bytes, start, bytes.Length - start).Split('\n');
        var index = (int)(ex.LineNumber ?? 0);
        if (index >= lines.Length)
        {
            return "end of file";
        }

        var line = lines[index].TrimEnd('\r');
        var column = (int)Math.Min(ex.BytePositionInLine ?? 0, Encoding.UTF8.GetByteCount(line));
        var text = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(line), 0, column) is var before ? line[before.Length..] : line;
        text = text.Length == 0 ? line.Trim() : text;
        return text.Length > 30 ? text[..30] : text;
    }
}
