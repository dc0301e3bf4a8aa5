namespace Gateway.Drivers;

/// <summary>
/// The identity of a tag as the rest of the gateway sees it: its machine, its path under the machine
/// (the Unified Namespace path) and its engineering unit. Created once per tag, shared by every sample.
/// </summary>
public sealed class TagInfo : IEquatable<TagInfo>
{
    // Every sample is looked up by its tag (change filter, live table, OEE): hash the key once, not per sample.
    private readonly int _hashCode;

    public TagInfo(string machine, string path, string? unit = null, double? deadband = null, SourceType sourceType = SourceType.Unknown)
    {
        SourceType = sourceType;
        ArgumentException.ThrowIfNullOrWhiteSpace(machine);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Machine = machine;
        Path = path;
        Unit = string.IsNullOrEmpty(unit) ? null : unit;
        Deadband = deadband;
        Key = machine + "/" + path;
        _hashCode = StringComparer.Ordinal.GetHashCode(Key);
        Index = s_indices.GetOrAdd(Key, static _ => Interlocked.Increment(ref s_nextIndex) - 1);
    }

    // Every key this process has made a tag of, with its index: the tags of a reload or a preview keep their key's. It
    // grows with the distinct keys of the configurations run or checked (a few strings per tag), never per sample.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> s_indices = new(StringComparer.Ordinal);
    private static int s_nextIndex;

    /// <summary>
    /// A small number for <see cref="Key"/>, the same for every <see cref="TagInfo"/> of that key in this process
    /// (dense from 0: the tags of the configuration take the first ones): per-tag state kept by index
    /// (<see cref="TagSlots{T}"/>) instead of in a dictionary hashed per sample.
    /// </summary>
    public int Index { get; }

    /// <summary>The machine (asset) the tag belongs to: one level of the ISA-95 hierarchy below the line.</summary>
    public string Machine { get; }

    /// <summary>The path under the machine, slash-separated (for example <c>spindle/temperature</c>).</summary>
    public string Path { get; }

    /// <summary>The engineering unit, for example <c>degC</c>, <c>A</c>, <c>parts</c>; null when unitless.</summary>
    public string? Unit { get; }

    /// <summary>Absolute deadband for numeric values; null means change-of-value only.</summary>
    public double? Deadband { get; }

    /// <summary>
    /// The datatype of the tag's values at the source, as published (<see cref="Drivers.SourceType"/>): from the
    /// configured type when the driver creates the tag, or set once by a driver that learns it from the source (OPC
    /// UA). Not part of the tag's identity. Unknown when neither says.
    /// </summary>
    public SourceType SourceType { get; internal set; }

    /// <summary>
    /// True when the tag's values are one-dimensional arrays of <see cref="SourceType"/> elements (an OPC UA node of
    /// ValueRank 1): Sparkplug announces the array datatype (FloatArray …). Set with the source type, not per sample.
    /// </summary>
    public bool IsArray { get; internal set; }

    /// <summary>
    /// The shape of a structure tag's values (<see cref="SourceType"/> Structure, not an array), set by a driver that
    /// learns it from the source (an OPC UA DataTypeDefinition read at connect); null otherwise. Sparkplug publishes
    /// one metric per leaf from it. Not part of the tag's identity.
    /// </summary>
    public StructureLayout? Structure { get; internal set; }

    /// <summary><c>machine/path</c>, unique within a gateway.</summary>
    public string Key { get; }

    public bool Equals(TagInfo? other) => ReferenceEquals(this, other) || (other is not null && _hashCode == other._hashCode && string.Equals(Key, other.Key, StringComparison.Ordinal));

    public override bool Equals(object? obj) => Equals(obj as TagInfo);

    public override int GetHashCode() => _hashCode;

    public override string ToString() => Key;
}
