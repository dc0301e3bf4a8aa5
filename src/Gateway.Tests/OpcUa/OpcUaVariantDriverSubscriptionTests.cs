#pragma warning disable CA1861 // constant arrays in assertions read better inline
using System.Collections.Concurrent;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa;
using Gateway.Drivers.OpcUa.Encoding;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Gateway.Tests.OpcUa;

/// <summary>Keeps every log line, so that tests can check that a degraded tag was explained.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider, ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, formatter(state, exception)));

    public void Dispose()
    {
    }
}

/// <summary>
/// The <c>opcua</c> driver in subscription mode against server-variant.mjs set up in other ways: deadbands the server
/// refuses, status codes and timestamps, unreadable nodes, unresolved browse paths, a fast value with a queue, a small
/// MaxMonitoredItemsPerSubscription, writes of several types, and a server that freezes without closing TCP.
/// </summary>
public sealed class OpcUaVariantDriverSubscriptionTests
{
    private static (OpcUaDriver Driver, ListLoggerProvider Log) Create(string url, string tags, string extra = "", int publishingIntervalMs = 200)
    {
        var (config, section) = DriverConfigs.Load($$"""
            { "drivers": [ { "name": "variant", "type": "opcua", "machine": "plc", "endpointUrl": "{{url}}", "mode": "subscription",
              "publishingIntervalMs": {{publishingIntervalMs}}, "samplingIntervalMs": 100, "reconnectDelayMs": 200, "maxReconnectDelayMs": 1000 {{extra}},
              "tags": [ {{tags}} ] } ] }
            """);
        Assert.Empty(new OpcUaDriverFactory().Validate(config, section, "drivers[0]"));
        var log = new ListLoggerProvider();
        var factory = LoggerFactory.Create(builder => builder.AddProvider(log).SetMinimumLevel(LogLevel.Debug));
        return ((OpcUaDriver)new OpcUaDriverFactory().Create(config, section, new DriverContext(TimeProvider.System, factory)), log);
    }

    private static Sample Last(CollectingWriter writer, string path) => writer.Samples.Last(s => s.Tag.Path == path);

    [Fact]
    public async Task Driver_DeadbandRefusedByTheServer_TagStillReportsAndTheRefusalIsLogged()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync();
        var (driver, log) = Create(server.Url, """
            { "name": "text", "address": "ns=2;s=Text", "deadband": 0.5 },
            { "name": "counterPercent", "address": "ns=2;i=70000", "deadbandPercent": 5 },
            { "name": "pressurePercent", "address": "/Objects/2:Line 1/2:Pressure", "deadbandPercent": 1 },
            { "name": "counterAbsolute", "address": "ns=2;i=70000", "deadband": 1000000 }
            """);
        await using var _ = driver;
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);

        await Variant2.UntilAsync(() => driver.Tags.All(t => writer.Samples.Any(s => s.Tag == t && s.Quality == Quality.Good))
                                        && writer.Samples.Count(s => s.Tag.Path == "counterPercent") >= 3, "a Good sample for every tag, several counter values");
        await cts.CancelAsync();
        await run;

        Assert.Equal(SampleValue.FromString("hello"), Last(writer, "text").Value);
        Assert.DoesNotContain(writer.Samples, s => s.Quality == Quality.Bad);
        // the accepted absolute deadband (wider than the counter's range) lets only the first value through
        Assert.Single(writer.Samples, s => s.Tag.Path == "counterAbsolute");
        var warnings = log.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).ToArray();
        Assert.Contains(warnings, m => m.Contains("plc/text", StringComparison.Ordinal) && m.Contains("BadFilterNotAllowed", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("plc/counterPercent", StringComparison.Ordinal) && m.Contains("BadMonitoredItemFilterUnsupported", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, m => m.Contains("plc/pressurePercent", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Driver_StatusCodesTimestampsUnreadableAndUnresolved_EachTagGetsItsOwnQuality()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync();
        var (driver, log) = Create(server.Url, """
            { "name": "uncertain", "address": "ns=2;s=Uncertain" }, { "name": "clamped", "address": "ns=2;s=GoodClamped" },
            { "name": "noSourceTime", "address": "ns=2;s=NoSourceTime" }, { "name": "notReadable", "address": "ns=2;s=NotReadable" },
            { "name": "missing", "address": "/Objects/2:Line 1/2:NoSuchNode" }, { "name": "unknownNode", "address": "ns=2;s=NoSuchNode" },
            { "name": "byPath", "address": "/Objects/2:Quality/2:Writable.Int16" }, { "name": "counter", "address": "ns=2;i=70000" }
            """);
        await using var _ = driver;
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var started = DateTimeOffset.UtcNow;
        var run = driver.RunAsync(writer, cts.Token);

        await Variant2.UntilAsync(() => driver.Tags.All(t => writer.Samples.Any(s => s.Tag == t))
                                        && writer.Samples.Count(s => s.Tag.Path == "counter") >= 3, "a sample for every tag");
        await cts.CancelAsync();
        await run;

        var uncertain = Last(writer, "uncertain");
        Assert.Equal(Quality.Uncertain, uncertain.Quality);
        Assert.Equal(SampleStatus.UncertainLastUsableValue, uncertain.StatusCode & 0xFFFF0000);
        Assert.Equal(SampleValue.FromDouble(1.5), uncertain.Value);
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), uncertain.SourceTimestamp);
        var clamped = Last(writer, "clamped");
        Assert.Equal(Quality.Good, clamped.Quality);
        Assert.Equal(0x00300000u, clamped.StatusCode & 0xFFFF0000);
        Assert.Equal(SampleValue.FromDouble(2.5), clamped.Value);
        // no source timestamp: the server's, not 1601-01-01
        Assert.True(Last(writer, "noSourceTime").SourceTimestamp > started.AddHours(-1));
        Assert.Equal(SampleValue.FromInteger(-7), Last(writer, "byPath").Value);
        Assert.Contains(Last(writer, "notReadable").StatusCode & 0xFFFF0000, new[] { SampleStatus.BadNotReadable, SampleStatus.BadUserAccessDenied });
        Assert.Equal(Quality.Bad, Last(writer, "missing").Quality);
        Assert.Equal(SampleStatus.BadNodeIdUnknown, Last(writer, "unknownNode").StatusCode & 0xFFFF0000);
        Assert.DoesNotContain(writer.Samples, s => s.Quality == Quality.Bad && s.Tag.Path is "counter" or "byPath" or "clamped" or "noSourceTime" or "uncertain");
        var warnings = log.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).ToArray();
        Assert.Contains(warnings, m => m.Contains("plc/missing", StringComparison.Ordinal) && m.Contains("NoSuchNode", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("plc/notReadable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Driver_ValueChangesFasterThanThePublishingInterval_EveryQueuedValueBecomesASampleInOrder()
    {
        // MinSupportedSampleRate 0: node-opcua then reports every change (exception-based) instead of coalescing per 100 ms
        await using var server = await NodeOpcUaServer.StartVariantAsync("--min-supported-sample-rate", "0");
        var (driver, _) = Create(server.Url, """{ "name": "fast", "address": "ns=2;s=Fast", "samplingIntervalMs": 0 }""",
            """, "queueSize": 1000""", publishingIntervalMs: 1000);
        await using var __ = driver;
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);

        await Variant2.UntilAsync(() => writer.Samples.Count >= 150, "150 samples of the fast counter");
        await cts.CancelAsync();
        await run;

        var values = writer.Samples.Select(s => s.Value.AsInteger).ToArray();
        Assert.All(writer.Samples, s => Assert.Equal(Quality.Good, s.Quality));
        for (var i = 1; i < values.Length; i++)
        {
            Assert.True(values[i] == values[i - 1] + 1, $"sample {i}: {values[i - 1]} then {values[i]}");
        }
    }

    [Fact]
    public async Task Driver_MoreTagsThanMaxMonitoredItemsPerSubscription_SpreadOverSubscriptionsOrRefusedPerTag()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync("--max-monitored-items-per-subscription", "3", "--max-subscriptions-per-session", "2");
        var tags = string.Join(", ", Enumerable.Range(0, 8).Select(i => $$"""{ "name": "m{{i}}", "address": "ns=2;i={{1000 + i}}" }"""));
        var (driver, log) = Create(server.Url, tags);
        await using var _ = driver;
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);

        await Variant2.UntilAsync(() => driver.Tags.All(t => writer.Samples.Any(s => s.Tag == t)), "a sample for every tag");
        await cts.CancelAsync();
        await run;

        // two subscriptions of three items: six tags Good with their values, the last two Bad with the reason
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(SampleValue.FromInteger(i), Last(writer, $"m{i}").Value);
        }

        foreach (var path in new[] { "m6", "m7" })
        {
            Assert.Equal(SampleStatus.BadTooManyMonitoredItems, Last(writer, path).StatusCode & 0xFFFF0000);
            Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("plc/" + path, StringComparison.Ordinal)
                                            && l.Message.Contains("BadTooManyMonitoredItems", StringComparison.Ordinal));
        }

    }

    [Fact]
    public async Task Driver_WritesInt16FloatByteAndString_ValuesArriveAndReadOnlyNodesAreRefused()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync();
        var (driver, _) = Create(server.Url, """
            { "name": "i16", "address": "ns=2;s=Writable.Int16", "writable": true }, { "name": "f", "address": "ns=2;s=Writable.Float", "writable": true },
            { "name": "b", "address": "ns=2;s=Writable.Byte", "writable": true }, { "name": "s", "address": "ns=2;s=Writable.String", "writable": true },
            { "name": "readOnly", "address": "ns=2;s=ReadOnly.Int16", "writable": true }, { "name": "notConfigured", "address": "ns=2;s=Writable.Int16" }
            """);
        await using var _ = driver;
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);
        await Variant2.UntilAsync(() => driver.Tags.All(t => writer.Samples.Any(s => s.Tag == t && s.Quality == Quality.Good)), "a Good sample for every tag");
        TagInfo Tag(string path) => driver.Tags.Single(t => t.Path == path);

        await driver.WriteAsync(Tag("i16"), SampleValue.FromInteger(-1234), CancellationToken.None);
        await driver.WriteAsync(Tag("f"), SampleValue.FromDouble(2.25), CancellationToken.None);
        await driver.WriteAsync(Tag("b"), SampleValue.FromInteger(17), CancellationToken.None);
        await driver.WriteAsync(Tag("s"), SampleValue.FromString("running"), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<Gateway.Drivers.OpcUa.Transport.UaException>(() => driver.WriteAsync(Tag("readOnly"), SampleValue.FromInteger(1), CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => driver.WriteAsync(Tag("notConfigured"), SampleValue.FromInteger(1), CancellationToken.None).AsTask());

        await Variant2.UntilAsync(() => Last(writer, "i16").Value == SampleValue.FromInteger(-1234) && Last(writer, "f").Value == SampleValue.FromFloat(2.25f)
                                        && Last(writer, "b").Value == SampleValue.FromInteger(17) && Last(writer, "s").Value == SampleValue.FromString("running"),
            "the written values reported back");
        await cts.CancelAsync();
        await run;
        Assert.Contains(refused.StatusCode, new[] { SampleStatus.BadNotWritable, SampleStatus.BadUserAccessDenied });
        Assert.Equal(SampleValue.FromInteger(5), Last(writer, "readOnly").Value);
    }

    [Fact]
    public async Task Driver_ServerFreezesWithoutClosingTcp_TagsTurnBadOnceThenGoodWhenItRuns()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync();
        var (driver, _) = Create(server.Url, """
            { "name": "constant", "address": "ns=2;s=Writable.Int16" }, { "name": "counter", "address": "ns=2;i=70000" }
            """, """, "keepAliveIntervalMs": 1000, "requestTimeoutMs": 3000""");
        await using var _ = driver;
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);
        await Variant2.UntilAsync(() => driver.Tags.All(t => writer.Samples.Any(s => s.Tag == t && s.Quality == Quality.Good)), "a Good sample for every tag");

        await server.PauseAsync();
        try
        {
            await Variant2.UntilAsync(() => driver.Tags.All(t => writer.Samples.Any(s => s.Tag == t && s.Quality == Quality.Bad)), "every tag Bad while the server is frozen");
        }
        finally
        {
            await server.ResumeAsync();
        }

        bool GoodAfterBad(TagInfo tag) => writer.Samples.Where(s => s.Tag == tag).SkipWhile(s => s.Quality != Quality.Bad).Any(s => s.Quality == Quality.Good);
        await Variant2.UntilAsync(() => driver.Tags.All(GoodAfterBad), "every tag Good again after the server runs on");
        await cts.CancelAsync();
        await run;

        foreach (var tag in driver.Tags)
        {
            var samples = writer.Samples.Where(s => s.Tag == tag).ToArray();
            var firstBad = Array.FindIndex(samples, s => s.Quality == Quality.Bad);
            var nextGood = Array.FindIndex(samples, firstBad, s => s.Quality == Quality.Good);
            Assert.Single(samples[firstBad..nextGood]); // Bad once, not per retry
        }

        Assert.Equal(SampleValue.FromInteger(-7), Last(writer, "constant").Value);
    }

    [Fact]
    public async Task Driver_ServerRestartsWithItsNamespacesInAnotherOrder_NsuTagsFollowTheirNamespace()
    {
        await using var server = await NodeOpcUaServer.StartVariantAsync();
        var (driver, log) = Create(server.Url, """
            { "name": "plant", "address": "nsu=urn:gateway-test:plant;s=Writable.Int16" },
            { "name": "vendor", "address": "nsu=urn:gateway-test:vendor;s=温度/センサー 1" }
            """);
        await using var _ = driver;
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);
        await Variant2.UntilAsync(() => driver.Tags.All(t => writer.Samples.Any(s => s.Tag == t && s.Quality == Quality.Good)), "a Good sample for every tag");

        await server.KillAsync();
        await Variant2.UntilAsync(() => driver.Tags.All(t => writer.Samples.Any(s => s.Tag == t && s.Quality == Quality.Bad)), "every tag Bad while the server is down");
        await server.RestartAsync("--vendor-first");
        bool GoodAfterBad(TagInfo tag) => writer.Samples.Where(s => s.Tag == tag).SkipWhile(s => s.Quality != Quality.Bad).Any(s => s.Quality == Quality.Good);
        await Variant2.UntilAsync(() => driver.Tags.All(GoodAfterBad), "every tag Good again after the restart");
        await cts.CancelAsync();
        await run;

        Assert.Equal(SampleValue.FromInteger(-7), Last(writer, "plant").Value);
        Assert.Equal(SampleValue.FromDouble(21.5), Last(writer, "vendor").Value);
        Assert.Equal(Quality.Good, Last(writer, "plant").Quality);
        Assert.Equal(Quality.Good, Last(writer, "vendor").Quality);
        Assert.Contains(log.Lines, l => l.Message.Contains("plc/plant", StringComparison.Ordinal) && l.Message.Contains("ns=3;s=Writable.Int16", StringComparison.Ordinal));
    }
}
