using System.Net;
using Gateway.Drivers.Modbus;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Drivers.Simulation;

/// <summary>
/// The simulated production line served as a Modbus TCP server: the simulated driver's samples are written into
/// registers (see docs/simulate-register-map.md), and every unit id from 1 to 247 answers with the same map.
/// </summary>
public sealed class SimulatedModbusServer : IAsyncDisposable
{
    /// <summary>Registers per machine: machine m starts at holding (and input) register 100 × m.</summary>
    public const int MachineStride = 100;

    /// <summary>Characters of the two string fields (down reason at +12, state name at +20): 8 registers each.</summary>
    public const int StringCharacters = 16;

    /// <summary>First register of the load area: extra tag i at 1000 + i, value × 10.</summary>
    public const int LoadBase = 1000;

    /// <summary>Registers 900-999 are never written by the simulator: a scratch area for write exercises.</summary>
    public const int ScratchBase = 900;

    public const int LoadTags = 1000;

    private readonly SimulatedDriver _driver;
    private readonly ModbusTcpServer _server;
    private readonly Dictionary<string, int> _machineIndex;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _driverTask;

    public SimulatedModbusServer(IPEndPoint endpoint, SimulatedSettings settings, TimeProvider timeProvider, ILoggerFactory? loggerFactory = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        settings.ExtraTags = LoadTags;
        var machines = settings.Machines.Count > 0 ? settings.Machines : SimulatedSettings.DefaultMachines;
        if (machines.Count > ScratchBase / MachineStride)
        {
            throw new ArgumentException($"at most {ScratchBase / MachineStride} machines fit the register map", nameof(settings));
        }

        _machineIndex = machines.Select((m, i) => (m.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        Store = new ModbusDataStore(coils: 100, discreteInputs: 100, holdingRegisters: 2000, inputRegisters: 2000);
        _driver = new SimulatedDriver("simulate", settings, [], new DriverContext(timeProvider, loggerFactory));
        _server = new ModbusTcpServer(endpoint, unit => unit is >= 1 and <= ModbusLimits.MaxUnitId ? Store : null, loggerFactory.CreateLogger<ModbusTcpServer>());
    }

    public ModbusDataStore Store { get; }

    /// <summary>The default three-machine line with its state durations scaled by <paramref name="timeScale"/>.</summary>
    public static SimulatedSettings DefaultLine(int seed, int intervalMs, double timeScale)
    {
        var settings = new SimulatedSettings { Seed = seed, IntervalMs = intervalMs };
        foreach (var machine in SimulatedSettings.DefaultMachines)
        {
            settings.Machines.Add(new SimulatedMachineSettings { Name = machine.Name, IdealCycleMs = machine.IdealCycleMs, RejectPermille = machine.RejectPermille, StateTimeScale = timeScale });
        }

        return settings;
    }

    public IPEndPoint LocalEndPoint => _server.LocalEndPoint;

    public long RequestCount => _server.RequestCount;

    /// <summary>Binds, fills the registers with the line's first samples, and starts serving.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var firstSamples = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = new StoreWriter(this, firstSamples);
        _server.Start();
        _driverTask = _driver.RunAsync(writer, _stopping.Token);
        await firstSamples.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Writes one sample into its registers; samples of unknown tags are ignored.</summary>
    public void Apply(Sample sample)
    {
        var tag = sample.Tag;
        if (tag.Machine == "load")
        {
            if (int.TryParse(tag.Path.AsSpan("tag-".Length), out var index) && index < LoadTags)
            {
                var scaled = (ushort)Math.Clamp(Math.Round(sample.Value.AsDouble * 10), 0, ushort.MaxValue);
                Store.SetRegisters(ModbusTable.HoldingRegister, LoadBase + index, [scaled]);
                Store.SetRegisters(ModbusTable.InputRegister, LoadBase + index, [scaled]);
            }

            return;
        }

        if (!_machineIndex.TryGetValue(tag.Machine, out var machine))
        {
            return;
        }

        var b = machine * MachineStride;
        var value = sample.Value;
        switch (tag.Path)
        {
            case "state-code":
                SetBoth(b + 0, new ModbusValueFormat(ModbusDataType.UInt16), value);
                break;
            case "running":
                SetBoth(b + 1, new ModbusValueFormat(ModbusDataType.UInt16), SampleValue.FromInteger(value.AsBoolean ? 1 : 0));
                Store.SetBits(ModbusTable.Coil, machine, [value.AsBoolean]);
                Store.SetBits(ModbusTable.DiscreteInput, machine, [value.AsBoolean]);
                break;
            case "total-count":
                SetBoth(b + 2, new ModbusValueFormat(ModbusDataType.UInt32), SampleValue.FromInteger(value.AsInteger & 0xFFFFFFFF));
                break;
            case "reject-count":
                SetBoth(b + 4, new ModbusValueFormat(ModbusDataType.UInt32), SampleValue.FromInteger(value.AsInteger & 0xFFFFFFFF));
                break;
            case "temperature":
                SetBoth(b + 6, new ModbusValueFormat(ModbusDataType.Float32), value);
                SetBoth(b + 8, new ModbusValueFormat(ModbusDataType.Int16), SampleValue.FromInteger((long)Math.Round(value.AsDouble * 10)));
                break;
            case "motor-current":
                SetBoth(b + 9, new ModbusValueFormat(ModbusDataType.Float32), value);
                SetBoth(b + 11, new ModbusValueFormat(ModbusDataType.UInt16), SampleValue.FromInteger((long)Math.Clamp(Math.Round(value.AsDouble * 100), 0, ushort.MaxValue)));
                break;
            case "down-reason":
                SetBoth(b + 12, new ModbusValueFormat(ModbusDataType.String, StringLength: StringCharacters), Truncate(value.AsString ?? "", StringCharacters));
                break;
            case "state":
                SetBoth(b + 20, new ModbusValueFormat(ModbusDataType.String, StringLength: StringCharacters), Truncate(value.AsString ?? "", StringCharacters));
                break;
        }
    }

    private static SampleValue Truncate(string text, int length) => SampleValue.FromString(text.Length > length ? text[..length] : text);

    private void SetBoth(int address, ModbusValueFormat format, SampleValue value)
    {
        Store.SetValue(ModbusTable.HoldingRegister, address, format, value);
        Store.SetValue(ModbusTable.InputRegister, address, format, value);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_driverTask is not null)
        {
            await _driverTask;
        }

        await _server.DisposeAsync();
        await _driver.DisposeAsync();
        _stopping.Dispose();
    }

    private sealed class StoreWriter(SimulatedModbusServer owner, TaskCompletionSource firstSamples) : ISampleWriter
    {
        public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
        {
            owner.Apply(sample);
            if (sample.Tag.Machine == "load" && sample.Tag.Path == $"tag-{LoadTags - 1:D5}")
            {
                firstSamples.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }
    }
}
