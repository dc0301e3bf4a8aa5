using Gateway.Northbound.Sparkplug.Protobuf;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Gateway.Northbound.Sparkplug;

/// <summary>The commands a host sends the node: NCMD and DCMD.</summary>
public sealed partial class SparkplugSession
{
    /// <summary>
    /// An NCMD or DCMD. Returns true for <c>Node Control/Rebirth</c> = true (the caller then calls
    /// <see cref="Rebirth"/> from its sending loop); any other metric is logged once as not writable (writes are
    /// not enabled). Thread-safe.
    /// </summary>
    public bool HandleCommand(string topic, ReadOnlySpan<byte> payload)
    {
        string? device;
        if (topic == _nodeCommandTopic)
        {
            device = null;
        }
        else if (topic.StartsWith(_deviceCommandPrefix, StringComparison.Ordinal))
        {
            device = topic[_deviceCommandPrefix.Length..];
        }
        else
        {
            return false;
        }

        Payload command;
        try
        {
            command = Protobuf.Payload.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            LogMalformedCommand(_logger, _options.EdgeNodeId, topic, ex.Message);
            return false;
        }

        var rebirth = false;
        foreach (var metric in command.Metrics)
        {
            var name = metric.HasName ? metric.Name : metric.HasAlias && _aliasNames.TryGetValue(metric.Alias, out var known) ? known.Name : $"alias {metric.Alias}";
            if (device is null && name == RebirthMetric)
            {
                if (metric.ValueCase == Protobuf.Payload.Types.Metric.ValueOneofCase.BooleanValue && metric.BooleanValue)
                {
                    LogRebirthRequested(_logger, _options.EdgeNodeId);
                    rebirth = true;
                }

                continue;
            }

            var key = (device ?? "") + "\n" + name;
            bool first;
            lock (_refusedWrites)
            {
                first = _refusedWrites.Add(key);
            }

            if (first)
            {
                LogNotWritable(_logger, _options.EdgeNodeId, device is null ? "NCMD" : "DCMD", device is null ? name : device + "/" + name);
            }
        }

        return rebirth;
    }

    [LoggerMessage(EventId = 3211, Level = LogLevel.Information, Message = "Sparkplug node {Node}: rebirth requested by a host (Node Control/Rebirth)")]
    private static partial void LogRebirthRequested(ILogger logger, string node);

    [LoggerMessage(EventId = 3212, Level = LogLevel.Warning, Message = "Sparkplug node {Node}: malformed command on {Topic} ignored: {Reason}")]
    private static partial void LogMalformedCommand(ILogger logger, string node, string topic, string reason);

    [LoggerMessage(EventId = 3213, Level = LogLevel.Warning, Message = "Sparkplug node {Node}: {Command} for metric '{Metric}' refused: not writable (writes are not enabled); logged once per metric")]
    private static partial void LogNotWritable(ILogger logger, string node, string command, string metric);
}
