namespace Gateway.Drivers;

/// <summary>
/// The identity of a tag as the rest of the gateway sees it: its machine, its path under the machine
/// (the Unified Namespace path) and its engineering unit. Created once per tag, shared by every sample.
/// </summary>
public sealed class TagInfo : IEquatable<TagInfo>
{
    public TagInfo(string machine, string path, string? unit = null, double? deadband = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(machine);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Machine = machine;
        Path = path;
        Unit = string.IsNullOrEmpty(unit) ? null : unit;
        Deadband = deadband;
        Key = machine + "/" + path;
    }

    /// <summary>The machine (asset) the tag belongs to: one level of the ISA-95 hierarchy below the line.</summary>
    public string Machine { get; }

    /// <summary>The path under the machine, slash-separated (for example <c>spindle/temperature</c>).</summary>
    public string Path { get; }

    /// <summary>The engineering unit, for example <c>degC</c>, <c>A</c>, <c>parts</c>; null when unitless.</summary>
    public string? Unit { get; }

    /// <summary>Absolute deadband for numeric values; null means change-of-value only.</summary>
    public double? Deadband { get; }

    /// <summary><c>machine/path</c>, unique within a gateway.</summary>
    public string Key { get; }

    public bool Equals(TagInfo? other) => other is not null && string.Equals(Key, other.Key, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as TagInfo);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key);

    public override string ToString() => Key;
}
