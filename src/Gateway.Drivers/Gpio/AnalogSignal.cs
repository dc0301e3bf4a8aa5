using UnitsNet;

namespace Gateway.Drivers.Gpio;

/// <summary>
/// Industrial analog signals read through an ADC: a 4-20 mA loop across a shunt, or a 0-10 V signal through a
/// divider, scaled linearly to engineering units. A loop below 3.6 mA is open (a broken wire or a dead
/// transmitter) and one above 21 mA is in failure (NAMUR NE 43): both give no value and Bad quality.
/// </summary>
public static class AnalogSignal
{
    /// <summary>Below this the loop is open.</summary>
    public static readonly ElectricCurrent OpenLoop = ElectricCurrent.FromMilliamperes(3.6);

    /// <summary>Above this the transmitter signals a failure.</summary>
    public static readonly ElectricCurrent Failure = ElectricCurrent.FromMilliamperes(21);

    /// <summary>OPC UA Bad_SensorFailure.</summary>
    public const uint BadSensorFailure = SampleStatus.BadSensorFailure;

    /// <summary>The loop current of a 4-20 mA signal measured as a voltage across <paramref name="shuntOhms"/>.</summary>
    public static ElectricCurrent LoopCurrent(ElectricPotential acrossShunt, double shuntOhms) =>
        ElectricCurrent.FromAmperes(acrossShunt.Volts / shuntOhms);

    /// <summary>4-20 mA to engineering units; null when the loop is open or failed.</summary>
    public static double? FromLoop(ElectricCurrent current, double rangeMin, double rangeMax) =>
        current < OpenLoop || current > Failure
            ? null
            : rangeMin + ((current.Milliamperes - 4.0) / 16.0 * (rangeMax - rangeMin));

    /// <summary>0-10 V (after the divider) to engineering units.</summary>
    public static double FromVoltage(ElectricPotential atPin, double dividerRatio, double rangeMin, double rangeMax) =>
        rangeMin + (atPin.Volts * dividerRatio / 10.0 * (rangeMax - rangeMin));
}
