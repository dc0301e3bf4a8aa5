using Gateway.Drivers;
using Gateway.Drivers.OpcUa.DataTypes;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// StructureDefinition / EnumDefinition as OPC 10000-6 §5.2 encodes them, and ExtensionObject bodies decoded with a
/// definition (§5.2.6 structures, §5.2.7 optional fields and unions), on hand-encoded bytes.
/// </summary>
public sealed class UaStructureDecodingTests
{
    private static readonly NodeId s_motor = new(2, 3003u);
    private static readonly NodeId s_motorEncoding = new(2, 5003u);
    private static readonly NodeId s_position = new(2, 3002u);
    private static readonly NodeId s_positionEncoding = new(2, 5002u);
    private static readonly NodeId s_mode = new(2, 3001u);

    [Fact]
    public void StructureDefinition_FromTheDataTypeDefinitionAttribute_DecodesEveryField()
    {
        byte[] bytes =
        [
            0x00, 0x7A, // ExtensionObject TypeId i=122 (StructureDefinition_Encoding_DefaultBinary), two-byte NodeId
            0x01, // binary body
            0x3F, 0x00, 0x00, 0x00, // body length 63
            0x01, 0x02, 0x8B, 0x13, // DefaultEncodingId ns=2;i=5003 (four-byte NodeId)
            0x00, 0x16, // BaseDataType i=22 (Structure)
            0x01, 0x00, 0x00, 0x00, // StructureType 1: StructureWithOptionalFields
            0x02, 0x00, 0x00, 0x00, // 2 fields
            0x05, 0x00, 0x00, 0x00, (byte)'S', (byte)'p', (byte)'e', (byte)'e', (byte)'d', // Name
            0x00, // Description: no locale, no text
            0x00, 0x0A, // DataType i=10 Float
            0xFF, 0xFF, 0xFF, 0xFF, // ValueRank -1
            0xFF, 0xFF, 0xFF, 0xFF, // ArrayDimensions null
            0x00, 0x00, 0x00, 0x00, // MaxStringLength 0
            0x00, // IsOptional false
            0x04, 0x00, 0x00, 0x00, (byte)'N', (byte)'o', (byte)'t', (byte)'e',
            0x00,
            0x00, 0x0C, // String
            0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, 0xFF, 0xFF, 0xFF,
            0x00, 0x00, 0x00, 0x00,
            0x01, // IsOptional true
        ];

        var decoder = new UaDecoder(bytes);
        var value = decoder.ReadExtensionObject();

        Assert.Equal(0, decoder.Remaining);
        var definition = Assert.IsType<StructureDefinition>(value.Body);
        Assert.Equal(s_motorEncoding, definition.DefaultEncodingId);
        Assert.Equal(new NodeId(0, 22u), definition.BaseDataType);
        Assert.Equal(StructureType.StructureWithOptionalFields, definition.StructureType);
        Assert.Equal(["Speed", "Note"], definition.Fields!.Select(f => f.Name));
        Assert.Equal([new NodeId(0, 10u), new NodeId(0, 12u)], definition.Fields!.Select(f => f.DataType));
        Assert.All(definition.Fields!, f => Assert.Equal(-1, f.ValueRank));
        Assert.Equal([false, true], definition.Fields!.Select(f => f.IsOptional));
    }

    [Fact]
    public void EnumDefinition_FromTheDataTypeDefinitionAttribute_DecodesTheValues()
    {
        byte[] bytes =
        [
            0x00, 0x7B, 0x01, 0x16, 0x00, 0x00, 0x00, // TypeId i=123, binary, 22 bytes
            0x01, 0x00, 0x00, 0x00, // 1 field
            0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // Value 2 (Int64)
            0x00, 0x00, // DisplayName, Description empty
            0x04, 0x00, 0x00, 0x00, (byte)'A', (byte)'u', (byte)'t', (byte)'o', // Name
        ];

        var decoder = new UaDecoder(bytes);
        var definition = Assert.IsType<EnumDefinition>(decoder.ReadExtensionObject().Body);

        Assert.Equal(0, decoder.Remaining);
        Assert.Equal(2, Assert.Single(definition.Fields!).Value);
        Assert.Equal("Auto", definition.Fields![0].Name);
    }

    // MotorData of tests/peers/opcua/structures.NodeSet2.xml, with Note present (EncodingMask bit 0).
    private static readonly byte[] s_motorBody =
    [
        0x01, 0x00, 0x00, 0x00, // EncodingMask: optional field 0 (Note) present
        0x00, 0x00, 0xC0, 0x3F, // Speed 1.5f
        0x2E, 0xFB, // Torque -1234
        0x02, 0x00, 0x00, 0x00, (byte)'M', (byte)'1', // Label "M1"
        0x01, // Running true
        0x02, 0x00, 0x00, 0x00, // Mode 2 (enumeration: Int32)
        0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x10, 0xC0, // Position { X 1.5f, Y -2.25f }
        0x03, 0x00, 0x00, 0x00, 0xCD, 0xCC, 0xCC, 0x3D, 0xCD, 0xCC, 0xB0, 0x41, 0x00, 0x00, 0x00, 0xBF, // Profile [0.1f, 22.1f, -0.5f]
        0x02, 0x00, 0x00, 0x00, (byte)'o', (byte)'k', // Note "ok"
    ];

    private static UaDataTypeCatalog MotorCatalog(StructureType layout = StructureType.StructureWithOptionalFields) => UaDataTypeCatalog.Build(
    [
        new UaDataTypeInfo(s_mode, "MotorMode", new EnumDefinition { Fields = [new EnumField { Name = "Off" }, new EnumField { Name = "Auto", Value = 2 }] }, null, null, null),
        new UaDataTypeInfo(s_position, "Position", new StructureDefinition
        {
            DefaultEncodingId = s_positionEncoding,
            Fields = [Field("X", 10), Field("Y", 10)],
        }, null, s_positionEncoding, null),
        new UaDataTypeInfo(s_motor, "MotorData", new StructureDefinition
        {
            DefaultEncodingId = s_motorEncoding,
            StructureType = layout,
            Fields =
            [
                Field("Speed", 10), Field("Torque", 4), Field("Label", 12), Field("Running", 1),
                new StructureField { Name = "Mode", DataType = s_mode, ValueRank = -1 },
                new StructureField { Name = "Position", DataType = s_position, ValueRank = -1 },
                new StructureField { Name = "Profile", DataType = new NodeId(0, 10u), ValueRank = 1, ArrayDimensions = [0] },
                new StructureField { Name = "Note", DataType = new NodeId(0, 12u), ValueRank = -1, IsOptional = true },
            ],
        }, null, s_motorEncoding, null),
    ]);

    private static StructureField Field(string name, uint builtIn) => new() { Name = name, DataType = new NodeId(0, builtIn), ValueRank = -1 };

    private static ExtensionObject Body(NodeId encoding, byte[] body) => new(encoding, 1, body, null);

    [Fact]
    public void Decode_StructureWithOptionalFields_GivesEveryFieldWithItsExactKind()
    {
        var value = MotorCatalog().Decode(Body(s_motorEncoding, s_motorBody));

        var motor = Assert.IsType<SampleStructure>(value.AsStructure);
        Assert.Equal("MotorData", motor.TypeName);
        Assert.Equal("{\"Speed\":1.5,\"Torque\":-1234,\"Label\":\"M1\",\"Running\":true,\"Mode\":2,\"Position\":{\"X\":1.5,\"Y\":-2.25},\"Profile\":[0.1,22.1,-0.5],\"Note\":\"ok\"}", motor.ToString());
        Assert.Equal(SampleValueKind.Float, motor["Speed"].Kind);
        Assert.Equal(SampleValueKind.Integer, motor["Torque"].Kind);
        Assert.Equal(SourceType.Float, motor["Profile"].AsArray!.ElementType);
        Assert.Equal(SampleValueKind.Float, motor["Position"].AsStructure!["Y"].Kind);
    }

    [Fact]
    public void Decode_OptionalFieldAbsent_IsNoValueAndTakesNoBytes()
    {
        var body = s_motorBody[..^6];
        body[0] = 0x00; // EncodingMask: Note absent

        var motor = MotorCatalog().Decode(Body(s_motorEncoding, body)).AsStructure!;

        Assert.Equal(SampleValueKind.None, motor["Note"].Kind);
        Assert.EndsWith("\"Note\":null}", motor.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_Union_GivesTheSelectedFieldOnly()
    {
        var catalog = MotorCatalog(StructureType.Union);
        byte[] body = [0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, (byte)'M', (byte)'1']; // SwitchField 3: Label

        var union = catalog.Decode(Body(s_motorEncoding, body)).AsStructure!;

        Assert.Equal("{\"Label\":\"M1\"}", union.ToString());
        Assert.Equal("{}", catalog.Decode(Body(s_motorEncoding, [0x00, 0x00, 0x00, 0x00])).ToString()); // SwitchField 0: null union
    }

    [Fact]
    public void Decode_UnionSwitchPastTheFields_NamesTheReason()
    {
        var error = Assert.Throws<UaDecodingException>(() => MotorCatalog(StructureType.Union).Decode(Body(s_motorEncoding, [0x09, 0x00, 0x00, 0x00])));

        Assert.Contains("union switch field 9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_BodyTooShort_NamesTheFieldPath()
    {
        var body = s_motorBody[..26]; // cut inside Position.Y

        var error = Assert.Throws<UaDecodingException>(() => MotorCatalog().Decode(Body(s_motorEncoding, body)));

        Assert.StartsWith("MotorData.Position.Y: unexpected end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_BytesLeftOver_IsRefused()
    {
        var error = Assert.Throws<UaDecodingException>(() => MotorCatalog().Decode(Body(s_motorEncoding, [.. s_motorBody, 0x00])));

        Assert.Contains("1 bytes left over", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_UnknownEncoding_IsRefused()
    {
        var error = Assert.Throws<UaDecodingException>(() => MotorCatalog().Decode(Body(new NodeId(2, 9999u), s_motorBody)));

        Assert.Contains("ns=2;i=9999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_FieldOfAnUndefinedType_MakesTheStructureUndecodableWithTheReason()
    {
        var catalog = UaDataTypeCatalog.Build(
        [
            new UaDataTypeInfo(s_position, "Position", new StructureDefinition { Fields = [Field("X", 10), new StructureField { Name = "Vendor", DataType = new NodeId(2, 77u), ValueRank = -1 }] }, null, s_positionEncoding, null),
            new UaDataTypeInfo(new NodeId(2, 77u), "VendorThing", null, new NodeId(0, 22u), null, "the server gives no DataTypeDefinition for DataType VendorThing (ns=2;i=77): BadAttributeIdInvalid"),
        ]);

        Assert.Contains("field Vendor is of DataType ns=2;i=77", catalog.ProblemOf(s_position), StringComparison.Ordinal);
        Assert.Contains("BadAttributeIdInvalid", catalog.ProblemOf(s_position), StringComparison.Ordinal);
        var error = Assert.Throws<UaDecodingException>(() => catalog.Decode(Body(s_positionEncoding, [0, 0, 0, 0])));
        Assert.Contains("field Vendor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SimpleSubtypeOfABuiltInType_DecodesAsThatType()
    {
        var vendorDouble = new NodeId(2, 80u);
        var catalog = UaDataTypeCatalog.Build(
        [
            new UaDataTypeInfo(s_position, "Position", new StructureDefinition { Fields = [new StructureField { Name = "Length", DataType = vendorDouble, ValueRank = -1 }, new StructureField { Name = "At", DataType = new NodeId(0, 294u), ValueRank = -1 }] }, null, s_positionEncoding, null),
            new UaDataTypeInfo(vendorDouble, "Millimetres", null, new NodeId(0, 11u), null, "no definition"),
        ]);
        byte[] body = [0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0]; // Length 1.5 (Double), At UtcTime 0

        var value = catalog.Decode(Body(s_positionEncoding, body)).AsStructure!;

        Assert.Equal(SampleValueKind.Double, value["Length"].Kind);
        Assert.Equal(1.5, value["Length"].AsDouble);
        Assert.Equal(SampleValueKind.String, value["At"].Kind); // a DateTime is published as its ISO 8601 text
    }

    [Fact]
    public void Decode_SubtypedValues_ReadAVariantWhereTheFieldAllowsSubtypes()
    {
        var catalog = UaDataTypeCatalog.Build(
        [
            new UaDataTypeInfo(s_position, "Reading", new StructureDefinition
            {
                StructureType = StructureType.StructureWithSubtypedValues,
                Fields = [Field("Id", 6), new StructureField { Name = "Value", DataType = new NodeId(0, 26u), ValueRank = -1, IsOptional = true }],
            }, null, s_positionEncoding, null),
        ]);
        byte[] body = [0x07, 0, 0, 0, 0x04, 0x2E, 0xFB]; // Id 7, Value: Variant of Int16 -1234

        var value = catalog.Decode(Body(s_positionEncoding, body)).AsStructure!;

        Assert.Equal("{\"Id\":7,\"Value\":-1234}", value.ToString());
    }

    [Fact]
    public void Decode_FieldOfDataTypeStructure_DecodesTheNestedExtensionObjectByItsEncoding()
    {
        var holder = new NodeId(2, 90u);
        var holderEncoding = new NodeId(2, 91u);
        var catalog = UaDataTypeCatalog.Build(
        [
            new UaDataTypeInfo(s_position, "Position", new StructureDefinition { Fields = [Field("X", 10), Field("Y", 10)] }, null, s_positionEncoding, null),
            new UaDataTypeInfo(holder, "Holder", new StructureDefinition { Fields = [Field("Any", 22)] }, null, holderEncoding, null),
        ]);
        byte[] body = [0x01, 0x02, 0x8A, 0x13, 0x01, 0x08, 0, 0, 0, 0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x10, 0xC0]; // ns=2;i=5002, binary, 8 bytes

        var value = catalog.Decode(Body(holderEncoding, body));

        Assert.Equal("{\"Any\":{\"X\":1.5,\"Y\":-2.25}}", value.ToString());
    }

    [Fact]
    public void Layout_FlattensNestedStructuresWithTheLeafTypes()
    {
        var layout = UaStructureLayouts.Of(MotorCatalog().StructureOf(s_motor)!);

        Assert.Equal("MotorData", layout.TypeName);
        Assert.Equal(
            ["Speed:Float", "Torque:Int16", "Label:String", "Running:Boolean", "Mode:Int32", "Position/X:Float", "Position/Y:Float", "Profile:Float[]", "Note:String"],
            layout.Leaves.Select(l => $"{l.Path}:{l.Type}{(l.IsArray ? "[]" : "")}"));
        Assert.Equal(-2.25f, layout.Leaves[6].In(MotorCatalog().Decode(Body(s_motorEncoding, s_motorBody))).AsFloat);
    }
}
