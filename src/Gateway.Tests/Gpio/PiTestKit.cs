using System.Diagnostics;
using System.Text;
using Gateway.Drivers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Gpio;

/// <summary>Collects what a driver writes; <see cref="Of"/> looks tags up by their path.</summary>
public sealed class SampleCollector : Infrastructure.SampleRecorder
{
    public List<Sample> Of(string path) => ForPath(path);
}

internal static class PiTestKit
{
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);

    /// <summary>One driver section from JSON, as the host hands it to a factory.</summary>
    public static (DriverConfig Config, IConfigurationSection Section) Driver(string json)
    {
        var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("{\"drivers\":[" + json + "]}"))).Build();
        var section = root.GetSection("drivers:0");
        var config = new DriverConfig();
        section.Bind(config);
        return (config, section);
    }

    public static IDriver Create(IDriverFactory factory, string json, TimeProvider time)
    {
        var (config, section) = Driver(json);
        var problems = factory.Validate(config, section, "drivers[0]").ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        return factory.Create(config, section, new DriverContext(time, NullLoggerFactory.Instance));
    }

    /// <summary>
    /// Waits (in real time, bounded) until <paramref name="condition"/> holds, advancing the fake clock by
    /// <paramref name="step"/> between looks so that the driver's timers fire. Not a timing assertion.
    /// </summary>
    public static Task UntilAsync(Func<bool> condition, FakeTimeProvider? time = null, TimeSpan step = default, string? what = null) =>
        Eventually.TrueAsync(condition, "condition not reached: " + what, between: time is not null && step > TimeSpan.Zero ? () => time.Advance(step) : null, poll: TimeSpan.FromMilliseconds(5));
}
