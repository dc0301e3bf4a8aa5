using System.CommandLine;
using System.Runtime.InteropServices;

namespace Gateway.Cli;

/// <summary>Exit codes of every verb (DESIGN.md).</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int RuntimeFailure = 1;
    public const int UsageOrConfiguration = 2;
    public const int PeerUnreachable = 3;
}

internal static class CliRunner
{
    /// <summary>Parses and runs; parse errors exit 2 (usage), as DESIGN.md asks, rather than System.CommandLine's 1.</summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        if (args.Length == 0 || (args[0].StartsWith('-') && args[0] is not ("-h" or "--help" or "-?" or "--version")))
        {
            args = ["run", .. args];
        }

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var error in parseResult.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message);
            }

            await Console.Error.WriteLineAsync("Run 'gateway --help' for usage.");
            return ExitCodes.UsageOrConfiguration;
        }

        // SIGINT and SIGTERM both cancel the verb and let it finish its cleanup (an OPC UA subscribe closes its session:
        // a small PLC has few sessions and would refuse the next client until the session timed out). System.CommandLine's
        // own handling returned 143 as soon as the signal came, before the verb's cleanup ran; a second signal ends the
        // process at once as usual.
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(stop, context));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(stop, context));
        return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token);
    }

    private static void Stop(CancellationTokenSource stop, PosixSignalContext context)
    {
        if (stop.IsCancellationRequested)
        {
            return;
        }

        context.Cancel = true;
        stop.Cancel();
    }
}

/// <summary>Verbs beyond run and check-config (protocol tools, the simulator), one line each.</summary>
internal static partial class CliCommands
{
    public static IEnumerable<Command> Extra()
    {
        yield return ModbusCommands.Create();
        yield return SimulateCommand.Create();
        yield return OpcUaCommands.Create();
        yield return S7Commands.Create();
        yield return DrillCommand.Create();
    }
}
