using System.Globalization;
using System.Text;
using System.Text.Json;
using Gateway.Drivers;

namespace Gateway.Tests.Abstractions;

public sealed class SampleJsonTests
{
    [Theory]
    [InlineData(22.1f, "22.1")]
    [InlineData(123.456f, "123.456")]
    [InlineData(-0.1f, "-0.1")]
    [InlineData(65f, "65")]
    [InlineData(1e-39f, "1E-39")]
    [InlineData(-1.5e-7f, "-1.5E-07")]
    [InlineData(float.Epsilon, "1E-45")]
    [InlineData(float.MaxValue, "3.4028235E+38")]
    public void WriteValue_Float_IsTheShortestTextThatReadsBackAsTheFloat(float value, string expected)
    {
        var text = Write(json => SampleJson.WriteValue(json, SampleValue.FromFloat(value)));

        Assert.Equal(expected, text);
        Assert.Equal(value, float.Parse(text, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Utf8JsonWriter_WritesAFloatAsItsShortestRoundTripText()
    {
        // What SampleJson.WriteValue relies on: WriteNumberValue(float) formats the float itself (not the double it
        // widens to), as float.ToString("R") does; checked here over random bit patterns.
        var random = new Random(1234);
        Span<byte> bits = stackalloc byte[4];
        for (var i = 0; i < 100_000; i++)
        {
            random.NextBytes(bits);
            var value = BitConverter.ToSingle(bits);
            if (!float.IsFinite(value))
            {
                continue;
            }

            var text = Write(json => json.WriteNumberValue(value));
            Assert.Equal(value.ToString("R", CultureInfo.InvariantCulture), text);
        }
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            write(json);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
