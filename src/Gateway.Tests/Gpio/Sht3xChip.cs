namespace Gateway.Tests.Gpio;

/// <summary>
/// An SHT3x (Sensirion datasheet, section 4): 16-bit commands; after a single-shot measurement command a read
/// returns temperature word, CRC, humidity word, CRC (CRC-8, polynomial 0x31, init 0xFF, section 4.12).
/// </summary>
public sealed class Sht3xChip(int address = 0x44) : EmulatedI2cChip(address)
{
    private bool _measured;

    public ushort RawTemperature { get; set; }

    public ushort RawHumidity { get; set; }

    /// <summary>Corrupts the next measurement's CRC, as a disturbed bus would.</summary>
    public bool CorruptCrc { get; set; }

    public List<ushort> Commands { get; } = [];

    /// <summary>
    /// The CRC-8 of the datasheet (section 4.12: polynomial x^8 + x^5 + x^4 + 1, initialisation 0xFF, no reflection, no
    /// final XOR; 0xBEEF gives 0x92), written on purpose unlike the production check: a bit-serial shift register fed
    /// one message bit at a time, so a wrong polynomial or initial value in the driver does not pass by being copied.
    /// </summary>
    public static byte Crc8(ReadOnlySpan<byte> data)
    {
        const int polynomial = (1 << 5) | (1 << 4) | (1 << 0); // x^8 is implicit: the bit shifted out
        var register = 0xFF;
        foreach (var value in data)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                var feedback = ((register >> 7) & 1) ^ ((value >> bit) & 1);
                register = (register << 1) & 0xFF;
                if (feedback == 1)
                {
                    register ^= polynomial;
                }
            }
        }

        return (byte)register;
    }

    protected override void OnWrite(ReadOnlySpan<byte> data)
    {
        var command = (ushort)((data[0] << 8) | data[1]);
        Commands.Add(command);

        // 0x2C06/0x2C0D/0x2C10 (clock stretching) and 0x2400/0x240B/0x2416: single shot, high/medium/low repeatability.
        _measured = data[0] is 0x2C or 0x24;
    }

    protected override void OnRead(Span<byte> data)
    {
        if (!_measured)
        {
            // No measurement pending: the chip does not acknowledge a read header (datasheet 4.4).
            throw new IOException("SHT3x: read without a measurement: NACK");
        }

        Span<byte> frame = [(byte)(RawTemperature >> 8), (byte)RawTemperature, 0, (byte)(RawHumidity >> 8), (byte)RawHumidity, 0];
        frame[2] = Crc8(frame[..2]);
        frame[5] = Crc8(frame.Slice(3, 2));
        if (CorruptCrc)
        {
            frame[5] ^= 0x5A;
        }

        frame[..data.Length].CopyTo(data);
        _measured = false;
    }
}
