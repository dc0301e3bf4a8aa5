using Gateway.Drivers;
using Gateway.Drivers.OpcUa.DataTypes;
using Gateway.Drivers.OpcUa;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Tests.OpcUa;

public sealed class OpcUaArraysTests
{
    [Fact]
    public void Convert_ArraysOfTheNumericTypes_KeepTheirElementType()
    {
        Assert.Equal(SampleArray.Of([true, false]), OpcUaArrays.Convert(new Variant(BuiltInType.Boolean, new[] { true, false })));
        Assert.Equal(SampleArray.Of(new sbyte[] { -128, 127 }), OpcUaArrays.Convert(new Variant(BuiltInType.SByte, new sbyte[] { -128, 127 })));
        Assert.Equal(SampleArray.Of(new byte[] { 0, 255 }), OpcUaArrays.Convert(new Variant(BuiltInType.Byte, new byte[] { 0, 255 })));
        Assert.Equal(SampleArray.Of(new short[] { -1 }), OpcUaArrays.Convert(new Variant(BuiltInType.Int16, new short[] { -1 })));
        Assert.Equal(SampleArray.Of(new ushort[] { 65535 }), OpcUaArrays.Convert(new Variant(BuiltInType.UInt16, new ushort[] { 65535 })));
        Assert.Equal(SampleArray.Of([int.MinValue]), OpcUaArrays.Convert(new Variant(BuiltInType.Int32, new[] { int.MinValue })));
        Assert.Equal(SampleArray.Of(new uint[] { uint.MaxValue }), OpcUaArrays.Convert(new Variant(BuiltInType.UInt32, new[] { uint.MaxValue })));
        Assert.Equal(SampleArray.Of([long.MinValue]), OpcUaArrays.Convert(new Variant(BuiltInType.Int64, new[] { long.MinValue })));
        Assert.Equal(SampleArray.Of(new ulong[] { ulong.MaxValue }), OpcUaArrays.Convert(new Variant(BuiltInType.UInt64, new[] { ulong.MaxValue })));
        Assert.Equal(SampleArray.Of([22.1f]), OpcUaArrays.Convert(new Variant(BuiltInType.Float, new[] { 22.1f })));
        Assert.Equal(SampleArray.Of([0.1]), OpcUaArrays.Convert(new Variant(BuiltInType.Double, new[] { 0.1 })));
        var time = new DateTime(2026, 12, 3, 6, 0, 0, DateTimeKind.Utc);
        Assert.Equal(SampleArray.Of([time]), OpcUaArrays.Convert(new Variant(BuiltInType.DateTime, new[] { time })));
        Assert.Equal(SampleArray.Of(["a", ""]), OpcUaArrays.Convert(new Variant(BuiltInType.String, new string?[] { "a", null })));
    }

    [Fact]
    public void Convert_ArraysOfTheOtherTypes_AreTheirTextForms()
    {
        Assert.Equal(SampleArray.Of(["Hallo", ""]), OpcUaArrays.Convert(new Variant(BuiltInType.LocalizedText, new[] { new LocalizedText("de", "Hallo"), new LocalizedText(null, null) })));
        var guid = Guid.Parse("72962b91-fa75-4ae6-8d28-b404dc7daf63");
        Assert.Equal(SampleArray.Of([guid.ToString()]), OpcUaArrays.Convert(new Variant(BuiltInType.Guid, new[] { guid })));
        Assert.Equal(SampleArray.Of(["AQI="]), OpcUaArrays.Convert(new Variant(BuiltInType.ByteString, new[] { new byte[] { 1, 2 } })));
    }

    [Fact]
    public void Driver_Convert_AMatrix_StaysText_AndAnArrayIsNotScaled()
    {
        var matrix = new Variant(BuiltInType.Int32, new[] { 1, 2, 3, 4 }, [2, 2]);

        Assert.Equal(SampleValueKind.String, UaVariantValues.Convert(matrix).Kind);
        Assert.Equal(SourceType.String, UaVariantValues.SourceTypeOf(matrix));
        var scaled = new TagConfig { Scale = 10 };
        Assert.Equal(SampleValue.FromArray(SampleArray.Of(new short[] { 1, 2 })), UaVariantValues.Convert(new Variant(BuiltInType.Int16, new short[] { 1, 2 }), scaled));
        Assert.Equal(SourceType.Int16, UaVariantValues.SourceTypeOf(new Variant(BuiltInType.Int16, new short[] { 1, 2 }), scaled));
    }

    [Fact]
    public void SourceTypeOf_DataTypeAndValueRankAttributes_GiveTheTypeTheValuesWillHave()
    {
        Assert.Equal((SourceType.Float, true), OpcUaDriver.SourceTypeOf(new NodeId(0, 10), 1));
        Assert.Equal((SourceType.Float, false), OpcUaDriver.SourceTypeOf(new NodeId(0, 10), -1));
        Assert.Equal((SourceType.UInt64, false), OpcUaDriver.SourceTypeOf(new NodeId(0, 9), -1));
        Assert.Equal((SourceType.Boolean, true), OpcUaDriver.SourceTypeOf(new NodeId(0, 1), 1));
        Assert.Equal((SourceType.DateTime, true), OpcUaDriver.SourceTypeOf(new NodeId(0, 13), 1));
        Assert.Equal((SourceType.String, false), OpcUaDriver.SourceTypeOf(new NodeId(0, 13), -1));
        Assert.Equal((SourceType.Unknown, false), OpcUaDriver.SourceTypeOf(new NodeId(0, 10), 2));
        Assert.Equal((SourceType.Unknown, false), OpcUaDriver.SourceTypeOf(new NodeId(0, 10), -2));
        Assert.Equal((SourceType.Unknown, false), OpcUaDriver.SourceTypeOf(new NodeId(0, 22), -1));
        Assert.Equal((SourceType.Unknown, false), OpcUaDriver.SourceTypeOf(new NodeId(1, 10), -1));
        Assert.Equal((SourceType.Unknown, false), OpcUaDriver.SourceTypeOf(null, -1));
    }

    [Fact]
    public void UndecodableStructure_AnExtensionObjectKeptAsRawBytes_IsFound_AndAKnownOneIsNot()
    {
        var unknown = new ExtensionObject(new NodeId(3, "TE_\"UDT_Motor\""), 1, [1, 2, 3, 4, 5, 6, 7, 8, 9], null);
        var known = new ExtensionObject(new Gateway.Drivers.OpcUa.Encoding.Range { Low = 1, High = 2 });

        Assert.Equal(unknown.TypeId, OpcUaDriver.UndecodableStructure(new Variant(BuiltInType.ExtensionObject, unknown)));
        Assert.Equal(unknown.TypeId, OpcUaDriver.UndecodableStructure(new Variant(BuiltInType.ExtensionObject, new[] { known, unknown })));
        Assert.Null(OpcUaDriver.UndecodableStructure(new Variant(BuiltInType.ExtensionObject, known)));
        Assert.Null(OpcUaDriver.UndecodableStructure(new Variant(BuiltInType.ExtensionObject, ExtensionObject.Null)));
        Assert.Null(OpcUaDriver.UndecodableStructure(new Variant(BuiltInType.Int32, 5)));
    }
}
