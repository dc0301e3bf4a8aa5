using System.CommandLine;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Drivers.BuiltIn;
using Gateway.Hosting;

namespace Gateway.Cli;

/// <summary><c>gateway run [--config FILE]</c>: the service.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "The configuration file", DefaultValueFactory = _ => CheckConfigCommand.DefaultConfigPath };
        var command = new Command("run", "Run the gateway (the default verb).") { config };
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult.GetValue(config)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string path, CancellationToken cancellationToken)
    {
        var loaded = ConfigLoader.Load(path, BuiltInDrivers.Factories);
        if (!loaded.IsValid)
        {
            CheckConfigCommand.PrintProblems(loaded.Problems);
            return ExitCodes.UsageOrConfiguration;
        }

        return await GatewayApplication.RunAsync(path, loaded.Config!, loaded.Root!, cancellationToken);
    }
}
