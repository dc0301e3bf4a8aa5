using System.Text;
using Gateway.Dashboard;
using Gateway.Drivers;

namespace Gateway.Tests.Dashboard;

public sealed class TagJsonTests
{
    private static readonly TagInfo s_tag = new("press", "temperature", "degC");
    private static readonly DateTimeOffset s_time = new(2026, 11, 26, 10, 0, 0, 123, TimeSpan.Zero);

    private static string Json(Sample sample) => Encoding.UTF8.GetString(DashboardData.TagsDocument([sample]));

    [Fact]
    public void TagsDocument_Float32_IsItsShortestRoundTripText()
    {
        var json = Json(Sample.Good(s_tag, s_time, s_time, SampleValue.FromFloat(22.1f)));

        Assert.Contains("\"value\":22.1,", json, StringComparison.Ordinal);
    }

    [Fact]
    public void TagsDocument_UnsignedInteger_KeepsValuesAboveInt64()
    {
        var json = Json(Sample.Good(s_tag, s_time, s_time, SampleValue.FromUnsignedInteger(ulong.MaxValue)));

        Assert.Contains("\"value\":18446744073709551615,", json, StringComparison.Ordinal);
    }

    [Fact]
    public void TagsDocument_BadSample_HasNullValueQualityStatusCodeAndItsName()
    {
        var json = Json(Sample.Bad(s_tag, s_time, SampleStatus.BadSensorFailure));

        Assert.Equal(
            "[{\"tag\":\"press/temperature\",\"machine\":\"press\",\"path\":\"temperature\",\"value\":null,\"quality\":\"Bad\",\"statusCode\":2156658688,\"statusText\":\"BadSensorFailure (0x808C0000)\",\"timestamp\":\"2026-11-26T10:00:00.123+00:00\",\"unit\":\"degC\"}]",
            json);
    }

    [Fact]
    public void TagsDocument_NonFiniteFloat_IsNull()
    {
        var json = Json(Sample.Good(s_tag, s_time, s_time, SampleValue.FromFloat(float.NaN)));

        Assert.Contains("\"value\":null,", json, StringComparison.Ordinal);
    }
}
