using Gateway.Drivers.Modbus;

namespace Gateway.Discovery;

/// <summary>A unit id that answered: holding:0's value, or the exception it answered with (it exists all the same).</summary>
public sealed record UnitAnswer(int Unit, ushort? Value, ModbusExceptionCode? Exception);

/// <summary>
/// Finds the unit ids that answer on a serial line or behind a TCP gateway: a read of holding:0 each, an exception
/// answer counting as present, no answer within the timeout as absent. Shared by <c>modbus scan --units</c> and the
/// commissioning page's unit scan.
/// </summary>
public static class ModbusUnitFinder
{
    /// <summary>Asks every unit id from <paramref name="first"/> to <paramref name="last"/> in turn (a missing unit costs one <paramref name="timeout"/>).</summary>
    public static async Task<List<UnitAnswer>> FindAsync(ModbusClient client, int first, int last, TimeSpan timeout, CancellationToken cancellationToken, Func<UnitAnswer, Task>? found = null)
    {
        var answering = new List<UnitAnswer>();
        for (var unit = first; unit <= last; unit++)
        {
            UnitAnswer answer;
            try
            {
                var value = await client.ReadRegistersAsync((byte)unit, ModbusTable.HoldingRegister, 0, 1, timeout, cancellationToken);
                answer = new UnitAnswer(unit, value[0], null);
            }
            catch (ModbusException ex)
            {
                answer = new UnitAnswer(unit, null, ex.Code);
            }
            catch (TimeoutException)
            {
                continue; // no answer: no such unit (or it is off)
            }

            answering.Add(answer);
            if (found is not null)
            {
                await found(answer);
            }
        }

        return answering;
    }
}
