using System.CommandLine;
using System.Globalization;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Drivers.Modbus;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.S7;
using Gateway.Writes;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway modbus write</c>, <c>gateway opcua write</c>, <c>gateway s7 write</c>: one value to a PLC, then read
/// back and printed as <c>read</c> prints it. Exit 0 written, 1 refused by the device, 2 usage, 3 unreachable or no
/// answer. A commissioning tool: it does not pass the gateway's write gate (no <c>writable</c>, range or rate checks).
/// </summary>
internal static class WriteCommands
{
    private static readonly BuiltInType[] s_writableTypes =
    [
        BuiltInType.Boolean, BuiltInType.SByte, BuiltInType.Byte, BuiltInType.Int16, BuiltInType.UInt16, BuiltInType.Int32, BuiltInType.UInt32,
        BuiltInType.Int64, BuiltInType.UInt64, BuiltInType.Float, BuiltInType.Double, BuiltInType.String,
    ];

    public static Command Modbus()
    {
        var target = new Argument<string>("TARGET") { Description = "HOST[:PORT], port 502 by default" };
        var spec = new Argument<string>("SPEC") { Description = "holding:ADDRESS or coil:ADDRESS (wire address, from 0); for a string holding:ADDRESS:CHARACTERS" };
        var value = new Argument<string>("VALUE") { Description = "The value: a number, true/false (1/0) for a coil, text for a string" };
        var unit = new Option<int>("--unit", "-u") { Description = "Unit id (slave address)", DefaultValueFactory = _ => 1 };
        var type = new Option<string?>("--type", "-t") { Description = "bool, int16, uint16 (default for registers), int32, uint32, int64, uint64, float32, float64, string" };
        var order = new Option<string?>("--order", "-o") { Description = "Byte order of multi-register values: ABCD (default), CDAB, BADC, DCBA" };
        var timeout = new Option<int>("--timeout") { Description = "Response timeout in milliseconds", DefaultValueFactory = _ => 1000 };
        var command = new Command("write", "Write one coil (FC5) or holding register value (FC6, FC16 for wider values), then read it back. Exit 0 ok, 1 the device refused (exception response), 2 usage, 3 unreachable or no answer.")
        {
            target, spec, value, unit, type, order, timeout,
        };
        command.SetAction((parseResult, cancellationToken) => ModbusAsync(
            parseResult.GetValue(target)!,
            parseResult.GetValue(spec)!,
            parseResult.GetValue(value)!,
            new ModbusCommands.ReadOptions([parseResult.GetValue(target)!, parseResult.GetValue(spec)!], parseResult.GetValue(unit), parseResult.GetValue(type), parseResult.GetValue(order), TimeoutMs: parseResult.GetValue(timeout)),
            Console.Out,
            Console.Error,
            cancellationToken));
        return command;
    }

    internal static async Task<int> ModbusAsync(string target, string spec, string text, ModbusCommands.ReadOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!ModbusCommands.TryParse(options, out var request, out var problem)
            || (request.Table is not (ModbusTable.Coil or ModbusTable.HoldingRegister) && Fail($"{spec}: only coils and holding registers can be written", out problem))
            || (request.Table == ModbusTable.HoldingRegister && request.Format.Type != ModbusDataType.String && request.Count != 1 && Fail($"{spec}: one value at a time (no COUNT)", out problem))
            || !TryParseValue(text, TagWriteTypes.Parse(request.Format.Type.ToString()), out var value, out problem))
        {
            return await DeviceExchange.UsageAsync(error, "modbus write", problem);
        }

        var timeout = TimeSpan.FromMilliseconds(options.TimeoutMs);
        await using var client = new ModbusClient(ModbusCommands.CreateTransport(options, request));
        return await DeviceExchange.RunAsync(
            "modbus write",
            error,
            async () =>
            {
                await client.WriteValueAsync(request.Unit, request.Table, request.Start, request.Format, -1, value, timeout, cancellationToken);
                var back = await client.ReadValueAsync(request.Unit, request.Table, request.Start, request.Format, -1, timeout, cancellationToken);
                await output.WriteLineAsync($"{ModbusAddress.TableName(request.Table)}:{request.Start} = {DeviceExchange.Format(back)}");
                return ExitCodes.Success;
            },
            ex => ex switch
            {
                ModbusException refused => $"{target} {spec}: the device refused the write: exception {(byte)refused.Code} ({refused.CodeName})",
                ArgumentException or OverflowException => ex.Message, // the value does not fit the registers
                _ => null,
            });
    }

    public static Command OpcUa()
    {
        var common = new OpcUaCommands.Common();
        var node = new Argument<string>("NODEID") { Description = "NodeId (ns=2;s=Line1.Setpoint) or browse path" };
        var value = new Argument<string>("VALUE") { Description = "The value: a number, true/false, text" };
        var type = new Option<string?>("--type", "-t") { Description = "Built-in type to write (Boolean, SByte, Byte, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float, Double, String); default the node's current value's type" };
        var command = new Command("write", "Write one value to a node's Value attribute, then read it back. Exit 0 ok, 1 the server refused (BadNotWritable, BadTypeMismatch, ...), 2 usage, 3 unreachable.");
        common.AddTo(command);
        command.Arguments.Add(node);
        command.Arguments.Add(value);
        command.Options.Add(type);
        command.SetAction((parseResult, ct) =>
        {
            BuiltInType? typeName = null;
            if (parseResult.GetValue(type) is { } given)
            {
                if (!Enum.TryParse<BuiltInType>(given, ignoreCase: true, out var parsed) || !s_writableTypes.Contains(parsed))
                {
                    Console.Error.WriteLine($"opcua write: --type must be Boolean, SByte, Byte, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float, Double or String, got '{given}'");
                    return Task.FromResult(ExitCodes.UsageOrConfiguration);
                }

                typeName = parsed;
            }

            return OpcUaCommands.RunAsync(common, parseResult, client => OpcUaAsync(client, parseResult.GetValue(node)!, parseResult.GetValue(value)!, typeName, ct), ct);
        });
        return command;
    }

    private static async Task<int> OpcUaAsync(Gateway.Drivers.OpcUa.Client.UaClient client, string name, string text, BuiltInType? type, CancellationToken ct)
    {
        var id = (await OpcUaCommands.ResolveAsync(client, [name], ct))[0];
        if (id is null)
        {
            Console.Error.WriteLine($"opcua write: cannot resolve {name}");
            return ExitCodes.RuntimeFailure;
        }

        var builtIn = type ?? (await client.ReadAsync([id], ct))[0].Value.Type;
        if (!TryParseValue(text, TagWriteTypes.Parse(builtIn.ToString()), out var value, out var problem))
        {
            Console.Error.WriteLine($"opcua write: {name} is {builtIn}: {problem}");
            return ExitCodes.UsageOrConfiguration;
        }

        Variant variant;
        try
        {
            variant = Gateway.Drivers.OpcUa.DataTypes.UaVariantValues.ToVariant(value, builtIn);
        }
        catch (Exception ex) when (ex is ArgumentException or OverflowException or FormatException or InvalidCastException or NotSupportedException)
        {
            Console.Error.WriteLine($"opcua write: {name} is {builtIn}: {ex.Message}");
            return ExitCodes.UsageOrConfiguration;
        }

        var results = await client.WriteAsync([(id, variant)], ct);
        if (results.Length != 1 || results[0].IsBad)
        {
            var code = results.Length == 1 ? results[0].Code : SampleStatus.BadUnexpectedError;
            Console.Error.WriteLine($"opcua write: {name}: {SampleStatus.Name(code)}: {SampleStatus.Describe(code)}");
            return ExitCodes.RuntimeFailure;
        }

        var back = (await client.ReadAsync([id], ct))[0];
        Console.WriteLine($"{name} = {OpcUaCommands.Format(back)}");
        return ExitCodes.Success;
    }

    public static Command S7()
    {
        var target = new Argument<string>("TARGET") { Description = "HOST[:PORT], port 102 by default" };
        var address = new Argument<string>("ADDRESS") { Description = "As in TIA Portal: DB1.DBX0.0, DB1.DBW4, DB1.DBD6, MW20, Q0.1, DB1.STRING10.20" };
        var value = new Argument<string>("VALUE") { Description = "The value: a number, true/false (1/0) for a bit, text for a string" };
        var rack = new Option<int>("--rack", "-r") { Description = "The CPU's rack", DefaultValueFactory = _ => 0 };
        var slot = new Option<int?>("--slot", "-s") { Description = "The CPU's slot: 2 for an S7-300, 1 (or 0) for an S7-1200/1500; 1 by default" };
        var type = new Option<string?>("--type", "-t") { Description = $"The type of ADDRESS: {S7Types.Names}; default as its width says" };
        var timeout = new Option<int>("--timeout") { Description = "Connection and response timeout in milliseconds", DefaultValueFactory = _ => 2000 };
        var command = new Command("write", "Write one S7 address, then read it back. Exit 0 ok, 1 the CPU refused, 2 usage, 3 unreachable or no answer.")
        {
            target, address, value, rack, slot, type, timeout,
        };
        command.SetAction((parseResult, ct) => S7Async(
            new S7Commands.ReadOptions([parseResult.GetValue(target)!, parseResult.GetValue(address)!], parseResult.GetValue(rack), parseResult.GetValue(slot), parseResult.GetValue(type), TimeoutMs: parseResult.GetValue(timeout)),
            parseResult.GetValue(value)!,
            Console.Out,
            Console.Error,
            ct));
        return command;
    }

    internal static async Task<int> S7Async(S7Commands.ReadOptions options, string text, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!S7Commands.TryParse(options, out var request, out var problem) || !TryParseValue(text, TagWriteTypes.Parse(S7Types.Name(request.Tags[0].Type)), out var value, out problem))
        {
            return await DeviceExchange.UsageAsync(error, "s7 write", problem);
        }

        var tag = request.Tags[0];
        var address = tag.Address;
        var width = S7Types.Width(tag.Type, address.StringLength);
        var data = new byte[width];
        try
        {
            S7Values.Encode(value, tag.Type, address.StringLength, 1.0, 0, data);
        }
        catch (Exception ex) when (ex is ArgumentException or OverflowException)
        {
            return await DeviceExchange.UsageAsync(error, "s7 write", $"{tag.Text}: {ex.Message}");
        }

        var timeout = TimeSpan.FromMilliseconds(options.TimeoutMs);
        await using var client = new S7Client(new S7IsoTransport(request.Host, request.Port, request.LocalTsap, request.RemoteTsap), TimeProvider.System, options.PduSize);
        return await DeviceExchange.RunAsync("s7 write", error, ExchangeAsync, ex => ex is S7Exception refused ? $"{tag.Text}: {refused.Message} [{SampleStatus.Name(refused.StatusCode)}]" : null);

        async Task<int> ExchangeAsync()
        {
            await client.ConnectAsync(timeout, cancellationToken);
            var item = tag.Type == S7DataType.Bool ? new S7Item(address.Area, address.DbNumber, address.Start, 1, address.Bit) : new S7Item(address.Area, address.DbNumber, address.Start, width);
            await client.WriteAsync(item, data, timeout, cancellationToken);
            var back = new byte[width];
            var codes = new byte[1];
            await client.ReadAsync([new S7Item(address.Area, address.DbNumber, address.Start, width)], [back], codes, timeout, cancellationToken);
            if (codes[0] != S7Wire.ItemSuccess || !S7Values.TryDecode(back, tag.Type, address.Bit, out var read, out _))
            {
                await error.WriteLineAsync($"s7 write: {tag.Text}: written, but the read-back failed (return code {codes[0]})");
                return ExitCodes.RuntimeFailure;
            }

            await output.WriteLineAsync($"{tag.Text} {S7Types.Name(tag.Type)} = {DeviceExchange.Format(read)}");
            return ExitCodes.Success;
        }
    }

    /// <summary>A command-line value as the target's type: true/false/1/0/on/off for bits, whole numbers in range, numbers, text.</summary>
    internal static bool TryParseValue(string text, TagWriteType type, out SampleValue value, out string problem)
    {
        value = SampleValue.None;
        problem = "";
        var trimmed = text.Trim();
        switch (type)
        {
            case TagWriteType.Text:
                value = SampleValue.FromString(text);
                return true;
            case TagWriteType.Boolean:
                switch (trimmed.ToLowerInvariant())
                {
                    case "true" or "1" or "on":
                        value = SampleValue.FromBoolean(true);
                        return true;
                    case "false" or "0" or "off":
                        value = SampleValue.FromBoolean(false);
                        return true;
                    default:
                        problem = $"VALUE '{text}' is no bool: give true/false or 1/0";
                        return false;
                }
        }

        if (TagWriteTypes.IsInteger(type))
        {
            if (long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            {
                var (min, max) = TagWriteTypes.Range(type);
                if (type != TagWriteType.UInt64 && (integer < min || integer > max) || type == TagWriteType.UInt64 && integer < 0)
                {
                    problem = $"VALUE {integer} does not fit {type.ToString().ToLowerInvariant()} ({min} to {max})";
                    return false;
                }

                value = SampleValue.FromInteger(integer);
                return true;
            }

            if (type == TagWriteType.UInt64 && ulong.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var unsigned))
            {
                value = SampleValue.FromUnsignedInteger(unsigned);
                return true;
            }

            problem = $"VALUE '{text}' is no whole number for {type.ToString().ToLowerInvariant()}";
            return false;
        }

        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            value = type == TagWriteType.Any && long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) ? SampleValue.FromInteger(whole) : SampleValue.FromDouble(number);
            return true;
        }

        if (type == TagWriteType.Any)
        {
            value = trimmed.ToLowerInvariant() switch
            {
                "true" => SampleValue.FromBoolean(true),
                "false" => SampleValue.FromBoolean(false),
                _ => SampleValue.FromString(text),
            };
            return true;
        }

        problem = $"VALUE '{text}' is no number";
        return false;
    }

    private static bool Fail(string message, out string problem)
    {
        problem = message;
        return true;
    }
}
