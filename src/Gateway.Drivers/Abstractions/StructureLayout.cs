namespace Gateway.Drivers;

/// <summary>
/// One leaf of a structure tag's values: a field that is not itself a structure (a scalar, an array, an array of
/// structures), with its path from the top (<c>Position/X</c>) and its source type.
/// </summary>
public sealed class StructureLeaf : IEquatable<StructureLeaf>
{
    private readonly string[] _segments;

    /// <param name="path">The field names from the top structure down, joined by '/'.</param>
    /// <param name="type">The leaf's source type (the element type of an array; Structure for an array of structures; Unknown when the source does not say).</param>
    /// <param name="isArray">True for a one-dimensional array.</param>
    public StructureLeaf(string path, SourceType type, bool isArray)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
        Type = type;
        IsArray = isArray;
        _segments = path.Split('/');
    }

    public string Path { get; }

    public SourceType Type { get; }

    public bool IsArray { get; }

    public bool Equals(StructureLeaf? other) => other is not null && Path == other.Path && Type == other.Type && IsArray == other.IsArray;

    public override bool Equals(object? obj) => Equals(obj as StructureLeaf);

    public override int GetHashCode() => HashCode.Combine(Path, Type, IsArray);

    /// <summary>This leaf's value in <paramref name="value"/> (a structure of the layout's type); None when a field on the way is absent.</summary>
    public SampleValue In(in SampleValue value)
    {
        var current = value;
        foreach (var segment in _segments)
        {
            if (current.AsStructure is not { } structure)
            {
                return SampleValue.None;
            }

            current = structure[segment];
        }

        return current;
    }
}

/// <summary>
/// The shape of a structure tag's values, as its source defines it (an OPC UA DataTypeDefinition): the leaves in
/// declaration order, nested structures flattened (<c>Position/X</c>, <c>Position/Y</c>). Outputs that have no
/// structure type (Sparkplug B metrics) publish one metric per leaf, with the leaf's datatype, even before the first
/// value. Equal layouts have equal leaves; a changed layout is a changed datatype.
/// </summary>
public sealed class StructureLayout : IEquatable<StructureLayout>
{
    public StructureLayout(string typeName, IReadOnlyList<StructureLeaf> leaves)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        ArgumentNullException.ThrowIfNull(leaves);
        TypeName = typeName;
        Leaves = leaves;
    }

    /// <summary>The structure type's name (for example <c>MotorData</c>).</summary>
    public string TypeName { get; }

    public IReadOnlyList<StructureLeaf> Leaves { get; }

    public bool Equals(StructureLayout? other) =>
        ReferenceEquals(this, other) || (other is not null && TypeName == other.TypeName && Leaves.SequenceEqual(other.Leaves));

    public override bool Equals(object? obj) => Equals(obj as StructureLayout);

    public override int GetHashCode() => HashCode.Combine(TypeName, Leaves.Count);

    public override string ToString() => $"{TypeName}({string.Join(", ", Leaves.Select(l => $"{l.Path}:{l.Type}{(l.IsArray ? "[]" : "")}"))})";
}
