using System.Text;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa.DataTypes;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// The OPC Binary DataTypeDictionary of servers older than OPC UA 1.04 (OPC 10000-6 Annex F, 10000-5 Annex D),
/// parsed and mapped to the StructureDefinitions a 1.04 server gives, on a hand-written dictionary: nested
/// structures, arrays with a LengthField, optional fields behind an EncodingMask of opc:Bit fields, an enumeration,
/// a union; and the layouts OPC UA binary cannot have, refused with the field named.
/// </summary>
public sealed class UaTypeDictionaryTests
{
    private static readonly NodeId s_line = new(3, 7001u);
    private static readonly NodeId s_lineEncoding = new(3, 7002u);

    private const string Dictionary = """
        <?xml version="1.0" encoding="utf-8"?>
        <opc:TypeDictionary xmlns:opc="http://opcfoundation.org/BinarySchema/" xmlns:ua="http://opcfoundation.org/UA/"
            xmlns:tns="urn:plc:types" xmlns:other="urn:plc:other" DefaultByteOrder="LittleEndian" TargetNamespace="urn:plc:types">
          <opc:Import Namespace="http://opcfoundation.org/UA/" />
          <opc:Documentation>hand-written for the gateway's tests</opc:Documentation>
          <opc:EnumeratedType Name="Phase" LengthInBits="32">
            <opc:EnumeratedValue Name="Idle" Value="0" />
            <opc:EnumeratedValue Name="Run" Value="1" />
            <opc:EnumeratedValue Name="Fault" Value="-1" />
          </opc:EnumeratedType>
          <opc:StructuredType Name="Point" BaseType="ua:ExtensionObject">
            <opc:Field Name="X" TypeName="opc:Double" />
            <opc:Field Name="Y" TypeName="opc:Double" />
          </opc:StructuredType>
          <opc:StructuredType Name="Station" BaseType="ua:ExtensionObject">
            <opc:Field Name="Id" TypeName="opc:UInt16" />
            <opc:Field Name="Where" TypeName="tns:Point" />
            <opc:Field Name="NoOfPath" TypeName="opc:Int32" />
            <opc:Field Name="Path" TypeName="tns:Point" LengthField="NoOfPath" />
          </opc:StructuredType>
          <opc:StructuredType Name="Line" BaseType="ua:ExtensionObject">
            <opc:Field Name="CommentSpecified" TypeName="opc:Bit" />
            <opc:Field Name="LimitSpecified" TypeName="opc:Bit" />
            <opc:Field Name="Reserved1" TypeName="opc:Bit" Length="30" />
            <opc:Field Name="Name" TypeName="opc:CharArray" />
            <opc:Field Name="Phase" TypeName="tns:Phase" />
            <opc:Field Name="Comment" TypeName="opc:String" SwitchField="CommentSpecified" />
            <opc:Field Name="NoOfCounts" TypeName="opc:Int32" />
            <opc:Field Name="Counts" TypeName="opc:UInt32" LengthField="NoOfCounts" />
            <opc:Field Name="Limit" TypeName="opc:Float" SwitchField="LimitSpecified" />
            <opc:Field Name="NoOfStations" TypeName="opc:Int32" />
            <opc:Field Name="Stations" TypeName="tns:Station" LengthField="NoOfStations" />
            <opc:Field Name="Updated" TypeName="opc:DateTime" />
          </opc:StructuredType>
          <opc:StructuredType Name="Setting" BaseType="ua:Union">
            <opc:Field Name="SwitchField" TypeName="opc:UInt32" />
            <opc:Field Name="Number" TypeName="opc:Int32" SwitchField="SwitchField" SwitchValue="1" />
            <opc:Field Name="Text" TypeName="opc:String" SwitchField="SwitchField" SwitchValue="2" />
          </opc:StructuredType>
          <opc:StructuredType Name="Fixed"><opc:Field Name="Raw" TypeName="opc:Byte" Length="4" /></opc:StructuredType>
          <opc:StructuredType Name="Swapped">
            <opc:Field Name="ASpecified" TypeName="opc:Bit" />
            <opc:Field Name="BSpecified" TypeName="opc:Bit" />
            <opc:Field Name="Reserved1" TypeName="opc:Bit" Length="30" />
            <opc:Field Name="B" TypeName="opc:Int32" SwitchField="BSpecified" />
            <opc:Field Name="A" TypeName="opc:Int32" SwitchField="ASpecified" />
          </opc:StructuredType>
          <opc:StructuredType Name="Foreign"><opc:Field Name="Thing" TypeName="other:Thing" /></opc:StructuredType>
          <opc:OpaqueType Name="Blob" LengthInBits="64" />
        </opc:TypeDictionary>
        """;

    private static readonly UaTypeDictionary s_dictionary = UaTypeDictionary.Parse(Encoding.UTF8.GetBytes(Dictionary));

    private static UaDataTypeCatalog Catalog(string typeName) =>
        UaDataTypeCatalog.Build(UaTypeDictionaryMapping.Describe(s_dictionary, typeName, s_line, typeName, s_lineEncoding, "ns=3;i=7000"));

    [Fact]
    public void Parse_ReadsEveryTypeWithItsFieldsAsWritten()
    {
        Assert.Equal("urn:plc:types", s_dictionary.TargetNamespace);
        Assert.Equal(["Phase", "Point", "Station", "Line", "Setting", "Fixed", "Swapped", "Foreign", "Blob"], s_dictionary.Types.Select(t => t.Name));
        var phase = s_dictionary.Find("Phase")!;
        Assert.Equal(32, phase.EnumBits);
        Assert.Equal([("Idle", 0L), ("Run", 1L), ("Fault", -1L)], phase.EnumValues);
        var counts = s_dictionary.Find("Line")!.Fields.Single(f => f.Name == "Counts");
        Assert.Equal(UaTypeDictionary.OpcBinary + "UInt32", counts.TypeName);
        Assert.Equal("NoOfCounts", counts.LengthField);
        Assert.Equal((System.Xml.Linq.XNamespace)"urn:plc:types" + "Point", s_dictionary.Find("Station")!.Fields[1].TypeName);
        Assert.Equal(30u, s_dictionary.Find("Line")!.Fields[2].Length);
        Assert.Equal(2u, s_dictionary.Find("Setting")!.Fields[2].SwitchValue);
        Assert.True(s_dictionary.Find("Blob")!.IsOpaque);
    }

    [Fact]
    public void Map_StructureWithMaskLengthFieldsAndNestedTypes_IsTheDefinitionA104ServerGives()
    {
        var infos = UaTypeDictionaryMapping.Describe(s_dictionary, "Line", s_line, "Line", s_lineEncoding, "ns=3;i=7000");

        var line = Assert.IsType<StructureDefinition>(infos[0].Definition);
        Assert.Equal(s_line, infos[0].DataTypeId);
        Assert.Equal(s_lineEncoding, line.DefaultEncodingId);
        Assert.Equal(StructureType.StructureWithOptionalFields, line.StructureType);
        // The bits and the length fields are gone: they are the EncodingMask and the arrays' length prefixes.
        Assert.Equal(["Name", "Phase", "Comment", "Counts", "Limit", "Stations", "Updated"], line.Fields!.Select(f => f.Name));
        Assert.Equal([-1, -1, -1, 1, -1, 1, -1], line.Fields!.Select(f => f.ValueRank));
        Assert.Equal([false, false, true, false, true, false, false], line.Fields!.Select(f => f.IsOptional));
        Assert.Equal(new NodeId(0, 12u), line.Fields![0].DataType); // opc:CharArray is a String
        Assert.Equal(new NodeId(0, 7u), line.Fields![3].DataType);
        Assert.Equal(UaTypeDictionaryMapping.NestedId(3, "ns=3;i=7000", "Station"), line.Fields![5].DataType);
        Assert.Equal(["Line", "Phase", "Station", "Point"], infos.Select(i => i.Name));
        Assert.IsType<EnumDefinition>(infos[1].Definition);
        Assert.All(infos.Skip(1), i => Assert.True(i.IsInline));
    }

    [Fact]
    public void Map_ThenDecode_GivesTheSameStructureAsTheDataTypeDefinitionPath()
    {
        var catalog = Catalog("Line");
        byte[] body =
        [
            0x02, 0x00, 0x00, 0x00, // EncodingMask: Limit (optional field 1) present, Comment absent
            0x02, 0x00, 0x00, 0x00, (byte)'L', (byte)'1', // Name "L1"
            0xFF, 0xFF, 0xFF, 0xFF, // Phase -1 (Fault)
            0x02, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, // Counts [7, 4294967295]
            0x00, 0x00, 0xC0, 0x3F, // Limit 1.5f
            0x01, 0x00, 0x00, 0x00, // one Station
            0x2A, 0x00, // Id 42
            0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0x40, // Where { 1.0, 2.0 }
            0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0x08, 0x40, 0, 0, 0, 0, 0, 0, 0x10, 0x40, // Path [{ 3.0, 4.0 }]
            0x00, 0x00, 0x81, 0x92, 0xB1, 0x7A, 0xDC, 0x01, // Updated: 2026-01-01T00:00:00Z (100-ns ticks since 1601)
        ];

        var value = catalog.Decode(new ExtensionObject(s_lineEncoding, 1, body, null));

        Assert.Null(catalog.ProblemOf(s_line));
        Assert.Equal(
            "{\"Name\":\"L1\",\"Phase\":-1,\"Comment\":null,\"Counts\":[7,4294967295],\"Limit\":1.5,\"Stations\":[{\"Id\":42,\"Where\":{\"X\":1,\"Y\":2},\"Path\":[{\"X\":3,\"Y\":4}]}],\"Updated\":\"2026-01-01T00:00:00.0000000Z\"}",
            value.AsStructure!.ToString());
        Assert.Equal(SampleValueKind.Float, value.AsStructure!["Limit"].Kind);
        Assert.Equal("Line(Name:String, Phase:Int32, Comment:String, Counts:UInt32[], Limit:Float, Stations:Structure[], Updated:String)", UaStructureLayouts.Of(catalog.StructureOf(s_line)!).ToString());
    }

    [Fact]
    public void Map_UnionOfSwitchValues_IsAUnion()
    {
        var catalog = Catalog("Setting");

        var value = catalog.Decode(new ExtensionObject(s_lineEncoding, 1, [0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, (byte)'o', (byte)'n'], null));

        Assert.Equal(StructureType.Union, catalog.StructureOf(s_line)!.Layout);
        Assert.Equal("{\"Text\":\"on\"}", value.AsStructure!.ToString());
    }

    [Theory]
    [InlineData("Fixed", "field Raw has a fixed length")]
    [InlineData("Swapped", "optional field B is bit 1 of the EncodingMask; OPC 10000-6 gives it bit 0")]
    [InlineData("Foreign", "field Thing is of type Thing of urn:plc:other, which this dictionary does not define")]
    [InlineData("Blob", "Blob is an opc:OpaqueType")]
    [InlineData("Missing", "has no type Missing")]
    public void Map_LayoutOpcUaBinaryCannotHave_IsUndecodableWithTheFieldNamed(string typeName, string reason)
    {
        var catalog = Catalog(typeName);

        Assert.Null(catalog.StructureOf(s_line));
        Assert.Contains(reason, catalog.ProblemOf(s_line), StringComparison.Ordinal);
    }

    [Fact]
    public void Map_NestedTypeUndecodable_MakesTheOuterUndecodableWithTheInnerReason()
    {
        var xml = Dictionary.Replace("<opc:Field Name=\"Y\" TypeName=\"opc:Double\" />", "<opc:Field Name=\"Y\" TypeName=\"opc:WideString\" />", StringComparison.Ordinal);
        var infos = UaTypeDictionaryMapping.Describe(UaTypeDictionary.Parse(Encoding.UTF8.GetBytes(xml)), "Station", s_line, "Station", s_lineEncoding, "d");

        var catalog = UaDataTypeCatalog.Build(infos);

        Assert.Contains("field Where is of DataType", catalog.ProblemOf(s_line), StringComparison.Ordinal);
        Assert.Contains("field Y is of type WideString", catalog.ProblemOf(s_line), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<opc:TypeDictionary xmlns:opc=\"http://opcfoundation.org/BinarySchema/\"><opc:StructuredType", "not valid XML")]
    [InlineData("<TypeDictionary />", "not opc:TypeDictionary")]
    [InlineData("<!DOCTYPE d [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><opc:TypeDictionary xmlns:opc=\"http://opcfoundation.org/BinarySchema/\">&e;</opc:TypeDictionary>", "not valid XML")]
    [InlineData("<opc:TypeDictionary xmlns:opc=\"http://opcfoundation.org/BinarySchema/\">\n<opc:StructuredType Name=\"A\"><opc:Field Name=\"F\" TypeName=\"x:Int32\" /></opc:StructuredType></opc:TypeDictionary>", "line 2: field F: the prefix x of TypeName x:Int32 is not declared")]
    [InlineData("<opc:TypeDictionary xmlns:opc=\"http://opcfoundation.org/BinarySchema/\"><opc:EnumeratedType Name=\"E\" LengthInBits=\"many\" /></opc:TypeDictionary>", "LengthInBits=\"many\" is not an unsigned number")]
    public void Parse_BadDictionary_IsADecodingErrorWithTheReason(string xml, string reason)
    {
        var error = Assert.Throws<UaDecodingException>(() => UaTypeDictionary.Parse(Encoding.UTF8.GetBytes(xml)));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
