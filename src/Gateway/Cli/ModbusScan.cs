using System.CommandLine;
using System.Globalization;
using Gateway.Discovery;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway modbus scan TARGET --unit N [--ranges ...] [--emit-tags]</c> and <c>--units A-B</c>: what a unit holds,
/// read in blocks. A block refused with exception 2 (or 3) is split in two until the holes are single addresses,
/// so a map with gaps is read whole. Each register is printed as uint16 and int16, and each neighbouring pair as
/// float32 and int32 in the four word orders: the person picks the reading that looks right.
/// </summary>
internal static partial class ModbusScan
{
    private static readonly ModbusWordOrder[] s_orders = [ModbusWordOrder.ABCD, ModbusWordOrder.CDAB, ModbusWordOrder.BADC, ModbusWordOrder.DCBA];

    /// <summary>What <c>modbus scan</c> was asked.</summary>
    internal sealed record ScanOptions(
        string? Target,
        int Unit = 1,
        string Ranges = ModbusLink.DefaultScanRanges,
        string? Units = null,
        int Block = 64,
        int TimeoutMs = 1000,
        bool RtuOverTcp = false,
        bool EmitTags = false,
        string? Type = null,
        string? Order = null,
        string[]? Pick = null,
        string? Serial = null,
        int Baud = 19200,
        string Parity = "even");

    public static Command Create()
    {
        var target = new Argument<string?>("TARGET") { Description = "HOST[:PORT] (port 502 by default); omit it with --serial", Arity = ArgumentArity.ZeroOrOne };
        var serial = new Option<string?>("--serial") { Description = "Serial device for Modbus RTU, for example /dev/ttyUSB0" };
        var baud = new Option<int>("--baud") { Description = "Serial speed in baud", DefaultValueFactory = _ => 19200 };
        var parity = new Option<string>("--parity") { Description = "Serial parity: none, even (default) or odd", DefaultValueFactory = _ => "even" };
        var unit = new Option<int>("--unit", "-u") { Description = "Unit id to scan", DefaultValueFactory = _ => 1 };
        var ranges = new Option<string>("--ranges") { Description = "TABLE:FIRST-LAST,... with TABLE holding, input, coil, discrete (wire addresses)", DefaultValueFactory = _ => ModbusLink.DefaultScanRanges };
        var units = new Option<string?>("--units") { Description = "Find the unit ids that answer, for example 1-247 (reads holding:0 of each; use a short --timeout)" };
        var block = new Option<int>("--block") { Description = "Registers or bits per request (1-125 registers, 1-2000 bits)", DefaultValueFactory = _ => 64 };
        var timeout = new Option<int>("--timeout") { Description = "Response timeout in milliseconds", DefaultValueFactory = _ => 1000 };
        var rtuOverTcp = new Option<bool>("--rtu-over-tcp") { Description = "Send RTU frames over the TCP connection (serial-to-Ethernet converters)" };
        var emit = new Option<bool>("--emit-tags") { Description = "Print a tags[] JSON fragment for a modbus-tcp driver instead of the table (check-config accepts it)" };
        var type = new Option<string?>("--type", "-t") { Description = "With --emit-tags: the reading of every register range (uint16 default, int16, int32, uint32, float32; pairs from the range's first address)" };
        var order = new Option<string?>("--order", "-o") { Description = "With --emit-tags: the word order of pairs: ABCD (default), CDAB, BADC, DCBA" };
        var pick = new Option<string[]?>("--pick") { Description = "With --emit-tags: only these, each TABLE:ADDRESS[=TYPE[:ORDER]] (holding:183=float32:CDAB)", AllowMultipleArgumentsPerToken = true };
        var command = new Command("scan", "Scan a unit's ranges in blocks (holes tolerated): registers as uint16/int16, pairs as float32/int32 in the four word orders; or find the unit ids that answer. Exit 0 ok, 2 usage, 3 unreachable or no answer.")
        {
            target, unit, ranges, units, block, timeout, rtuOverTcp, emit, type, order, pick, serial, baud, parity,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            new ScanOptions(
                parseResult.GetValue(target),
                parseResult.GetValue(unit),
                parseResult.GetValue(ranges)!,
                parseResult.GetValue(units),
                parseResult.GetValue(block),
                parseResult.GetValue(timeout),
                parseResult.GetValue(rtuOverTcp),
                parseResult.GetValue(emit),
                parseResult.GetValue(type),
                parseResult.GetValue(order),
                parseResult.GetValue(pick),
                parseResult.GetValue(serial),
                parseResult.GetValue(baud),
                parseResult.GetValue(parity)!),
            Console.Out,
            Console.Error,
            cancellationToken));
        return command;
    }

    internal static async Task<int> RunAsync(ScanOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (Problem(options, out var host, out var port, out var ranges, out var unitRange) is { } problem)
        {
            await error.WriteLineAsync($"modbus scan: {problem}");
            await error.WriteLineAsync("Run 'gateway modbus scan --help' for usage.");
            return ExitCodes.UsageOrConfiguration;
        }

        await using var client = new ModbusClient(ModbusLink.Open(host, port, options.RtuOverTcp, options.Serial, options.Baud, options.Parity));
        var timeout = TimeSpan.FromMilliseconds(options.TimeoutMs);
        try
        {
            if (unitRange is { } found)
            {
                return await FindUnitsAsync(client, found.First, found.Last, timeout, output, cancellationToken);
            }

            var scans = new List<ScannedRange>();
            foreach (var range in ranges)
            {
                scans.Add(await ModbusRangeReader.ReadRangeAsync(client, (byte)options.Unit, range, Math.Min(options.Block, range.Table.MaxReadCount()), timeout, cancellationToken));
            }

            if (options.EmitTags)
            {
                if (Emit(options, scans, out var fragment) is { } emitProblem)
                {
                    await error.WriteLineAsync($"modbus scan: {emitProblem}");
                    return ExitCodes.UsageOrConfiguration;
                }

                await output.WriteLineAsync(fragment);
                foreach (var scan in scans)
                {
                    await WriteHolesAsync(scan, error);
                }

                return ExitCodes.Success;
            }

            foreach (var scan in scans)
            {
                await ModbusScanTable.WriteAsync(scan, s_orders, output);
                await WriteHolesAsync(scan, output);
            }

            return ExitCodes.Success;
        }
        catch (ModbusConnectionException ex)
        {
            await error.WriteLineAsync($"modbus scan: {ex.Message}");
            return ExitCodes.PeerUnreachable;
        }
        catch (TimeoutException ex)
        {
            await error.WriteLineAsync($"modbus scan: unit {options.Unit} does not answer: {ex.Message}");
            return ExitCodes.PeerUnreachable;
        }
        catch (IOException ex)
        {
            await error.WriteLineAsync($"modbus scan: {ex.Message}");
            return ExitCodes.PeerUnreachable;
        }
    }

    /// <summary>Prints each unit id that answers (<see cref="ModbusUnitFinder"/>) as it is found, then the summary.</summary>
    private static async Task<int> FindUnitsAsync(ModbusClient client, int first, int last, TimeSpan timeout, TextWriter output, CancellationToken cancellationToken)
    {
        var answering = await ModbusUnitFinder.FindAsync(client, first, last, timeout, cancellationToken, answer => output.WriteLineAsync(answer.Exception is { } code
            ? $"unit {answer.Unit}: answers with exception {(byte)code} ({ModbusException.Name((byte)code)})"
            : $"unit {answer.Unit}: answers (holding:0 = {answer.Value})"));
        await output.WriteLineAsync(answering.Count == 0
            ? $"no unit answers between {first} and {last}"
            : $"{answering.Count} unit(s) answer: {string.Join(", ", answering.Select(a => a.Unit))}");
        return answering.Count == 0 ? ExitCodes.PeerUnreachable : ExitCodes.Success;
    }

    private static async Task WriteHolesAsync(ScannedRange scan, TextWriter writer)
    {
        foreach (var (first, last, code) in scan.Holes)
        {
            var where = first == last ? first.ToString(CultureInfo.InvariantCulture) : $"{first}-{last}";
            await writer.WriteLineAsync($"{ModbusAddress.TableName(scan.Range.Table)}:{where}: exception {(byte)code} ({code}), not read");
        }
    }

    private static string? Problem(ScanOptions options, out string host, out int port, out List<ScanRange> ranges, out (int First, int Last)? units)
    {
        host = "";
        port = 502;
        ranges = [];
        units = null;
        if (options.Serial is not null)
        {
            if (options.Target is not null || options.RtuOverTcp)
            {
                return "with --serial, give no TARGET and no --rtu-over-tcp";
            }

            if (options.Parity.ToLowerInvariant() is not ("none" or "even" or "odd"))
            {
                return $"--parity must be none, even or odd, got '{options.Parity}'";
            }
        }
        else if (string.IsNullOrWhiteSpace(options.Target))
        {
            return "give TARGET (HOST[:PORT]) or --serial DEVICE";
        }
        else
        {
            host = options.Target;
            var colon = host.LastIndexOf(':');
            if (colon > 0 && !host.EndsWith(']'))
            {
                if (!int.TryParse(host[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                {
                    return $"'{options.Target}': the port must be a number from 1 to 65535";
                }

                host = host[..colon];
            }

            host = host.Trim('[', ']');
        }

        var maxUnit = options.Serial is null ? 255 : ModbusLimits.MaxUnitId;
        if (options.Units is { } text)
        {
            if (!ModbusRangeReader.TryRange(text, out var first, out var last) || first < 1 || last > maxUnit)
            {
                return $"--units '{text}' must be FIRST-LAST between 1 and {maxUnit}";
            }

            units = (first, last);
            return null;
        }

        if (options.Unit < 1 || options.Unit > maxUnit)
        {
            return $"--unit must be between 1 and {maxUnit}, got {options.Unit}";
        }

        if (options.Block < 1)
        {
            return $"--block must be at least 1, got {options.Block}";
        }

        return ModbusRangeReader.ParseRanges(options.Ranges, ranges) is { } rangeProblem ? "--ranges " + rangeProblem : null;
    }
}
