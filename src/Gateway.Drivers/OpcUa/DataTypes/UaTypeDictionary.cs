using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.DataTypes;

/// <summary>One <c>opc:Field</c> of an <c>opc:StructuredType</c> (OPC 10000-6 Annex F / OPC Binary schema), as written.</summary>
public sealed record UaDictionaryField(string Name, XName TypeName, string? LengthField, string? SwitchField, uint? SwitchValue, uint? Length, bool IsLengthInBytes);

/// <summary>An <c>opc:StructuredType</c> or an <c>opc:EnumeratedType</c> (then <see cref="Fields"/> is empty and <see cref="EnumBits"/> set).</summary>
public sealed record UaDictionaryType(string Name, IReadOnlyList<UaDictionaryField> Fields, int? EnumBits, IReadOnlyList<(string Name, long Value)> EnumValues, bool IsOpaque);

/// <summary>
/// An OPC Binary type dictionary (<c>opc:TypeDictionary</c>, OPC 10000-6 Annex F; the Value of a
/// DataTypeDictionaryType variable, OPC 10000-5 Annex D), parsed with System.Xml: its StructuredTypes,
/// EnumeratedTypes and OpaqueTypes by name. A server older than OPC UA 1.04 describes its structures only this way.
/// Bad XML raises <see cref="UaDecodingException"/> with the line; DTDs and external entities are refused.
/// </summary>
public sealed class UaTypeDictionary
{
    public static readonly XNamespace OpcBinary = "http://opcfoundation.org/BinarySchema/";
    public static readonly XNamespace Ua = "http://opcfoundation.org/UA/";

    /// <summary>A dictionary bigger than this is refused (real PLC dictionaries are below a few MB).</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    private readonly Dictionary<string, UaDictionaryType> _types;

    private UaTypeDictionary(string targetNamespace, Dictionary<string, UaDictionaryType> types)
    {
        TargetNamespace = targetNamespace;
        _types = types;
    }

    /// <summary>The dictionary's TargetNamespace: the namespace of <c>tns:</c> type names.</summary>
    public string TargetNamespace { get; }

    public IReadOnlyCollection<UaDictionaryType> Types => _types.Values;

    /// <summary>The type named <paramref name="name"/> in this dictionary; null when none.</summary>
    public UaDictionaryType? Find(string name) => _types.GetValueOrDefault(name);

    public static UaTypeDictionary Parse(ReadOnlySpan<byte> xml)
    {
        if (xml.Length > MaxBytes)
        {
            throw new UaDecodingException($"the type dictionary is {xml.Length} bytes, more than the {MaxBytes} the gateway reads");
        }

        XDocument document;
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxBytes * 2L, IgnoreComments = true };
            using var stream = new MemoryStream(xml.ToArray(), writable: false);
            using var reader = XmlReader.Create(stream, settings);
            document = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            throw new UaDecodingException($"the type dictionary is not valid XML: {ex.Message}");
        }

        var root = document.Root;
        if (root is null || root.Name != OpcBinary + "TypeDictionary")
        {
            throw new UaDecodingException($"the type dictionary's root element is {root?.Name.ToString() ?? "missing"}, not opc:TypeDictionary");
        }

        var target = (string?)root.Attribute("TargetNamespace") ?? string.Empty;
        var types = new Dictionary<string, UaDictionaryType>(StringComparer.Ordinal);
        foreach (var element in root.Elements())
        {
            var kind = element.Name.LocalName;
            if (element.Name.Namespace != OpcBinary || kind is not ("StructuredType" or "EnumeratedType" or "OpaqueType"))
            {
                continue; // Import, Documentation
            }

            var name = Required(element, "Name");
            types[name] = kind switch
            {
                "StructuredType" => new UaDictionaryType(name, [.. element.Elements(OpcBinary + "Field").Select(ParseField)], null, [], false),
                "EnumeratedType" => new UaDictionaryType(name, [], (int?)Number(element, "LengthInBits") ?? 32,
                    [.. element.Elements(OpcBinary + "EnumeratedValue").Select(v => (Required(v, "Name"), (long)(SignedNumber(v, "Value") ?? 0)))], false),
                _ => new UaDictionaryType(name, [], null, [], true),
            };
        }

        return new UaTypeDictionary(target, types);
    }

    private static UaDictionaryField ParseField(XElement field)
    {
        var name = Required(field, "Name");
        var typeName = Required(field, "TypeName");
        var colon = typeName.IndexOf(':', StringComparison.Ordinal);
        var prefix = colon < 0 ? string.Empty : typeName[..colon];
        var local = colon < 0 ? typeName : typeName[(colon + 1)..];
        var ns = field.GetNamespaceOfPrefix(prefix) ?? (prefix.Length == 0 ? field.GetDefaultNamespace() : null)
            ?? throw Error(field, $"field {name}: the prefix {prefix} of TypeName {typeName} is not declared");
        return new UaDictionaryField(name, ns + local, (string?)field.Attribute("LengthField"), (string?)field.Attribute("SwitchField"),
            Number(field, "SwitchValue"), Number(field, "Length"), string.Equals((string?)field.Attribute("IsLengthInBytes"), "true", StringComparison.OrdinalIgnoreCase));
    }

    private static string Required(XElement element, string attribute) =>
        (string?)element.Attribute(attribute) is { Length: > 0 } value ? value : throw Error(element, $"{element.Name.LocalName} without {attribute}");

    private static uint? Number(XElement element, string attribute) => (string?)element.Attribute(attribute) is { } text
        ? uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw Error(element, $"{attribute}=\"{text}\" is not an unsigned number")
        : null;

    private static long? SignedNumber(XElement element, string attribute) => (string?)element.Attribute(attribute) is { } text
        ? long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : throw Error(element, $"{attribute}=\"{text}\" is not a number")
        : null;

    private static UaDecodingException Error(XElement element, string message) =>
        new($"type dictionary line {((IXmlLineInfo)element).LineNumber}: {message}");
}
