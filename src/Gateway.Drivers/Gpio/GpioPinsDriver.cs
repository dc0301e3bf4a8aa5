using System.Device.Gpio;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Polly;

namespace Gateway.Drivers.Gpio;

/// <summary>One configured pin: its tag, its role and its debouncer.</summary>
internal sealed class GpioPin(TagInfo tag, int pin, GpioTagSettings settings, bool writable)
{
    public TagInfo Tag { get; } = tag;

    public int Pin { get; } = pin;

    public GpioTagSettings Settings { get; } = settings;

    public bool Writable { get; } = writable;

    public bool IsCounter => Settings.Mode == "counter";

    public bool IsOutput => Settings.Mode == "output";

    public EdgeDebouncer? Debouncer { get; set; }

    public PinChangeEventHandler? Handler { get; set; }

    public TimeSpan Debounce => TimeSpan.FromMilliseconds(Settings.DebounceMs ?? (IsCounter ? 1 : 10));

    public PinMode InputMode => Settings.Pull switch
    {
        "up" => PinMode.InputPullUp,
        "down" => PinMode.InputPullDown,
        _ => PinMode.Input,
    };

    /// <summary>The physical edges counted: the configured edge is logical, after active-low inversion.</summary>
    public CountedEdges CountedEdges => (Settings.Edge, Settings.ActiveLow) switch
    {
        ("both", _) => CountedEdges.Both,
        ("rising", false) or ("falling", true) => CountedEdges.Rising,
        _ => CountedEdges.Falling,
    };

    /// <summary>The last value published, to publish inputs on change only.</summary>
    public long? LastPublished { get; set; }
}

/// <summary>
/// Digital inputs, debounced pulse counters and outputs on a GPIO chip (System.Device.Gpio). Edges arrive
/// through the kernel's edge events (callbacks), so counting does not depend on polling: 100 Hz and more
/// are counted without loss. Counters are published every <see cref="GpioSettings.PollIntervalMs"/>;
/// inputs when they change. A chip that cannot be opened turns every tag Bad once and is retried with backoff.
/// </summary>
public sealed class GpioPinsDriver : IDriver
{
    /// <summary>OPC UA Bad_CommunicationError: the chip or a line could not be used.</summary>
    public const uint BadCommunicationError = SampleStatus.BadCommunicationError;

    private readonly GpioSettings _settings;
    private readonly Func<GpioDriver> _createDriver;
    private readonly TimeProvider _timeProvider;

    // Debounce intervals are durations: measured on the monotonic clock from here, never on the wall clock (a step
    // back of the wall clock would make every edge look like bounce for the length of the step).
    private readonly long _epochTimestamp;
    private readonly ILogger _logger;
    private readonly List<GpioPin> _pins;
    private readonly TagInfo[] _tags;

    // Input changes from the edge thread to the loop. Bounded; when full the oldest change is dropped:
    // only a pin chattering faster than the loop drains could fill it, and the level is re-read every poll.
    private readonly Channel<Sample> _changes = Channel.CreateBounded<Sample>(new BoundedChannelOptions(4096)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    private GpioController? _controller;

    internal GpioPinsDriver(string name, GpioSettings settings, IEnumerable<GpioPin> pins, DriverContext context, Func<GpioDriver> createDriver)
    {
        Name = name;
        _settings = settings;
        _createDriver = createDriver;
        _timeProvider = context.TimeProvider;
        _epochTimestamp = _timeProvider.GetTimestamp();
        _logger = context.LoggerFactory.CreateLogger<GpioPinsDriver>();
        _pins = [.. pins];
        _tags = [.. _pins.Select(p => p.Tag)];
    }

    public string Name { get; }

    public IReadOnlyList<TagInfo> Tags => _tags;

    public DriverState State { get; private set; } = DriverState.Starting;

    public string? LastError { get; private set; }

    /// <summary>The current count of a counter tag, for tests and the health page.</summary>
    internal long? CountOf(TagInfo tag) => _pins.FirstOrDefault(p => p.Tag.Equals(tag))?.Debouncer?.Count;

    public async Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        var markedBad = false;
        var open = Backoff.Forever(
            _timeProvider,
            TimeSpan.FromSeconds(1),
            TimeSpan.FromMinutes(1),
            new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
            async args =>
            {
                var error = args.Outcome.Exception!;
                LastError = error.Message;
                State = DriverState.Disconnected;
                CloseController();
                if (markedBad)
                {
                    GpioLog.StillFailing(_logger, Name, args.AttemptNumber + 1, error.Message, args.RetryDelay.TotalSeconds);
                }
                else
                {
                    GpioLog.OpenFailed(_logger, error, Name, _settings.Chip, args.RetryDelay.TotalSeconds);
                    markedBad = true;
                    var now = _timeProvider.GetUtcNow();
                    foreach (var tag in _tags)
                    {
                        await writer.WriteAsync(Sample.Bad(tag, now, BadCommunicationError), cancellationToken);
                    }
                }
            });

        try
        {
            await open.ExecuteAsync(
                async ct =>
                {
                    Open();
                    await PublishAllAsync(writer, force: true, ct);
                },
                cancellationToken);
            State = DriverState.Connected;
            LastError = null;
            GpioLog.Opened(_logger, Name, _settings.Chip, _pins.Count);

            // On the monotonic clock: a step of the wall clock neither stops the periodic publication nor bursts it.
            var schedule = new PollSchedule(_timeProvider, TimeSpan.FromMilliseconds(_settings.PollIntervalMs), writer.ReportPollOverrun);
            while (!cancellationToken.IsCancellationRequested)
            {
                var wait = schedule.Next();
                if (wait > TimeSpan.Zero)
                {
                    using var period = new CancellationTokenSource(wait, _timeProvider);
                    using var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, period.Token);
                    try
                    {
                        // Input changes are published as they come; the period ends the wait.
                        while (await _changes.Reader.WaitToReadAsync(tick.Token))
                        {
                            await DrainChangesAsync(writer, cancellationToken);
                        }
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                    }
                }

                await DrainChangesAsync(writer, cancellationToken);
                await PublishAllAsync(writer, force: false, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            CloseController();
            State = DriverState.Stopped;
        }
    }

    /// <summary>The read-back after a write: the pin's level now (active-low undone).</summary>
    public ValueTask<Sample> ReadAsync(TagInfo tag, CancellationToken cancellationToken)
    {
        var pin = _pins.FirstOrDefault(p => p.Tag.Equals(tag)) ?? throw new InvalidOperationException($"driver '{Name}' has no tag '{tag}'");
        var controller = _controller ?? throw new InvalidOperationException($"driver '{Name}': the GPIO chip is not open");
        var now = _timeProvider.GetUtcNow();
        var level = (controller.Read(pin.Pin) == PinValue.High) != pin.Settings.ActiveLow;
        return ValueTask.FromResult(Sample.Good(tag, now, now, SampleValue.FromBoolean(level)));
    }

    public ValueTask WriteAsync(TagInfo tag, SampleValue value, CancellationToken cancellationToken)
    {
        var pin = _pins.FirstOrDefault(p => p.Tag.Equals(tag)) ?? throw new InvalidOperationException($"driver '{Name}' has no tag '{tag}'");
        if (!pin.Writable || !pin.IsOutput)
        {
            throw new InvalidOperationException($"tag '{tag}' is not a writable output");
        }

        if (value.Kind is not (SampleValueKind.Boolean or SampleValueKind.Integer))
        {
            throw new ArgumentException($"an output takes a bool, got {value.Kind}", nameof(value));
        }

        var controller = _controller ?? throw new InvalidOperationException($"driver '{Name}': the GPIO chip is not open");
        controller.Write(pin.Pin, value.AsBoolean != pin.Settings.ActiveLow ? PinValue.High : PinValue.Low);
        GpioLog.Wrote(_logger, Name, tag.Key, value.AsBoolean);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        CloseController();
        return ValueTask.CompletedTask;
    }

    private void Open()
    {
        var controller = new GpioController(_createDriver());
        _controller = controller;
        var now = MonotonicTicks();
        foreach (var pin in _pins)
        {
            if (pin.IsOutput)
            {
                // Off at start: an active-low relay must not switch on while the gateway starts.
                controller.OpenPin(pin.Pin, PinMode.Output, pin.Settings.ActiveLow ? PinValue.High : PinValue.Low);
                continue;
            }

            controller.OpenPin(pin.Pin, pin.InputMode);
            var level = controller.Read(pin.Pin) == PinValue.High;

            // Keep the counts across a re-open: the count is monotonic for the life of the process.
            var debouncer = pin.Debouncer;
            if (debouncer is null)
            {
                debouncer = new EdgeDebouncer(pin.Debounce, pin.CountedEdges, level);
                pin.Debouncer = debouncer;
            }
            else
            {
                debouncer.Resync(level, now);
            }

            var current = pin;
            pin.Handler = (_, args) => OnEdge(current, args.ChangeType);
            controller.RegisterCallbackForPinValueChangedEvent(pin.Pin, PinEventTypes.Rising | PinEventTypes.Falling, pin.Handler);
        }
    }

    /// <summary>Monotonic time since the driver was created, in <see cref="TimeSpan"/> ticks (the debouncer's unit).</summary>
    private long MonotonicTicks() => _timeProvider.GetElapsedTime(_epochTimestamp).Ticks;

    private void OnEdge(GpioPin pin, PinEventTypes change)
    {
        var now = _timeProvider.GetUtcNow();
        if (!pin.Debouncer!.OnEdge(change == PinEventTypes.Rising, MonotonicTicks()) || pin.IsCounter)
        {
            return;
        }

        var value = pin.Debouncer.Level != pin.Settings.ActiveLow;
        _changes.Writer.TryWrite(Sample.Good(pin.Tag, now, now, SampleValue.FromBoolean(value)));
    }

    private async ValueTask DrainChangesAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        while (_changes.Reader.TryRead(out var sample))
        {
            var pin = _pins.First(p => p.Tag.Equals(sample.Tag));
            pin.LastPublished = sample.Value.AsInteger;
            await writer.WriteAsync(sample, cancellationToken);
        }
    }

    private async ValueTask PublishAllAsync(ISampleWriter writer, bool force, CancellationToken cancellationToken)
    {
        var controller = _controller!;
        var now = _timeProvider.GetUtcNow();
        foreach (var pin in _pins)
        {
            long value;
            if (pin.IsOutput)
            {
                value = (controller.Read(pin.Pin) == PinValue.High) != pin.Settings.ActiveLow ? 1 : 0;
            }
            else if (pin.IsCounter)
            {
                value = pin.Debouncer!.Count;
            }
            else
            {
                pin.Debouncer!.Resync(controller.Read(pin.Pin) == PinValue.High, MonotonicTicks());
                value = pin.Debouncer.Level != pin.Settings.ActiveLow ? 1 : 0;
            }

            if (!force && pin.LastPublished == value)
            {
                continue;
            }

            pin.LastPublished = value;
            var sampleValue = pin.IsCounter ? SampleValue.FromInteger(value) : SampleValue.FromBoolean(value != 0);
            await writer.WriteAsync(Sample.Good(pin.Tag, now, now, sampleValue), cancellationToken);
        }
    }

    private void CloseController()
    {
        var controller = Interlocked.Exchange(ref _controller, null);
        if (controller is null)
        {
            return;
        }

        foreach (var pin in _pins)
        {
            try
            {
                if (pin.Handler is not null && controller.IsPinOpen(pin.Pin))
                {
                    controller.UnregisterCallbackForPinValueChangedEvent(pin.Pin, pin.Handler);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or ArgumentException)
            {
                GpioLog.CloseFailed(_logger, ex, Name, pin.Pin);
            }
        }

        try
        {
            controller.Dispose();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            GpioLog.CloseFailed(_logger, ex, Name, -1);
        }
    }
}

internal static partial class GpioLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "GPIO driver {Driver} opened gpiochip{Chip} with {Pins} pins")]
    public static partial void Opened(ILogger logger, string driver, int chip, int pins);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "GPIO driver {Driver} cannot use gpiochip{Chip}; its tags are Bad; retrying in {DelaySeconds:F1} s")]
    public static partial void OpenFailed(ILogger logger, Exception exception, string driver, int chip, double delaySeconds);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "GPIO driver {Driver} wrote {Tag} = {Value}")]
    public static partial void Wrote(ILogger logger, string driver, string tag, bool value);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Debug, Message = "GPIO driver {Driver}: attempt {Attempt} failed ({Error}); retrying in {DelaySeconds:F1} s")]
    public static partial void StillFailing(ILogger logger, string driver, int attempt, string error, double delaySeconds);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Debug, Message = "GPIO driver {Driver}: closing pin {Pin} failed")]
    public static partial void CloseFailed(ILogger logger, Exception exception, string driver, int pin);
}
