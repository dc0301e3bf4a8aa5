using System.Globalization;
using Gateway.Drivers;
using Gateway.Observability;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

using Gateway.Buffering;

namespace Gateway.Benchmarks.Buffer;

/// <summary>
/// THE BASELINE: the row-per-sample SampleBuffer as it was at da6db5c (copied verbatim but for its log lines), measured
/// beside the batch buffer in the same run.
/// The store-and-forward buffer: an SQLite file in WAL mode. Samples are appended in batches (one
/// transaction per flush), read oldest first, and deleted only once acknowledged. A byte quota drops the
/// oldest samples, counting them. Row ids only grow (AUTOINCREMENT), so "oldest first" is "smallest id".
/// Thread-safe: every operation takes the buffer's lock (SQLite serialises writers anyway).
/// </summary>
public sealed class RowSampleBuffer : IDisposable
{
    /// <summary>Bytes counted per row besides its string value: ids, timestamps, value, quality, and SQLite's overhead.</summary>
    public const int RowOverheadBytes = 48;

    private readonly Lock _lock = new();
    private readonly SqliteConnection _connection;
    private readonly long _maxBytes;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Dictionary<TagInfo, long> _tagIds = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, TagInfo> _tagsById = [];
    private readonly Lock _readLock = new();
    private readonly SqliteConnection _readConnection;
    private readonly SqliteCommand _insert;
    private readonly SqliteParameter[] _insertParameters;
    private readonly string[] _sinks;
    private readonly Dictionary<string, long> _cursors = new(StringComparer.Ordinal);
    private long _count;
    private long _bytes;
    private bool _disposed;

    public RowSampleBuffer(string path, long maxBytes, GatewayMetrics metrics, ILogger logger)
        : this(path, maxBytes, [DefaultSink], metrics, logger)
    {
    }

    /// <summary>A buffer consumed by <paramref name="sinks"/>: a sample is deleted once every one of them acknowledged it.</summary>
    public RowSampleBuffer(string path, long maxBytes, IReadOnlyCollection<string> sinks, GatewayMetrics metrics, ILogger logger)
    {
        _maxBytes = maxBytes;
        _sinks = [.. sinks];
        _metrics = metrics;
        _logger = logger;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        // WAL with synchronous=NORMAL: a commit survives a process crash (kill -9); after a power cut the last
        // transactions may be lost, which an SD card's own write cache would make so anyway.
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=1000;");
        Execute("""
            CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, machine TEXT NOT NULL, path TEXT NOT NULL, unit TEXT, UNIQUE (machine, path, unit));
            CREATE TABLE IF NOT EXISTS samples (
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
            CREATE TABLE IF NOT EXISTS cursors (sink TEXT PRIMARY KEY, acked INTEGER NOT NULL);
            """);
        LoadTags();
        LoadCursors();
        // A second connection for the publisher's reads: under WAL they do not wait for the writer's transactions.
        _readConnection = new SqliteConnection(_connection.ConnectionString);
        _readConnection.Open();
        using (var stats = _connection.CreateCommand())
        {
            stats.CommandText = $"SELECT COUNT(*), IFNULL(SUM({RowOverheadBytes} + IFNULL(length(text), 0)), 0) FROM samples";
            using var reader = stats.ExecuteReader();
            reader.Read();
            _count = reader.GetInt64(0);
            _bytes = reader.GetInt64(1);
        }

        _insert = _connection.CreateCommand();
        _insert.CommandText = "INSERT INTO samples (tag, source_ts, gateway_ts, kind, num, real, text, quality, status) VALUES ($tag, $source, $gateway, $kind, $num, $real, $text, $quality, $status)";
        _insertParameters =
        [
            _insert.Parameters.Add("$tag", SqliteType.Integer),
            _insert.Parameters.Add("$source", SqliteType.Integer),
            _insert.Parameters.Add("$gateway", SqliteType.Integer),
            _insert.Parameters.Add("$kind", SqliteType.Integer),
            _insert.Parameters.Add("$num", SqliteType.Integer),
            _insert.Parameters.Add("$real", SqliteType.Real),
            _insert.Parameters.Add("$text", SqliteType.Text),
            _insert.Parameters.Add("$quality", SqliteType.Integer),
            _insert.Parameters.Add("$status", SqliteType.Integer),
        ];
        _insert.Prepare();
        PublishState();
    }

    /// <summary>The sink name used when the buffer has a single consumer.</summary>
    public const string DefaultSink = "mqtt-uns";

    /// <summary>The highest id a sink has acknowledged: it reads what comes after.</summary>
    public long CursorOf(string sink)
    {
        lock (_lock)
        {
            return _cursors.GetValueOrDefault(sink);
        }
    }

    /// <summary>Samples waiting.</summary>
    public long Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Bytes of samples waiting, as counted against the quota.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public long MaxBytes => _maxBytes;

    /// <summary>Counted size of one sample.</summary>
    public static long SizeOf(in Sample sample) => RowOverheadBytes + (sample.Value.Kind == SampleValueKind.String ? sample.Value.AsString!.Length : 0); // as SQLite's length(text): characters

    /// <summary>Appends a batch in one transaction, then enforces the quota. Returns the number of samples dropped.</summary>
    public long Append(IReadOnlyList<Sample> samples)
    {
        if (samples.Count == 0)
        {
            return 0;
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using (var transaction = _connection.BeginTransaction())
            {
                _insert.Transaction = transaction;
                long bytes = 0;
                for (var i = 0; i < samples.Count; i++)
                {
                    var sample = samples[i];
                    var p = _insertParameters;
                    p[0].Value = TagId(sample.Tag, transaction);
                    p[1].Value = sample.SourceTimestamp.UtcTicks;
                    p[2].Value = sample.GatewayTimestamp.UtcTicks;
                    p[3].Value = (int)sample.Value.Kind;
                    switch (sample.Value.Kind)
                    {
                        case SampleValueKind.Boolean or SampleValueKind.Integer:
                            p[4].Value = sample.Value.AsInteger;
                            p[5].Value = DBNull.Value;
                            p[6].Value = DBNull.Value;
                            break;
                        case SampleValueKind.Double:
                            p[4].Value = DBNull.Value;
                            p[5].Value = sample.Value.AsDouble;
                            p[6].Value = DBNull.Value;
                            break;
                        case SampleValueKind.String:
                            p[4].Value = DBNull.Value;
                            p[5].Value = DBNull.Value;
                            p[6].Value = sample.Value.AsString;
                            break;
                        default:
                            p[4].Value = DBNull.Value;
                            p[5].Value = DBNull.Value;
                            p[6].Value = DBNull.Value;
                            break;
                    }

                    p[7].Value = (int)sample.Quality;
                    p[8].Value = (long)sample.StatusCode;
                    _insert.ExecuteNonQuery();
                    bytes += SizeOf(sample);
                }

                transaction.Commit();
                _insert.Transaction = null;
                _count += samples.Count;
                _bytes += bytes;
            }

            var dropped = EnforceQuota();
            PublishState();
            return dropped;
        }
    }

    /// <summary>Reads up to <paramref name="max"/> samples with ids above <paramref name="afterId"/>, oldest first.</summary>
    public int ReadOldest(long afterId, int max, List<BufferedSample> into)
    {
        lock (_readLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var command = _readConnection.CreateCommand();
            command.CommandText = "SELECT id, tag, source_ts, gateway_ts, kind, num, real, text, quality, status FROM samples WHERE id > $after ORDER BY id LIMIT $max";
            command.Parameters.AddWithValue("$after", afterId);
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            var read = 0;
            while (reader.Read())
            {
                var kind = (SampleValueKind)reader.GetInt32(4);
                var value = kind switch
                {
                    SampleValueKind.Boolean => SampleValue.FromBoolean(reader.GetInt64(5) != 0),
                    SampleValueKind.Integer => SampleValue.FromInteger(reader.GetInt64(5)),
                    SampleValueKind.Double => SampleValue.FromDouble(reader.GetDouble(6)),
                    SampleValueKind.String => SampleValue.FromString(reader.GetString(7)),
                    _ => SampleValue.None,
                };
                var sample = new Sample(
                    _tagsById[reader.GetInt64(1)],
                    new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero),
                    new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero),
                    value,
                    (Quality)reader.GetInt32(8),
                    (uint)reader.GetInt64(9));
                into.Add(new BufferedSample(reader.GetInt64(0), sample));
                read++;
            }

            return read;
        }
    }

    /// <summary>
    /// Records that <paramref name="sink"/> delivered every sample up to <paramref name="upToId"/>, and deletes
    /// the samples that every sink has delivered. A sink sends in id order and acknowledges a prefix, so one
    /// number per sink is enough, and it survives a restart.
    /// </summary>
    public void Acknowledge(string sink, long upToId)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (upToId <= _cursors.GetValueOrDefault(sink))
            {
                return;
            }

            _cursors[sink] = upToId;
            var deletable = _sinks.Min(s => _cursors.GetValueOrDefault(s));
            using var transaction = _connection.BeginTransaction();
            using (var save = _connection.CreateCommand())
            {
                save.Transaction = transaction;
                save.CommandText = "INSERT INTO cursors (sink, acked) VALUES ($sink, $acked) ON CONFLICT (sink) DO UPDATE SET acked = excluded.acked";
                save.Parameters.AddWithValue("$sink", sink);
                save.Parameters.AddWithValue("$acked", upToId);
                save.ExecuteNonQuery();
            }

            using (var command = _connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = $"SELECT COUNT(*), IFNULL(SUM({RowOverheadBytes} + IFNULL(length(text), 0)), 0) FROM samples WHERE id <= $to; DELETE FROM samples WHERE id <= $to;";
                command.Parameters.AddWithValue("$to", deletable);
                using var reader = command.ExecuteReader();
                reader.Read();
                _count -= reader.GetInt64(0);
                _bytes -= reader.GetInt64(1);
            }

            transaction.Commit();
            PublishState();
        }
    }

    /// <summary>Drops the oldest samples until the buffer is within its quota.</summary>
    private long EnforceQuota()
    {
        long dropped = 0;
        while (_bytes > _maxBytes && _count > 0)
        {
            var average = Math.Max(1, _bytes / _count);
            var excessRows = Math.Max(1, (_bytes - _maxBytes + average - 1) / average);
            using var command = _connection.CreateCommand();
            command.CommandText = $"""
                SELECT COUNT(*), IFNULL(SUM({RowOverheadBytes} + IFNULL(length(text), 0)), 0), MAX(id) FROM (SELECT id, text FROM samples ORDER BY id LIMIT $n);
                """;
            command.Parameters.AddWithValue("$n", excessRows);
            long rows, bytes, lastId;
            using (var reader = command.ExecuteReader())
            {
                reader.Read();
                rows = reader.GetInt64(0);
                bytes = reader.GetInt64(1);
                lastId = reader.IsDBNull(2) ? 0 : reader.GetInt64(2);
            }

            if (rows == 0)
            {
                _count = 0;
                _bytes = 0;
                break;
            }

            using var delete = _connection.CreateCommand();
            delete.CommandText = "DELETE FROM samples WHERE id <= $last";
            delete.Parameters.AddWithValue("$last", lastId);
            delete.ExecuteNonQuery();
            _count -= rows;
            _bytes -= bytes;
            dropped += rows;
        }

        if (dropped > 0)
        {
            _metrics.AddDropped(dropped);
        }

        return dropped;
    }

    private long TagId(TagInfo tag, SqliteTransaction transaction)
    {
        if (_tagIds.TryGetValue(tag, out var id))
        {
            return id;
        }

        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO tags (machine, path, unit) VALUES ($m, $p, $u) ON CONFLICT DO NOTHING; SELECT id FROM tags WHERE machine = $m AND path = $p AND unit IS $u;";
        command.Parameters.AddWithValue("$m", tag.Machine);
        command.Parameters.AddWithValue("$p", tag.Path);
        command.Parameters.AddWithValue("$u", (object?)tag.Unit ?? DBNull.Value);
        id = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        _tagIds[tag] = id;
        _tagsById[id] = tag;
        return id;
    }

    private void LoadCursors()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT sink, acked FROM cursors";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            _cursors[reader.GetString(0)] = reader.GetInt64(1);
        }
    }

    private void LoadTags()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT id, machine, path, unit FROM tags";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var tag = new TagInfo(reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));
            _tagsById[reader.GetInt64(0)] = tag;
            _tagIds[tag] = reader.GetInt64(0);
        }
    }

    private void PublishState()
    {
        long oldest = 0;
        if (_count > 0)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT gateway_ts FROM samples ORDER BY id LIMIT 1";
            if (command.ExecuteScalar() is long ticks)
            {
                oldest = new DateTimeOffset(ticks, TimeSpan.Zero).ToUnixTimeMilliseconds();
            }
        }

        _metrics.SetBufferState(_count, _bytes, oldest);
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            lock (_readLock)
            {
                _disposed = true;
                _readConnection.Dispose();
            }

            _insert.Dispose();
            _connection.Dispose();
        }
    }
}
