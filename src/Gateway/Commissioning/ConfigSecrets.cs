using System.Text.Json.Nodes;

namespace Gateway.Commissioning;

/// <summary>
/// The values of the configuration document the commissioning page must never see: a key that names a secret
/// (<c>password</c>, <c>secret</c>, <c>token</c>, <c>apiKey</c>, any case, not a <c>...File</c> path) has its string
/// value replaced by <see cref="Mask"/>. The gateway keeps its secrets in files (<c>passwordFile</c>, <c>tokenFile</c>),
/// so a valid document has none; this is the guard for one that does. On save, a value still equal to the mask is put
/// back from the file (kept if unchanged).
/// </summary>
public static class ConfigSecrets
{
    public const string Mask = "********";

    /// <summary>True for a key whose value is a secret itself (not the path of a file holding one).</summary>
    public static bool IsSecretKey(string name) =>
        !name.EndsWith("File", StringComparison.OrdinalIgnoreCase)
        && (name.Contains("password", StringComparison.OrdinalIgnoreCase)
            || name.Contains("secret", StringComparison.OrdinalIgnoreCase)
            || name.Contains("token", StringComparison.OrdinalIgnoreCase)
            || name.Contains("apikey", StringComparison.OrdinalIgnoreCase));

    /// <summary>A copy of <paramref name="node"/> with every secret value masked.</summary>
    public static JsonNode? Masked(JsonNode? node)
    {
        var copy = node?.DeepClone();
        MaskInPlace(copy);
        return copy;
    }

    /// <summary>Puts back, in <paramref name="submitted"/>, the original value of every secret left as the mask.</summary>
    public static void Restore(JsonNode? submitted, JsonNode? original)
    {
        switch (submitted)
        {
            case JsonObject target:
                foreach (var (key, value) in target.ToList())
                {
                    var before = (original as JsonObject)?[key];
                    if (IsSecretKey(key) && value is JsonValue v && v.TryGetValue<string>(out var text) && text == Mask)
                    {
                        target[key] = before?.DeepClone();
                    }
                    else
                    {
                        Restore(value, before);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Restore(array[i], original is JsonArray old && i < old.Count ? old[i] : null);
                }

                break;
        }
    }

    /// <summary>True when a mask is left that nothing could restore (a new driver given the mask as its password).</summary>
    public static bool HasMask(JsonNode? node) => node switch
    {
        JsonObject o => o.Any(p => (IsSecretKey(p.Key) && p.Value is JsonValue v && v.TryGetValue<string>(out var s) && s == Mask) || HasMask(p.Value)),
        JsonArray a => a.Any(HasMask),
        _ => false,
    };

    private static void MaskInPlace(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (IsSecretKey(key) && value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String)
                    {
                        o[key] = Mask;
                    }
                    else
                    {
                        MaskInPlace(value);
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    MaskInPlace(item);
                }

                break;
        }
    }
}
