namespace Gateway.Tests.Pi;

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

    public static byte Crc8(ReadOnlySpan<byte> data)
    {
        byte crc = 0xFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x80) != 0 ? (byte)((crc << 1) ^ 0x31) : (byte)(crc << 1);
            }
        }

        return crc;
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
