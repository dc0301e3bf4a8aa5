using Gateway.Drivers.OpcUa.Encoding;
using Xunit;

namespace Gateway.Tests.OpcUa;

public sealed class OpcUaDecoderRobustnessTests
{
    private static List<byte[]> Corpus()
    {
        var corpus = new List<byte[]>();
        foreach (var id in UaTypeRegistry.EncodingIds)
        {
            UaTypeRegistry.TryCreate(id, out var message);
            SampleMessages.Fill(message!);
            var buffer = new UaBuffer();
            new UaEncoder(buffer).WriteMessage(message!);
            corpus.Add(buffer.ToArray());
        }

        // A read response holding every built-in type, arrays and a matrix.
        var values = new List<DataValue>();
        foreach (object[] row in (IEnumerable<object[]>)OpcUaEncodingTests.EveryBuiltInType())
        {
            values.Add(new DataValue { Value = (Variant)row[0], SourceTimestamp = DateTime.UnixEpoch });
        }

        values.Add(new DataValue { Value = new Variant(BuiltInType.Double, new[] { 1.0, 2, 3, 4 }, [2, 2]) });
        values.Add(new DataValue { Value = new Variant(BuiltInType.Variant, new[] { Variant.From(1), Variant.From("x") }) });
        var read = new ReadResponse { Results = [.. values] };
        var readBuffer = new UaBuffer();
        new UaEncoder(readBuffer).WriteMessage(read);
        corpus.Add(readBuffer.ToArray());
        return corpus;
    }

    /// <summary>
    /// 100,000 mutated messages (bit flips, random bytes, overwritten lengths, truncation, duplication): the decoder
    /// either decodes or throws <see cref="UaDecodingException"/>; nothing else escapes, and every call returns.
    /// </summary>
    [Fact]
    public void Decoder_HundredThousandMutatedMessages_OnlyThrowsDecodingErrors()
    {
        var corpus = Corpus();
        var random = new Random(4242);
        var decoded = 0;
        var rejected = 0;
        Exception? unexpected = null;
        byte[]? culprit = null;

        for (var i = 0; i < 100_000 && unexpected is null; i++)
        {
            var input = Mutate(corpus[random.Next(corpus.Count)], random);
            try
            {
                var decoder = new UaDecoder(input);
                decoder.ReadMessage();
                decoded++;
            }
            catch (UaDecodingException)
            {
                rejected++;
            }
            catch (Exception ex)
            {
                unexpected = ex;
                culprit = input;
            }
        }

        Assert.True(unexpected is null, $"{unexpected} for input {Convert.ToHexString(culprit ?? [])}");
        Assert.Equal(100_000, decoded + rejected);
        Assert.True(rejected > 10_000);
        Assert.True(decoded > 1_000);
    }

    private static byte[] Mutate(byte[] source, Random random)
    {
        var bytes = (byte[])source.Clone();
        var mutations = random.Next(1, 5);
        for (var m = 0; m < mutations && bytes.Length > 4; m++)
        {
            var at = random.Next(bytes.Length);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    // A length or count field made huge, negative or zero.
                    var value = random.Next(3) switch { 0 => int.MaxValue, 1 => -2, _ => 0 };
                    if (at + 4 <= bytes.Length)
                    {
                        BitConverter.TryWriteBytes(bytes.AsSpan(at), value);
                    }

                    break;
                case 3:
                    bytes = bytes[..at];
                    break;
                case 4:
                    bytes = [.. bytes[..at], .. bytes[at..].Take(random.Next(1, 16)), .. bytes[at..]];
                    break;
                default:
                    bytes[at] = (byte)(random.Next(2) == 0 ? 0xFF : 0x80 | random.Next(26));
                    break;
            }
        }

        return bytes;
    }
}
