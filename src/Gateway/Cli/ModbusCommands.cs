using System.CommandLine;
using System.Globalization;
using Gateway.Discovery;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;

namespace Gateway.Cli;

/// <summary><c>gateway modbus read TARGET --unit N SPEC [--type T] [--order O]</c>.</summary>
internal static class ModbusCommands
{
    public static Command Create()
    {
        var modbus = new Command("modbus", "Modbus tools: read and write coils and registers of a PLC over TCP, RTU over TCP, or a serial line.");
        modbus.Subcommands.Add(CreateRead());
        modbus.Subcommands.Add(WriteCommands.Modbus());
        modbus.Subcommands.Add(ModbusScan.Create());
        return modbus;
    }

    /// <summary>What <c>modbus read</c> was asked.</summary>
    internal sealed record ReadOptions(
        string[] Arguments,
        int Unit,
        string? Type = null,
        string? Order = null,
        string? Serial = null,
        int Baud = 19200,
        string Parity = "even",
        int TimeoutMs = 1000,
        bool RtuOverTcp = false,
        int? MaxPerRequest = null,
        int AddressBase = 0);

    private static Command CreateRead()
    {
        var arguments = new Argument<string[]>("TARGET SPEC")
        {
            Description = "TARGET is HOST[:PORT] (port 502 by default; omit it with --serial). SPEC is coils|discrete|holding|input:START[:COUNT]; "
                + "COUNT counts values of --type (for strings: characters), 1 by default. Addresses are wire addresses, from 0, unless --address-base 1.",
            Arity = new ArgumentArity(1, 2),
        };
        var unit = new Option<int>("--unit", "-u") { Description = "Unit id (slave address), 1-247 on a serial line", DefaultValueFactory = _ => 1 };
        var type = new Option<string?>("--type", "-t") { Description = "bool, int16, uint16 (default for registers), int32, uint32, int64, uint64, float32, float64, string" };
        var order = new Option<string?>("--order", "-o") { Description = "Byte order of multi-register values: ABCD (default), CDAB, BADC, DCBA" };
        var serial = new Option<string?>("--serial") { Description = "Serial device for Modbus RTU, for example /dev/ttyUSB0" };
        var baud = new Option<int>("--baud") { Description = "Serial speed in baud", DefaultValueFactory = _ => 19200 };
        var parity = new Option<string>("--parity") { Description = "Serial parity: none, even (default) or odd", DefaultValueFactory = _ => "even" };
        var timeout = new Option<int>("--timeout") { Description = "Response timeout in milliseconds", DefaultValueFactory = _ => 1000 };
        var rtuOverTcp = new Option<bool>("--rtu-over-tcp") { Description = "Send RTU frames over the TCP connection (serial-to-Ethernet converters)" };
        var maxPerRequest = new Option<int?>("--max-per-request")
        {
            Description = "Most registers (1-125) or bits (1-2000) one request may read; a longer SPEC is read in several requests. "
                + "For devices that refuse long reads with exception 3 or 2 (many accept only 16, 32 or 64 registers)",
        };
        var addressBase = new Option<int>("--address-base")
        {
            Description = "0 (default): START is the wire address. 1: START counts from 1 as many register maps do (holding:1, the '40001' register, is wire address 0); printed addresses follow the same base",
            DefaultValueFactory = _ => 0,
        };
        var command = new Command("read", "Read coils, discrete inputs or registers and print one value per line. Exit 0 ok, 1 failure (exception response), 2 usage, 3 unreachable or no answer.")
        {
            arguments, unit, type, order, serial, baud, parity, timeout, rtuOverTcp, maxPerRequest, addressBase,
        };
        command.SetAction((parseResult, cancellationToken) => ReadAsync(
            new ReadOptions(
                parseResult.GetValue(arguments) ?? [],
                parseResult.GetValue(unit),
                parseResult.GetValue(type),
                parseResult.GetValue(order),
                parseResult.GetValue(serial),
                parseResult.GetValue(baud),
                parseResult.GetValue(parity)!,
                parseResult.GetValue(timeout),
                parseResult.GetValue(rtuOverTcp),
                parseResult.GetValue(maxPerRequest),
                parseResult.GetValue(addressBase)),
            Console.Out,
            Console.Error,
            cancellationToken));
        return command;
    }

    internal static async Task<int> ReadAsync(ReadOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!TryParse(options, out var request, out var problem))
        {
            return await DeviceExchange.UsageAsync(error, "modbus read", problem);
        }

        var timeout = TimeSpan.FromMilliseconds(options.TimeoutMs);
        await using var client = new ModbusClient(CreateTransport(options, request));
        return await DeviceExchange.RunAsync("modbus read", error, ExchangeAsync, ex => ex is ModbusException refused
            ? $"the device refused the request: exception {(byte)refused.Code} ({refused.CodeName}){Hint(refused, request)}"
            : null);

        async Task<int> ExchangeAsync()
        {
            if (request.Table.IsBitTable())
            {
                for (var first = 0; first < request.Count; first += request.MaxPerRequest)
                {
                    var count = Math.Min(request.MaxPerRequest, request.Count - first);
                    var bits = await client.ReadBitsAsync(request.Unit, request.Table, (ushort)(request.Start + first), (ushort)count, timeout, cancellationToken);
                    for (var i = 0; i < bits.Length; i++)
                    {
                        await output.WriteLineAsync($"{ModbusAddress.TableName(request.Table)}:{request.Start + request.AddressBase + first + i} = {(bits[i] ? "1" : "0")}");
                    }
                }

                return ExitCodes.Success;
            }

            // Whole values per request: a value is never split across two requests.
            var step = request.Format.RegisterCount;
            var perRequest = request.Format.Type == ModbusDataType.String ? step : request.MaxPerRequest / step * step;
            var typeName = options.Type is null ? "" : " " + request.Format.Type.ToString().ToLowerInvariant();
            for (var first = 0; first < request.RegisterCount; first += perRequest)
            {
                var count = Math.Min(perRequest, request.RegisterCount - first);
                var registers = await client.ReadRegistersAsync(request.Unit, request.Table, (ushort)(request.Start + first), (ushort)count, timeout, cancellationToken);
                for (var offset = 0; offset + step <= registers.Length; offset += step)
                {
                    var words = registers.AsSpan(offset, step);
                    var text = request.Format.Type == ModbusDataType.UInt64
                        ? ModbusValueCodec.DecodeUInt64(words, request.Format.Order).ToString(CultureInfo.InvariantCulture)
                        : DeviceExchange.Format(ModbusValueCodec.Decode(words, request.Format));
                    await output.WriteLineAsync($"{ModbusAddress.TableName(request.Table)}:{request.Start + request.AddressBase + first + offset}{typeName} = {text}");
                }
            }

            return ExitCodes.Success;
        }
    }

    /// <summary>What the exception most likely means for this request.</summary>
    private static string Hint(ModbusException exception, ReadRequest request)
    {
        var perRequest = request.Table.IsBitTable() ? Math.Min(request.Count, request.MaxPerRequest) : Math.Min(request.RegisterCount, request.MaxPerRequest);
        return exception.Code switch
        {
            ModbusExceptionCode.IllegalFunction => $": the device does not implement function {(byte)exception.FunctionCode} ({exception.FunctionCode}); it may not have {TableDescription(request.Table)} at all",
            ModbusExceptionCode.IllegalDataValue or ModbusExceptionCode.IllegalDataAddress when perRequest > 1 =>
                $": some address of {ModbusAddress.TableName(request.Table)}:{request.Start + request.AddressBase} x{perRequest} is not mapped, or the device reads fewer {(request.Table.IsBitTable() ? "bits" : "registers")} per request (try --max-per-request 16)",
            ModbusExceptionCode.IllegalDataAddress => request.AddressBase == 0
                ? $": {ModbusAddress.TableName(request.Table)}:{request.Start} is not mapped (if the register map counts from 1, add --address-base 1)"
                : $": {ModbusAddress.TableName(request.Table)}:{request.Start + 1} (wire address {request.Start}) is not mapped",
            _ => "",
        };
    }

    private static string TableDescription(ModbusTable table) => table switch
    {
        ModbusTable.Coil => "coils",
        ModbusTable.DiscreteInput => "discrete inputs",
        ModbusTable.HoldingRegister => "holding registers",
        _ => "input registers",
    };

    internal static IModbusTransport CreateTransport(ReadOptions options, ReadRequest request) =>
        ModbusLink.Open(request.Host ?? "", request.Port, options.RtuOverTcp, options.Serial, options.Baud, options.Parity);

    /// <summary>A parsed read; <see cref="Start"/> is the wire address, <see cref="AddressBase"/> only changes what is printed.</summary>
    internal sealed record ReadRequest(string? Host, int Port, byte Unit, ModbusTable Table, ushort Start, int Count, ModbusValueFormat Format, int MaxPerRequest, int AddressBase)
    {
        public int RegisterCount => Format.Type == ModbusDataType.String ? Format.RegisterCount : Count * Format.RegisterCount;
    }

    internal static bool TryParse(ReadOptions options, out ReadRequest request, out string problem)
    {
        request = null!;
        problem = "";
        var args = options.Arguments;
        string? host = null;
        var port = 502;
        string spec;
        if (options.Serial is not null)
        {
            if (args.Length != 1)
            {
                problem = "with --serial, give only SPEC (no HOST)";
                return false;
            }

            if (options.RtuOverTcp)
            {
                problem = "--rtu-over-tcp applies to a HOST target, not to --serial";
                return false;
            }

            if (options.Parity.ToLowerInvariant() is not ("none" or "even" or "odd"))
            {
                problem = $"--parity must be none, even or odd, got '{options.Parity}'";
                return false;
            }

            if (options.Baud is < 300 or > 4_000_000)
            {
                problem = $"--baud must be between 300 and 4000000, got {options.Baud}";
                return false;
            }

            spec = args[0];
        }
        else
        {
            if (args.Length != 2)
            {
                problem = "give TARGET (HOST[:PORT]) and SPEC, or --serial DEVICE and SPEC";
                return false;
            }

            host = args[0];
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
            spec = args[1];
        }

        if (options.AddressBase is not (0 or 1))
        {
            problem = $"--address-base must be 0 or 1, got {options.AddressBase}";
            return false;
        }

        var maxUnit = options.Serial is null ? 255 : ModbusLimits.MaxUnitId;
        if (options.Unit < 1 || options.Unit > maxUnit)
        {
            problem = $"--unit must be between 1 and {maxUnit}, got {options.Unit}";
            return false;
        }

        var parts = spec.Split(':');
        if (parts.Length is < 2 or > 3 || !ModbusAddress.TryParseTable(parts[0], out var table)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start) || start > 65535 + options.AddressBase)
        {
            problem = $"SPEC '{spec}' must be coils|discrete|holding|input:START[:COUNT] with START from {options.AddressBase} to {65535 + options.AddressBase}";
            return false;
        }

        if (options.AddressBase == 1)
        {
            if (start == 0)
            {
                problem = $"SPEC '{spec}': with --address-base 1 addresses start at 1";
                return false;
            }

            start--;
        }

        var count = 1;
        if (parts.Length == 3 && (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1))
        {
            problem = $"SPEC '{spec}': COUNT must be a positive number";
            return false;
        }

        var type = table.IsBitTable() ? ModbusDataType.Bool : ModbusDataType.UInt16;
        if (options.Type is not null && !ModbusValueFormat.TryParseType(options.Type, out type))
        {
            problem = $"--type must be bool, int16, uint16, int32, uint32, int64, uint64, float32, float64 or string, got '{options.Type}'";
            return false;
        }

        if (table.IsBitTable() && type != ModbusDataType.Bool)
        {
            problem = $"{parts[0]} hold bits: --type must be bool";
            return false;
        }

        var order = ModbusWordOrder.ABCD;
        if (options.Order is not null && !ModbusValueFormat.TryParseOrder(options.Order, out order))
        {
            problem = $"--order must be ABCD, CDAB, BADC or DCBA, got '{options.Order}'";
            return false;
        }

        var max = table.MaxReadCount();
        if (options.MaxPerRequest is { } perRequest && (perRequest < 1 || perRequest > max))
        {
            problem = $"--max-per-request must be between 1 and {max} for {parts[0]}, got {perRequest}";
            return false;
        }

        var format = new ModbusValueFormat(type, order, type == ModbusDataType.String ? count : 0);
        request = new ReadRequest(host, port, (byte)options.Unit, table, (ushort)start, count, format, options.MaxPerRequest ?? max, options.AddressBase);
        var units = table.IsBitTable() ? count : request.RegisterCount;
        if (format.RegisterCount > request.MaxPerRequest && !table.IsBitTable())
        {
            problem = $"one {type.ToString().ToLowerInvariant()} value needs {format.RegisterCount} registers in one request; --max-per-request is {request.MaxPerRequest}";
            return false;
        }

        if (options.MaxPerRequest is null && units > max)
        {
            problem = $"SPEC '{spec}' asks for {units} {(table.IsBitTable() ? "bits" : "registers")}; one request reads at most {max} (--max-per-request N reads it in several)";
            return false;
        }

        if (start + units > 65536)
        {
            problem = $"SPEC '{spec}' runs past address 65535";
            return false;
        }

        return true;
    }
}
