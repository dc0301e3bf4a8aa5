using Gateway.Drivers;

namespace Gateway.Buffering;

/// <summary>An inclusive range of buffer sequence numbers.</summary>
public readonly record struct SequenceRange(long First, long Last)
{
    public long Count => Last - First + 1;

    public bool Contains(long sequence) => sequence >= First && sequence <= Last;
}

/// <summary>
/// The store-and-forward buffer as its outputs see it. Every appended sample gets the next sequence number
/// (1, 2, 3 …, never reused, surviving restarts; <see cref="BufferedSample.Id"/> is that number). Each output
/// (a "sink", by name) reads what it has not acknowledged yet and acknowledges ranges of sequence numbers; a
/// sample is deleted once every sink acknowledged it. The quota drops the oldest samples that no sink holds
/// leased (read and not yet acknowledged), so the dropped counter equals exactly what the outputs will miss.
/// Thread-safe.
/// </summary>
public interface ISampleLog
{
    /// <summary>The highest sequence number appended so far; 0 when the buffer never held a sample.</summary>
    long LastSequence { get; }

    /// <summary>Samples waiting (not yet acknowledged by every sink).</summary>
    long Count { get; }

    /// <summary>
    /// Reads, oldest first, up to <paramref name="max"/> samples with <paramref name="afterSequence"/> &lt;
    /// sequence ≤ <paramref name="throughSequence"/> that <paramref name="sink"/> has not acknowledged, and
    /// leases them to it: the quota does not drop a leased sample. Returns how many were added to <paramref name="into"/>.
    /// </summary>
    int Read(string sink, long afterSequence, long throughSequence, int max, List<BufferedSample> into);

    /// <summary>Records that <paramref name="sink"/> delivered <paramref name="range"/> (persisted; ends its lease).</summary>
    void Acknowledge(string sink, SequenceRange range);

    /// <summary>The ranges <paramref name="sink"/> has acknowledged that are still above what every sample below was (sorted, merged).</summary>
    IReadOnlyList<SequenceRange> Acknowledged(string sink);

    /// <summary>Everything up to this sequence number is acknowledged by <paramref name="sink"/> (or was dropped).</summary>
    long CursorOf(string sink);

    /// <summary>Ends every lease of <paramref name="sink"/> (its connection was lost; what it had read will be read again).</summary>
    void ReleaseLeases(string sink);

    /// <summary>The gateway timestamp of the oldest sample <paramref name="sink"/> has not acknowledged; null when none waits.</summary>
    DateTimeOffset? OldestUnacknowledged(string sink);
}
