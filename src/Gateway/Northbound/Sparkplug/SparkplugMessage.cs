using Gateway.Buffering;

namespace Gateway.Northbound.Sparkplug;

/// <summary>The Sparkplug B message types an edge node sends.</summary>
public enum SparkplugMessageType
{
    /// <summary>No message to publish: buffer samples that need none (Bad values of a dead machine), to acknowledge as they are.</summary>
    None,
    NodeBirth,
    NodeDeath,
    DeviceBirth,
    DeviceDeath,
    DeviceData,
}

/// <summary>
/// One message of a <see cref="SparkplugSession"/>: its topic, its payload (in a pooled buffer), its QoS, and the
/// buffer samples it carries (as ranges of sequence numbers: acknowledge them once the broker acknowledged the
/// message). <see cref="Dispose"/> once published (or given up) returns the payload's buffer.
/// </summary>
public sealed class SparkplugMessage : IDisposable
{
    private readonly List<SequenceRange> _samples = [];
    private PooledPayload? _payload;

    internal SparkplugMessage(SparkplugMessageType type, string? topic, string? device, PooledPayload? payload, int qualityOfService)
    {
        Type = type;
        Topic = topic;
        Device = device;
        _payload = payload;
        QualityOfService = qualityOfService;
    }

    public SparkplugMessageType Type { get; }

    /// <summary>The MQTT topic; null for <see cref="SparkplugMessageType.None"/>.</summary>
    public string? Topic { get; }

    /// <summary>The device (machine) of a device message; null for the node's own messages.</summary>
    public string? Device { get; }

    /// <summary>0 or 1.</summary>
    public int QualityOfService { get; internal set; }

    /// <summary>The protobuf payload; empty for <see cref="SparkplugMessageType.None"/>.</summary>
    public ReadOnlyMemory<byte> Payload => _payload?.Memory ?? ReadOnlyMemory<byte>.Empty;

    /// <summary>The buffer samples this message carries, as ranges of sequence numbers (not sorted across ranges).</summary>
    public IReadOnlyList<SequenceRange> Samples => _samples;

    /// <summary>How many buffer samples this message carries.</summary>
    public int SampleCount { get; private set; }

    internal void Complete(PooledPayload payload, int qualityOfService)
    {
        _payload = payload;
        QualityOfService = qualityOfService;
    }

    internal void Carry(long sequence)
    {
        SampleCount++;
        if (_samples.Count > 0 && _samples[^1].Last + 1 == sequence)
        {
            _samples[^1] = _samples[^1] with { Last = sequence };
        }
        else
        {
            _samples.Add(new SequenceRange(sequence, sequence));
        }
    }

    /// <summary>
    /// Hands the payload's pooled array over (to be returned to <see cref="Delivery.PayloadPool.Shared"/> by the
    /// new owner once the publication completed); null for a message without payload.
    /// </summary>
    public byte[]? DetachPayload(out int length)
    {
        var payload = _payload;
        _payload = null;
        length = payload?.Length ?? 0;
        return payload?.Detach();
    }

    public void Dispose()
    {
        _payload?.Dispose();
        _payload = null;
    }

    public override string ToString() => $"{Type} {Topic} ({Payload.Length} bytes, {SampleCount} samples)";
}
