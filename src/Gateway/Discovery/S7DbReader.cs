using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Gateway.Drivers.S7;

namespace Gateway.Discovery;

/// <summary>One reading of a DB's bytes: the S7 type, the driver's address for it, and the value as text.</summary>
public sealed record S7Reading(string Type, string Address, string Value);

/// <summary>One byte offset of a scanned DB: its hex, its bits, and every interpretation starting there.</summary>
public sealed record S7ScanRow(int Offset, string Hex, string Bits, IReadOnlyList<S7Reading> Readings);

/// <summary>
/// Reads a range of a DB through our S7 client, split into as many Read Var jobs and items as the negotiated PDU
/// needs (<see cref="S7ReadPlanner"/>), and shows each offset the way the Modbus scan shows registers: BYTE, the bits
/// as BOOL, WORD/INT, DWORD/DINT/REAL (S7 is big-endian) and an S7 STRING where the header looks like one. Each
/// reading carries the address the <c>s7</c> driver takes (<c>DB1.DBD4</c>), so a click makes it a tag.
/// </summary>
public static class S7DbReader
{
    /// <summary>At most this many bytes per scan (a scan is a burst of reads towards a CPU).</summary>
    public const int MaxBytes = 4096;

    /// <summary>Reads <paramref name="length"/> bytes of DB <paramref name="db"/> from <paramref name="start"/>; throws <see cref="S7Exception"/> when the CPU refuses a part.</summary>
    public static async Task<byte[]> ReadAsync(S7Client client, int db, int start, int length, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pduSize = await client.ConnectAsync(timeout, cancellationToken);
        var plan = S7ReadPlanner.Plan([new S7Range(S7Area.DataBlock, db, start, length)], 0, pduSize);
        foreach (var request in plan.Requests)
        {
            await client.ReadAsync(request.Items, request.Destinations, request.ReturnCodes, timeout, cancellationToken);
            for (var i = 0; i < request.Items.Length; i++)
            {
                if (request.ReturnCodes[i] != S7Wire.ItemSuccess)
                {
                    var item = request.Items[i];
                    throw new S7Exception(S7ErrorSource.Item, request.ReturnCodes[i], $"DB{db} bytes {item.Start}-{item.Start + item.Count - 1}");
                }
            }
        }

        return plan.Blocks[0].Buffer;
    }

    /// <summary>The rows of <paramref name="bytes"/>, read from byte <paramref name="start"/> of DB <paramref name="db"/>.</summary>
    public static List<S7ScanRow> Rows(int db, int start, ReadOnlySpan<byte> bytes)
    {
        var rows = new List<S7ScanRow>(bytes.Length);
        var prefix = "DB" + db.ToString(CultureInfo.InvariantCulture) + ".";
        for (var i = 0; i < bytes.Length; i++)
        {
            var offset = (start + i).ToString(CultureInfo.InvariantCulture);
            var readings = new List<S7Reading>(9);
            for (var bit = 0; bit < 8; bit++)
            {
                readings.Add(new S7Reading("bool", $"{prefix}DBX{offset}.{bit}", ((bytes[i] >> bit) & 1) == 1 ? "true" : "false"));
            }

            readings.Add(new S7Reading("byte", $"{prefix}DBB{offset}", Text(bytes[i])));
            if (i + 2 <= bytes.Length)
            {
                var word = BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
                readings.Add(new S7Reading("word", $"{prefix}DBW{offset}", Text(word)));
                readings.Add(new S7Reading("int", $"{prefix}DBW{offset}", Text((short)word)));
            }

            if (i + 4 <= bytes.Length)
            {
                var dword = BinaryPrimitives.ReadUInt32BigEndian(bytes[i..]);
                readings.Add(new S7Reading("dword", $"{prefix}DBD{offset}", Text(dword)));
                readings.Add(new S7Reading("dint", $"{prefix}DBD{offset}", Text((int)dword)));
                readings.Add(new S7Reading("real", $"{prefix}DBD{offset}", BitConverter.Int32BitsToSingle((int)dword).ToString("G7", CultureInfo.InvariantCulture)));
            }

            if (LooksLikeString(bytes[i..], out var max, out var text))
            {
                readings.Add(new S7Reading("string", $"{prefix}STRING{offset}.{max.ToString(CultureInfo.InvariantCulture)}", text));
            }

            rows.Add(new S7ScanRow(start + i, bytes[i].ToString("X2", CultureInfo.InvariantCulture), Convert.ToString(bytes[i], 2).PadLeft(8, '0'), readings));
        }

        return rows;
    }

    /// <summary>
    /// An S7 STRING header: a maximum of 1 to 254, an actual length of 1 to the maximum, and that many printable
    /// Latin-1 characters within the bytes read. The address keeps the declared maximum.
    /// </summary>
    internal static bool LooksLikeString(ReadOnlySpan<byte> bytes, out int max, out string text)
    {
        max = 0;
        text = "";
        if (bytes.Length < 3 || bytes[0] is 0 or 255 || bytes[1] == 0 || bytes[1] > bytes[0] || 2 + bytes[1] > bytes.Length)
        {
            return false;
        }

        var characters = bytes.Slice(2, bytes[1]);
        foreach (var c in characters)
        {
            if (c < 0x20 || c is >= 0x7F and < 0xA0)
            {
                return false;
            }
        }

        max = bytes[0];
        text = Encoding.Latin1.GetString(characters);
        return true;
    }

    private static string Text<T>(T value)
        where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);
}
