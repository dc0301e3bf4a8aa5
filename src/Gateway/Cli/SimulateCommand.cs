using System.CommandLine;
using System.Globalization;
using System.Net;
using Gateway.Drivers.Modbus;
using Gateway.Drivers.Simulation;
using Microsoft.Extensions.Logging;

namespace Gateway.Cli;

/// <summary><c>gateway simulate [--modbus HOST:PORT]</c>: the simulated line as a Modbus TCP server.</summary>
internal static class SimulateCommand
{
    public const string DefaultEndpoint = "127.0.0.1:5020";

    public static Command Create()
    {
        var modbus = new Option<string>("--modbus") { Description = "Where to serve Modbus TCP: HOST:PORT (binds only there; 0.0.0.0:5020 to let other laptops poll)", DefaultValueFactory = _ => DefaultEndpoint };
        var seed = new Option<int>("--seed") { Description = "Seed of the line: the same seed gives the same machines", DefaultValueFactory = _ => 42 };
        var interval = new Option<int>("--interval") { Description = "Update interval of the analog values, in milliseconds", DefaultValueFactory = _ => 1000 };
        var timeScale = new Option<double>("--time-scale") { Description = "Scales state durations (0.01 makes a lively lab demo)", DefaultValueFactory = _ => 1.0 };
        var command = new Command("simulate", "Serve a simulated production line (machines with states, counters, temperatures) as a Modbus TCP server; register map in docs/simulate-register-map.md.")
        {
            modbus, seed, interval, timeScale,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult.GetValue(modbus)!, parseResult.GetValue(seed), parseResult.GetValue(interval), parseResult.GetValue(timeScale), cancellationToken));
        return command;
    }

    internal static bool TryParseEndpoint(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            return false;
        }

        var host = text[..colon].Trim('[', ']');
        if (host == "localhost")
        {
            host = "127.0.0.1";
        }

        if (!IPAddress.TryParse(host, out var address))
        {
            return false;
        }

        endpoint = new IPEndPoint(address, port);
        return true;
    }

    private static async Task<int> RunAsync(string endpointText, int seed, int intervalMs, double timeScale, CancellationToken cancellationToken)
    {
        if (!TryParseEndpoint(endpointText, out var endpoint))
        {
            await Console.Error.WriteLineAsync($"simulate: --modbus must be IP:PORT (for example {DefaultEndpoint}), got '{endpointText}'");
            return ExitCodes.UsageOrConfiguration;
        }

        if (intervalMs is < 10 or > 3_600_000 || timeScale is <= 0 or > 1000)
        {
            await Console.Error.WriteLineAsync("simulate: --interval must be 10-3600000 ms and --time-scale in (0, 1000]");
            return ExitCodes.UsageOrConfiguration;
        }

        var settings = SimulatedModbusServer.DefaultLine(seed, intervalMs, timeScale);

        using var loggerFactory = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        await using var server = new SimulatedModbusServer(endpoint, settings, TimeProvider.System, loggerFactory);
        try
        {
            await server.StartAsync(cancellationToken);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            await Console.Error.WriteLineAsync($"simulate: cannot listen on {endpoint}: {ex.Message}");
            return ExitCodes.RuntimeFailure;
        }

        Console.WriteLine($"Simulated line served as Modbus TCP on {server.LocalEndPoint} (unit ids 1-247; register map: docs/simulate-register-map.md). Ctrl+C stops.");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        return ExitCodes.Success;
    }
}
