using System.Buffers.Binary;

namespace Gateway.Tests.Gpio;

/// <summary>
/// A BME280 (Bosch datasheet BST-BME280-DS002, section 5.3 memory map): chip id 0x60 at 0xD0, the trimming
/// parameters at 0x88-0xA1 and 0xE1-0xE7, ctrl_hum/ctrl_meas/config, and the 20-bit pressure and temperature
/// and 16-bit humidity readings at 0xF7-0xFE, loaded from raw ADC values.
/// </summary>
public sealed class Bme280Chip : EightBitRegisterChip
{
    public Bme280Chip(int address = 0x76)
        : base(address)
    {
        Registers[0xD0] = 0x60;
    }

    public void SetTemperatureCalibration(ushort t1, short t2, short t3)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Registers.AsSpan(0x88), t1);
        BinaryPrimitives.WriteInt16LittleEndian(Registers.AsSpan(0x8A), t2);
        BinaryPrimitives.WriteInt16LittleEndian(Registers.AsSpan(0x8C), t3);
    }

    public void SetPressureCalibration(ushort p1, short p2, short p3, short p4, short p5, short p6, short p7, short p8, short p9)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Registers.AsSpan(0x8E), p1);
        short[] rest = [p2, p3, p4, p5, p6, p7, p8, p9];
        for (var i = 0; i < rest.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(Registers.AsSpan(0x90 + (2 * i)), rest[i]);
        }
    }

    /// <summary>The humidity trimming, packed as the chip packs it (dig_H4 and dig_H5 share 0xE5).</summary>
    public void SetHumidityCalibration(byte h1, short h2, byte h3, short h4, short h5, sbyte h6)
    {
        Registers[0xA1] = h1;
        BinaryPrimitives.WriteInt16LittleEndian(Registers.AsSpan(0xE1), h2);
        Registers[0xE3] = h3;
        Registers[0xE4] = (byte)(h4 >> 4);
        Registers[0xE5] = (byte)((h4 & 0x0F) | ((h5 & 0x0F) << 4));
        Registers[0xE6] = (byte)(h5 >> 4);
        Registers[0xE7] = (byte)h6;
    }

    /// <summary>Loads the raw readings: 20-bit adc_P and adc_T (msb, lsb, xlsb[7:4]) and 16-bit adc_H.</summary>
    public void SetReadings(int adcPressure, int adcTemperature, int adcHumidity)
    {
        Write20(0xF7, adcPressure);
        Write20(0xFA, adcTemperature);
        Registers[0xFD] = (byte)(adcHumidity >> 8);
        Registers[0xFE] = (byte)adcHumidity;
    }

    public byte ControlMeasurement => Registers[0xF4];

    public byte ControlHumidity => Registers[0xF2];

    protected override void WriteRegister(byte register, byte value)
    {
        switch (register)
        {
            case 0xE0 when value == 0xB6:
                // Soft reset: control registers back to their reset values.
                Registers[0xF2] = Registers[0xF4] = Registers[0xF5] = 0;
                break;
            case 0xF2 or 0xF4 or 0xF5 or 0xE0:
                Registers[register] = value;
                break;
            default:
                // Trimming parameters and readings are read-only.
                break;
        }
    }

    private void Write20(int register, int value)
    {
        Registers[register] = (byte)(value >> 12);
        Registers[register + 1] = (byte)(value >> 4);
        Registers[register + 2] = (byte)((value & 0x0F) << 4);
    }
}
