using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;

namespace Gateway.Oee;

/// <summary>
/// The OEE history: per machine, one row per hour of the plant's clock and one per shift, each with its indicators,
/// the six big losses, the counts and the stops by reason (<see cref="OeeHistoryEntry"/>). A SQLite file beside the
/// buffer (<c>buffer.oee-history.db</c> for <c>buffer.db</c>), so it survives restarts. Rows older than
/// <see cref="Retention"/> are deleted and their pages given back to the file system (auto_vacuum), so the file stays
/// within <c>machines × retention days × (25 hours + shifts a day) × <see cref="MaxRowBytes"/></c> plus its
/// write-ahead log (at most <see cref="MaxLogBytes"/>). Thread-safe.
/// </summary>
public sealed class OeeHistory : IDisposable
{
    /// <summary>What is kept by default: 100 days, so that 90 full days of the plant's calendar are always there.</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(100);

    /// <summary>The largest row: the figures (about 700 bytes of JSON) and ten reasons of at most <see cref="MaxReasonLength"/> characters.</summary>
    public const int MaxRowBytes = 2048;

    /// <summary>A reason longer than this (a PLC string gone wrong) is cut in the history.</summary>
    public const int MaxReasonLength = 80;

    /// <summary>The write-ahead log's size after a checkpoint (it is checkpointed every 64 pages).</summary>
    public const int MaxLogBytes = 262_144 + 65_536;

    private static readonly TimeSpan s_pruneEvery = TimeSpan.FromHours(1);

    private readonly Lock _lock = new();
    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    /// <param name="path">The SQLite file; created with its folder when missing.</param>
    /// <param name="timeProvider">The wall clock that decides what is older than the retention.</param>
    /// <param name="retention">What is kept (default <see cref="DefaultRetention"/>).</param>
    public OeeHistory(string path, TimeProvider timeProvider, TimeSpan? retention = null)
    {
        Path = path;
        _time = timeProvider;
        Retention = retention ?? DefaultRetention;
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        // auto_vacuum must be set before the first table; INCREMENTAL gives freed pages back on incremental_vacuum.
        // The write-ahead log is checkpointed every 64 pages (256 KiB) and cut back to 256 KiB, so it adds little to the bound.
        Execute("PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=64; PRAGMA journal_size_limit=262144;");
        Execute("""
            CREATE TABLE IF NOT EXISTS periods (
                machine TEXT NOT NULL,
                kind INTEGER NOT NULL,
                start_ms INTEGER NOT NULL,
                end_ms INTEGER NOT NULL,
                complete INTEGER NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (kind, start_ms, machine)) WITHOUT ROWID;
            """);
    }

    /// <summary>The history's file name for the buffer at <paramref name="bufferPath"/>: <c>buffer.db</c> keeps it in <c>buffer.oee-history.db</c>.</summary>
    public static string FileNameFor(string bufferPath) => System.IO.Path.GetFileNameWithoutExtension(bufferPath) + ".oee-history.db";

    public string Path { get; }

    public TimeSpan Retention { get; }

    /// <summary>Writes the entries (a period already there is replaced: the current hour is updated at every tick), then, at most once an hour, deletes what is older than the retention.</summary>
    public void Write(IReadOnlyList<OeeHistoryEntry> entries)
    {
        lock (_lock)
        {
            if (entries.Count > 0)
            {
                using var transaction = _connection.BeginTransaction();
                using var command = _connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT INTO periods (machine, kind, start_ms, end_ms, complete, body) VALUES ($machine, $kind, $start, $end, $complete, $body)
                    ON CONFLICT (kind, start_ms, machine) DO UPDATE SET end_ms = excluded.end_ms, complete = excluded.complete, body = excluded.body
                    """;
                var machine = command.Parameters.Add("$machine", SqliteType.Text);
                var kind = command.Parameters.Add("$kind", SqliteType.Integer);
                var start = command.Parameters.Add("$start", SqliteType.Integer);
                var end = command.Parameters.Add("$end", SqliteType.Integer);
                var complete = command.Parameters.Add("$complete", SqliteType.Integer);
                var body = command.Parameters.Add("$body", SqliteType.Text);
                foreach (var entry in entries)
                {
                    machine.Value = entry.Machine;
                    kind.Value = (int)entry.Kind;
                    start.Value = entry.Period.Start.ToUnixTimeMilliseconds();
                    end.Value = entry.Period.End.ToUnixTimeMilliseconds();
                    complete.Value = entry.Complete ? 1 : 0;
                    body.Value = JsonSerializer.Serialize(new OeeHistoryBody(entry.Period, [.. entry.TopReasons.Select(Cut)]), OeeHistoryJsonContext.Default.OeeHistoryBody);
                    command.ExecuteNonQuery();
                }

                transaction.Commit();
            }

            var now = _time.GetUtcNow();
            if (now - _lastPrune >= s_pruneEvery || now < _lastPrune)
            {
                _lastPrune = now;
                Prune(now);
            }
        }
    }

    /// <summary>The entries of <paramref name="kind"/> starting in [<paramref name="from"/>, <paramref name="to"/>), of one machine or all, by start then machine.</summary>
    public List<OeeHistoryEntry> Query(OeeHistoryKind kind, DateTimeOffset from, DateTimeOffset to, string? machine = null)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT machine, complete, body FROM periods WHERE kind = $kind AND start_ms >= $from AND start_ms < $to"
                + (machine is null ? "" : " AND machine = $machine") + " ORDER BY start_ms, machine";
            command.Parameters.AddWithValue("$kind", (int)kind);
            command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
            if (machine is not null)
            {
                command.Parameters.AddWithValue("$machine", machine);
            }

            var result = new List<OeeHistoryEntry>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var body = JsonSerializer.Deserialize(reader.GetString(2), OeeHistoryJsonContext.Default.OeeHistoryBody)!;
                result.Add(new OeeHistoryEntry(reader.GetString(0), kind, body.Period, body.Reasons, reader.GetInt64(1) != 0));
            }

            return result;
        }
    }

    /// <summary>The number of rows and the file's size in bytes (the database and its write-ahead log).</summary>
    public (long Rows, long Bytes) Size()
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM periods";
            var rows = (long)command.ExecuteScalar()!;
            var wal = Path + "-wal";
            return (rows, new FileInfo(Path).Length + (File.Exists(wal) ? new FileInfo(wal).Length : 0));
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            Execute("PRAGMA wal_checkpoint(TRUNCATE);");
            _connection.Dispose();
        }
    }

    private static OeeDowntimeReason Cut(OeeDowntimeReason reason) =>
        reason.Reason.Length <= MaxReasonLength ? reason : reason with { Reason = reason.Reason[..MaxReasonLength] };

    private void Prune(DateTimeOffset now)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "DELETE FROM periods WHERE start_ms < $cut";
        command.Parameters.AddWithValue("$cut", (now - Retention).ToUnixTimeMilliseconds());
        if (command.ExecuteNonQuery() > 0)
        {
            Execute("PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);");
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

}

/// <summary>The JSON of one history row: the period and its top downtime reasons.</summary>
internal sealed record OeeHistoryBody(OeePeriod Period, List<OeeDowntimeReason> Reasons);

/// <summary>The JSON of the history rows, source-generated with the web defaults (camelCase).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(OeeHistoryBody))]
internal sealed partial class OeeHistoryJsonContext : JsonSerializerContext;
