using Gateway.Drivers;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Sparkplug.Protobuf;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Northbound.Sparkplug;

/// <summary>Structure tags with a layout (an OPC UA DataTypeDefinition) go out as one typed metric per leaf.</summary>
public sealed class SparkplugStructureTests
{
    private static readonly StructureLayout s_motorLayout = new("MotorData",
    [
        new StructureLeaf("Speed", SourceType.Float, false),
        new StructureLeaf("Torque", SourceType.Int16, false),
        new StructureLeaf("Position/X", SourceType.Float, false),
        new StructureLeaf("Profile", SourceType.Float, true),
        new StructureLeaf("Note", SourceType.String, false),
    ]);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 6, 0, 0, TimeSpan.Zero));
    private readonly List<SparkplugMessage> _output = [];

    private static SampleValue Motor(float speed, short torque = -1234, string? note = "ok") => SampleValue.FromStructure(new SampleStructure("MotorData",
        ["Speed", "Torque", "Position", "Profile", "Note"],
        [
            SampleValue.FromFloat(speed), SampleValue.FromInteger(torque),
            SampleValue.FromStructure(new SampleStructure("Position", ["X", "Y"], [SampleValue.FromFloat(1.5f), SampleValue.FromFloat(2f)])),
            SampleValue.FromArray(SampleArray.Of([0.1f, 22.1f])), note is null ? SampleValue.None : SampleValue.FromString(note),
        ]));

    private SparkplugSession Begin(TagInfo tag)
    {
        var session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw" }, _time);
        session.Begin(1, long.MaxValue, [tag], null, _output);
        return session;
    }

    private static TagInfo MotorTag(StructureLayout? layout = null) => new("press", "motor", sourceType: SourceType.Structure) { Structure = layout ?? s_motorLayout };

    private List<Payload> Messages(string type) =>
        [.. _output.Where(m => m.Topic!.Contains($"/{type}/", StringComparison.Ordinal)).Select(m => Payload.Parser.ParseFrom(m.Payload.Span))];

    [Fact]
    public void Birth_OfAStructureNotReadYet_AnnouncesEveryLeafWithItsDatatype()
    {
        var session = Begin(MotorTag());

        session.Flush(_output, force: true);

        var birth = Assert.Single(Messages("DBIRTH"));
        Assert.Equal(
            ["motor/Speed:Float", "motor/Torque:Int16", "motor/Position/X:Float", "motor/Profile:FloatArray", "motor/Note:String"],
            birth.Metrics.Select(m => $"{m.Name}:{(DataType)m.Datatype}"));
        Assert.All(birth.Metrics, m => Assert.True(m.IsNull));
        Assert.Equal(5, birth.Metrics.Select(m => m.Alias).Distinct().Count());
    }

    [Fact]
    public void Birth_WithAValue_CarriesEachLeafInItsField()
    {
        var tag = MotorTag();
        var session = Begin(tag);
        var now = _time.GetUtcNow();

        session.Add(Sample.Good(tag, now, now, Motor(2.5f)), 1, false, _output);
        session.Flush(_output);

        var metrics = Assert.Single(Messages("DBIRTH")).Metrics.ToDictionary(m => m.Name);
        Assert.Equal(2.5f, metrics["motor/Speed"].FloatValue);
        Assert.Equal(unchecked((uint)-1234), metrics["motor/Torque"].IntValue);
        Assert.Equal(1.5f, metrics["motor/Position/X"].FloatValue);
        Assert.Equal(8, metrics["motor/Profile"].BytesValue.Length);
        Assert.Equal("ok", metrics["motor/Note"].StringValue);
    }

    [Fact]
    public void Data_AfterTheBirth_CarriesOnlyTheLeavesThatChanged_WithoutANewBirth()
    {
        var tag = MotorTag();
        var session = Begin(tag);
        var now = _time.GetUtcNow();
        session.Add(Sample.Good(tag, now, now, Motor(2.5f)), 1, false, _output);
        session.Flush(_output);
        var speedAlias = Messages("DBIRTH")[0].Metrics.Single(m => m.Name == "motor/Speed").Alias;

        session.Add(Sample.Good(tag, now, now, Motor(3.5f)), 2, false, _output);
        session.Flush(_output);

        Assert.Single(Messages("DBIRTH"));
        var metric = Assert.Single(Assert.Single(Messages("DDATA")).Metrics);
        Assert.Equal(speedAlias, metric.Alias);
        Assert.Equal(3.5f, metric.FloatValue);
    }

    [Fact]
    public void Data_OfABadSample_MakesEveryLeafNullWithItsQuality_AndAnAbsentOptionalFieldIsNull()
    {
        var tag = MotorTag();
        var other = new TagInfo("press", "temperature", sourceType: SourceType.Double);
        var session = new SparkplugSession(new SparkplugSessionOptions { GroupId = "lyon", EdgeNodeId = "gw" }, _time);
        session.Begin(1, long.MaxValue, [tag, other], null, _output);
        var now = _time.GetUtcNow();
        session.Add(Sample.Good(tag, now, now, Motor(2.5f)), 1, false, _output);
        session.Add(Sample.Good(other, now, now, SampleValue.FromDouble(20)), 2, false, _output);
        session.Flush(_output);

        session.Add(Sample.Good(tag, now, now, Motor(2.5f, note: null)), 3, false, _output);
        session.Add(Sample.Bad(tag, now, 0x80390000), 4, false, _output);
        session.Flush(_output);

        var data = Assert.Single(Messages("DDATA")).Metrics.ToList();
        var note = data[0];
        Assert.True(note.IsNull); // the optional Note went absent: the only leaf that changed
        Assert.Equal(6, data.Count);
        Assert.All(data.Skip(1), m => Assert.True(m.IsNull));
        Assert.All(data.Skip(1), m => Assert.Equal(0u, m.Properties.Values[0].IntValue)); // Quality 0: Bad
    }

    [Fact]
    public void ChangedLayout_IsANewBirth_WhereTheLeavesThatStayKeepTheirAliases()
    {
        var tag = MotorTag();
        var session = Begin(tag);
        var now = _time.GetUtcNow();
        session.Add(Sample.Good(tag, now, now, Motor(2.5f)), 1, false, _output);
        session.Flush(_output);
        var first = Messages("DBIRTH")[0].Metrics.ToDictionary(m => m.Name, m => m.Alias);

        tag.Structure = new StructureLayout("MotorData", [.. s_motorLayout.Leaves, new StructureLeaf("Current", SourceType.Double, false)]);
        session.Add(Sample.Good(tag, now, now, Motor(3.5f)), 2, false, _output);
        session.Flush(_output);

        var births = Messages("DBIRTH");
        Assert.Equal(2, births.Count);
        var second = births[1].Metrics.ToDictionary(m => m.Name);
        Assert.Equal(first["motor/Speed"], second["motor/Speed"].Alias);
        Assert.Equal(DataType.Double, (DataType)second["motor/Current"].Datatype);
        Assert.DoesNotContain(second["motor/Current"].Alias, first.Values);
        Assert.Equal(3.5f, second["motor/Speed"].FloatValue);
    }
}
