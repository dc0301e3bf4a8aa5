using System.Diagnostics.CodeAnalysis;
using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;

namespace Gateway.Drivers;

/// <summary>Checks DataAnnotations on configuration objects, reporting JSON paths (for example <c>drivers[0].port</c>).</summary>
public static class ConfigValidation
{
    /// <summary>Every annotation failure of <paramref name="target"/> and of the objects and lists it holds.</summary>
    public static IEnumerable<ConfigProblem> Annotations(object target, string path)
    {
        var problems = new List<ConfigProblem>();
        Walk(target, path, problems);
        return problems;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Options and settings types live in the gateway's trimmer root assemblies (src/Gateway/Gateway.csproj): their public properties are kept.")]
    private static void Walk(object target, string path, List<ConfigProblem> problems)
    {
        foreach (var property in target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var value = property.GetValue(target);
            var childPath = Join(path, JsonName(property.Name));
            foreach (var attribute in property.GetCustomAttributes<ValidationAttribute>())
            {
                if (attribute is RequiredAttribute && (value is null || (value is string s && string.IsNullOrWhiteSpace(s))))
                {
                    problems.Add(new ConfigProblem(childPath, "is required"));
                    break;
                }

                if (value is null)
                {
                    continue;
                }

                if (!attribute.IsValid(value))
                {
                    problems.Add(new ConfigProblem(childPath, Reason(attribute, value)));
                    break;
                }
            }

            if (value is null || IsScalar(property.PropertyType))
            {
                continue;
            }

            if (value is IList list)
            {
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is { } item && !IsScalar(item.GetType()))
                    {
                        Walk(item, $"{childPath}[{i}]", problems);
                    }
                }
            }
            else if (value is not IEnumerable)
            {
                Walk(value, childPath, problems);
            }
        }
    }

    private static string Reason(ValidationAttribute attribute, object? value) => attribute switch
    {
        RangeAttribute range => $"must be between {range.Minimum} and {range.Maximum}, got {Convert.ToString(value, CultureInfo.InvariantCulture)}",
        RegularExpressionAttribute regex when regex.ErrorMessage is not null => $"{regex.ErrorMessage}, got '{value}'",
        _ => attribute.FormatErrorMessage("value"),
    };

    /// <summary>True for values bound from one string (numbers, strings, enums, durations).</summary>
    public static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(DateTimeOffset) || type == typeof(DateTime);
    }

    /// <summary>The JSON key of a property: camelCase.</summary>
    public static string JsonName(string propertyName) => char.ToLowerInvariant(propertyName[0]) + propertyName[1..];

    public static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;
}
