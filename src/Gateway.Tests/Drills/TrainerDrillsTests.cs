using Gateway.Drills;
using Gateway.Drivers;
using Gateway.Drivers.Simulation;
using Gateway.Northbound;
using Gateway.Tests.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Drills;

/// <summary>The drills' rules and audit lines, over the real north-link switch and a real simulated driver, on a fake clock.</summary>
public sealed class TrainerDrillsTests : IDisposable
{
    private static readonly DrillOrigin s_trainer = new("127.0.0.1", "loopback");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero));
    private readonly NorthLinkSwitch _link;
    private readonly RateLimitedLogTests.ListLogger _log = new();
    private readonly TrainerDrills _drills;

    public TrainerDrillsTests()
    {
        _link = new NorthLinkSwitch(_time);
        var line = new SimulatedDriver("line-sim", new SimulatedSettings(), [], new DriverContext(_time, NullLoggerFactory.Instance));
        _drills = new TrainerDrills(_link, new Catalog([line]), _time, new TypedLogger(_log));
    }

    [Fact]
    public void Outage_CutsTheLinkForItsDuration_ThenRestores_AndStateCountsDown()
    {
        var result = _drills.StartOutage(30, s_trainer);

        Assert.True(result.Ok, result.Message);
        Assert.True(_link.IsCut);
        _time.Advance(TimeSpan.FromSeconds(10));
        var running = _drills.Current().Outage;
        Assert.NotNull(running);
        Assert.Equal(20, running.SecondsLeft, precision: 3);
        Assert.Equal(_time.GetUtcNow().AddSeconds(20), running.EndsAt);

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.False(_link.IsCut);
        Assert.Null(_drills.Current().Outage);
    }

    [Fact]
    public void Outage_WhileOneRuns_IsRefused409_AndEndRestoresAtOnce()
    {
        _drills.StartOutage(600, s_trainer);

        var second = _drills.StartOutage(5, s_trainer);
        Assert.False(second.Ok);
        Assert.Equal(409, second.StatusCode);

        var end = _drills.EndOutage(s_trainer);
        Assert.True(end.Ok, end.Message);
        Assert.False(_link.IsCut);
        Assert.Equal(409, _drills.EndOutage(s_trainer).StatusCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(TrainerDrills.MaxSeconds + 1)]
    public void Outage_SecondsOutOfRange_IsRefused400_AndTheLinkStaysUp(int seconds)
    {
        var result = _drills.StartOutage(seconds, s_trainer);

        Assert.Equal(400, result.StatusCode);
        Assert.Contains("seconds: must be 1-3600", result.Message, StringComparison.Ordinal);
        Assert.False(_link.IsCut);
    }

    [Fact]
    public void EveryRequest_AcceptedOrRefused_IsOneAuditLine_NamingWhoWhatAndResult()
    {
        var bearer = new DrillOrigin("10.0.0.7", "bearer");
        _drills.StartOutage(5, bearer);
        _drills.StartOutage(5, bearer);

        var lines = _log.Lines;
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("Warning: Drill by 10.0.0.7 (bearer): outage start 5 s: north link cut for 5 s", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("Warning: Drill refused for 10.0.0.7 (bearer): outage start 5 s: 409 an outage drill already runs", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Plc_SilencesASimulatedMachine_ListsIt_AndEndMakesItAnswer()
    {
        var machine = SimulatedSettings.DefaultMachines[0].Name;

        var result = _drills.StartPlc(machine, 20, s_trainer);

        Assert.True(result.Ok, result.Message);
        var silent = Assert.Single(_drills.Current().Plc);
        Assert.Equal(machine, silent.Machine);
        Assert.Equal("line-sim", silent.Driver);
        Assert.Equal(20, silent.SecondsLeft, precision: 3);
        Assert.Equal(409, _drills.StartPlc(machine, 20, s_trainer).StatusCode);

        Assert.True(_drills.EndPlc(machine, s_trainer).Ok);
        Assert.Empty(_drills.Current().Plc);
    }

    [Fact]
    public void Plc_EndsByItself_AfterItsDuration()
    {
        var machine = SimulatedSettings.DefaultMachines[0].Name;
        _drills.StartPlc(machine, 20, s_trainer);

        _time.Advance(TimeSpan.FromSeconds(20));

        Assert.Empty(_drills.Current().Plc);
        Assert.Equal(409, _drills.EndPlc(machine, s_trainer).StatusCode);
    }

    [Fact]
    public void Plc_UnknownOrMissingMachine_IsRefused_NamingTheDrillableOnes()
    {
        var unknown = _drills.StartPlc("no-such-press", 10, s_trainer);
        var missing = _drills.StartPlc(null, 10, s_trainer);

        Assert.Equal(404, unknown.StatusCode);
        Assert.Contains(SimulatedSettings.DefaultMachines[0].Name, unknown.Message, StringComparison.Ordinal);
        Assert.Equal(400, missing.StatusCode);
        Assert.Equal(SimulatedSettings.DefaultMachines.Select(m => m.Name), _drills.Current().Machines);
    }

    public void Dispose() => _link.Dispose();

    private sealed class Catalog(IReadOnlyList<IDriver> drivers) : IDriverCatalog
    {
        public IReadOnlyList<IDriver> Drivers => drivers;
    }

    private sealed class TypedLogger(ILogger inner) : ILogger<TrainerDrills>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
