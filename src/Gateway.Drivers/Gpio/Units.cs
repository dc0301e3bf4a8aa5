using UnitsNet;
using UnitsNet.Units;

namespace Gateway.Drivers.Gpio;

/// <summary>
/// The unit strings of samples (<c>degC</c>, <c>%RH</c>, <c>hPa</c>, <c>mA</c>...) and the UnitsNet units they
/// stand for. A sensor reads a UnitsNet quantity; the tag's unit picks the unit it is converted to.
/// </summary>
public static class SampleUnits
{
    private static readonly Dictionary<string, Enum> s_units = new(StringComparer.Ordinal)
    {
        ["degC"] = TemperatureUnit.DegreeCelsius,
        ["degF"] = TemperatureUnit.DegreeFahrenheit,
        ["K"] = TemperatureUnit.Kelvin,
        ["%RH"] = RelativeHumidityUnit.Percent,
        ["Pa"] = PressureUnit.Pascal,
        ["hPa"] = PressureUnit.Hectopascal,
        ["kPa"] = PressureUnit.Kilopascal,
        ["mbar"] = PressureUnit.Millibar,
        ["bar"] = PressureUnit.Bar,
        ["psi"] = PressureUnit.PoundForcePerSquareInch,
        ["A"] = ElectricCurrentUnit.Ampere,
        ["mA"] = ElectricCurrentUnit.Milliampere,
        ["V"] = ElectricPotentialUnit.Volt,
        ["mV"] = ElectricPotentialUnit.Millivolt,
        ["W"] = PowerUnit.Watt,
        ["mW"] = PowerUnit.Milliwatt,
        ["kW"] = PowerUnit.Kilowatt,
    };

    /// <summary>The default unit string of each quantity a sensor reads.</summary>
    public static string DefaultFor(Type quantity) => quantity.Name switch
    {
        nameof(Temperature) => "degC",
        nameof(RelativeHumidity) => "%RH",
        nameof(Pressure) => "hPa",
        nameof(ElectricCurrent) => "A",
        nameof(ElectricPotential) => "V",
        nameof(Power) => "W",
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity.Name, "no unit string for this quantity"),
    };

    /// <summary>The unit strings that fit a quantity, for configuration messages.</summary>
    public static IEnumerable<string> For(Type quantity) =>
        s_units.Where(u => UnitTypeOf(quantity) == u.Value.GetType()).Select(u => u.Key);

    /// <summary>True when <paramref name="unit"/> is a unit of the quantity.</summary>
    public static bool Fits(string unit, Type quantity) =>
        s_units.TryGetValue(unit, out var value) && UnitTypeOf(quantity) == value.GetType();

    /// <summary>The value of <paramref name="quantity"/> in <paramref name="unit"/>.</summary>
    public static double Convert(IQuantity quantity, string unit) =>
        s_units.TryGetValue(unit, out var value)
            ? (double)quantity.ToUnit(value).Value
            : throw new ArgumentOutOfRangeException(nameof(unit), unit, "unknown unit");

    private static Type UnitTypeOf(Type quantity) => quantity.Name switch
    {
        nameof(Temperature) => typeof(TemperatureUnit),
        nameof(RelativeHumidity) => typeof(RelativeHumidityUnit),
        nameof(Pressure) => typeof(PressureUnit),
        nameof(ElectricCurrent) => typeof(ElectricCurrentUnit),
        nameof(ElectricPotential) => typeof(ElectricPotentialUnit),
        nameof(Power) => typeof(PowerUnit),
        _ => typeof(void),
    };
}
