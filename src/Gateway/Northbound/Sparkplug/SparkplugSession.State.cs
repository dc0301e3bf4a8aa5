using Gateway.Drivers;

namespace Gateway.Northbound.Sparkplug;

/// <summary>What the session keeps per device and per tag.</summary>
public sealed partial class SparkplugSession
{
    private enum DeviceStatus
    {
        /// <summary>Waiting for its DBIRTH (samples held).</summary>
        Pending,
        Alive,

        /// <summary>DDEATH sent: every tag Bad.</summary>
        Dead,
    }

    private readonly record struct Held(Sample Sample, long Sequence, bool Historical);

    private sealed class TagState(TagInfo tag, DeviceState device, ulong alias)
    {
        public static readonly IComparer<TagState> ByPath = Comparer<TagState>.Create(static (a, b) => string.CompareOrdinal(a.Tag.Path, b.Tag.Path));

        public TagInfo Tag { get; } = tag;

        public DeviceState Device { get; } = device;

        public ulong Alias { get; } = alias;

        /// <summary>
        /// The tag object whose <see cref="TagInfo.SourceType"/> counts: the driver's (from the catalog) rather than
        /// one read back from the buffer, which knows only the tag's identity.
        /// </summary>
        public TagInfo Source { get; set; } = tag;

        /// <summary>The Sparkplug datatype of a value of this tag (its source type where the value fits it).</summary>
        public DataType TypeOf(in SampleValue value) => SparkplugPayloadWriter.DataTypeOf(Source.SourceType, value);

        /// <summary>The datatype of its latest value (live first); Unknown before any.</summary>
        public DataType Known { get; set; }

        /// <summary>The datatype its device's last DBIRTH announced; Unknown when that birth did not list it.</summary>
        public DataType Announced { get; set; }

        /// <summary>Its latest live sample.</summary>
        public Sample? Current { get; set; }

        public bool Seen { get; set; }

        public bool Bad { get; set; }

        /// <summary>The aliases of a flattened structure's leaves by leaf path (<see cref="SparkplugSession.Announce"/>), for the process's life.</summary>
        public Dictionary<string, ulong> LeafAliases { get; } = new(StringComparer.Ordinal);

        /// <summary>The structure layout the device's last DBIRTH announced leaf by leaf; null when it announced one metric.</summary>
        public StructureLayout? AnnouncedLayout { get; set; }

        public ulong[]? AnnouncedLeafAliases { get; set; }

        public DataType[]? AnnouncedLeafTypes { get; set; }

        /// <summary>The structure value whose leaves went out last (live), for changed-leaves-only DDATA.</summary>
        public SampleValue LastSent { get; set; }

        public Quality LastSentQuality { get; set; }

        /// <summary>The held sample the device's birth carries; -1 for none.</summary>
        public long BirthSequence { get; set; } = -1;
    }

    private sealed class DeviceState(string name, string dataTopic, string birthTopic, string deathTopic)
    {
        public string Name { get; } = name;

        public string DataTopic { get; } = dataTopic;

        public string BirthTopic { get; } = birthTopic;

        public string DeathTopic { get; } = deathTopic;

        /// <summary>Sorted by path: births list them in that order.</summary>
        public List<TagState> Tags { get; } = [];

        public int BadCount { get; set; }

        public DeviceStatus Status { get; set; }

        public long PendingSince { get; set; }

        /// <summary>A rebirth that needs no wait (a new tag, a datatype change).</summary>
        public bool Immediate { get; set; }

        public List<Held> Held { get; } = [];

        public int PayloadLimit { get; set; } = int.MaxValue;

        /// <summary>The payload of the DDATA being filled.</summary>
        public SparkplugPayloadWriter Writer { get; } = new(2048);

        /// <summary>The DDATA being filled (the samples it carries; its payload at <see cref="FinishData"/>); null for none.</summary>
        public SparkplugMessage? Data { get; set; }
    }
}
