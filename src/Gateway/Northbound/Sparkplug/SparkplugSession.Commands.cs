using Gateway.Drivers;
using Gateway.Northbound.Sparkplug.Protobuf;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Gateway.Northbound.Sparkplug;

/// <summary>The commands a host sends the node: NCMD and DCMD.</summary>
public sealed partial class SparkplugSession
{
    /// <summary>
    /// Receives each DCMD metric as a write (tag key <c>device/metric name</c>, by name or by the alias of the device's
    /// birth, the value decoded by the metric's datatype); null: DCMDs are refused with one log line per metric.
    /// Called on the MQTT receive loop: it must not wait.
    /// </summary>
    public Action<SparkplugWriteRequest>? WriteRequested { get; set; }

    /// <summary>
    /// An NCMD or DCMD. Returns true for <c>Node Control/Rebirth</c> = true (the caller then calls
    /// <see cref="Rebirth"/> from its sending loop); each DCMD metric goes to <see cref="WriteRequested"/> (without it,
    /// it is logged once as not writable); any other NCMD metric is refused with one log line per metric. Thread-safe.
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
            var known = metric.HasAlias && _aliasNames.TryGetValue(metric.Alias, out var named) ? named : default;
            var name = metric.HasName ? metric.Name : known.Name ?? $"alias {metric.Alias}";
            if (device is null && name == RebirthMetric)
            {
                if (metric.ValueCase == Protobuf.Payload.Types.Metric.ValueOneofCase.BooleanValue && metric.BooleanValue)
                {
                    LogRebirthRequested(_logger, _options.EdgeNodeId);
                    rebirth = true;
                }

                continue;
            }

            if (device is not null && WriteRequested is { } write)
            {
                // A DCMD names the device in its topic; an alias must be one of that device's.
                var unknownAlias = !metric.HasName && (known.Name is null || known.Device != device);
                var problem = unknownAlias ? $"DCMD metric alias {metric.Alias} is not one of device '{device}''s (see its DBIRTH)" : null;
                var value = SampleValue.None;
                if (problem is null && !TryDecodeValue(metric, out value, out var undecodable))
                {
                    problem = $"DCMD metric '{name}': {undecodable}";
                }

                write(new SparkplugWriteRequest(device + "/" + name, topic, value, problem));
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
                if (device is null)
                {
                    LogNodeCommandRefused(_logger, _options.EdgeNodeId, name);
                }
                else
                {
                    LogNotWritable(_logger, _options.EdgeNodeId, "DCMD", device + "/" + name);
                }
            }
        }

        return rebirth;
    }

    /// <summary>
    /// A DCMD metric's value by its datatype (sparkplug_b.proto: Int8..UInt32 in int_value, signed ones as two's
    /// complement; Int64 and UInt64 in long_value); without a datatype, by the value field it carries.
    /// </summary>
    internal static bool TryDecodeValue(Payload.Types.Metric metric, out SampleValue value, out string problem)
    {
        value = SampleValue.None;
        problem = "";
        if (metric.IsNull)
        {
            problem = "is_null is set: no value to write";
            return false;
        }

        var type = (DataType)metric.Datatype;
        var field = metric.ValueCase;
        if (type is >= DataType.Int8 and <= DataType.UInt64)
        {
            // Sparkplug 3.0 puts up to 32 bits in int_value; Tahu's JavaScript library puts UInt32 in long_value: take either.
            if (field is not (Payload.Types.Metric.ValueOneofCase.IntValue or Payload.Types.Metric.ValueOneofCase.LongValue))
            {
                problem = $"datatype {type} carries its value in int_value or long_value, the metric has {Field(field)}";
                return false;
            }

            var fromInt = field == Payload.Types.Metric.ValueOneofCase.IntValue;
            value = type switch
            {
                DataType.UInt64 => SampleValue.FromUnsignedInteger(fromInt ? metric.IntValue : metric.LongValue),
                _ when !fromInt => SampleValue.FromInteger((long)metric.LongValue),
                DataType.Int8 => SampleValue.FromInteger((sbyte)metric.IntValue),
                DataType.Int16 => SampleValue.FromInteger((short)metric.IntValue),
                DataType.Int32 => SampleValue.FromInteger((int)metric.IntValue),
                _ => SampleValue.FromInteger(metric.IntValue),
            };
            return true;
        }

        var expected = type switch
        {
            DataType.Float => Payload.Types.Metric.ValueOneofCase.FloatValue,
            DataType.Double => Payload.Types.Metric.ValueOneofCase.DoubleValue,
            DataType.Boolean => Payload.Types.Metric.ValueOneofCase.BooleanValue,
            DataType.String or DataType.Text => Payload.Types.Metric.ValueOneofCase.StringValue,
            DataType.Unknown => field,
            _ => Payload.Types.Metric.ValueOneofCase.None,
        };
        if (expected == Payload.Types.Metric.ValueOneofCase.None)
        {
            problem = field == Payload.Types.Metric.ValueOneofCase.None ? "no value" : $"datatype {type} cannot be written (Int8..UInt64, Float, Double, Boolean, String)";
            return false;
        }

        if (field != expected)
        {
            problem = $"datatype {type} carries its value in {Field(expected)}, the metric has {Field(field)}";
            return false;
        }

        value = field switch
        {
            Payload.Types.Metric.ValueOneofCase.IntValue => SampleValue.FromInteger((int)metric.IntValue),
            Payload.Types.Metric.ValueOneofCase.LongValue => SampleValue.FromInteger((long)metric.LongValue),
            Payload.Types.Metric.ValueOneofCase.FloatValue => SampleValue.FromFloat(metric.FloatValue),
            Payload.Types.Metric.ValueOneofCase.DoubleValue => SampleValue.FromDouble(metric.DoubleValue),
            Payload.Types.Metric.ValueOneofCase.BooleanValue => SampleValue.FromBoolean(metric.BooleanValue),
            _ => SampleValue.FromString(metric.StringValue),
        };
        return true;
    }

    private static string Field(Payload.Types.Metric.ValueOneofCase field) => field switch
    {
        Payload.Types.Metric.ValueOneofCase.None => "no value",
        Payload.Types.Metric.ValueOneofCase.IntValue => "int_value",
        Payload.Types.Metric.ValueOneofCase.LongValue => "long_value",
        Payload.Types.Metric.ValueOneofCase.FloatValue => "float_value",
        Payload.Types.Metric.ValueOneofCase.DoubleValue => "double_value",
        Payload.Types.Metric.ValueOneofCase.BooleanValue => "boolean_value",
        Payload.Types.Metric.ValueOneofCase.StringValue => "string_value",
        _ => field.ToString(),
    };

    [LoggerMessage(EventId = 3215, Level = LogLevel.Warning, Message = "Sparkplug node {Node}: NCMD for metric '{Metric}' refused: the node's only command is Node Control/Rebirth (tags are written with DCMD to their device); logged once per metric")]
    private static partial void LogNodeCommandRefused(ILogger logger, string node, string metric);

    [LoggerMessage(EventId = 3211, Level = LogLevel.Information, Message = "Sparkplug node {Node}: rebirth requested by a host (Node Control/Rebirth)")]
    private static partial void LogRebirthRequested(ILogger logger, string node);

    [LoggerMessage(EventId = 3212, Level = LogLevel.Warning, Message = "Sparkplug node {Node}: malformed command on {Topic} ignored: {Reason}")]
    private static partial void LogMalformedCommand(ILogger logger, string node, string topic, string reason);

    [LoggerMessage(EventId = 3213, Level = LogLevel.Warning, Message = "Sparkplug node {Node}: {Command} for metric '{Metric}' refused: not writable (writes are not enabled); logged once per metric")]
    private static partial void LogNotWritable(ILogger logger, string node, string command, string metric);
}

/// <summary>One DCMD metric to write: the tag key (<c>machine/path</c>), the DCMD topic, the value; <see cref="Problem"/> when it has none usable.</summary>
public readonly record struct SparkplugWriteRequest(string TagKey, string Topic, SampleValue Value, string? Problem);
