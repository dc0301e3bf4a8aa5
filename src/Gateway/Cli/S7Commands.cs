using System.CommandLine;
using System.Globalization;
using Gateway.Drivers;
using Gateway.Drivers.S7;

namespace Gateway.Cli;

/// <summary><c>gateway s7 read HOST[:PORT] --rack R --slot S ADDRESS... [--type T]</c>.</summary>
internal static class S7Commands
{
    public static Command Create()
    {
        var s7 = new Command("s7", "Siemens S7 tools: read DBs, merkers, inputs, outputs, timers and counters from an S7-300/400/1200/1500, LOGO! or S7-200 Smart.");
        s7.Subcommands.Add(CreateRead());
        s7.Subcommands.Add(WriteCommands.S7());
        return s7;
    }

    /// <summary>What <c>s7 read</c> was asked.</summary>
    internal sealed record ReadOptions(
        string[] Arguments,
        int Rack = 0,
        int? Slot = null,
        string? Type = null,
        string? LocalTsap = null,
        string? RemoteTsap = null,
        int PduSize = 480,
        int TimeoutMs = 2000);

    private static Command CreateRead()
    {
        var arguments = new Argument<string[]>("TARGET ADDRESS")
        {
            Description = "TARGET is HOST[:PORT] (port 102 by default). Each ADDRESS as in TIA Portal: DB1.DBX0.0, DB1.DBB2, DB1.DBW4, DB1.DBD6, DB1.STRING10.20, M10.1, MW20, MD24, I0.0 (E0.0), Q0.1 (A0.1), IW64, QW80, T5, C3",
            Arity = new ArgumentArity(2, 100),
        };
        var rack = new Option<int>("--rack", "-r") { Description = "The CPU's rack (0 for S7-1200/1500 and most S7-300)", DefaultValueFactory = _ => 0 };
        var slot = new Option<int?>("--slot", "-s") { Description = "The CPU's slot: 2 for an S7-300, 1 (or 0) for an S7-1200/1500; 1 when neither it nor the TSAPs are given" };
        var type = new Option<string?>("--type", "-t") { Description = $"The type of every ADDRESS: {S7Types.Names}. Without it each address reads as its width says (DBX bool, DBB byte, DBW word, DBD dword, STRING string)" };
        var localTsap = new Option<string?>("--local-tsap") { Description = "Instead of rack and slot (LOGO!, S7-200 Smart): our TSAP in hex, for example 01.00" };
        var remoteTsap = new Option<string?>("--remote-tsap") { Description = "Instead of rack and slot: the CPU's TSAP in hex, for example 02.00" };
        var pdu = new Option<int>("--pdu") { Description = "PDU size to request, 240-960", DefaultValueFactory = _ => 480 };
        var timeout = new Option<int>("--timeout") { Description = "Connection and response timeout in milliseconds", DefaultValueFactory = _ => 2000 };
        var command = new Command("read", "Read S7 addresses and print one 'ADDRESS = value' line each. Exit 0 ok, 1 the CPU refused an address, 2 usage, 3 unreachable or no answer.")
        {
            arguments, rack, slot, type, localTsap, remoteTsap, pdu, timeout,
        };
        command.SetAction((parseResult, cancellationToken) => ReadAsync(
            new ReadOptions(
                parseResult.GetValue(arguments) ?? [],
                parseResult.GetValue(rack),
                parseResult.GetValue(slot),
                parseResult.GetValue(type),
                parseResult.GetValue(localTsap),
                parseResult.GetValue(remoteTsap),
                parseResult.GetValue(pdu),
                parseResult.GetValue(timeout)),
            Console.Out,
            Console.Error,
            cancellationToken));
        return command;
    }

    internal static async Task<int> ReadAsync(ReadOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!TryParse(options, out var request, out var problem))
        {
            return await DeviceExchange.UsageAsync(error, "s7 read", problem);
        }

        var timeout = TimeSpan.FromMilliseconds(options.TimeoutMs);
        await using var client = new S7Client(new S7IsoTransport(request.Host, request.Port, request.LocalTsap, request.RemoteTsap), TimeProvider.System, options.PduSize);
        return await DeviceExchange.RunAsync("s7 read", error, ExchangeAsync, _ => null);

        async Task<int> ExchangeAsync()
        {
            var pduSize = await client.ConnectAsync(timeout, cancellationToken);
            var plan = S7ReadPlanner.Plan([.. request.Tags.Select(t => t.Range)], 0, pduSize);
            var jobErrors = new Dictionary<S7Block, S7Exception>();
            foreach (var job in plan.Requests)
            {
                try
                {
                    await client.ReadAsync(job.Items, job.Destinations, job.ReturnCodes, timeout, cancellationToken);
                }
                catch (S7Exception ex)
                {
                    foreach (var block in job.Blocks)
                    {
                        jobErrors[block] = ex;
                    }

                    continue;
                }

                for (var i = 0; i < job.Items.Length; i++)
                {
                    if (job.ReturnCodes[i] != S7Wire.ItemSuccess && job.Blocks[i].ReturnCode == S7Wire.ItemSuccess)
                    {
                        job.Blocks[i].ReturnCode = job.ReturnCodes[i];
                    }
                }
            }

            var failed = false;
            var lines = new string?[request.Tags.Count];
            foreach (var block in plan.Blocks)
            {
                foreach (var index in block.Tags)
                {
                    var tag = request.Tags[index];
                    if (jobErrors.TryGetValue(block, out var jobError) || block.ReturnCode != S7Wire.ItemSuccess)
                    {
                        var refusal = jobError ?? new S7Exception(S7ErrorSource.Item, block.ReturnCode);
                        await error.WriteLineAsync($"s7 read: {tag.Text}: {refusal.Message} [{SampleStatus.Name(refusal.StatusCode)}]");
                        failed = true;
                        continue;
                    }

                    var unitBytes = block.Range.UnitBytes;
                    var bytes = block.Buffer.AsSpan((tag.Range.Start - block.Range.Start) * unitBytes, tag.Range.Length * unitBytes);
                    if (S7Values.TryDecode(bytes, tag.Type, tag.Address.Bit, out var value, out var status))
                    {
                        lines[index] = $"{tag.Text} {S7Types.Name(tag.Type)} = {DeviceExchange.Format(value)}";
                    }
                    else
                    {
                        await error.WriteLineAsync($"s7 read: {tag.Text}: the bytes are no valid {S7Types.Name(tag.Type)} [{SampleStatus.Name(status)}]: {Convert.ToHexString(bytes)}");
                        failed = true;
                    }
                }
            }

            foreach (var line in lines)
            {
                if (line is not null)
                {
                    await output.WriteLineAsync(line);
                }
            }

            return failed ? ExitCodes.RuntimeFailure : ExitCodes.Success;
        }
    }

    internal sealed record ReadTag(string Text, S7Address Address, S7DataType Type)
    {
        public S7Range Range => Address.Width is S7AddressWidth.Timer or S7AddressWidth.Counter
            ? new S7Range(Address.Area, 0, Address.Start, 1)
            : new S7Range(Address.Area, Address.DbNumber, Address.Start, S7Types.Width(Type, Address.StringLength));
    }

    internal sealed record ReadRequest(string Host, int Port, ushort LocalTsap, ushort RemoteTsap, List<ReadTag> Tags);

    internal static bool TryParse(ReadOptions options, out ReadRequest request, out string problem)
    {
        request = null!;
        problem = "";
        var args = options.Arguments;
        if (args.Length < 2)
        {
            problem = "give TARGET (HOST[:PORT]) and at least one ADDRESS";
            return false;
        }

        var host = args[0];
        var port = 102;
        var colon = host.LastIndexOf(':');
        if (colon > 0 && !host.EndsWith(']'))
        {
            if (!int.TryParse(host[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                problem = $"'{args[0]}': the port must be a number from 1 to 65535";
                return false;
            }

            host = host[..colon];
        }

        host = host.Trim('[', ']');
        if (options.Rack is < 0 or > 7 || options.Slot is < 0 or > 31)
        {
            problem = "--rack runs from 0 to 7 and --slot from 0 to 31";
            return false;
        }

        if (options.PduSize is < S7Wire.MinPduSize or > S7Wire.MaxPduSize)
        {
            problem = $"--pdu must be between {S7Wire.MinPduSize} and {S7Wire.MaxPduSize}, got {options.PduSize}";
            return false;
        }

        ushort local = S7DriverFactory.DefaultLocalTsap, remote;
        if (options.LocalTsap is not null || options.RemoteTsap is not null)
        {
            if (options.Slot is not null || !S7DriverFactory.TryParseTsap(options.LocalTsap, out local) || !S7DriverFactory.TryParseTsap(options.RemoteTsap, out remote))
            {
                problem = "give --local-tsap and --remote-tsap together, in hex (for example 01.00 and 02.00), and without --slot";
                return false;
            }
        }
        else
        {
            remote = S7Wire.RemoteTsap(options.Rack, options.Slot ?? 1);
        }

        S7DataType? forced = null;
        if (options.Type is not null)
        {
            if (!S7Types.TryParse(options.Type, out var parsed))
            {
                problem = $"--type must be one of {S7Types.Names}, got '{options.Type}'";
                return false;
            }

            forced = parsed;
        }

        var tags = new List<ReadTag>();
        foreach (var text in args[1..])
        {
            if (!S7Address.TryParse(text, out var address, out var addressError))
            {
                problem = addressError;
                return false;
            }

            var type = forced ?? address.DefaultType;
            if (address.Mismatch(type, text) is { } mismatch)
            {
                problem = mismatch;
                return false;
            }

            tags.Add(new ReadTag(text, address, type));
        }

        request = new ReadRequest(host, port, local, remote, tags);
        return true;
    }
}
