using Gateway.Drivers;

namespace Gateway.Tests.Abstractions;

public sealed class SampleArrayTests
{
    [Fact]
    public void ToJson_AFloatArray_IsAJsonArrayOfShortestFloats()
    {
        var value = SampleValue.FromArray(SampleArray.Of([0f, 0.1f, 22.1f, -0.1f, float.NaN]));

        Assert.Equal("[0,0.1,22.1,-0.1,null]", SampleJson.ToJson(value));
    }

    [Fact]
    public void ToJson_ArraysOfEveryType_AreJsonArrays()
    {
        Assert.Equal("[true,false]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of([true, false]))));
        Assert.Equal("[-128,127]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of(new sbyte[] { -128, 127 }))));
        Assert.Equal("[0,255]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of(new byte[] { 0, 255 }))));
        Assert.Equal("[-1,2]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of(new short[] { -1, 2 }))));
        Assert.Equal("[65535]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of(new ushort[] { 65535 }))));
        Assert.Equal("[-2147483648]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of([int.MinValue]))));
        Assert.Equal("[4294967295]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of(new uint[] { uint.MaxValue }))));
        Assert.Equal("[-9223372036854775808]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of([long.MinValue]))));
        Assert.Equal("[18446744073709551615]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of(new ulong[] { ulong.MaxValue }))));
        Assert.Equal("[0.1,1E+300]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of([0.1, 1e300]))));
        Assert.Equal("[\"a\",\"\"]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of(new string?[] { "a", null }))));
        Assert.Equal("[\"2026-05-01T06:00:00Z\"]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of([new DateTime(2026, 5, 1, 6, 0, 0, DateTimeKind.Utc)]))));
        Assert.Equal("[]", SampleJson.ToJson(SampleValue.FromArray(SampleArray.Of(Array.Empty<int>()))));
    }

    [Fact]
    public void ToJson_AStructure_IsAnObjectInFieldOrder()
    {
        var inner = new SampleStructure("Limits", ["Low", "High"], [SampleValue.FromFloat(-0.1f), SampleValue.FromFloat(22.1f)]);
        var motor = new SampleStructure(
            "MotorData",
            ["Speed", "Name", "Running", "Limits", "History", "Missing"],
            [SampleValue.FromDouble(1500.5), SampleValue.FromString("M1"), SampleValue.FromBoolean(true), SampleValue.FromStructure(inner), SampleValue.FromArray(SampleArray.Of([1, 2])), SampleValue.None]);

        Assert.Equal("{\"Speed\":1500.5,\"Name\":\"M1\",\"Running\":true,\"Limits\":{\"Low\":-0.1,\"High\":22.1},\"History\":[1,2],\"Missing\":null}", SampleValue.FromStructure(motor).ToString());
    }

    [Fact]
    public void Equals_ArraysWithTheSameElements_AreEqual_AndAChangedElementIsNot()
    {
        var a = SampleValue.FromArray(SampleArray.Of([1f, float.NaN, 3f]));
        var same = SampleValue.FromArray(SampleArray.Of([1f, float.NaN, 3f]));
        var changed = SampleValue.FromArray(SampleArray.Of([1f, float.NaN, 3.5f]));
        var otherType = SampleValue.FromArray(SampleArray.Of([1.0, double.NaN, 3.0]));

        Assert.Equal(a, same);
        Assert.NotEqual(a, changed);
        Assert.NotEqual(a, otherType);
    }

    [Fact]
    public void OfStructures_AScalarElement_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => SampleArray.OfStructures([SampleValue.FromInteger(1)]));
    }
}
