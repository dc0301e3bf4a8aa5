using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Drivers.Modbus;

/// <summary>A unit the driver polls.</summary>
internal sealed record ModbusDevice(string Name, byte UnitId, TimeSpan Timeout, int MaxRegisters = ModbusLimits.MaxReadRegisters, int MaxBits = ModbusLimits.MaxReadBits)
{
    /// <summary>Most registers or bits one read request of <paramref name="table"/> may cover on this device.</summary>
    public int MaxReadCount(ModbusTable table) => table.IsBitTable() ? MaxBits : MaxRegisters;
}

/// <summary>A tag resolved from its configuration: wire address, format, scale, device and poll group.</summary>
internal sealed class ModbusTag
{
    public required TagInfo Info { get; init; }

    public required string Name { get; init; }

    public required ModbusTable Table { get; init; }

    /// <summary>Address on the wire (configured address minus the address base).</summary>
    public required int WireAddress { get; init; }

    public int Bit { get; init; } = -1;

    public required ModbusValueFormat Format { get; init; }

    public double Scale { get; init; } = 1.0;

    public double Offset { get; init; }

    public bool Writable { get; init; }

    public required ModbusDevice Device { get; init; }

    public required string PollGroup { get; init; }

    /// <summary>Registers or bits read for the tag.</summary>
    public int Count => Table.IsBitTable() ? 1 : Format.RegisterCount;

    public ModbusRange Range => new(Table, WireAddress, Count);
}

/// <summary>Everything a Modbus driver needs, resolved and checked.</summary>
internal sealed record ModbusDriverPlan(
    string Type,
    ModbusSettings Settings,
    IReadOnlyList<ModbusDevice> Devices,
    IReadOnlyDictionary<string, TimeSpan> PollGroups,
    IReadOnlyList<ModbusTag> Tags);

/// <summary>Creates <c>modbus-tcp</c> (MBAP, or RTU over TCP with <c>rtuOverTcp</c>) and <c>modbus-rtu</c> drivers.</summary>
public sealed class ModbusDriverFactory : IDriverFactory
{
    public const string TcpType = "modbus-tcp";
    public const string RtuType = "modbus-rtu";
    public const string DefaultPollGroup = PollGroups.Default;

    public IReadOnlyCollection<string> Types { get; } = [TcpType, RtuType];

    public Type? SettingsType(string type) => typeof(ModbusSettings);

    public Type? TagSettingsType(string type) => typeof(ModbusTagSettings);

    public IEnumerable<ConfigProblem> Validate(DriverConfig config, IConfigurationSection section, string path)
    {
        var problems = new List<ConfigProblem>();
        Resolve(config, section, path, problems);
        return problems;
    }

    public IDriver Create(DriverConfig config, IConfigurationSection section, DriverContext context)
    {
        var problems = new List<ConfigProblem>();
        var plan = Resolve(config, section, "drivers", problems);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }

        var settings = plan.Settings;
        var logger = context.LoggerFactory.CreateLogger<ModbusDriver>();
        var source = $"Modbus driver {config.Name}";
        IModbusTransport transport;
        if (plan.Type == RtuType)
        {
            var line = new SerialPortLine(settings.SerialPort!, settings.Baud, ParseParity(settings.Parity), settings.DataBits, settings.StopBits);
            transport = new ModbusRtuTransport(line, settings.SerialPort!, settings.Baud, context.TimeProvider, logger, line.BitsPerCharacter) { Source = source };
        }
        else if (settings.RtuOverTcp)
        {
            transport = new ModbusRtuTransport(new TcpSerialLine(settings.Host!, settings.Port), $"{settings.Host}:{settings.Port}", 0, context.TimeProvider, logger) { Source = source };
        }
        else
        {
            transport = new ModbusTcpTransport(settings.Host!, settings.Port, context.TimeProvider, logger) { Source = source };
        }

        return new ModbusDriver(config.Name, plan, new ModbusClient(transport), context);
    }

    /// <summary><c>none</c>, <c>odd</c>; anything else is even (the specification's default).</summary>
    public static ModbusParity ParseParity(string? text) => text?.ToLowerInvariant() switch
    {
        "none" or "n" => ModbusParity.None,
        "odd" or "o" => ModbusParity.Odd,
        _ => ModbusParity.Even,
    };

    /// <summary>Binds and checks the driver's section, reporting each problem with its JSON path.</summary>
    internal static ModbusDriverPlan Resolve(DriverConfig config, IConfigurationSection section, string path, List<ConfigProblem> problems)
    {
        var settings = new ModbusSettings();
        section.Bind(settings);
        problems.AddRange(ConfigValidation.Annotations(settings, path));
        var rtu = config.Type == RtuType;

        if (rtu)
        {
            if (string.IsNullOrWhiteSpace(settings.SerialPort))
            {
                problems.Add(new ConfigProblem($"{path}.serialPort", "is required for modbus-rtu (for example '/dev/ttyUSB0')"));
            }

            if (settings.Host is not null)
            {
                problems.Add(new ConfigProblem($"{path}.host", "is for modbus-tcp; modbus-rtu uses serialPort"));
            }

            if (settings.RtuOverTcp)
            {
                problems.Add(new ConfigProblem($"{path}.rtuOverTcp", "is for modbus-tcp (RTU frames over a TCP connection)"));
            }
        }
        else
        {
            if (string.IsNullOrWhiteSpace(settings.Host))
            {
                problems.Add(new ConfigProblem($"{path}.host", "is required for modbus-tcp"));
            }

            if (settings.SerialPort is not null)
            {
                problems.Add(new ConfigProblem($"{path}.serialPort", "is for modbus-rtu; modbus-tcp uses host and port"));
            }
        }

        if (settings.Parity.ToLowerInvariant() is not ("none" or "even" or "odd"))
        {
            problems.Add(new ConfigProblem($"{path}.parity", $"must be none, even or odd, got '{settings.Parity}'"));
        }

        PollGroups.CheckBackoff(settings.BackoffMinMs, settings.BackoffMaxMs, path, problems);

        var maxUnit = rtu ? ModbusLimits.MaxUnitId : 255;
        var driverTimeout = TimeSpan.FromMilliseconds(settings.TimeoutMs);
        var devices = new List<ModbusDevice>();
        if (settings.Devices.Count == 0)
        {
            if (settings.UnitId < 1 || settings.UnitId > maxUnit)
            {
                problems.Add(new ConfigProblem($"{path}.unitId", $"must be between 1 and {maxUnit} (0 is broadcast, which cannot be polled), got {settings.UnitId}"));
            }

            devices.Add(new ModbusDevice(config.Name, (byte)Math.Clamp(settings.UnitId, 0, 255), driverTimeout, settings.MaxRegistersPerRequest, settings.MaxBitsPerRequest));
        }
        else
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var units = new Dictionary<int, string>();
            for (var i = 0; i < settings.Devices.Count; i++)
            {
                var device = settings.Devices[i];
                var devicePath = $"{path}.devices[{i}]";
                if (!string.IsNullOrEmpty(device.Name) && !names.Add(device.Name))
                {
                    problems.Add(new ConfigProblem($"{devicePath}.name", $"duplicate device name '{device.Name}'"));
                }

                if (device.UnitId < 1 || device.UnitId > maxUnit)
                {
                    problems.Add(new ConfigProblem($"{devicePath}.unitId", $"must be between 1 and {maxUnit}, got {device.UnitId}"));
                }
                else if (!units.TryAdd(device.UnitId, device.Name))
                {
                    problems.Add(new ConfigProblem($"{devicePath}.unitId", $"unit {device.UnitId} is already device '{units[device.UnitId]}'"));
                }

                devices.Add(new ModbusDevice(
                    device.Name,
                    (byte)Math.Clamp(device.UnitId, 0, 255),
                    device.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : driverTimeout,
                    device.MaxRegistersPerRequest ?? settings.MaxRegistersPerRequest,
                    device.MaxBitsPerRequest ?? settings.MaxBitsPerRequest));
            }
        }

        var groups = PollGroups.Resolve(settings.IntervalMs, settings.PollGroups, path, problems);

        var tags = new List<ModbusTag>();
        var tagsSection = section.GetSection("tags");

        // An explicit addressBase says the addresses are meant as written: holding:40105 is then a real register
        // (SunSpec maps start at holding 40000), not the manual's numbering of holding register 105.
        var addressBaseSet = section["addressBase"] is not null;
        for (var i = 0; i < config.Tags.Count; i++)
        {
            var tag = ResolveTag(config, config.Tags[i], tagsSection.GetSection(i.ToString(CultureInfo.InvariantCulture)), $"{path}.tags[{i}]", settings, addressBaseSet, devices, groups, problems);
            if (tag is not null)
            {
                tags.Add(tag);
            }
        }

        return new ModbusDriverPlan(config.Type, settings, devices, groups, tags);
    }

    /// <summary><c>drivers[0]</c> from <c>drivers[0].tags[3]</c>.</summary>
    private static string DriverPathOf(string tagPath) => tagPath[..tagPath.LastIndexOf(".tags[", StringComparison.Ordinal)];

    private static ModbusTag? ResolveTag(DriverConfig driver, TagConfig tag, IConfigurationSection section, string path, ModbusSettings settings, bool addressBaseSet, List<ModbusDevice> devices, Dictionary<string, TimeSpan> groups, List<ConfigProblem> problems)
    {
        var extra = new ModbusTagSettings();
        section.Bind(extra);
        var before = problems.Count;
        if (!ModbusAddress.TryParse(tag.Address, out var address, out var addressError))
        {
            problems.Add(new ConfigProblem($"{path}.address", addressError));
            return null;
        }

        ModbusDataType type;
        if (tag.Type is null)
        {
            type = address.Table.IsBitTable() || address.HasBit ? ModbusDataType.Bool : ModbusDataType.UInt16;
        }
        else if (!ModbusValueFormat.TryParseType(tag.Type, out type))
        {
            problems.Add(new ConfigProblem($"{path}.type", $"must be one of bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, string, got '{tag.Type}'"));
        }

        if ((address.Table.IsBitTable() || address.HasBit) && type != ModbusDataType.Bool)
        {
            problems.Add(new ConfigProblem($"{path}.type", $"'{tag.Address}' holds one bit: the type must be bool, got '{tag.Type}'"));
        }

        var order = ModbusWordOrder.ABCD;
        if (extra.Order is not null && !ModbusValueFormat.TryParseOrder(extra.Order, out order))
        {
            problems.Add(new ConfigProblem($"{path}.order", $"must be ABCD, CDAB, BADC or DCBA, got '{extra.Order}'"));
        }

        var length = 0;
        if (type == ModbusDataType.String)
        {
            if (extra.Length is not { } l || l < 1 || l > 2 * ModbusLimits.MaxReadRegisters)
            {
                problems.Add(new ConfigProblem($"{path}.length", $"is required for strings: 1 to {2 * ModbusLimits.MaxReadRegisters} characters"));
            }
            else
            {
                length = l;
            }
        }
        else if (extra.Length is not null)
        {
            problems.Add(new ConfigProblem($"{path}.length", "applies only to strings"));
        }

        if (tag.Scale == 0 || double.IsNaN(tag.Scale) || double.IsInfinity(tag.Scale))
        {
            problems.Add(new ConfigProblem($"{path}.scale", "must be a finite number other than 0"));
        }

        if (tag.Writable && address.Table is ModbusTable.DiscreteInput or ModbusTable.InputRegister)
        {
            problems.Add(new ConfigProblem($"{path}.writable", $"'{tag.Address}' is in a read-only table (discrete inputs and input registers cannot be written)"));
        }

        var format = new ModbusValueFormat(type, order, length);
        var wire = address.Address - settings.AddressBase;
        var count = address.Table.IsBitTable() ? 1 : format.RegisterCount;
        if (!addressBaseSet && ManualNumbering(address.Table, address.Address) is { } prefix)
        {
            // 40105 is how manuals print holding register 105 (counting from 1): the table is in the prefix already.
            // Without an explicit addressBase that is the likelier reading; with one, the address is taken as written.
            var fromOne = address.Address - prefix;
            var table = (tag.Address ?? "").Split(':')[0];
            problems.Add(new ConfigProblem($"{path}.address",
                $"'{tag.Address}' looks like the manual's numbering ({prefix + 1}-{prefix + 9999} for this table): write '{table}:{fromOne}' with addressBase 1, or '{table}:{fromOne - 1}' with addressBase 0, or set addressBase explicitly if the register really is there (see docs/modbus.md)"));
        }
        else if (wire < 0 || wire + count > 65536)
        {
            problems.Add(new ConfigProblem($"{path}.address", $"'{tag.Address}' is outside the wire range 0-65535 with addressBase {settings.AddressBase}"));
        }

        var group = PollGroups.OfTag(extra.PollGroup, groups, path, problems);

        ModbusDevice? device;
        if (extra.Device is null)
        {
            device = devices[0];
            if (settings.Devices.Count > 1)
            {
                problems.Add(new ConfigProblem($"{path}.device", $"is required when the driver has several devices (known: {string.Join(", ", devices.Select(d => d.Name))})"));
            }
        }
        else
        {
            device = devices.FirstOrDefault(d => d.Name == extra.Device);
            if (device is null || settings.Devices.Count == 0)
            {
                problems.Add(new ConfigProblem($"{path}.device", $"unknown device '{extra.Device}' (define it under devices)"));
            }
        }

        if (device is not null && !address.Table.IsBitTable() && count > device.MaxRegisters && count <= ModbusLimits.MaxReadRegisters)
        {
            // One value must come from one request: a device that reads fewer registers at once cannot serve it.
            var key = settings.Devices.Count == 0 ? $"{DriverPathOf(path)}.maxRegistersPerRequest" : $"device '{device.Name}' maxRegistersPerRequest";
            problems.Add(new ConfigProblem(type == ModbusDataType.String ? $"{path}.length" : $"{path}.type", $"needs {count} registers in one request, more than {key} ({device.MaxRegisters})"));
        }

        if (problems.Count > before || device is null || string.IsNullOrEmpty(tag.Name))
        {
            return null;
        }

        return new ModbusTag
        {
            Info = tag.ToTagInfo(driver, SourceTypes.Published(format.SourceType, tag.Scale, tag.Offset)),
            Name = tag.Name,
            Table = address.Table,
            WireAddress = wire,
            Bit = address.Bit,
            Format = format,
            Scale = tag.Scale,
            Offset = tag.Offset,
            Writable = tag.Writable,
            Device = device,
            PollGroup = group,
        };
    }

    /// <summary>The manual prefix (40000 holding, 30000 input, 10000 discrete) when an address is written in it.</summary>
    private static int? ManualNumbering(ModbusTable table, int address)
    {
        var prefix = table switch
        {
            ModbusTable.HoldingRegister => 40000,
            ModbusTable.InputRegister => 30000,
            ModbusTable.DiscreteInput => 10000,
            _ => 0,
        };
        return prefix > 0 && address > prefix && address <= prefix + 9999 ? prefix : null;
    }

}
