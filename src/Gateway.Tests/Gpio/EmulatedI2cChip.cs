using System.Device.I2c;

namespace Gateway.Tests.Gpio;

/// <summary>
/// A chip at register level behind the abstract <see cref="I2cDevice"/>, after dotnet/iot's SimulatedI2cDevice:
/// the real binding talks to it byte by byte. A chip that is not <see cref="Present"/> does not acknowledge
/// its address, which Linux reports as an <see cref="IOException"/> (ENXIO/EREMOTEIO).
/// </summary>
public abstract class EmulatedI2cChip : I2cDevice
{
    private readonly I2cConnectionSettings _settings;

    protected EmulatedI2cChip(int address) => _settings = new I2cConnectionSettings(1, address);

    /// <summary>False makes every transfer fail as a NACK.</summary>
    public bool Present { get; set; } = true;

    /// <summary>How many transfers were refused.</summary>
    public int Nacks { get; private set; }

    public override I2cConnectionSettings ConnectionSettings => _settings;

    public override byte ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        Read(one);
        return one[0];
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Read(Span<byte> buffer)
    {
        Acknowledge();
        OnRead(buffer);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Acknowledge();
        OnWrite(buffer);
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        // A write, a repeated start, a read: as two transfers to the chip.
        Write(writeBuffer);
        Read(readBuffer);
    }

    /// <summary>One write transfer (after the address byte).</summary>
    protected abstract void OnWrite(ReadOnlySpan<byte> data);

    /// <summary>One read transfer.</summary>
    protected abstract void OnRead(Span<byte> data);

    private void Acknowledge()
    {
        if (!Present)
        {
            Nacks++;
            throw new IOException($"Error 121 performing I2C data transfer: no acknowledge from 0x{_settings.DeviceAddress:X2}");
        }
    }

    /// <summary>A factory for the driver: every device it opens is this chip (the bus keeps one chip per address).</summary>
    public Func<I2cConnectionSettings, I2cDevice> Bus => settings =>
        settings.DeviceAddress == _settings.DeviceAddress ? new Handle(this) : throw new IOException($"no chip at 0x{settings.DeviceAddress:X2}");

    /// <summary>A handle on the chip that the driver may dispose without destroying the chip.</summary>
    private sealed class Handle(EmulatedI2cChip chip) : I2cDevice
    {
        public override I2cConnectionSettings ConnectionSettings => chip.ConnectionSettings;

        public override byte ReadByte() => chip.ReadByte();

        public override void Read(Span<byte> buffer) => chip.Read(buffer);

        public override void WriteByte(byte value) => chip.WriteByte(value);

        public override void Write(ReadOnlySpan<byte> buffer) => chip.Write(buffer);

        public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => chip.WriteRead(writeBuffer, readBuffer);
    }
}

/// <summary>A chip with 8-bit registers and an auto-incrementing register pointer (Bosch BME280, datasheet 6.2).</summary>
public abstract class EightBitRegisterChip(int address) : EmulatedI2cChip(address)
{
    protected byte[] Registers { get; } = new byte[256];

    protected byte Pointer { get; private set; }

    protected override void OnWrite(ReadOnlySpan<byte> data)
    {
        // Writes are (register, value) pairs; a lone byte sets the pointer for the next read.
        if (data.Length == 1)
        {
            Pointer = data[0];
            return;
        }

        for (var i = 0; i + 1 < data.Length; i += 2)
        {
            WriteRegister(data[i], data[i + 1]);
        }
    }

    protected override void OnRead(Span<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = Registers[(byte)(Pointer + i)];
        }

        Pointer = (byte)(Pointer + data.Length);
    }

    protected virtual void WriteRegister(byte register, byte value) => Registers[register] = value;
}

/// <summary>A chip with 16-bit big-endian registers behind a pointer register (TI ADS1115, INA219).</summary>
public abstract class SixteenBitRegisterChip(int address) : EmulatedI2cChip(address)
{
    protected ushort[] Registers { get; } = new ushort[8];

    protected byte Pointer { get; private set; }

    /// <summary>Every value written, as (register, value), for assertions on what the binding configured.</summary>
    public List<(byte Register, ushort Value)> Writes { get; } = [];

    protected override void OnWrite(ReadOnlySpan<byte> data)
    {
        Pointer = (byte)(data[0] & 0x07);
        if (data.Length >= 3)
        {
            var value = (ushort)((data[1] << 8) | data[2]);
            Writes.Add((Pointer, value));
            WriteRegister(Pointer, value);
        }
    }

    protected override void OnRead(Span<byte> data)
    {
        var value = ReadRegister(Pointer);
        data[0] = (byte)(value >> 8);
        if (data.Length > 1)
        {
            data[1] = (byte)value;
        }
    }

    protected virtual void WriteRegister(byte register, ushort value) => Registers[register] = value;

    protected virtual ushort ReadRegister(byte register) => Registers[register];
}
