using Gateway.Drivers;

namespace Gateway.Northbound.Sparkplug;

/// <summary>
/// Structure tags whose source defines their shape (<see cref="TagInfo.Structure"/>, an OPC UA DataTypeDefinition)
/// go out flattened: one metric per leaf, named <c>&lt;tag&gt;/&lt;field&gt;</c> (<c>&lt;tag&gt;/&lt;field&gt;/&lt;sub&gt;</c>
/// for a nested structure), each with its own alias and the leaf's exact datatype (Float, Int16, FloatArray …; an
/// array of structures, or a field whose type the definition leaves open, as String with its JSON or text). The
/// DBIRTH lists every leaf from the definition, read or not; a DDATA carries the leaves that changed since the last
/// live value (all of them for historical samples); a Bad sample makes every leaf null with its quality. A changed
/// definition is a changed datatype: a new DBIRTH. Sparkplug Templates are not used: hosts support them unevenly
/// (Eclipse Tahu's decoder and Ignition read plain metrics the same way, template definitions need a UDT on the host).
/// </summary>
public sealed partial class SparkplugSession
{
    /// <summary>The layout a structure tag is flattened by; null for the other tags (and arrays of structures).</summary>
    private static StructureLayout? LayoutOf(TagState tag) =>
        tag.Source is { SourceType: SourceType.Structure, IsArray: false, Structure: { } layout } ? layout : null;

    /// <summary>The datatype a leaf is announced and sent as: the leaf's own; String when the definition leaves it open.</summary>
    private static DataType LeafDataType(StructureLeaf leaf) => leaf.Type == SourceType.Unknown
        ? DataType.String
        : leaf.IsArray ? SparkplugPayloadWriter.ArrayDataTypeOf(leaf.Type) : SparkplugPayloadWriter.DataTypeOf(leaf.Type);

    /// <summary>A leaf's value in a structure value, as its datatype carries it; None when absent (or not of that datatype).</summary>
    private static SampleValue LeafValue(StructureLeaf leaf, DataType datatype, in SampleValue structure)
    {
        var value = leaf.In(structure);
        if (value.Kind == SampleValueKind.None)
        {
            return value;
        }

        if (leaf.Type == SourceType.Unknown)
        {
            return value.Kind == SampleValueKind.String ? value : SampleValue.FromString(value.ToString());
        }

        return SparkplugPayloadWriter.DataTypeOf(leaf.Type, value) == datatype ? value : SampleValue.None;
    }

    /// <summary>The aliases and datatypes of a layout's leaves; a leaf keeps its alias for the process's life.</summary>
    private void Announce(TagState tag, StructureLayout layout)
    {
        var aliases = new ulong[layout.Leaves.Count];
        var types = new DataType[aliases.Length];
        for (var i = 0; i < aliases.Length; i++)
        {
            var leaf = layout.Leaves[i];
            if (!tag.LeafAliases.TryGetValue(leaf.Path, out aliases[i]))
            {
                aliases[i] = _nextAlias++;
                tag.LeafAliases[leaf.Path] = aliases[i];
                _aliasNames[aliases[i]] = (tag.Tag.Machine, tag.Tag.Path + "/" + leaf.Path);
            }

            types[i] = LeafDataType(leaf);
        }

        tag.AnnouncedLayout = layout;
        tag.AnnouncedLeafAliases = aliases;
        tag.AnnouncedLeafTypes = types;
        tag.Announced = DataType.String;
    }

    /// <summary>The birth metrics of a flattened tag: every leaf, with its value when the tag has a good or uncertain one.</summary>
    private void WriteStructureBirth(TagState tag, StructureLayout layout, ulong now)
    {
        Announce(tag, layout);
        var current = tag.Current;
        var value = current is { } c && c.Value.Kind == SampleValueKind.Structure ? c.Value : SampleValue.None;
        var timestamp = current is { } t ? (ulong)t.SourceTimestamp.ToUnixTimeMilliseconds() : now;
        var quality = current?.Quality ?? Quality.Uncertain;
        for (var i = 0; i < layout.Leaves.Count; i++)
        {
            var leaf = layout.Leaves[i];
            var type = tag.AnnouncedLeafTypes![i];
            _writer.WriteBirthMetric(tag.Tag.Path + "/" + leaf.Path, tag.AnnouncedLeafAliases![i], timestamp, type, LeafValue(leaf, type, value), quality, null);
        }

        tag.LastSent = value;
        tag.LastSentQuality = quality;
    }

    /// <summary>
    /// The data metrics of one sample of a flattened tag: the leaves that changed (every leaf for a historical sample
    /// or a quality change). A sample that changed no leaf needs no metric: it is acknowledged with the next message.
    /// </summary>
    private void AppendStructure(DeviceState device, TagState tag, in Sample sample, long sequence, bool historical, List<SparkplugMessage> output)
    {
        var layout = tag.AnnouncedLayout!;
        var timestamp = (ulong)sample.SourceTimestamp.ToUnixTimeMilliseconds();
        var value = sample.Value.Kind == SampleValueKind.Structure ? sample.Value : SampleValue.None;
        var all = historical || sample.Quality != tag.LastSentQuality || tag.LastSent.Kind != SampleValueKind.Structure;
        var written = false;
        for (var i = 0; i < layout.Leaves.Count; i++)
        {
            var leaf = layout.Leaves[i];
            var type = tag.AnnouncedLeafTypes![i];
            var leafValue = LeafValue(leaf, type, value);
            if (!all && leafValue == LeafValue(leaf, type, tag.LastSent))
            {
                continue;
            }

            var metric = new SparkplugPayloadWriter.DataMetric(tag.AnnouncedLeafAliases![i], timestamp, leafValue, sample.Quality, historical, type);
            WriteDataMetric(device, metric, output);
            written = true;
        }

        if (!historical)
        {
            tag.LastSent = value;
            tag.LastSentQuality = sample.Quality;
        }

        if (written)
        {
            device.Data!.Carry(sequence);
        }
        else
        {
            (_acknowledgeOnly ??= new SparkplugMessage(SparkplugMessageType.None, null, null, null, 0)).Carry(sequence);
        }
    }

    /// <summary>Forgets the leaf aliases of a tag that leaves (a reload).</summary>
    private void ForgetLeaves(TagState tag)
    {
        foreach (var alias in tag.LeafAliases.Values)
        {
            _aliasNames.TryRemove(alias, out _);
        }
    }
}
