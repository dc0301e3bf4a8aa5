using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Commissioning;

/// <summary>Span edits at the tag level: a driver whose only change is in its tags keeps its text, comments included.</summary>
public static partial class ConfigTextEditor
{
    private static readonly JsonDocumentOptions s_document = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>
    /// The driver's new text when every key but <c>tags</c> is unchanged (same keys, equal values) and both hold a
    /// <c>tags</c> array of objects: the driver's text with only its tags array edited (tags compared by position:
    /// an equal tag keeps its bytes, a changed one is rewritten at its indentation, the ones past the new end are cut,
    /// new ones appended). Null when the driver must be rewritten whole.
    /// </summary>
    private static string? TagLevelEdit(ReadOnlySpan<byte> text, (int Start, int End) span, JsonObject driver, string newline)
    {
        if (JsonNode.Parse(text[span.Start..span.End], documentOptions: s_document) is not JsonObject original
            || original["tags"] is not JsonArray oldTags || driver["tags"] is not JsonArray newTags
            || oldTags.Any(t => t is not JsonObject) || newTags.Any(t => t is not JsonObject))
        {
            return null;
        }

        var keys = original.Select(p => p.Key).Where(k => k != "tags").ToHashSet(StringComparer.Ordinal);
        if (!keys.SetEquals(driver.Select(p => p.Key).Where(k => k != "tags")) || keys.Any(k => !JsonNode.DeepEquals(original[k], driver[k])))
        {
            return null;
        }

        if (LocateTags(text, span) is not { } layout || layout.Elements.Count != oldTags.Count)
        {
            return null;
        }

        var replaced = new Dictionary<int, JsonObject>();
        var removed = new SortedSet<int>();
        var appended = new List<JsonObject>();
        for (var i = 0; i < Math.Max(oldTags.Count, newTags.Count); i++)
        {
            if (i >= newTags.Count)
            {
                removed.Add(i);
            }
            else if (i >= oldTags.Count)
            {
                appended.Add((JsonObject)newTags[i]!.DeepClone());
            }
            else if (!JsonNode.DeepEquals(oldTags[i], newTags[i]))
            {
                replaced[i] = (JsonObject)newTags[i]!.DeepClone();
            }
        }

        var spans = ArraySpans(text, layout, replaced, removed, appended, newline, tagLevel: false);
        return System.Text.Encoding.UTF8.GetString(Splice(text, spans, span.Start, span.End));
    }

    /// <summary>The driver's <c>tags</c> array (absolute offsets), or null when it has none.</summary>
    private static DriversLayout? LocateTags(ReadOnlySpan<byte> text, (int Start, int End) span)
    {
        var reader = new Utf8JsonReader(text[span.Start..span.End], s_reader);
        reader.Read(); // the driver's {
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
            {
                continue;
            }

            var isTags = reader.ValueTextEquals("tags"u8);
            reader.Read();
            if (!isTags || reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                continue;
            }

            var arrayStart = span.Start + (int)reader.TokenStartIndex;
            var elements = new List<(int, int)>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = span.Start + (int)reader.TokenStartIndex;
                reader.Skip();
                elements.Add((start, span.Start + (int)reader.BytesConsumed));
            }

            return new DriversLayout(arrayStart, span.Start + (int)reader.TokenStartIndex, elements, true);
        }

        return null;
    }
}
