namespace Gateway.Drivers.Modbus;

/// <summary>
/// The protocol core: function codes 1-6, 15 and 16, exception responses, typed reads and writes. One instance per
/// connection or serial line; calls are serialised, so several device pollers can share it. The transport only moves
/// frames.
/// </summary>
public sealed class ModbusClient : IAsyncDisposable
{
    private readonly IModbusTransport _transport;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _request = new byte[ModbusLimits.MaxPduLength];
    private readonly byte[] _response = new byte[ModbusLimits.MaxPduLength + 3];

    public ModbusClient(IModbusTransport transport)
    {
        _transport = transport;
    }

    public IModbusTransport Transport => _transport;

    /// <summary>Requests sent since creation (for benchmarks and metrics).</summary>
    public long RequestCount { get; private set; }

    /// <summary>FC1 (coils) or FC2 (discrete inputs): <paramref name="count"/> bits from <paramref name="start"/>.</summary>
    public async Task<bool[]> ReadBitsAsync(byte unitId, ModbusTable table, ushort start, ushort count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var values = new bool[count];
        await ReadBitsAsync(unitId, table, start, values, timeout, cancellationToken);
        return values;
    }

    /// <summary>FC1 or FC2 into <paramref name="destination"/> (its length is the count): no allocation per request.</summary>
    public async ValueTask ReadBitsAsync(byte unitId, ModbusTable table, ushort start, Memory<bool> destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!table.IsBitTable())
        {
            throw new ArgumentOutOfRangeException(nameof(table), table, "coils or discrete inputs");
        }

        CheckRange(start, destination.Length, ModbusLimits.MaxReadBits);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var length = ModbusPdu.WriteReadRequest(_request, table, start, (ushort)destination.Length);
            var response = await ExchangeAsync(unitId, length, timeout, cancellationToken);
            ModbusPdu.UnpackBits(response.Span[2..], destination.Span);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>FC3 (holding) or FC4 (input registers): <paramref name="count"/> registers from <paramref name="start"/>.</summary>
    public async Task<ushort[]> ReadRegistersAsync(byte unitId, ModbusTable table, ushort start, ushort count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var values = new ushort[count];
        await ReadRegistersAsync(unitId, table, start, values, timeout, cancellationToken);
        return values;
    }

    /// <summary>FC3 or FC4 into <paramref name="destination"/> (its length is the count): no allocation per request.</summary>
    public async ValueTask ReadRegistersAsync(byte unitId, ModbusTable table, ushort start, Memory<ushort> destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (table.IsBitTable())
        {
            throw new ArgumentOutOfRangeException(nameof(table), table, "holding or input registers");
        }

        CheckRange(start, destination.Length, ModbusLimits.MaxReadRegisters);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var length = ModbusPdu.WriteReadRequest(_request, table, start, (ushort)destination.Length);
            var response = await ExchangeAsync(unitId, length, timeout, cancellationToken);
            ModbusPdu.ReadRegisters(response.Span[2..], destination.Span);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<bool[]> ReadCoilsAsync(byte unitId, ushort start, ushort count, TimeSpan timeout, CancellationToken cancellationToken) =>
        ReadBitsAsync(unitId, ModbusTable.Coil, start, count, timeout, cancellationToken);

    public Task<bool[]> ReadDiscreteInputsAsync(byte unitId, ushort start, ushort count, TimeSpan timeout, CancellationToken cancellationToken) =>
        ReadBitsAsync(unitId, ModbusTable.DiscreteInput, start, count, timeout, cancellationToken);

    public Task<ushort[]> ReadHoldingRegistersAsync(byte unitId, ushort start, ushort count, TimeSpan timeout, CancellationToken cancellationToken) =>
        ReadRegistersAsync(unitId, ModbusTable.HoldingRegister, start, count, timeout, cancellationToken);

    public Task<ushort[]> ReadInputRegistersAsync(byte unitId, ushort start, ushort count, TimeSpan timeout, CancellationToken cancellationToken) =>
        ReadRegistersAsync(unitId, ModbusTable.InputRegister, start, count, timeout, cancellationToken);

    /// <summary>FC5.</summary>
    public Task WriteSingleCoilAsync(byte unitId, ushort address, bool value, TimeSpan timeout, CancellationToken cancellationToken) =>
        WriteAsync(unitId, pdu => ModbusPdu.WriteSingleCoilRequest(pdu, address, value), timeout, cancellationToken);

    /// <summary>FC6.</summary>
    public Task WriteSingleRegisterAsync(byte unitId, ushort address, ushort value, TimeSpan timeout, CancellationToken cancellationToken) =>
        WriteAsync(unitId, pdu => ModbusPdu.WriteSingleRegisterRequest(pdu, address, value), timeout, cancellationToken);

    /// <summary>FC15.</summary>
    public Task WriteMultipleCoilsAsync(byte unitId, ushort address, bool[] values, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckRange(address, values.Length, ModbusLimits.MaxWriteBits);
        return WriteAsync(unitId, pdu => ModbusPdu.WriteMultipleCoilsRequest(pdu, address, values), timeout, cancellationToken);
    }

    /// <summary>FC16.</summary>
    public Task WriteMultipleRegistersAsync(byte unitId, ushort address, ushort[] values, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckRange(address, values.Length, ModbusLimits.MaxWriteRegisters);
        return WriteAsync(unitId, pdu => ModbusPdu.WriteMultipleRegistersRequest(pdu, address, values), timeout, cancellationToken);
    }

    /// <summary>Reads one typed value (raw, without scale) at a wire address (after the address base).</summary>
    public async Task<SampleValue> ReadValueAsync(byte unitId, ModbusTable table, ushort address, ModbusValueFormat format, int bit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (table.IsBitTable())
        {
            var bits = await ReadBitsAsync(unitId, table, address, 1, timeout, cancellationToken);
            return SampleValue.FromBoolean(bits[0]);
        }

        var registers = await ReadRegistersAsync(unitId, table, address, (ushort)format.RegisterCount, timeout, cancellationToken);
        return ModbusValueCodec.Decode(registers, format, bit);
    }

    /// <summary>
    /// Writes one typed raw value: FC5 for a coil, FC6 for a 16-bit register, FC16 for wider values and strings.
    /// A bit in a holding register is read, changed and written back (FC3 then FC6); another master writing the same
    /// register in between would be overwritten.
    /// </summary>
    public async Task WriteValueAsync(byte unitId, ModbusTable table, ushort address, ModbusValueFormat format, int bit, SampleValue value, TimeSpan timeout, CancellationToken cancellationToken)
    {
        switch (table)
        {
            case ModbusTable.Coil:
                await WriteSingleCoilAsync(unitId, address, value.AsBoolean, timeout, cancellationToken);
                return;
            case ModbusTable.HoldingRegister:
                break;
            default:
                throw new InvalidOperationException($"{table} is read-only in the Modbus data model");
        }

        if (bit >= 0)
        {
            var current = (await ReadRegistersAsync(unitId, table, address, 1, timeout, cancellationToken))[0];
            var updated = value.AsBoolean ? (ushort)(current | (1 << bit)) : (ushort)(current & ~(1 << bit));
            await WriteSingleRegisterAsync(unitId, address, updated, timeout, cancellationToken);
            return;
        }

        var registers = new ushort[format.RegisterCount];
        ModbusValueCodec.Encode(value, format, registers);
        if (registers.Length == 1)
        {
            await WriteSingleRegisterAsync(unitId, address, registers[0], timeout, cancellationToken);
        }
        else
        {
            await WriteMultipleRegistersAsync(unitId, address, registers, timeout, cancellationToken);
        }
    }

    private async Task WriteAsync(byte unitId, Func<byte[], int> encode, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var length = encode(_request);
            await ExchangeAsync(unitId, length, timeout, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends the request in <see cref="_request"/> and returns the checked response (throws on exception responses).</summary>
    private async ValueTask<ReadOnlyMemory<byte>> ExchangeAsync(byte unitId, int requestLength, TimeSpan timeout, CancellationToken cancellationToken)
    {
        RequestCount++;
        var length = await _transport.TransceiveAsync(unitId, _request.AsMemory(0, requestLength), _response, timeout, cancellationToken);
        if (unitId == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var status = ModbusPdu.CheckResponse(_request.AsSpan(0, requestLength), _response.AsSpan(0, length), out var code, out var problem);
        return status switch
        {
            ModbusResponseStatus.Ok => _response.AsMemory(0, length),
            ModbusResponseStatus.Exception => throw new ModbusException((ModbusFunctionCode)_request[0], code),
            _ => throw new ModbusProtocolException($"malformed response from unit {unitId}: {problem}"),
        };
    }

    private static void CheckRange(int start, int count, int max)
    {
        if (count < 1 || count > max)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"1 to {max} per request");
        }

        if (start + count > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, "the range runs past address 65535");
        }
    }

    public ValueTask DisposeAsync()
    {
        _gate.Dispose();
        return _transport.DisposeAsync();
    }
}
