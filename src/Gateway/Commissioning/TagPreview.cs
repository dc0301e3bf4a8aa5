using System.Text;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound.Sparkplug;
using Gateway.Northbound.Uns;
using Microsoft.Extensions.Configuration;

namespace Gateway.Commissioning;

/// <summary>One proposed tag as it would be published, from one real read.</summary>
/// <param name="Tag">The tag's <c>name</c>.</param>
/// <param name="Quality"><c>Good</c>, <c>Uncertain</c> or <c>Bad</c>; null when no sample came in time.</param>
/// <param name="Timestamp">The sample's source timestamp, ISO 8601 UTC.</param>
/// <param name="Topic">The UNS topic (when <c>mqtt.format</c> is uns or both).</param>
/// <param name="Payload">The UNS payload, exactly as published.</param>
/// <param name="Metric">The Sparkplug metric name, the tag's UNS path (when sparkplugb or both); its device is the machine.</param>
/// <param name="SparkplugTopic">The DDATA topic of the metric's device.</param>
/// <param name="Datatype">The Sparkplug datatype of this value (<c>Float</c>, <c>Int32</c>, ...).</param>
public sealed record PreviewSample(string Tag, string? Quality, string? Timestamp, string? Topic, string? Payload, string? Metric, string? SparkplugTopic, string? Datatype);

/// <summary>
/// The preview of proposed tags, not saved: the driver section is checked as check-config checks it (inside the
/// running file's other sections, without the OEE section, which may name tags that do not exist yet), a temporary
/// driver instance is created by its own factory and run until each tag has a sample (or <see cref="Timeout"/>),
/// then stopped. Each first sample is shown as the outputs would publish it: UNS topic and payload, Sparkplug metric
/// and datatype. Nothing reaches the buffer or the broker.
/// </summary>
public static class TagPreview
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The samples, or the problems of the driver section (JSON paths <c>drivers[0]...</c>).</summary>
    public static async Task<(List<PreviewSample> Samples, List<ConfigProblem> Problems)> RunAsync(JsonObject document, JsonObject driver, GatewayConfig running, IReadOnlyList<IDriverFactory> factories, DriverContext context, CancellationToken cancellationToken)
    {
        var candidate = (JsonObject)document.DeepClone();
        candidate.Remove("oee");
        var single = (JsonObject)driver.DeepClone();
        single["enabled"] = true;
        candidate["drivers"] = new JsonArray(single);
        var root = new ConfigurationBuilder().Add(new IndexedJsonConfigurationSource { Stream = new MemoryStream(Encoding.UTF8.GetBytes(candidate.ToJsonString())) }).Build();
        var problems = ConfigLoader.Validate(root, factories, out var config);
        if (problems.Count > 0 || config is null)
        {
            return ([], problems);
        }

        var driverConfig = config.Drivers[0];
        var factory = factories.First(f => f.Types.Contains(driverConfig.Type));
        await using var instance = factory.Create(driverConfig, root.GetSection("drivers:0"), context);
        var collector = new FirstSamples(instance.Tags.Count);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(Timeout);
        var run = instance.RunAsync(collector, stop.Token);
        try
        {
            await collector.Complete.WaitAsync(stop.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Timeout: the tags that gave no sample are shown without one.
        }

        await stop.CancelAsync();
        await run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return (Describe(instance.Tags, driverConfig, collector.Samples, running), []);
    }

    private static List<PreviewSample> Describe(IReadOnlyList<TagInfo> tags, DriverConfig driver, Dictionary<TagInfo, Sample> samples, GatewayConfig running)
    {
        var format = running.Mqtt.Format;
        using var encoder = new UnsEncoder(running.Gateway, running.Mqtt.TopicPrefix);
        var sparkplug = running.Mqtt.Sparkplug;
        var group = sparkplug.GroupId ?? running.Gateway.Site;
        var node = sparkplug.EdgeNodeId ?? running.Gateway.Id;
        var names = driver.Tags.ToDictionary(t => t.ToTagInfo(driver).Key, t => t.Name, StringComparer.Ordinal);
        var result = new List<PreviewSample>(tags.Count);
        foreach (var tag in tags)
        {
            var name = names.GetValueOrDefault(tag.Key, tag.Path);
            string? topic = null, payload = null, metric = null, sparkplugTopic = null, datatype = null;
            var has = samples.TryGetValue(tag, out var sample);
            if (format is MqttFormat.Uns or MqttFormat.Both)
            {
                topic = encoder.Topic(tag);
                if (has)
                {
                    var (array, length) = encoder.LivePayload(sample);
                    payload = Encoding.UTF8.GetString(array, 0, length);
                    System.Buffers.ArrayPool<byte>.Shared.Return(array);
                }
            }

            if (format is MqttFormat.SparkplugB or MqttFormat.Both)
            {
                metric = tag.Path; // the device is the machine (in the topic)
                sparkplugTopic = $"spBv1.0/{group}/DDATA/{node}/{tag.Machine}";
                datatype = (has ? SparkplugPayloadWriter.DataTypeOf(tag.SourceType, sample.Value) : SparkplugPayloadWriter.DataTypeOf(tag)).ToString();
            }

            result.Add(new PreviewSample(
                name,
                has ? sample.Quality.ToString() : null,
                has ? sample.SourceTimestamp.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture) : null,
                topic,
                payload,
                metric,
                sparkplugTopic,
                datatype));
        }

        return result;
    }

    /// <summary><c>mqtt.format</c> as the file spells it: <c>uns</c>, <c>sparkplugb</c> or <c>both</c>.</summary>
    public static string Spelling(MqttFormat format) => format switch
    {
        MqttFormat.SparkplugB => "sparkplugb",
        MqttFormat.Both => "both",
        _ => "uns",
    };

    /// <summary>Keeps the first sample of each tag; completes when every tag has one.</summary>
    private sealed class FirstSamples(int expected) : ISampleWriter
    {
        private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Dictionary<TagInfo, Sample> Samples { get; } = [];

        public Task Complete => _complete.Task;

        public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
        {
            lock (Samples)
            {
                Samples.TryAdd(sample.Tag, sample);
                if (Samples.Count >= expected)
                {
                    _complete.TrySetResult();
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}
