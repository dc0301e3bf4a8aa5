using System.CommandLine;
using Gateway.Cli;

// The command line: `gateway [VERB] ...`; with no verb, `run`.
var root = new RootCommand("Shop-floor IIoT gateway: PLCs and sensors to MQTT (UNS, Sparkplug B) and InfluxDB, with a store-and-forward buffer and live OEE.");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(CheckConfigCommand.Create());
foreach (var command in CliCommands.Extra())
{
    root.Subcommands.Add(command);
}

return await CliRunner.InvokeAsync(root, args);
