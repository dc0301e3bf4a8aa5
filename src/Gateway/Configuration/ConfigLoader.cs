using Gateway.Drivers;
using Microsoft.Extensions.Configuration;

namespace Gateway.Configuration;

/// <summary>The outcome of loading a configuration: the bound object, or the problems that refuse it.</summary>
public sealed record LoadedConfig(GatewayConfig? Config, IConfigurationRoot? Root, IReadOnlyList<ConfigProblem> Problems)
{
    public bool IsValid => Problems.Count == 0 && Config is not null;
}

/// <summary>
/// Loads config/gateway.json with <c>GATEWAY_</c> environment overrides and checks it thoroughly, in three passes,
/// each problem reported as <c>&lt;json path&gt;: &lt;reason&gt;</c>: the <see cref="SchemaWalker"/> (unknown keys,
/// values of the wrong type, against the options classes and the driver factories' settings types), the
/// annotations of the bound options (<c>[Required]</c>, <c>[Range]</c>, ...), then the <see cref="ConfigRules"/>
/// (what annotations cannot say; each rule lives next to its options class).
/// </summary>
public static class ConfigLoader
{
    public const string EnvironmentPrefix = "GATEWAY_";

    public static LoadedConfig Load(string path, IReadOnlyList<IDriverFactory> factories, bool includeEnvironment = true)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            return new LoadedConfig(null, null, [new ConfigProblem("$", $"configuration file '{path}' does not exist")]);
        }

        // The file is read once: checked as bytes, then loaded from the same bytes.
        var bytes = File.ReadAllBytes(full);
        if (RawFile.Check(bytes) is { } rawProblem)
        {
            return new LoadedConfig(null, null, [rawProblem]);
        }

        IConfigurationRoot root;
        try
        {
            var builder = new ConfigurationBuilder().Add(new IndexedJsonConfigurationSource { Stream = new MemoryStream(bytes, writable: false) });
            if (includeEnvironment)
            {
                builder.AddEnvironmentVariables(EnvironmentPrefix);
            }

            root = builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            var reason = ex.InnerException is System.Text.Json.JsonException json ? json.Message : ex.Message;
            return new LoadedConfig(null, null, [new ConfigProblem("$", "not valid JSON: " + reason)]);
        }

        var problems = Validate(root, factories, out var config);
        return problems.Count > 0 ? new LoadedConfig(null, root, problems) : new LoadedConfig(config, root, problems);
    }

    /// <summary>Every problem of a configuration; empty when it can be run.</summary>
    /// <param name="root">The configuration tree.</param>
    /// <param name="factories">The driver factories, for the drivers' settings.</param>
    /// <param name="config">The bound configuration, once the schema walk let it bind (null when values of the wrong type refused it).</param>
    public static List<ConfigProblem> Validate(IConfiguration root, IReadOnlyList<IDriverFactory> factories, out GatewayConfig? config)
    {
        config = null;
        var problems = new List<ConfigProblem>();
        var schema = new SchemaWalker(problems, factories);
        schema.Check(root, typeof(GatewayConfig), "");
        if (problems.Count > 0)
        {
            // Values of the wrong type make binding throw: report them, not what follows from them.
            return problems;
        }

        try
        {
            config = ClosedChoice.Spelled(root, typeof(GatewayConfig)).Get<GatewayConfig>(o => o.ErrorOnUnknownConfiguration = false) ?? new GatewayConfig();
        }
        catch (InvalidOperationException ex)
        {
            problems.Add(new ConfigProblem("$", ex.Message));
            return problems;
        }

        problems.AddRange(ConfigValidation.Annotations(config, ""));
        var context = new ConfigContext(config, root, factories);
        foreach (var rule in ConfigRules.All)
        {
            rule.Check(context, problems);
        }

        return problems;
    }
}
