using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Gateway.Drivers.S7;

namespace Gateway.Cli;

/// <summary>
/// What the device verbs (<c>modbus read</c>/<c>write</c>, <c>s7 read</c>/<c>write</c>) share: the usage error,
/// the exit code and the one line of each way an exchange with the device can fail, and how a value prints.
/// </summary>
internal static class DeviceExchange
{
    /// <summary>Prints <c>VERB: problem</c> and where the usage is; exit code 2.</summary>
    public static async Task<int> UsageAsync(TextWriter error, string verb, string problem)
    {
        await error.WriteLineAsync($"{verb}: {problem}");
        await error.WriteLineAsync($"Run 'gateway {verb} --help' for usage.");
        return ExitCodes.UsageOrConfiguration;
    }

    /// <summary>
    /// Runs one exchange with the device and turns its failures into an exit code, each printed once as
    /// <c>VERB: reason</c>: what <paramref name="refusal"/> names (the device refused; null for anything else) 1, a
    /// device that cannot be reached or does not answer 3, another I/O failure 1.
    /// </summary>
    public static async Task<int> RunAsync(string verb, TextWriter error, Func<Task<int>> exchange, Func<Exception, string?> refusal)
    {
        try
        {
            return await exchange();
        }
        catch (Exception ex) when (refusal(ex) is not null)
        {
            await error.WriteLineAsync($"{verb}: {refusal(ex)}");
            return ExitCodes.RuntimeFailure;
        }
        catch (Exception ex) when (ex is TimeoutException or ModbusConnectionException or S7ConnectionException)
        {
            await error.WriteLineAsync($"{verb}: {ex.Message}");
            return ExitCodes.PeerUnreachable;
        }
        catch (IOException ex)
        {
            await error.WriteLineAsync($"{verb}: {ex.Message}");
            return ExitCodes.RuntimeFailure;
        }
    }

    /// <summary>A boolean as 1/0, anything else as <see cref="SampleValue.ToString"/> (a float32 as its shortest float32 text, a double round-trip).</summary>
    public static string Format(SampleValue value) => value.Kind == SampleValueKind.Boolean ? (value.AsBoolean ? "1" : "0") : value.ToString();
}
