namespace Gateway.Tests.Gpio;

/// <summary>
/// An INA219 (TI datasheet SBOS448, 8.6): configuration (0, reset 0x399F), shunt voltage (1, 10 µV LSB,
/// signed), bus voltage (2, bits 15-3 at 4 mV, CNVR bit 1), power (3), current (4), calibration (5). The chip
/// computes Current = Shunt × Cal / 4096 and Power = Current × Bus / 5000 (equations 4 and 5); with Cal 0 both read 0.
/// </summary>
public sealed class Ina219Chip : SixteenBitRegisterChip
{
    public Ina219Chip(int address = 0x40)
        : base(address)
    {
        Registers[0] = 0x399F;
    }

    /// <summary>The shunt voltage register: 10 µV per count.</summary>
    public short ShuntRegister { get; set; }

    /// <summary>The bus voltage in 4 mV counts.</summary>
    public ushort BusCounts { get; set; }

    public ushort Calibration => Registers[5];

    public ushort Configuration => Registers[0];

    protected override void WriteRegister(byte register, ushort value)
    {
        switch (register)
        {
            case 0 when (value & 0x8000) != 0:
                Registers[0] = 0x399F;
                Registers[5] = 0;
                break;
            case 0:
                Registers[0] = value;
                break;
            case 5:
                Registers[5] = (ushort)(value & 0xFFFE); // bit 0 is void (datasheet 8.6.3.6)
                break;
            default:
                break; // read-only
        }
    }

    protected override ushort ReadRegister(byte register)
    {
        var current = (short)(ShuntRegister * Registers[5] / 4096);
        return register switch
        {
            1 => (ushort)ShuntRegister,
            2 => (ushort)((BusCounts << 3) | 0x0002),
            3 => (ushort)(current * BusCounts / 5000),
            4 => (ushort)current,
            _ => Registers[register],
        };
    }
}
