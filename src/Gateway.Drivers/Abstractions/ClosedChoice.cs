using System.Diagnostics.CodeAnalysis;
using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Gateway.Drivers;

/// <summary>The spellings a closed choice accepts in the configuration (the schema walker lists them in its errors).</summary>
public interface IClosedChoice
{
    /// <summary>Every accepted spelling, exactly as written (case-sensitive), in the order the docs give them.</summary>
    IReadOnlyList<string> Spellings { get; }
}

/// <summary>
/// The <see cref="TypeConverter"/> of an enum whose configuration spellings are not its member names (<c>3.1.1</c>,
/// <c>sparkplugb</c>, <c>auto</c>): exact, case-sensitive spellings, as the file has always been written. Put it on
/// the enum with <c>[TypeConverter(typeof(...))]</c>; the configuration binder and the schema walker then read the
/// spellings, and a wrong one is reported as <c>must be one of a, b, c, got 'x'</c>.
/// </summary>
/// <typeparam name="TEnum">The closed choice.</typeparam>
public abstract class ClosedChoiceConverter<TEnum> : TypeConverter, IClosedChoice
    where TEnum : struct, Enum
{
    private readonly (string Spelling, TEnum Value)[] _choices;

    /// <param name="choices">Each spelling and the member it means; one spelling per member.</param>
    protected ClosedChoiceConverter(params (string Spelling, TEnum Value)[] choices)
    {
        _choices = choices;
        Spellings = [.. choices.Select(c => c.Spelling)];
    }

    public IReadOnlyList<string> Spellings { get; }

    /// <summary>The member <paramref name="text"/> spells; false for any other text (case matters).</summary>
    public bool TryParse(string? text, out TEnum value)
    {
        foreach (var (spelling, member) in _choices)
        {
            if (string.Equals(spelling, text, StringComparison.Ordinal))
            {
                value = member;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>How <paramref name="value"/> is written in the configuration.</summary>
    public string Spelling(TEnum value)
    {
        foreach (var (spelling, member) in _choices)
        {
            if (EqualityComparer<TEnum>.Default.Equals(member, value))
            {
                return spelling;
            }
        }

        return value.ToString();
    }

    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) => sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text
            ? TryParse(text, out var member) ? member : throw new FormatException(ClosedChoice.Reason(Spellings, text))
            : base.ConvertFrom(context, culture, value);

    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        destinationType == typeof(string) && value is TEnum member ? Spelling(member) : base.ConvertTo(context, culture, value, destinationType);

    public override bool GetStandardValuesSupported(ITypeDescriptorContext? context) => true;

    public override bool GetStandardValuesExclusive(ITypeDescriptorContext? context) => true;

    public override StandardValuesCollection GetStandardValues(ITypeDescriptorContext? context) => new(_choices.Select(c => c.Value).ToArray());
}

/// <summary>Closed choices in the configuration: their spellings, their reason when wrong, a bind that reports instead of throwing.</summary>
public static class ClosedChoice
{
    /// <summary>The converter of <typeparamref name="TEnum"/> (it must carry a <see cref="ClosedChoiceConverter{TEnum}"/>).</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The closed-choice enums and their [TypeConverter] live in the gateway's trimmer root assemblies.")]
    [UnconditionalSuppressMessage("Trimming", "IL2087", Justification = "As above.")]
    public static ClosedChoiceConverter<TEnum> Of<TEnum>()
        where TEnum : struct, Enum =>
        TypeDescriptor.GetConverter(typeof(TEnum)) as ClosedChoiceConverter<TEnum>
            ?? throw new InvalidOperationException($"{typeof(TEnum).Name} has no closed-choice converter");

    /// <summary>The reason of a wrong spelling, as the schema walker gives it for every enum.</summary>
    public static string Reason(IReadOnlyList<string> spellings, string value) => $"must be one of {string.Join(", ", spellings)}, got '{value}'";

    /// <summary>
    /// Binds <paramref name="section"/> to a new <typeparamref name="T"/>; a closed choice written wrong is reported at
    /// its path (<see cref="Reason"/>) and left at its default instead of making the bind throw, so that a factory's
    /// <c>Validate</c> reports it with every other problem of the section.
    /// </summary>
    /// <remarks>
    /// <paramref name="bind"/> is the caller's <c>(section, settings) => section.Bind(settings)</c>: written where
    /// <typeparamref name="T"/> is known, so the configuration-binding source generator compiles it (a bind inside
    /// this generic method would fall back to the reflection binder, which the native AOT build cannot run).
    /// The properties of <typeparamref name="T"/> are read by reflection: the gateway's assemblies are trimmer roots
    /// (src/Gateway/Gateway.csproj), so they are all there.
    /// </remarks>
    [UnconditionalSuppressMessage("Trimming", "IL2090", Justification = "Settings types live in Gateway.Drivers, a trimmer root assembly: their public properties are kept.")]
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "TypeDescriptor.GetConverter of an enum: the closed-choice converters are named by [TypeConverter] on enums of a trimmer root assembly.")]
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "As above: enums of a trimmer root assembly.")]
    public static T Bind<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(IConfigurationSection section, string path, List<ConfigProblem> problems, Action<IConfiguration, T> bind)
        where T : new()
    {
        List<string>? wrong = null;
        foreach (var property in typeof(T).GetProperties())
        {
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var text = section[property.Name];
            if (!type.IsEnum || text is null || TypeDescriptor.GetConverter(type) is not IClosedChoice choice || choice.Spellings.Contains(text, StringComparer.Ordinal))
            {
                continue;
            }

            problems.Add(new ConfigProblem($"{path}.{ConfigValidation.JsonName(property.Name)}", Reason(choice.Spellings, text)));
            (wrong ??= []).Add(property.Name);
        }

        var settings = new T();
        if (wrong is null)
        {
            bind(Spelled(section, typeof(T)), settings);
            return settings;
        }

        bind(Spelled(new WithoutKeys(section, wrong), typeof(T)), settings);
        return settings;
    }

    /// <summary>
    /// <paramref name="configuration"/> as the configuration binder should read it for a <paramref name="type"/>: every
    /// closed choice among the properties of <paramref name="type"/> and of the objects and lists below it reads as its
    /// member's name (<c>"3.1.1"</c> as <c>V311</c>), other values as they are. The binding source generator (used in
    /// every build since the native AOT work) parses enums by member name and ignores <c>[TypeConverter]</c>; through
    /// this view it binds the spellings the file has always used. A wrong spelling is left as written (the schema walker
    /// and <see cref="Bind{T}"/> report it).
    /// </summary>
    public static IConfiguration Spelled(IConfiguration configuration, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type) =>
        new SpelledSection(configuration, type);

    /// <summary>A configuration node seen with the CLR type it binds to (null: unknown, nothing translated below).</summary>
    private sealed class SpelledSection(IConfiguration inner, Type? type) : IConfigurationSection
    {
        public string Key => (inner as IConfigurationSection)?.Key ?? "";

        public string Path => (inner as IConfigurationSection)?.Path ?? "";

        public string? Value
        {
            get => Translate((inner as IConfigurationSection)?.Value, type);
            set => ((IConfigurationSection)inner).Value = value;
        }

        public string? this[string key]
        {
            get => Translate(inner[key], ChildType(key));
            set => inner[key] = value;
        }

        public IEnumerable<IConfigurationSection> GetChildren() => inner.GetChildren().Select(child => (IConfigurationSection)new SpelledSection(child, ChildType(child.Key)));

        public IConfigurationSection GetSection(string key) => new SpelledSection(inner.GetSection(key), ChildType(key));

        public Microsoft.Extensions.Primitives.IChangeToken GetReloadToken() => inner.GetReloadToken();

        [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Options and settings types live in the gateway's trimmer root assemblies (src/Gateway/Gateway.csproj): their public properties are kept.")]
        [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "As above.")]
        [UnconditionalSuppressMessage("Trimming", "IL2080", Justification = "As above.")]
        private Type? ChildType(string key)
        {
            if (type is null)
            {
                return null;
            }

            if (type.IsArray)
            {
                return type.GetElementType();
            }

            if (type.IsGenericType && type.GetGenericTypeDefinition() is var definition
                && (definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(IEnumerable<>) || definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>)))
            {
                return type.GetGenericArguments()[^1];
            }

            var property = type.GetProperty(key, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
            return property?.PropertyType;
        }

        [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "TypeDescriptor.GetConverter of an enum of a trimmer root assembly: its [TypeConverter] is kept.")]
        [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "As above.")]
        private static string? Translate(string? value, Type? type)
        {
            var underlying = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
            if (value is null || underlying is null || !underlying.IsEnum || TypeDescriptor.GetConverter(underlying) is not { } converter || converter is not IClosedChoice choice
                || !choice.Spellings.Contains(value, StringComparer.Ordinal))
            {
                return value;
            }

            return converter.ConvertFromInvariantString(value)?.ToString() ?? value;
        }
    }

    /// <summary>A section without some of its keys (case-insensitive, as configuration keys are).</summary>
    private sealed class WithoutKeys(IConfigurationSection section, List<string> hidden) : IConfigurationSection
    {
        public string Key => section.Key;

        public string Path => section.Path;

        public string? Value
        {
            get => section.Value;
            set => section.Value = value;
        }

        public string? this[string key]
        {
            get => Hidden(key) ? null : section[key];
            set => section[key] = value;
        }

        public IEnumerable<IConfigurationSection> GetChildren() => section.GetChildren().Where(child => !Hidden(child.Key));

        public IConfigurationSection GetSection(string key) => Hidden(key) ? new Absent(section.GetSection(key)) : section.GetSection(key);

        public Microsoft.Extensions.Primitives.IChangeToken GetReloadToken() => section.GetReloadToken();

        private bool Hidden(string key) => hidden.Exists(h => h.Equals(key, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A hidden key: no value, no children.</summary>
    private sealed class Absent(IConfigurationSection section) : IConfigurationSection
    {
        public string Key => section.Key;

        public string Path => section.Path;

        public string? Value
        {
            get => null;
            set { }
        }

        public string? this[string key]
        {
            get => null;
            set { }
        }

        public IEnumerable<IConfigurationSection> GetChildren() => [];

        public IConfigurationSection GetSection(string key) => new Absent(section.GetSection(key));

        public Microsoft.Extensions.Primitives.IChangeToken GetReloadToken() => section.GetReloadToken();
    }
}
