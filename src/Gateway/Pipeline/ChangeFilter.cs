using Gateway.Drivers;

namespace Gateway.Pipeline;

/// <summary>
/// Per-tag change-of-value and deadband filtering. A sample passes when its quality changed, its kind
/// changed, or its value changed (numeric values: by more than the tag's absolute deadband).
/// Not thread-safe: one instance per driver, behind that driver's writer.
/// </summary>
public sealed class ChangeFilter
{
    // By tag index, not hashed per sample (TagSlots).
    private readonly TagSlots<Last> _last = new();

    /// <summary>True when the sample must go on; records it as the tag's last passed value.</summary>
    public bool ShouldPass(in Sample sample)
    {
        ref var last = ref _last.GetValueRefOrAddDefault(sample.Tag, out var exists);
        if (!exists || last.Quality != sample.Quality || last.Value.Kind != sample.Value.Kind || Changed(last.Value, sample.Value, sample.Tag.Deadband))
        {
            last = new Last(sample.Value, sample.Quality);
            return true;
        }

        return false;
    }

    private static bool Changed(SampleValue previous, SampleValue current, double? deadband)
    {
        if (deadband is { } band && band > 0 && (current.IsWholeNumber || current.IsFloatingPoint))
        {
            return Math.Abs(current.AsDouble - previous.AsDouble) > band;
        }

        return previous != current;
    }

    private record struct Last(SampleValue Value, Quality Quality);
}
