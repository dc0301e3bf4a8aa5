using Gateway.Drivers;
using Gateway.Oee;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Oee;

/// <summary>
/// A scripted machine "m1" (state, down-reason, total-count, reject-count tags) in front of an <see cref="OeeEngine"/>,
/// on a <see cref="FakeTimeProvider"/>. Times are UTC; the default plan is UTC with shifts day 06:00-14:00 and
/// late 14:00-22:00, ideal cycle 1 s (so ideal seconds = parts), micro-stop threshold 120 s, start-up window 10 min.
/// </summary>
internal sealed class OeeScenario : IDisposable
{
    public const double Tolerance = 1e-6;

    private readonly TagInfo _state = new("m1", "state");
    private readonly TagInfo _reason = new("m1", "down-reason");
    private readonly TagInfo _total = new("m1", "total-count");
    private readonly TagInfo _reject = new("m1", "reject-count");

    public OeeScenario(DateTimeOffset start, Action<OeeOptions>? configure = null, string? stateDirectory = null)
    {
        StateDirectory = stateDirectory ?? Path.Combine(Path.GetTempPath(), "oee-test-" + Guid.NewGuid().ToString("N"));
        OwnsDirectory = stateDirectory is null;
        Time = new FakeTimeProvider(start);
        Options = DefaultOptions();
        configure?.Invoke(Options);
        Engine = NewEngine();
        Engine.Load();
    }

    public FakeTimeProvider Time { get; }

    public OeeOptions Options { get; }

    public OeeEngine Engine { get; private set; }

    public string StateDirectory { get; }

    private bool OwnsDirectory { get; }

    public DateTimeOffset Now => Time.GetUtcNow();

    public static DateTimeOffset At(int year, int month, int day, int hour, int minute, int second = 0) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);

    /// <summary>Thursday 26 November 2026, a working day, at the given UTC time.</summary>
    public static DateTimeOffset Thursday(int hour, int minute, int second = 0) => At(2026, 11, 26, hour, minute, second);

    public static OeeOptions DefaultOptions() => new()
    {
        PublishIntervalSeconds = 10,
        ShiftPlan = new ShiftPlanOptions
        {
            TimeZone = "UTC",
            Shifts =
            [
                new ShiftOptions { Name = "day", Start = "06:00", End = "14:00" },
                new ShiftOptions { Name = "late", Start = "14:00", End = "22:00" },
            ],
            NonWorkingDays = ["Sunday", "2026-12-25"],
        },
        Machines =
        [
            new OeeMachineOptions
            {
                Name = "m1",
                StateTag = "state",
                DownReasonTag = "down-reason",
                TotalCountTag = "total-count",
                RejectCountTag = "reject-count",
                IdealCycleMs = 1000,
                MicroStopSeconds = 120,
                StartupRejectMinutes = 10,
            },
        ],
    };

    public OeeEngine NewEngine(IReadOnlySet<string>? knownTags = null) =>
        Engine = new OeeEngine(Options, Time, NullLogger.Instance, StateDirectory, knownTags);

    /// <summary>Moves the clock to <paramref name="at"/> (never backwards).</summary>
    public OeeScenario To(DateTimeOffset at)
    {
        Time.SetUtcNow(at);
        return this;
    }

    public OeeScenario State(string state, DateTimeOffset? sourceTimestamp = null) => Send(_state, SampleValue.FromString(state), sourceTimestamp);

    public OeeScenario StateCode(long code) => Send(_state, SampleValue.FromInteger(code), null);

    public OeeScenario Reason(string reason) => Send(_reason, SampleValue.FromString(reason), null);

    public OeeScenario Total(long value) => Send(_total, SampleValue.FromInteger(value), null);

    public OeeScenario Reject(long value) => Send(_reject, SampleValue.FromInteger(value), null);

    /// <summary>Any tag of any machine, any value and quality, stamped now unless <paramref name="sourceTimestamp"/> says otherwise.</summary>
    public OeeScenario Tag(string machine, string path, SampleValue value, Quality quality = Quality.Good, DateTimeOffset? sourceTimestamp = null)
    {
        Engine.Observe(new Sample(new TagInfo(machine, path), sourceTimestamp ?? Now, Now, value, quality));
        return this;
    }

    public OeeMachineSnapshot Snapshot(string machine) => Engine.Snapshot().Machines.Single(m => m.Name == machine);

    public OeeMachineSnapshot Snapshot() => Engine.Snapshot().Machines.Single();

    private OeeScenario Send(TagInfo tag, SampleValue value, DateTimeOffset? sourceTimestamp)
    {
        Engine.Observe(Sample.Good(tag, sourceTimestamp ?? Now, Now, value));
        return this;
    }

    public void Dispose()
    {
        if (OwnsDirectory && Directory.Exists(StateDirectory))
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
    }
}
