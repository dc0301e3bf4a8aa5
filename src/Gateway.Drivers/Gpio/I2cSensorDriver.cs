using System.Device.I2c;
using Microsoft.Extensions.Logging;
using Polly;
using UnitsNet;

namespace Gateway.Drivers.Gpio;

/// <summary>One tag of an I2C sensor: the quantity it reads, its unit and, for an ADC input, its signal.</summary>
internal sealed record I2cTag(TagInfo Tag, string Quantity, string Unit, I2cTagSettings Settings, double Scale, double Offset);

/// <summary>
/// Polls one I2C chip through its dotnet/iot binding. Each reading is a UnitsNet quantity converted to the
/// tag's unit. A chip that stops answering (NACK: <see cref="IOException"/>) turns its tags Bad once, is
/// re-opened with exponential backoff (Polly) and comes back Good when it answers again.
/// </summary>
public sealed class I2cSensorDriver : IDriver
{
    /// <summary>OPC UA Bad_CommunicationError: the chip did not answer.</summary>
    public const uint BadCommunicationError = SampleStatus.BadCommunicationError;

    private readonly I2cSettings _settings;
    private readonly IReadOnlyList<I2cTag> _tags;
    private readonly TagInfo[] _tagInfos;
    private readonly Func<I2cConnectionSettings, I2cDevice> _createDevice;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly int _address;
    private II2cSensor? _sensor;

    internal I2cSensorDriver(string name, I2cSettings settings, int address, IReadOnlyList<I2cTag> tags, DriverContext context, Func<I2cConnectionSettings, I2cDevice> createDevice)
    {
        Name = name;
        _settings = settings;
        _address = address;
        _tags = tags;
        _tagInfos = [.. tags.Select(t => t.Tag)];
        _createDevice = createDevice;
        _timeProvider = context.TimeProvider;
        _logger = context.LoggerFactory.CreateLogger<I2cSensorDriver>();
    }

    public string Name { get; }

    public IReadOnlyList<TagInfo> Tags => _tagInfos;

    public DriverState State { get; private set; } = DriverState.Starting;

    public string? LastError { get; private set; }

    public async Task RunAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        var lost = false;
        var interval = TimeSpan.FromMilliseconds(_settings.PollIntervalMs);

        // On the monotonic clock: a step of the wall clock neither stops the readings nor bursts them.
        var schedule = new PollSchedule(_timeProvider, interval, writer.ReportPollOverrun);
        var poll = Backoff.Forever(
            _timeProvider,
            interval < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : interval,
            TimeSpan.FromMinutes(1),
            new PredicateBuilder().Handle<IOException>().Handle<TimeoutException>().Handle<UnauthorizedAccessException>(),
            async args =>
            {
                // After an outage the read waits out the backoff: keep the period from its end, no overrun.
                schedule.Paused();
                CloseSensor();
                LastError = args.Outcome.Exception!.Message;
                State = DriverState.Disconnected;
                if (lost)
                {
                    I2cLog.StillLost(_logger, Name, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
                    return;
                }

                // Bad once per outage, not once per attempt.
                lost = true;
                I2cLog.Lost(_logger, args.Outcome.Exception!, Name, _settings.Sensor, _settings.Bus, _address, args.RetryDelay.TotalSeconds);
                var now = _timeProvider.GetUtcNow();
                foreach (var tag in _tagInfos)
                {
                    await writer.WriteAsync(Sample.Bad(tag, now, BadCommunicationError), cancellationToken);
                }
            });

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await poll.ExecuteAsync(async ct => await ReadOnceAsync(writer, ct), cancellationToken);
                if (lost || State != DriverState.Connected)
                {
                    I2cLog.Connected(_logger, Name, _settings.Sensor, _settings.Bus, _address);
                }

                lost = false;
                LastError = null;
                State = DriverState.Connected;
                await schedule.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            CloseSensor();
            State = DriverState.Stopped;
        }
    }

    private async ValueTask ReadOnceAsync(ISampleWriter writer, CancellationToken cancellationToken)
    {
        _sensor ??= I2cSensorKinds.Open(_settings, _createDevice(new I2cConnectionSettings(_settings.Bus, _address)));

        // Read every tag first, then write: a chip lost halfway gives no half-poll of Good samples.
        var samples = new Sample[_tags.Count];
        var now = _timeProvider.GetUtcNow();
        for (var i = 0; i < _tags.Count; i++)
        {
            samples[i] = ToSample(_tags[i], _sensor.Read(_tags[i].Quantity), now);
        }

        foreach (var sample in samples)
        {
            await writer.WriteAsync(sample, cancellationToken);
        }
    }

    internal static Sample ToSample(I2cTag tag, IQuantity? quantity, DateTimeOffset now)
    {
        if (quantity is null)
        {
            return Sample.Bad(tag.Tag, now, AnalogSignal.BadSensorFailure);
        }

        double value;
        switch (tag.Settings.Signal)
        {
            case "4-20mA" when quantity is ElectricPotential acrossShunt:
                var engineering = AnalogSignal.FromLoop(AnalogSignal.LoopCurrent(acrossShunt, tag.Settings.ShuntOhms), tag.Settings.RangeMin, tag.Settings.RangeMax);
                if (engineering is null)
                {
                    return Sample.Bad(tag.Tag, now, AnalogSignal.BadSensorFailure);
                }

                value = engineering.Value;
                break;
            case "0-10V" when quantity is ElectricPotential atPin:
                value = AnalogSignal.FromVoltage(atPin, tag.Settings.DividerRatio, tag.Settings.RangeMin, tag.Settings.RangeMax);
                break;
            default:
                value = SampleUnits.Convert(quantity, tag.Unit);
                break;
        }

        return Sample.Good(tag.Tag, now, now, SampleValue.FromDouble((value * tag.Scale) + tag.Offset));
    }

    private void CloseSensor()
    {
        var sensor = Interlocked.Exchange(ref _sensor, null);
        try
        {
            sensor?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
        {
            // Disposing a lost chip may try to talk to it (the ADS1115 resets its comparator).
            I2cLog.CloseFailed(_logger, ex, Name);
        }
    }

    public ValueTask DisposeAsync()
    {
        CloseSensor();
        return ValueTask.CompletedTask;
    }
}

internal static partial class I2cLog
{
    [LoggerMessage(EventId = 1320, Level = LogLevel.Information, Message = "I2C driver {Driver}: {Sensor} on bus {Bus} at 0x{Address:X2} answers")]
    public static partial void Connected(ILogger logger, string driver, string sensor, int bus, int address);

    [LoggerMessage(EventId = 1321, Level = LogLevel.Warning, Message = "I2C driver {Driver}: {Sensor} on bus {Bus} at 0x{Address:X2} does not answer; its tags are Bad; retrying in {DelaySeconds:F1} s")]
    public static partial void Lost(ILogger logger, Exception exception, string driver, string sensor, int bus, int address, double delaySeconds);

    [LoggerMessage(EventId = 1322, Level = LogLevel.Debug, Message = "I2C driver {Driver}: attempt {Attempt} failed; retrying in {DelaySeconds:F1} s")]
    public static partial void StillLost(ILogger logger, string driver, int attempt, double delaySeconds);

    [LoggerMessage(EventId = 1323, Level = LogLevel.Debug, Message = "I2C driver {Driver}: closing the lost chip failed")]
    public static partial void CloseFailed(ILogger logger, Exception exception, string driver);
}
