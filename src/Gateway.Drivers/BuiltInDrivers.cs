using Gateway.Drivers.Modbus;
using Gateway.Drivers.Gpio;
using Gateway.Drivers.OpcUa;
using Gateway.Drivers.Simulation;

namespace Gateway.Drivers;

/// <summary>Every driver family the gateway ships; one line per family.</summary>
public static class BuiltInDrivers
{
    public static IReadOnlyList<IDriverFactory> Factories { get; } =
    [
        new SimulatedDriverFactory(),
        new ModbusDriverFactory(),
        new GpioDriverFactory(),
        new I2cDriverFactory(),
        new OpcUaDriverFactory(),
        new Gateway.Drivers.S7.S7DriverFactory(),
    ];
}
