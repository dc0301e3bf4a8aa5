using System.Globalization;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Microsoft.Extensions.Configuration;

namespace Gateway.Drivers.OpcUa;

/// <summary>Creates <c>opcua</c> drivers.</summary>
public sealed class OpcUaDriverFactory : IDriverFactory
{
    public IReadOnlyCollection<string> Types { get; } = ["opcua"];

    public Type? SettingsType(string type) => typeof(OpcUaSettings);

    public Type? TagSettingsType(string type) => typeof(OpcUaTagSettings);

    public IEnumerable<ConfigProblem> Validate(DriverConfig config, IConfigurationSection section, string path)
    {
        var problems = new List<ConfigProblem>();
        var settings = ClosedChoice.Bind<OpcUaSettings>(section, path, problems, static (c, s) => c.Bind(s));
        problems.AddRange(ConfigValidation.Annotations(settings, path));
        if (!string.IsNullOrWhiteSpace(settings.EndpointUrl))
        {
            try
            {
                UaClient.ParseEndpoint(settings.EndpointUrl);
            }
            catch (ArgumentException)
            {
                problems.Add(new ConfigProblem(path + ".endpointUrl", $"'{settings.EndpointUrl}' is not an opc.tcp://host:port URL"));
            }
        }

        // A wrong spelling is reported already; the pair is checked once both are known values.
        var spelledWrong = problems.Exists(p => p.Path == path + ".securityPolicy" || p.Path == path + ".securityMode");
        foreach (var security in spelledWrong ? [] : SecurityChoice.Check(settings.SecurityPolicy, settings.SecurityMode))
        {
            problems.Add(new ConfigProblem(path + (security.Field == SecurityChoiceField.Policy ? ".securityPolicy" : ".securityMode"), security.Reason));
        }

        if (settings.TrustServerCertificate is not ("trustList" or "tofu"))
        {
            problems.Add(new ConfigProblem(path + ".trustServerCertificate", $"must be trustList or tofu, got '{settings.TrustServerCertificate}'"));
        }

        if (string.IsNullOrWhiteSpace(settings.ApplicationUri) || !Uri.TryCreate(settings.ApplicationUri, UriKind.Absolute, out _))
        {
            problems.Add(new ConfigProblem(path + ".applicationUri", $"must be an absolute URI such as urn:my-host:iiot-gateway, got '{settings.ApplicationUri}'"));
        }

        if (settings.Mode is not ("subscription" or "polling"))
        {
            problems.Add(new ConfigProblem(path + ".mode", $"must be subscription or polling, got '{settings.Mode}'"));
        }

        if (settings.Username is not null && settings.PasswordFile is null)
        {
            problems.Add(new ConfigProblem(path + ".passwordFile", "is required when username is set"));
        }

        if (settings.PasswordFile is not null)
        {
            if (settings.Username is null)
            {
                problems.Add(new ConfigProblem(path + ".username", "is required when passwordFile is set"));
            }

            if (!File.Exists(settings.PasswordFile))
            {
                problems.Add(new ConfigProblem(path + ".passwordFile", $"file '{settings.PasswordFile}' does not exist"));
            }
        }

        if ((settings.UserCertificateFile is null) != (settings.UserKeyFile is null))
        {
            problems.Add(new ConfigProblem(path + (settings.UserKeyFile is null ? ".userKeyFile" : ".userCertificateFile"), "userCertificateFile and userKeyFile go together"));
        }
        else if (settings.UserCertificateFile is not null)
        {
            if (settings.Username is not null)
            {
                problems.Add(new ConfigProblem(path + ".userCertificateFile", "give either username or userCertificateFile, not both"));
            }

            foreach (var (key, file) in new[] { ("userCertificateFile", settings.UserCertificateFile), ("userKeyFile", settings.UserKeyFile!) })
            {
                if (!File.Exists(file))
                {
                    problems.Add(new ConfigProblem($"{path}.{key}", $"file '{file}' does not exist"));
                }
            }
        }

        if (settings.MaxReconnectDelayMs < settings.ReconnectDelayMs)
        {
            problems.Add(new ConfigProblem(path + ".maxReconnectDelayMs", "must not be below reconnectDelayMs"));
        }

        var tagSections = section.GetSection("tags").GetChildren().ToArray();
        for (var i = 0; i < config.Tags.Count; i++)
        {
            if (i < tagSections.Length)
            {
                // The tag-level keys of this driver (samplingIntervalMs, deadbandPercent) have their ranges too.
                var tagSettings = new OpcUaTagSettings();
                tagSections[i].Bind(tagSettings);
                problems.AddRange(ConfigValidation.Annotations(tagSettings, $"{path}.tags[{i}]"));
            }

            var address = config.Tags[i].Address;
            var tagPath = $"{path}.tags[{i}].address";
            if (string.IsNullOrWhiteSpace(address))
            {
                problems.Add(new ConfigProblem(tagPath, "is required: a NodeId (ns=2;s=Machine1.Temperature, ns=1;i=1001, ns=1;g=GUID, ns=1;b=BASE64) or a browse path (/Objects/1:Machine1/1:Temperature)"));
            }
            else if (!TryParseAddress(address, out _, out var reason))
            {
                problems.Add(new ConfigProblem(tagPath, reason));
            }
        }

        return problems;
    }

    public IDriver Create(DriverConfig config, IConfigurationSection section, DriverContext context)
    {
        var settings = Bind(section);
        var tagSections = section.GetSection("tags").GetChildren().ToArray();
        var tags = new List<OpcUaTag>(config.Tags.Count);
        for (var i = 0; i < config.Tags.Count; i++)
        {
            var tagSettings = new OpcUaTagSettings();
            if (i < tagSections.Length)
            {
                tagSections[i].Bind(tagSettings);
            }

            if (!TryParseAddress(config.Tags[i].Address!, out var address, out var reason))
            {
                throw new ArgumentException($"tag '{config.Tags[i].Name}': {reason}", nameof(config));
            }

            tags.Add(new OpcUaTag(config.Tags[i], config.Tags[i].ToTagInfo(config), address, tagSettings.SamplingIntervalMs ?? settings.SamplingIntervalMs)
            {
                DeadbandPercent = tagSettings.DeadbandPercent,
            });
        }

        var password = settings.PasswordFile is null ? null : File.ReadAllText(settings.PasswordFile).TrimEnd('\r', '\n');
        return new OpcUaDriver(config.Name, settings, password, tags, context);
    }

    /// <summary>A NodeId (<c>ns=2;s=...</c>, <c>i=85</c>, ...) or a browse path starting with '/'.</summary>
    public static bool TryParseAddress(string address, out OpcUaAddress parsed, out string reason)
    {
        parsed = default;
        reason = "";
        if (address.StartsWith('/'))
        {
            try
            {
                parsed = new OpcUaAddress(null, UaClient.ParseBrowsePath(address), address);
                return true;
            }
            catch (FormatException ex)
            {
                reason = ex.Message;
                return false;
            }
        }

        if (ExpandedNodeId.TryParse(address, out var expanded))
        {
            parsed = expanded.NamespaceUri is null
                ? new OpcUaAddress(expanded.NodeId, null, address)
                : new OpcUaAddress(null, null, address, expanded);
            return true;
        }

        reason = string.Create(CultureInfo.InvariantCulture, $"'{address}' is neither a NodeId (ns=2;s=Name, nsu=urn:plant;s=Name, ns=1;i=1001, ns=1;g=GUID, ns=1;b=BASE64) nor a browse path (/Objects/1:Machine1/1:Temperature)");
        return false;
    }

    private static OpcUaSettings Bind(IConfigurationSection section)
    {
        var settings = new OpcUaSettings();
        ClosedChoice.Spelled(section, typeof(OpcUaSettings)).Bind(settings);
        return settings;
    }
}

/// <summary>A tag address: a NodeId, or a browse path or a NodeId by namespace URI (<c>nsu=</c>), resolved after connecting.</summary>
public readonly record struct OpcUaAddress(NodeId? NodeId, BrowsePath? BrowsePath, string Text, ExpandedNodeId? ByNamespaceUri = null);

/// <summary>One configured tag of an OPC UA driver.</summary>
public sealed class OpcUaTag(TagConfig config, TagInfo info, OpcUaAddress address, int samplingIntervalMs)
{
    public TagConfig Config { get; } = config;

    public TagInfo Info { get; } = info;

    public OpcUaAddress Address { get; } = address;

    public int SamplingIntervalMs { get; } = samplingIntervalMs;

    /// <summary>Percent deadband of the node's EURange asked of the server; null for none.</summary>
    public double? DeadbandPercent { get; init; }

    /// <summary>Resolved after connecting.</summary>
    public NodeId? NodeId { get; set; } = address.NodeId;

    /// <summary>The node's DataType attribute, read at each new session; null before (or when refused).</summary>
    public NodeId? DataType { get; set; }

    /// <summary>The last structure problem logged for this tag (logged once, not per session).</summary>
    public string? LoggedStructureProblem { get; set; }

    /// <summary>The built-in type of the last value, used to encode writes.</summary>
    public BuiltInType LastType { get; set; }

    public Quality? LastQuality { get; set; }

    /// <summary>The status code of the last value, so that a Bad status is explained once, not per notification.</summary>
    public uint LastStatus { get; set; }

    public SampleValue LastValue { get; set; }
}
