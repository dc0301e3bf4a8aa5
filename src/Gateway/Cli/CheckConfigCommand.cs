using System.CommandLine;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Drivers.BuiltIn;

namespace Gateway.Cli;

/// <summary><c>gateway check-config [FILE]</c>: validates without starting.</summary>
internal static class CheckConfigCommand
{
    public const string DefaultConfigPath = "config/gateway.json";

    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "The configuration file", DefaultValueFactory = _ => DefaultConfigPath };
        var command = new Command("check-config", "Validate a configuration file: exit 0 when valid, else exit 2 with one '<json path>: <reason>' line per problem on stderr.") { file };
        command.SetAction(parseResult => Run(parseResult.GetValue(file)!));
        return command;
    }

    public static int Run(string path)
    {
        var loaded = ConfigLoader.Load(path, BuiltInDrivers.Factories);
        if (!loaded.IsValid)
        {
            PrintProblems(loaded.Problems);
            return ExitCodes.UsageOrConfiguration;
        }

        var config = loaded.Config!;
        foreach (var exposed in SecretFiles.FindExposed(config, loaded.Root))
        {
            // A warning, not a problem: the exit code stays 0.
            Console.Error.WriteLine("warning: " + SecretFiles.Describe(exposed));
        }

        Console.WriteLine($"{path}: valid ({config.Drivers.Count} driver(s), {config.Drivers.Sum(d => d.Tags.Count)} configured tag(s))");
        return ExitCodes.Success;
    }

    public static void PrintProblems(IEnumerable<ConfigProblem> problems)
    {
        foreach (var problem in problems)
        {
            Console.Error.WriteLine(problem.ToString());
        }
    }
}
