using Gateway.Drivers.Simulation;

namespace Gateway.Tests.Simulation;

public sealed class SimulatedMachineTests
{
    [Fact]
    public void DownReasons_FitTheModbusStringRegisters_Untruncated()
    {
        Assert.NotEmpty(SimulatedMachine.DownReasons);
        Assert.All(SimulatedMachine.DownReasons, reason => Assert.True(reason.Length <= SimulatedModbusServer.StringCharacters, $"'{reason}' is {reason.Length} characters; holding +12 holds {SimulatedModbusServer.StringCharacters}"));
    }
}
