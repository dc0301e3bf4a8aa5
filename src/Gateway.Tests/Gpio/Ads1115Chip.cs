namespace Gateway.Tests.Gpio;

/// <summary>
/// An ADS1115 (TI datasheet SBAS444, 8.6): pointer register; conversion (0), config (1), Lo_thresh (2),
/// Hi_thresh (3). Writing OS=1 in single-shot mode converts the selected input at once with the selected
/// full-scale range: code = round(V / (FSR / 32768)), clamped to 0x8000..0x7FFF (Table 8-3). Config reads OS=1: idle.
/// </summary>
public sealed class Ads1115Chip : SixteenBitRegisterChip
{
    private static readonly double[] s_fullScale = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256];

    public Ads1115Chip(int address = 0x48)
        : base(address)
    {
        Registers[1] = 0x8583; // reset value
        Registers[2] = 0x8000;
        Registers[3] = 0x7FFF;
    }

    /// <summary>The voltage on AIN0..AIN3 against GND, in volts.</summary>
    public double[] Inputs { get; } = new double[4];

    /// <summary>Overrides the converted code (to check code-to-volts on exact codes).</summary>
    public short? ForcedCode { get; set; }

    protected override void WriteRegister(byte register, ushort value)
    {
        if (register != 1)
        {
            Registers[register] = value;
            return;
        }

        Registers[1] = (ushort)(value | 0x8000);
        var singleShotStart = (value & 0x8000) != 0 && (value & 0x0100) != 0;
        var continuous = (value & 0x0100) == 0;
        if (singleShotStart || continuous)
        {
            Convert(value);
        }
    }

    private void Convert(ushort config)
    {
        var mux = (config >> 12) & 0x7;
        var volts = mux switch
        {
            0 => Inputs[0] - Inputs[1],
            1 => Inputs[0] - Inputs[3],
            2 => Inputs[1] - Inputs[3],
            3 => Inputs[2] - Inputs[3],
            _ => Inputs[mux - 4],
        };
        var lsb = s_fullScale[(config >> 9) & 0x7] / 32768.0;
        var code = Math.Clamp(Math.Round(volts / lsb), short.MinValue, short.MaxValue);
        Registers[0] = (ushort)(ForcedCode ?? (short)code);
    }
}
