using System.Globalization;
using Gateway.Drivers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gateway.Buffering;

/// <summary>The buffer's SQLite side: the tags table, loading the state at open, the migration of the row-per-sample schema, and the statement helpers.</summary>
public sealed partial class SampleBuffer
{
    private long TagId(TagInfo tag, SqliteTransaction transaction)
    {
        // Every sample of a driver's tag carries the same TagInfo object: its id is found by the tag's index and that
        // object, without hashing; another object of the key (a reload's, one read back) asks the dictionary.
        ref var cached = ref _tagIdCache.GetValueRefOrAddDefault(tag, out _);
        if (ReferenceEquals(cached.Tag, tag))
        {
            return cached.Id;
        }

        if (!_tagIds.TryGetValue(tag, out var id))
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO tags (machine, path, unit) VALUES ($m, $p, $u) ON CONFLICT DO NOTHING; SELECT id FROM tags WHERE machine = $m AND path = $p AND unit IS $u;";
            command.Parameters.AddWithValue("$m", tag.Machine);
            command.Parameters.AddWithValue("$p", tag.Path);
            command.Parameters.AddWithValue("$u", (object?)tag.Unit ?? DBNull.Value);
            id = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            _tagIds[tag] = id;
            _tagsById[id] = tag;
        }

        cached = (tag, id);
        return id;
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

    private void LoadState()
    {
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT first_seq, last_seq, bytes, oldest_gateway_ts FROM batches ORDER BY first_seq";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                _batches.Add(new BatchInfo(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetInt64(3)));
            }
        }

        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT value FROM meta WHERE key = 'next_seq'";
            var next = command.ExecuteScalar() is long stored ? stored : 1;
            _nextSequence = Math.Max(next, _batches.Count == 0 ? 1 : _batches[_batches.Count - 1].Last + 1);
        }

        var floors = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT sink, acked FROM cursors";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                floors[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        foreach (var (sink, floor) in floors)
        {
            var acked = new SequenceRangeSet(Math.Min(floor, _nextSequence - 1));
            AddGaps(acked);
            _sinkStates[sink] = new SinkState(acked);
        }

        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT sink, first, last FROM ack_ranges ORDER BY sink, first";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var state = StateOf(reader.GetString(0));
                state.Acked.Add(new SequenceRange(reader.GetInt64(1), Math.Min(reader.GetInt64(2), _nextSequence - 1)));
                state.SavedRanges = true;
            }
        }

        foreach (var sink in _sinks)
        {
            _ = StateOf(sink);
        }

        for (var index = 0; index < _batches.Count; index++)
        {
            ref var batch = ref _batches[index];
            batch.CommonAcked = CommonlyAcknowledged(batch);
            _storedBytes += batch.Bytes;
            _waiting += batch.Count - batch.CommonAcked;
        }

        using (var command = _connection.CreateCommand())
        {
            command.CommandText = $"INSERT INTO meta (key, value) VALUES ('schema', {SchemaVersion}) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// A buffer.db of the row-per-sample version (a <c>samples</c> table): its rows become batches under the same
    /// sequence numbers (the old row ids), so the old cursors stay valid; then the table goes. One transaction.
    /// </summary>
    private long MigrateRowSchema()
    {
        using (var exists = _connection.CreateCommand())
        {
            exists.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'samples'";
            if ((long)exists.ExecuteScalar()! == 0)
            {
                return 0;
            }
        }

        using (var count = _connection.CreateCommand())
        {
            // The span of the row ids (two index lookups; a COUNT(*) would read the whole table once more, for a
            // log line): exact unless acknowledgements left gaps.
            count.CommandText = "SELECT IFNULL(MAX(id) - MIN(id) + 1, 0) FROM samples";
            BufferLog.Migrating(_logger, _path, (long)count.ExecuteScalar()!);
        }

        using var transaction = _connection.BeginTransaction();
        long next = 1;
        using (var sequence = _connection.CreateCommand())
        {
            sequence.Transaction = transaction;
            sequence.CommandText = "SELECT MAX(IFNULL((SELECT seq FROM sqlite_sequence WHERE name = 'samples'), 0), IFNULL((SELECT MAX(id) FROM samples), 0))";
            next = (long)sequence.ExecuteScalar()! + 1;
        }

        long migrated = 0;
        var chunk = new List<Sample>(MaxSamplesPerBatch);
        long chunkFirst = 0;
        using (var select = _connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id, tag, source_ts, gateway_ts, kind, num, real, text, quality, status FROM samples ORDER BY id";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                if (chunk.Count > 0 && (id != chunkFirst + chunk.Count || chunk.Count == MaxSamplesPerBatch))
                {
                    WriteMigratedBatch(chunkFirst, chunk, transaction);
                    chunk.Clear();
                }

                if (chunk.Count == 0)
                {
                    chunkFirst = id;
                }

                var kind = (SampleValueKind)reader.GetInt32(4);
                var value = kind switch
                {
                    SampleValueKind.Boolean when !reader.IsDBNull(5) => SampleValue.FromBoolean(reader.GetInt64(5) != 0),
                    SampleValueKind.Integer when !reader.IsDBNull(5) => SampleValue.FromInteger(reader.GetInt64(5)),
                    SampleValueKind.Double when !reader.IsDBNull(6) => SampleValue.FromDouble(reader.GetDouble(6)),
                    SampleValueKind.String when !reader.IsDBNull(7) => SampleValue.FromString(reader.GetString(7)),
                    _ => SampleValue.None,
                };
                var tag = _tagsById.TryGetValue(reader.GetInt64(1), out var known) ? known : new TagInfo("unknown", $"tag-{reader.GetInt64(1)}");
                chunk.Add(new Sample(
                    tag,
                    new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero),
                    new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero),
                    value,
                    (Quality)reader.GetInt32(8),
                    (uint)reader.GetInt64(9)));
                migrated++;
            }
        }

        if (chunk.Count > 0)
        {
            WriteMigratedBatch(chunkFirst, chunk, transaction);
        }

        Run(_saveNextSequence, transaction, next);
        using (var drop = _connection.CreateCommand())
        {
            drop.Transaction = transaction;
            drop.CommandText = "DROP TABLE samples";
            drop.ExecuteNonQuery();
        }

        transaction.Commit();
        return migrated;
    }

    private void WriteMigratedBatch(long first, List<Sample> samples, SqliteTransaction transaction)
    {
        SampleBatchCodec.Encode(samples, 0, samples.Count, new TagIds(this, transaction), _writer);
        var oldest = samples.Min(s => s.GatewayTimestamp.UtcTicks);
        Run(_insertBatch, transaction, first, first + samples.Count - 1, samples.Count, _writer.Length, oldest);
        using var blob = new SqliteBlob(_connection, "batches", "data", first);
        blob.Write(_writer.Written);
    }

    private void PublishState()
    {
        var oldest = _batches.Count == 0 ? 0 : new DateTimeOffset(_batches[0].OldestTicks, TimeSpan.Zero).ToUnixTimeMilliseconds();
        _metrics.SetBufferState(_waiting, _storedBytes, oldest);
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(name, name == "$sink" ? SqliteType.Text : SqliteType.Integer);
        }

        return command;
    }

    private static void Run(SqliteCommand command, SqliteTransaction transaction, params ReadOnlySpan<object> values)
    {
        command.Transaction = transaction;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }

        command.ExecuteNonQuery();
        command.Transaction = null;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
