using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Gateway.Drivers.S7;

/// <summary>A tag resolved from its configuration.</summary>
internal sealed class S7Tag
{
    public required TagInfo Info { get; init; }

    public required S7Address Address { get; init; }

    public required S7DataType Type { get; init; }

    public double Scale { get; init; } = 1.0;

    public double Offset { get; init; }

    public bool Writable { get; init; }

    public required string PollGroup { get; init; }

    /// <summary>What the tag reads: bytes of its area or DB, or its timer or counter.</summary>
    public S7Range Range => Address.Width is S7AddressWidth.Timer or S7AddressWidth.Counter
        ? new S7Range(Address.Area, 0, Address.Start, 1)
        : new S7Range(Address.Area, Address.DbNumber, Address.Start, S7Types.Width(Type, Address.StringLength));
}

/// <summary>Everything an S7 driver needs, resolved and checked.</summary>
internal sealed record S7DriverPlan(S7Settings Settings, ushort LocalTsap, ushort RemoteTsap, IReadOnlyDictionary<string, TimeSpan> PollGroups, IReadOnlyList<S7Tag> Tags);

/// <summary>Creates <c>s7</c> drivers: Siemens S7-300/400/1200/1500, LOGO! and S7-200 Smart over ISO-on-TCP.</summary>
public sealed class S7DriverFactory : IDriverFactory
{
    public const string Type = "s7";
    public const string DefaultPollGroup = PollGroups.Default;

    /// <summary>Our TSAP with rack and slot: a PG connection from rack 0 slot 0 (0x0100), as most clients use.</summary>
    public const ushort DefaultLocalTsap = 0x0100;

    public IReadOnlyCollection<string> Types { get; } = [Type];

    Type? IDriverFactory.SettingsType(string type) => typeof(S7Settings);

    Type? IDriverFactory.TagSettingsType(string type) => typeof(S7TagSettings);

    public IEnumerable<ConfigProblem> Validate(DriverConfig config, IConfigurationSection section, string path)
    {
        var problems = new List<ConfigProblem>();
        Resolve(config, section, path, problems);
        return problems;
    }

    public IDriver Create(DriverConfig config, IConfigurationSection section, DriverContext context)
    {
        var problems = new List<ConfigProblem>();
        var plan = Resolve(config, section, "drivers", problems);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }

        var transport = new S7IsoTransport(plan.Settings.Host!, plan.Settings.Port, plan.LocalTsap, plan.RemoteTsap);
        return new S7Driver(config.Name, plan, new S7Client(transport, context.TimeProvider, plan.Settings.PduSize), context);
    }

    /// <summary>Parses a TSAP written as hex: <c>0x0100</c>, <c>0100</c> or <c>01.00</c>.</summary>
    public static bool TryParseTsap(string? text, out ushort tsap)
    {
        tsap = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var hex = text.Trim().Replace(".", "", StringComparison.Ordinal);
        if (hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            hex = hex[2..];
        }

        return hex.Length is > 0 and <= 4 && ushort.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out tsap);
    }

    internal static S7DriverPlan Resolve(DriverConfig config, IConfigurationSection section, string path, List<ConfigProblem> problems)
    {
        var settings = new S7Settings();
        section.Bind(settings);
        problems.AddRange(ConfigValidation.Annotations(settings, path));
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            problems.Add(new ConfigProblem($"{path}.host", "is required: the CPU's address, for example 192.168.0.1"));
        }

        ushort local = DefaultLocalTsap, remote = 0;
        var tsaps = settings.LocalTsap is not null || settings.RemoteTsap is not null;
        if (tsaps)
        {
            if (!TryParseTsap(settings.LocalTsap, out local))
            {
                problems.Add(new ConfigProblem($"{path}.localTsap", $"must be a TSAP in hex such as 0x0100 or 01.00 (given with remoteTsap), got '{settings.LocalTsap}'"));
            }

            if (!TryParseTsap(settings.RemoteTsap, out remote))
            {
                problems.Add(new ConfigProblem($"{path}.remoteTsap", $"must be a TSAP in hex such as 0x0200 or 02.00 (given with localTsap), got '{settings.RemoteTsap}'"));
            }

            if (settings.Slot is not null)
            {
                problems.Add(new ConfigProblem($"{path}.slot", "give either rack and slot, or localTsap and remoteTsap, not both"));
            }
        }
        else if (settings.Slot is null)
        {
            problems.Add(new ConfigProblem($"{path}.slot", "is required (S7-300: 2; S7-1200/1500: 1; S7-400: the CPU's slot), or give localTsap and remoteTsap (LOGO!, S7-200 Smart)"));
        }
        else
        {
            remote = S7Wire.RemoteTsap(settings.Rack, settings.Slot.Value);
        }

        PollGroups.CheckBackoff(settings.BackoffMinMs, settings.BackoffMaxMs, path, problems);

        var groups = PollGroups.Resolve(settings.IntervalMs, settings.PollGroups, path, problems);

        var tags = new List<S7Tag>();
        var tagsSection = section.GetSection("tags");
        for (var i = 0; i < config.Tags.Count; i++)
        {
            var tag = ResolveTag(config, config.Tags[i], tagsSection.GetSection(i.ToString(CultureInfo.InvariantCulture)), $"{path}.tags[{i}]", groups, problems);
            if (tag is not null)
            {
                tags.Add(tag);
            }
        }

        return new S7DriverPlan(settings, local, remote, groups, tags);
    }

    private static S7Tag? ResolveTag(DriverConfig driver, TagConfig tag, IConfigurationSection section, string path, Dictionary<string, TimeSpan> groups, List<ConfigProblem> problems)
    {
        var extra = new S7TagSettings();
        section.Bind(extra);
        var before = problems.Count;
        if (!S7Address.TryParse(tag.Address, out var address, out var error))
        {
            problems.Add(new ConfigProblem($"{path}.address", error));
            return null;
        }

        var type = address.DefaultType;
        if (tag.Type is not null && !S7Types.TryParse(tag.Type, out type))
        {
            problems.Add(new ConfigProblem($"{path}.type", $"must be one of {S7Types.Names}, got '{tag.Type}'"));
            return null;
        }

        if (address.Mismatch(type, tag.Address!) is { } mismatch)
        {
            problems.Add(new ConfigProblem($"{path}.type", mismatch));
        }
        else if (address.Start + S7Types.Width(type, address.StringLength) > S7Address.MaxOffset + 1 && address.Area != S7Area.Timers && address.Area != S7Area.Counters)
        {
            problems.Add(new ConfigProblem($"{path}.address", $"'{tag.Address}': a {S7Types.Name(type)} there ends past byte {S7Address.MaxOffset}"));
        }

        var numeric = type is not (S7DataType.Bool or S7DataType.String or S7DataType.WString or S7DataType.DateAndTime or S7DataType.Dtl);
        if (tag.Scale == 0 || double.IsNaN(tag.Scale) || double.IsInfinity(tag.Scale))
        {
            problems.Add(new ConfigProblem($"{path}.scale", "must be a finite number other than 0"));
        }
        else if (!numeric && (tag.Scale != 1.0 || tag.Offset != 0.0))
        {
            problems.Add(new ConfigProblem($"{path}.scale", $"applies to numbers only, not to {S7Types.Name(type)}"));
        }

        if (tag.Writable)
        {
            if (type is S7DataType.DateAndTime or S7DataType.Dtl or S7DataType.Timer or S7DataType.Counter)
            {
                problems.Add(new ConfigProblem($"{path}.writable", $"writing {S7Types.Name(type)} tags is not supported"));
            }
            else if (address.Area == S7Area.Inputs)
            {
                problems.Add(new ConfigProblem($"{path}.writable", $"'{tag.Address}' is a process input: the CPU overwrites it from the input modules every cycle; write a Q, M or DB address"));
            }
        }

        var group = PollGroups.OfTag(extra.PollGroup, groups, path, problems);

        if (problems.Count > before || string.IsNullOrEmpty(tag.Name))
        {
            return null;
        }

        return new S7Tag
        {
            Info = tag.ToTagInfo(driver, SourceTypes.Published(S7Types.SourceTypeOf(type), tag.Scale, tag.Offset)),
            Address = address,
            Type = type,
            Scale = tag.Scale,
            Offset = tag.Offset,
            Writable = tag.Writable,
            PollGroup = group,
        };
    }
}
