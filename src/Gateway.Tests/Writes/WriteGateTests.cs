using System.Diagnostics.Metrics;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Gateway.Tests.Abstractions;
using Gateway.Writes;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Writes;

public sealed class WriteGateTests : IAsyncDisposable
{
    private static readonly WriteOrigin s_origin = new("uns", "acme/site/a/l1/press/setpoint/set", "scada-1");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
    private readonly RateLimitedLogTests.ListLogger _log = new();
    private readonly FakeDriver _driver = new("plc");

    private WriteGate Gate(Action<GatewayConfig>? change = null)
    {
        var config = new GatewayConfig
        {
            Drivers =
            [
                new DriverConfig
                {
                    Name = "plc",
                    Type = "modbus-tcp",
                    Machine = "press",
                    Tags =
                    [
                        new TagConfig { Name = "setpoint", Type = "int16", Writable = true, Min = 0, Max = 500, MinWriteIntervalMs = 1000 },
                        new TagConfig { Name = "speed", Type = "float32", Writable = true, MinWriteIntervalMs = 0 },
                        new TagConfig { Name = "horn", Type = "bool", Writable = true, MinWriteIntervalMs = 0 },
                        new TagConfig { Name = "recipe", Type = "string", Writable = true, MinWriteIntervalMs = 0 },
                        new TagConfig { Name = "scaled", Type = "uint16", Writable = true, Scale = 0.1, MinWriteIntervalMs = 0 },
                        new TagConfig { Name = "count", Type = "uint32" },
                    ],
                },
            ],
        };
        change?.Invoke(config);
        return new WriteGate(config, new Catalog(_driver), _time, _log);
    }

    public ValueTask DisposeAsync() => _driver.DisposeAsync();

    private static Task<WriteResult> Write(WriteGate gate, string tag, SampleValue value, WriteOrigin? origin = null) =>
        gate.WriteAsync("press/" + tag, value, origin ?? s_origin, CancellationToken.None);

    [Fact]
    public async Task Write_NotWritableTag_IsRefusedBadNotWritable_AndNeverReachesTheDriver()
    {
        var result = await Write(Gate(), "count", SampleValue.FromInteger(0));

        Assert.Equal(SampleStatus.BadNotWritable, result.StatusCode);
        Assert.Equal("BadNotWritable", result.Status);
        Assert.Empty(_driver.Written);
        Assert.Contains(_log.Lines, l => l.Contains("write audit: press/count = 0 from uns acme/site/a/l1/press/setpoint/set (client scada-1) refused: BadNotWritable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ApplyTags_AReloadThatMakesATagReadOnly_StopsItsWritesAtOnce_AndKeepsTheRateLimitOfTheOthers()
    {
        var gate = Gate();
        Assert.True((await Write(gate, "setpoint", SampleValue.FromInteger(10))).IsGood);
        Assert.True((await Write(gate, "speed", SampleValue.FromDouble(1.5))).IsGood);

        // The reloaded file: speed is no longer writable, setpoint unchanged (its last write 0 s ago), a new tag.
        var next = new GatewayConfig
        {
            Drivers =
            [
                new DriverConfig
                {
                    Name = "plc",
                    Type = "modbus-tcp",
                    Machine = "press",
                    Tags =
                    [
                        new TagConfig { Name = "setpoint", Type = "int16", Writable = true, Min = 0, Max = 500, MinWriteIntervalMs = 1000 },
                        new TagConfig { Name = "speed", Type = "float32" },
                        new TagConfig { Name = "lamp", Type = "bool", Writable = true, MinWriteIntervalMs = 0 },
                    ],
                },
            ],
        };
        gate.ApplyTags(next);

        Assert.Equal(SampleStatus.BadNotWritable, (await Write(gate, "speed", SampleValue.FromDouble(2.5))).StatusCode);
        Assert.Equal(SampleStatus.BadTooManyOperations, (await Write(gate, "setpoint", SampleValue.FromInteger(11))).StatusCode);
        Assert.True((await Write(gate, "lamp", SampleValue.FromBoolean(true))).IsGood);
        Assert.Equal(SampleStatus.BadNodeIdUnknown, (await Write(gate, "horn", SampleValue.FromBoolean(true))).StatusCode);
        Assert.Equal(3, _driver.Written.Count);
    }

    [Fact]
    public async Task Write_UnknownTag_IsRefusedBadNodeIdUnknown()
    {
        var result = await Write(Gate(), "nothing", SampleValue.FromInteger(1));

        Assert.Equal(SampleStatus.BadNodeIdUnknown, result.StatusCode);
        Assert.Empty(_driver.Written);
    }

    [Fact]
    public async Task Write_WritesOff_RefusesEvenAWritableTag()
    {
        var result = await Write(Gate(c => c.Writes.Enabled = false), "setpoint", SampleValue.FromInteger(10));

        Assert.Equal(SampleStatus.BadNotWritable, result.StatusCode);
        Assert.Empty(_driver.Written);
    }

    [Fact]
    public async Task Write_GoodValue_ReachesTheDriver_AndAnswersTheReadBack()
    {
        _driver.ReadBack = SampleValue.FromInteger(120);

        var result = await Write(Gate(), "setpoint", SampleValue.FromInteger(120));

        Assert.True(result.IsGood);
        Assert.Equal("Good", result.Status);
        Assert.Equal(SampleValue.FromInteger(120), result.Value);
        Assert.Equal(_time.GetUtcNow(), result.Timestamp);
        Assert.Equal([("press/setpoint", SampleValue.FromInteger(120))], _driver.Written);
        Assert.Contains(_log.Lines, l => l.StartsWith("Information: write audit: press/setpoint = 120 from uns", StringComparison.Ordinal) && l.Contains("via driver plc: Good, read back 120", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(501)]
    public async Task Write_OutsideMinMax_IsRefusedBadOutOfRange(long value)
    {
        var result = await Write(Gate(), "setpoint", SampleValue.FromInteger(value));

        Assert.Equal(SampleStatus.BadOutOfRange, result.StatusCode);
        Assert.Contains("[0, 500]", result.Reason, StringComparison.Ordinal);
        Assert.Empty(_driver.Written);
    }

    [Fact]
    public async Task Write_StringToAnInteger_IsRefusedBadTypeMismatch()
    {
        var result = await Write(Gate(), "setpoint", SampleValue.FromString("12"));

        Assert.Equal(SampleStatus.BadTypeMismatch, result.StatusCode);
        Assert.Empty(_driver.Written);
        Assert.Contains(_log.Lines, l => l.Contains("press/setpoint = \"12\"", StringComparison.Ordinal) && l.Contains("refused: BadTypeMismatch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Write_FractionToAnInteger_IsRefusedBadTypeMismatch()
    {
        var result = await Write(Gate(), "setpoint", SampleValue.FromDouble(12.5));

        Assert.Equal(SampleStatus.BadTypeMismatch, result.StatusCode);
    }

    [Fact]
    public async Task Write_WholeDoubleToAnInteger_IsWrittenAsAnInteger()
    {
        var result = await Write(Gate(), "setpoint", SampleValue.FromDouble(12.0));

        Assert.True(result.IsGood);
        Assert.True(_driver.Written[0].Value.IsWholeNumber);
        Assert.Equal(12, _driver.Written[0].Value.AsInteger);
    }

    [Fact]
    public async Task Write_NumberToABool_IsRefused_ButZeroAndOneAreBooleans()
    {
        var gate = Gate();

        var two = await Write(gate, "horn", SampleValue.FromInteger(2));
        var one = await Write(gate, "horn", SampleValue.FromInteger(1));

        Assert.Equal(SampleStatus.BadTypeMismatch, two.StatusCode);
        Assert.True(one.IsGood);
        Assert.Equal(SampleValue.FromBoolean(true), _driver.Written.Single().Value);
    }

    [Fact]
    public async Task Write_BoolToAString_IsRefused_AndAStringIsWritten()
    {
        var gate = Gate();

        var refused = await Write(gate, "recipe", SampleValue.FromBoolean(true));
        var written = await Write(gate, "recipe", SampleValue.FromString("R-12"));

        Assert.Equal(SampleStatus.BadTypeMismatch, refused.StatusCode);
        Assert.True(written.IsGood);
    }

    [Fact]
    public async Task Write_BoolToAFloat_IsRefusedBadTypeMismatch()
    {
        var result = await Write(Gate(), "speed", SampleValue.FromBoolean(true));

        Assert.Equal(SampleStatus.BadTypeMismatch, result.StatusCode);
    }

    [Fact]
    public async Task Write_ScaledTag_ChecksTheRawRangeAfterScale_AndHandsTheEngineeringValue()
    {
        var gate = Gate();

        // uint16 raw with scale 0.1: 6553.5 is the largest engineering value.
        var fits = await Write(gate, "scaled", SampleValue.FromDouble(23.4));
        var over = await Write(gate, "scaled", SampleValue.FromDouble(7000));
        var negative = await Write(gate, "scaled", SampleValue.FromDouble(-1));

        Assert.True(fits.IsGood);
        Assert.Equal(23.4, _driver.Written.Single().Value.AsDouble);
        Assert.Equal(SampleStatus.BadOutOfRange, over.StatusCode);
        Assert.Equal(SampleStatus.BadOutOfRange, negative.StatusCode);
    }

    [Fact]
    public async Task Write_Int16Overflow_IsRefusedBadOutOfRange()
    {
        var result = await Write(Gate(c => c.Drivers[0].Tags[0].Max = null), "setpoint", SampleValue.FromInteger(40000));

        Assert.Equal(SampleStatus.BadOutOfRange, result.StatusCode);
    }

    [Fact]
    public async Task Write_SecondWriteWithinMinInterval_IsRefused_AndAllowedOnceItPassed()
    {
        var gate = Gate();

        var first = await Write(gate, "setpoint", SampleValue.FromInteger(10));
        _time.Advance(TimeSpan.FromMilliseconds(400));
        var tooFast = await Write(gate, "setpoint", SampleValue.FromInteger(11));
        _time.Advance(TimeSpan.FromMilliseconds(600));
        var later = await Write(gate, "setpoint", SampleValue.FromInteger(12));

        Assert.True(first.IsGood);
        Assert.Equal(SampleStatus.BadTooManyOperations, tooFast.StatusCode);
        Assert.Contains("rate limited: the last write was 400 ms ago", tooFast.Reason, StringComparison.Ordinal);
        Assert.True(later.IsGood);
        Assert.Equal([10L, 12L], _driver.Written.Select(w => w.Value.AsInteger));
    }

    [Fact]
    public async Task Write_RefusedAttempt_DoesNotHoldBackTheNextWrite()
    {
        var gate = Gate();

        var refused = await Write(gate, "setpoint", SampleValue.FromInteger(9999));
        var next = await Write(gate, "setpoint", SampleValue.FromInteger(5));

        Assert.Equal(SampleStatus.BadOutOfRange, refused.StatusCode);
        Assert.True(next.IsGood);
    }

    [Fact]
    public async Task Write_AllowList_RefusesOtherAndAnonymousSenders()
    {
        var gate = Gate(c => c.Writes.AllowedClients = ["scada-1"]);

        var allowed = await Write(gate, "speed", SampleValue.FromDouble(1.5));
        var other = await Write(gate, "speed", SampleValue.FromDouble(1.5), s_origin with { Client = "intruder" });
        var anonymous = await Write(gate, "speed", SampleValue.FromDouble(1.5), s_origin with { Client = null });

        Assert.True(allowed.IsGood);
        Assert.Equal(SampleStatus.BadUserAccessDenied, other.StatusCode);
        Assert.Equal(SampleStatus.BadUserAccessDenied, anonymous.StatusCode);
        Assert.Single(_driver.Written);
        Assert.Contains(_log.Lines, l => l.Contains("(client intruder) refused: BadUserAccessDenied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Write_PlcUnreachable_AnswersBadNotConnectedAtOnce_AndIsAudited()
    {
        _driver.WriteFailure = new ModbusConnectionException("127.0.0.1:1502: connection refused");

        var result = await Write(Gate(), "speed", SampleValue.FromDouble(2));

        Assert.Equal(SampleStatus.BadNotConnected, result.StatusCode);
        Assert.Contains("connection refused", result.Reason, StringComparison.Ordinal);
        Assert.Contains(_log.Lines, l => l.StartsWith("Warning: write audit: press/speed = 2", StringComparison.Ordinal) && l.Contains("via driver plc: BadNotConnected", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Write_DeviceException_AnswersItsStatus()
    {
        _driver.WriteFailure = new ModbusException(ModbusFunctionCode.WriteSingleRegister, (byte)ModbusExceptionCode.IllegalDataAddress);

        var result = await Write(Gate(), "speed", SampleValue.FromDouble(2));

        Assert.Equal(SampleStatus.BadNotWritable, result.StatusCode);
    }

    [Fact]
    public async Task Write_ReadBackFails_AnswersUncertainWithTheWrittenValue()
    {
        _driver.ReadFailure = new TimeoutException("no answer");

        var result = await Write(Gate(), "speed", SampleValue.FromDouble(2.5));

        Assert.Equal(SampleStatus.UncertainLastUsableValue, result.StatusCode);
        Assert.Equal(2.5, result.Value.AsDouble);
        Assert.Single(_driver.Written);
    }

    [Fact]
    public async Task Write_CountsWritesAndRefusalsPerDriver()
    {
        var measurements = new List<(string Name, string Driver, string Label)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WriteGate.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            var driver = "";
            var label = "";
            foreach (var tag in tags)
            {
                if (tag.Key == "driver")
                {
                    driver = (string)tag.Value!;
                }
                else
                {
                    label = (string)tag.Value!;
                }
            }

            lock (measurements)
            {
                measurements.Add((instrument.Name, driver, label));
            }
        });
        listener.Start();
        var gate = Gate();

        await Write(gate, "speed", SampleValue.FromDouble(1));
        await Write(gate, "count", SampleValue.FromInteger(1));

        lock (measurements)
        {
            Assert.Contains(("gateway_writes_total", "plc", "good"), measurements);
            Assert.Contains(("gateway_write_refusals_total", "plc", "not_writable"), measurements);
        }
    }

    [Theory]
    [InlineData("int16", TagWriteType.Int16)]
    [InlineData("REAL", TagWriteType.Float32)]
    [InlineData("Double", TagWriteType.Float64)]
    [InlineData("dword", TagWriteType.UInt32)]
    [InlineData(null, TagWriteType.Any)]
    public void Parse_DriverTypeNames_MapToWriteTypes(string? name, TagWriteType expected) =>
        Assert.Equal(expected, TagWriteTypes.Parse(name));

    private sealed class Catalog(params IDriver[] drivers) : IDriverCatalog
    {
        public IReadOnlyList<IDriver> Drivers { get; } = drivers;
    }

    private sealed class FakeDriver(string name) : IDriver
    {
        public string Name { get; } = name;

        public IReadOnlyList<TagInfo> Tags => [];

        public DriverState State => DriverState.Connected;

        public string? LastError => null;

        public List<(string Key, SampleValue Value)> Written { get; } = [];

        public SampleValue? ReadBack { get; set; }

        public Exception? WriteFailure { get; set; }

        public Exception? ReadFailure { get; set; }

        private SampleValue _last;

        public Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask WriteAsync(TagInfo tag, SampleValue value, CancellationToken cancellationToken)
        {
            if (WriteFailure is not null)
            {
                throw WriteFailure;
            }

            Written.Add((tag.Key, value));
            _last = value;
            return ValueTask.CompletedTask;
        }

        public ValueTask<Sample> ReadAsync(TagInfo tag, CancellationToken cancellationToken)
        {
            if (ReadFailure is not null)
            {
                throw ReadFailure;
            }

            var now = new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);
            return ValueTask.FromResult(Sample.Good(tag, now, now, ReadBack ?? _last));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
