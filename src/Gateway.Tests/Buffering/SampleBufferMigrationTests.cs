using Gateway.Buffering;
using Gateway.Drivers;
using Gateway.Observability;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Buffering;

/// <summary>A Pi upgraded with a backlog: a buffer.db of the row-per-sample version opens with nothing lost.</summary>
public sealed class SampleBufferMigrationTests : IDisposable
{
    private static readonly DateTimeOffset s_t0 = new(2026, 5, 1, 6, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("gw-migrate-").FullName;
    private readonly FakeTimeProvider _time = new(s_t0);

    [Fact]
    public void Open_ARowSchemaBuffer_MigratesEverySampleUnderItsOldId_WithTheCursors()
    {
        var path = Path.Combine(_directory, "buffer.db");
        WriteRowSchemaBuffer(path);

        using var metrics = new GatewayMetrics(_time);
        var sinks = new[] { "mqtt-uns", "influx" };
        using (var buffer = new SampleBuffer(path, 1 << 20, sinks, metrics, _time, NullLogger<SampleBuffer>.Instance))
        {
            // Rows 1-3 were deleted (acknowledged by both), 4-1003 wait, there is a hole at 500, and ids up to 1100 were given.
            Assert.Equal(999, buffer.Count);
            Assert.Equal(1100, buffer.LastSequence);
            Assert.Equal(10, buffer.CursorOf("mqtt-uns"));
            Assert.Equal(3, buffer.CursorOf("influx"));

            var forUns = new List<BufferedSample>();
            buffer.Read("mqtt-uns", buffer.CursorOf("mqtt-uns"), long.MaxValue, 10_000, forUns);
            Assert.Equal(Enumerable.Range(11, 993).Where(i => i != 500).Select(i => (long)i), forUns.Select(r => r.Id));

            var forInflux = new List<BufferedSample>();
            buffer.Read("influx", buffer.CursorOf("influx"), long.MaxValue, 10_000, forInflux);
            Assert.Equal(999, forInflux.Count);
            var byId = forInflux.ToDictionary(r => r.Id, r => r.Sample);
            Assert.Equal(Sample.Good(new TagInfo("press", "total-count", "parts"), s_t0, s_t0.AddMilliseconds(5), SampleValue.FromInteger(4)), byId[4]);
            Assert.Equal(SampleValue.FromDouble(-12.375), byId[5].Value);
            Assert.Equal((Quality.Uncertain, 0x40920000u), (byId[5].Quality, byId[5].StatusCode));
            Assert.Equal(SampleValue.FromString("down: jam ✓"), byId[6].Value);
            Assert.Equal(SampleValue.FromBoolean(true), byId[7].Value);
            Assert.Equal(Sample.Bad(new TagInfo("press", "state"), s_t0.AddSeconds(1), 0x80310000), byId[8]);

            // New samples continue after the highest id the old version ever gave (sqlite_sequence), never reusing one.
            buffer.Append([Sample.Good(new TagInfo("press", "total-count", "parts"), s_t0, s_t0, SampleValue.FromInteger(2000))]);
            Assert.Equal(1101, buffer.LastSequence);
        }

        using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'samples'";
        Assert.Equal(0L, command.ExecuteScalar());
    }

    /// <summary>The schema and the rows the previous SampleBuffer wrote (copied from it).</summary>
    private static void WriteRowSchemaBuffer(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE tags (id INTEGER PRIMARY KEY, machine TEXT NOT NULL, path TEXT NOT NULL, unit TEXT, UNIQUE (machine, path, unit));
            CREATE TABLE samples (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                tag INTEGER NOT NULL,
                source_ts INTEGER NOT NULL,
                gateway_ts INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                num INTEGER,
                real REAL,
                text TEXT,
                quality INTEGER NOT NULL,
                status INTEGER NOT NULL);
            CREATE TABLE cursors (sink TEXT PRIMARY KEY, acked INTEGER NOT NULL);
            INSERT INTO tags (id, machine, path, unit) VALUES (1, 'press', 'total-count', 'parts'), (2, 'press', 'temperature', 'degC'), (3, 'press', 'state', NULL);
            INSERT INTO cursors (sink, acked) VALUES ('mqtt-uns', 10), ('influx', 3);
            """;
        command.ExecuteNonQuery();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO samples (id, tag, source_ts, gateway_ts, kind, num, real, text, quality, status) VALUES ($id, $tag, $source, $gateway, $kind, $num, $real, $text, $quality, $status)";
        void Row(long id, long tag, DateTimeOffset source, DateTimeOffset gateway, int kind, long? num, double? real, string? text, int quality, uint status)
        {
            insert.Parameters.Clear();
            insert.Parameters.AddWithValue("$id", id);
            insert.Parameters.AddWithValue("$tag", tag);
            insert.Parameters.AddWithValue("$source", source.UtcTicks);
            insert.Parameters.AddWithValue("$gateway", gateway.UtcTicks);
            insert.Parameters.AddWithValue("$kind", kind);
            insert.Parameters.AddWithValue("$num", (object?)num ?? DBNull.Value);
            insert.Parameters.AddWithValue("$real", (object?)real ?? DBNull.Value);
            insert.Parameters.AddWithValue("$text", (object?)text ?? DBNull.Value);
            insert.Parameters.AddWithValue("$quality", quality);
            insert.Parameters.AddWithValue("$status", (long)status);
            insert.ExecuteNonQuery();
        }

        Row(4, 1, s_t0, s_t0.AddMilliseconds(5), 2, 4, null, null, 0, 0);
        Row(5, 2, s_t0, s_t0, 3, null, -12.375, null, 1, 0x40920000);
        Row(6, 3, s_t0, s_t0, 4, null, null, "down: jam ✓", 0, 0);
        Row(7, 3, s_t0, s_t0, 1, 1, null, null, 0, 0);
        Row(8, 3, s_t0.AddSeconds(1), s_t0.AddSeconds(1), 0, null, null, null, 2, 0x80310000);
        for (var id = 9; id <= 1003; id++)
        {
            if (id != 500)
            {
                Row(id, 1, s_t0.AddMilliseconds(id), s_t0.AddMilliseconds(id), 2, id, null, null, 0, 0);
            }
        }

        transaction.Commit();
        using var sequence = connection.CreateCommand();
        // The old version had handed out ids up to 1100 (the newest rows were dropped by its quota or rolled back).
        sequence.CommandText = "UPDATE sqlite_sequence SET seq = 1100 WHERE name = 'samples'";
        sequence.ExecuteNonQuery();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
