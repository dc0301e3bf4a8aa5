using System.Globalization;
using Gateway.Drivers;

namespace Gateway.Oee;

/// <summary>
/// Signal decoding: what a machine's state, running and counter samples mean, whatever the PLC sends (codes, text,
/// booleans, scaled doubles). Holds the machine's state map; knows nothing of time.
/// </summary>
internal sealed class OeeSignals
{
    private static readonly HashSet<string> s_trueTexts = new(["true", "1", "on", "yes"], StringComparer.OrdinalIgnoreCase);
    private static readonly HashSet<string> s_falseTexts = new(["false", "0", "off", "no"], StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, OeeState> _stateMap = new(StringComparer.OrdinalIgnoreCase);

    public OeeSignals(OeeStateMapOptions? stateMap)
    {
        var map = stateMap ?? new OeeStateMapOptions();
        Map(map.Running, OeeStateMapOptions.DefaultRunning, OeeState.Running);
        Map(map.Idle, OeeStateMapOptions.DefaultIdle, OeeState.Idle);
        Map(map.Down, OeeStateMapOptions.DefaultDown, OeeState.Down);
        Map(map.Setup, OeeStateMapOptions.DefaultSetup, OeeState.Setup);
        Map(map.PlannedStop, OeeStateMapOptions.DefaultPlannedStop, OeeState.PlannedStop);
    }

    private string? _unmappedValue;

    /// <summary>
    /// The state value that the state map did not know, found since the previous call (then cleared, so that only the
    /// sample that found it reports it), for one log line per value.
    /// </summary>
    public string? TakeUnmappedValue()
    {
        var unmapped = _unmappedValue;
        _unmappedValue = null;
        return unmapped;
    }

    /// <summary>
    /// A state value as the map reads it: text trimmed; a number (an integer, a double from a scaled or float register
    /// such as 2.0 or 6.000000000000001, or text such as "2.0") within 1e-6 of an integer reads as that integer.
    /// </summary>
    public OeeState MapState(SampleValue value)
    {
        var text = value.ToString().Trim();
        if (_stateMap.TryGetValue(text, out var state))
        {
            return state;
        }

        var number = value.Kind switch
        {
            SampleValueKind.Double or SampleValueKind.Float or SampleValueKind.UnsignedInteger => value.AsDouble,
            SampleValueKind.String when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => double.NaN,
        };
        if (double.IsFinite(number) && Math.Abs(number - Math.Round(number)) < 1e-6 && Math.Abs(number) < 1e15
            && _stateMap.TryGetValue(((long)Math.Round(number)).ToString(CultureInfo.InvariantCulture), out state))
        {
            return state;
        }

        _unmappedValue = text;
        return OeeState.Unknown;
    }

    /// <summary>
    /// A running signal: a boolean, a number (non-zero runs) or the text true/false, 1/0, on/off, yes/no; anything
    /// else (no value, NaN, other text) is unknown rather than down.
    /// </summary>
    public static OeeState RunningState(SampleValue value)
    {
        switch (value.Kind)
        {
            case SampleValueKind.Boolean or SampleValueKind.Integer or SampleValueKind.UnsignedInteger:
                return value.AsBoolean ? OeeState.Running : OeeState.Down;
            case SampleValueKind.Double or SampleValueKind.Float when double.IsFinite(value.AsDouble):
                return value.AsDouble != 0 ? OeeState.Running : OeeState.Down;
            case SampleValueKind.String:
                var text = value.AsString!.Trim();
                if (s_trueTexts.Contains(text))
                {
                    return OeeState.Running;
                }

                return s_falseTexts.Contains(text) ? OeeState.Down : OeeState.Unknown;
            default:
                return OeeState.Unknown;
        }
    }

    /// <summary>
    /// A counter reading as a whole number: integers as they are (unsigned ones up to <see cref="long.MaxValue"/>),
    /// finite doubles and floats rounded (a scaled register); not text or NaN.
    /// </summary>
    public static bool TryCounterValue(SampleValue value, out long count)
    {
        count = 0;
        switch (value.Kind)
        {
            case SampleValueKind.Integer or SampleValueKind.Boolean:
                count = value.AsInteger;
                return true;
            case SampleValueKind.UnsignedInteger when value.AsUnsignedInteger <= long.MaxValue:
                count = (long)value.AsUnsignedInteger;
                return true;
            case SampleValueKind.Double or SampleValueKind.Float when double.IsFinite(value.AsDouble) && Math.Abs(value.AsDouble) < 9e18:
                count = (long)Math.Round(value.AsDouble);
                return true;
            default:
                return false;
        }
    }

    private void Map(List<string> configured, string[] defaults, OeeState state)
    {
        foreach (var value in configured.Count > 0 ? configured : [.. defaults])
        {
            _stateMap[value.Trim()] = state;
        }
    }
}
