using Gateway.Drivers.Modbus;
using Gateway.Drivers.Gpio;
using Gateway.Drivers.OpcUa;
using Gateway.Drivers.Simulation;

namespace Gateway.Drivers.BuiltIn;

/// <summary>
/// Every driver family the gateway ships; one line per family. Kept apart from the driver contract
/// (namespace <c>Gateway.Drivers</c>), which knows no family: a new family is one line here.
/// </summary>
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
