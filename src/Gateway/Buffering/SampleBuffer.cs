using System.Globalization;
using System.Runtime.InteropServices;
using Gateway.Drivers;
using Gateway.Observability;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gateway.Buffering;

/// <summary>A sample read back from the buffer, with its sequence number for acknowledgement.</summary>
public readonly record struct BufferedSample(long Id, Sample Sample);

/// <summary>
/// The store-and-forward buffer: an SQLite file in WAL mode holding one row per flush batch
/// (<c>batches(first_seq, last_seq, count, bytes, oldest_gateway_ts, data)</c>, the samples encoded by
/// <see cref="SampleBatchCodec"/>). Every sample has a sequence number (first_seq + its index in the batch);
/// the next one is persisted, so numbers are never reused, not after a restart nor after the buffer emptied.
/// Each sink's acknowledged ranges are persisted (<c>cursors</c>: the contiguous prefix, <c>ack_ranges</c>:
/// the ranges above it); a batch is deleted once every sink acknowledged all of its samples. The quota drops
/// the oldest whole batches that no sink holds leased, and counts exactly the samples some sink had not
/// acknowledged. The index of batches, the acknowledgements and the leases live in memory, so an append is
/// one INSERT and a read is one blob per batch. One process per buffer (<see cref="BufferLock"/>).
/// Thread-safe: every operation takes the buffer's lock (SQLite serialises writers anyway).
/// </summary>
public sealed partial class SampleBuffer : ISampleLog, IDisposable
{
    /// <summary>The sink name used when the buffer has a single consumer.</summary>
    public const string DefaultSink = "mqtt-uns";

    /// <summary>At most this many samples share one row (bounds the memory of one read).</summary>
    public const int MaxSamplesPerBatch = 32 * 1024;

    private const int SchemaVersion = 2;
    private static readonly TimeSpan s_dropSummaryInterval = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly string _path;
    private readonly BufferLock _fileLock;
    private readonly SqliteConnection _connection;
    private readonly long _maxBytes;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    // Keyed as the tags table is (machine, path, unit): a tag whose unit changed gets a row of its own. TagInfo
    // caches its hash and compares references first, so the lookup per sample costs no string hashing.
    private readonly Dictionary<TagInfo, long> _tagIds = new(TagRowComparer.Instance);
    private readonly Dictionary<long, TagInfo> _tagsById = [];
    private readonly BatchList _batches = new();
    private readonly string[] _sinks;
    private readonly Dictionary<string, SinkState> _sinkStates = new(StringComparer.Ordinal);
    private readonly BatchWriter _writer = new();
    private readonly List<SequenceRange> _scratch = [];
    private readonly List<SequenceRange> _scratch2 = [];
    private readonly SqliteCommand _insertBatch;
    private readonly SqliteCommand _saveNextSequence;
    private readonly SqliteCommand _deleteBatch;
    private readonly SqliteCommand _saveCursor;
    private readonly SqliteCommand _deleteRanges;
    private readonly SqliteCommand _insertRange;
    private readonly BatchReader[] _prefixReader = [new()];
    private long _nextSequence = 1;
    private long _readerClock;
    private long _storedBytes;
    private long _waiting;
    private bool _dropping;
    private long _dropWindowStart;
    private long _droppedInWindow;
    private bool _disposed;

    public SampleBuffer(string path, long maxBytes, GatewayMetrics metrics, ILogger<SampleBuffer> logger)
        : this(path, maxBytes, [DefaultSink], metrics, logger)
    {
    }

    /// <summary>A buffer consumed by <paramref name="sinks"/>: a sample is deleted once every one of them acknowledged it.</summary>
    public SampleBuffer(string path, long maxBytes, IReadOnlyCollection<string> sinks, GatewayMetrics metrics, ILogger<SampleBuffer> logger)
        : this(path, maxBytes, sinks, metrics, TimeProvider.System, logger)
    {
    }

    /// <summary>A buffer consumed by <paramref name="sinks"/>, with the clock its drop summaries are timed by.</summary>
    public SampleBuffer(string path, long maxBytes, IReadOnlyCollection<string> sinks, GatewayMetrics metrics, TimeProvider timeProvider, ILogger<SampleBuffer> logger)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        _path = path;
        _maxBytes = maxBytes;
        _sinks = [.. sinks];
        _metrics = metrics;
        _time = timeProvider;
        _logger = logger;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _fileLock = BufferLock.Acquire(path);
        try
        {
            _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
            _connection.Open();
            // WAL with synchronous=NORMAL: a commit survives a process crash (kill -9); after a power cut the last
            // transactions may be lost, which an SD card's own write cache would make so anyway.
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=1000;");
            Execute("""
                CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, machine TEXT NOT NULL, path TEXT NOT NULL, unit TEXT, UNIQUE (machine, path, unit));
                CREATE TABLE IF NOT EXISTS batches (
                    first_seq INTEGER PRIMARY KEY,
                    last_seq INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    bytes INTEGER NOT NULL,
                    oldest_gateway_ts INTEGER NOT NULL,
                    data BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS cursors (sink TEXT PRIMARY KEY, acked INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS ack_ranges (sink TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL, PRIMARY KEY (sink, first)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """);
            LoadTags();
            _insertBatch = Prepare(
                "INSERT INTO batches (first_seq, last_seq, count, bytes, oldest_gateway_ts, data) VALUES ($first, $last, $count, $bytes, $oldest, zeroblob($bytes))",
                "$first", "$last", "$count", "$bytes", "$oldest");
            _saveNextSequence = Prepare("INSERT INTO meta (key, value) VALUES ('next_seq', $next) ON CONFLICT (key) DO UPDATE SET value = excluded.value", "$next");
            _deleteBatch = Prepare("DELETE FROM batches WHERE first_seq = $first", "$first");
            _saveCursor = Prepare("INSERT INTO cursors (sink, acked) VALUES ($sink, $acked) ON CONFLICT (sink) DO UPDATE SET acked = excluded.acked", "$sink", "$acked");
            _deleteRanges = Prepare("DELETE FROM ack_ranges WHERE sink = $sink", "$sink");
            _insertRange = Prepare("INSERT INTO ack_ranges (sink, first, last) VALUES ($sink, $first, $last)", "$sink", "$first", "$last");
            var migrated = MigrateRowSchema();
            LoadState();
            PublishState();
            if (migrated > 0)
            {
                BufferLog.Migrated(_logger, migrated, path);
            }

            if (_waiting > 0)
            {
                BufferLog.Resumed(_logger, _waiting, _storedBytes, path);
            }
        }
        catch
        {
            _connection?.Dispose();
            _fileLock.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public long LastSequence
    {
        get
        {
            lock (_lock)
            {
                return _nextSequence - 1;
            }
        }
    }

    /// <summary>Samples waiting (not yet acknowledged by every sink).</summary>
    public long Count
    {
        get
        {
            lock (_lock)
            {
                return _waiting;
            }
        }
    }

    /// <summary>Bytes of the batches on disk (their encoded size), as counted against the quota.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _storedBytes;
            }
        }
    }

    public long MaxBytes => _maxBytes;

    /// <summary>How many times a batch was read from the file and decoded from its start (for tests).</summary>
    internal long BatchLoads { get; private set; }

    /// <summary>Appends a batch in one transaction, then enforces the quota. Returns the number of samples dropped.</summary>
    public long Append(IReadOnlyList<Sample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            return 0;
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var added = new List<BatchInfo>(1 + (samples.Count / MaxSamplesPerBatch));
            var next = _nextSequence;
            using (var transaction = _connection.BeginTransaction())
            {
                for (var start = 0; start < samples.Count; start += MaxSamplesPerBatch)
                {
                    var count = Math.Min(MaxSamplesPerBatch, samples.Count - start);
                    SampleBatchCodec.Encode(samples, start, count, new TagIds(this, transaction), _writer);
                    var oldest = long.MaxValue;
                    for (var i = start; i < start + count; i++)
                    {
                        oldest = Math.Min(oldest, samples[i].GatewayTimestamp.UtcTicks);
                    }

                    var batch = new BatchInfo(next, next + count - 1, _writer.Length, oldest);
                    Run(_insertBatch, transaction, batch.First, batch.Last, count, batch.Bytes, oldest);
                    using (var blob = new SqliteBlob(_connection, "batches", "data", batch.First))
                    {
                        blob.Write(_writer.Written);
                    }

                    added.Add(batch);
                    next += count;
                }

                Run(_saveNextSequence, transaction, next);
                transaction.Commit();
            }

            _nextSequence = next;
            foreach (var batch in added)
            {
                _batches.Add(batch);
                _storedBytes += batch.Bytes;
                _waiting += batch.Count;
            }

            var dropped = EnforceQuota();
            PublishState();
            return dropped;
        }
    }

    /// <inheritdoc />
    public int Read(string sink, long afterSequence, long throughSequence, int max, List<BufferedSample> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var state = StateOf(sink);
            var filter = new SinkFilter(afterSequence, throughSequence, state.Acked);
            var start = into.Count;
            var read = ReadBatches(afterSequence, throughSequence, max, state.Acked, filter, into, state.Readers);
            if (read > 0)
            {
                state.Leases.Add(new SequenceRange(into[start].Id, into[^1].Id));
            }

            return read;
        }
    }

    /// <summary>
    /// Reads up to <paramref name="max"/> samples with sequence numbers above <paramref name="afterId"/>, oldest
    /// first, without leasing them or skipping what a sink acknowledged. Internal: no output uses it any more (they
    /// read through <see cref="ISampleLog"/>); tests use it to see what is stored.
    /// </summary>
    internal int ReadOldest(long afterId, int max, List<BufferedSample> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ReadBatches(afterId, long.MaxValue, max, null, new SinkFilter(afterId, long.MaxValue, null), into, _prefixReader);
        }
    }

    /// <inheritdoc />
    public void Acknowledge(string sink, SequenceRange range)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var state = StateOf(sink);
            state.Leases.Remove(range);
            var first = Math.Max(range.First, state.Acked.Floor + 1);
            var last = Math.Min(range.Last, _nextSequence - 1);
            if (last < first || state.Acked.ContainsAll(first, last))
            {
                return;
            }

            state.Acked.Add(new SequenceRange(first, last));
            using var transaction = _connection.BeginTransaction();
            SaveSink(sink, state, transaction);
            // The batches delivered by every sink go from the index one run at a time (a drain of many small
            // batches would otherwise shift the whole index once per batch).
            var index = FirstBatchEndingAtOrAfter(first);
            var run = -1;
            for (; index < _batches.Count && _batches[index].First <= last; index++)
            {
                ref var batch = ref _batches[index];
                var common = CommonlyAcknowledged(batch);
                _waiting -= common - batch.CommonAcked;
                batch.CommonAcked = common;
                if (common == batch.Count)
                {
                    Run(_deleteBatch, transaction, batch.First);
                    _storedBytes -= batch.Bytes;
                    run = run < 0 ? index : run;
                }
                else if (run >= 0)
                {
                    _batches.RemoveRange(run, index - run);
                    index = run;
                    run = -1;
                }
            }

            if (run >= 0)
            {
                _batches.RemoveRange(run, index - run);
            }

            transaction.Commit();
            PublishState();
        }
    }

    /// <summary>
    /// Records that <paramref name="sink"/> delivered every sample up to <paramref name="upToId"/> (see
    /// <see cref="Acknowledge(string, SequenceRange)"/>). Internal: the outputs acknowledge ranges; tests use it.
    /// </summary>
    internal void Acknowledge(string sink, long upToId)
    {
        long floor;
        lock (_lock)
        {
            floor = StateOf(sink).Acked.Floor;
        }

        if (upToId > floor)
        {
            Acknowledge(sink, new SequenceRange(floor + 1, upToId));
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<SequenceRange> Acknowledged(string sink)
    {
        lock (_lock)
        {
            return [.. StateOf(sink).Acked.Ranges];
        }
    }

    /// <inheritdoc />
    public long CursorOf(string sink)
    {
        lock (_lock)
        {
            return StateOf(sink).Acked.Floor;
        }
    }

    /// <inheritdoc />
    public void ReleaseLeases(string sink)
    {
        lock (_lock)
        {
            StateOf(sink).Leases.Clear();
        }
    }

    /// <inheritdoc />
    public DateTimeOffset? OldestUnacknowledged(string sink)
    {
        lock (_lock)
        {
            var acked = StateOf(sink).Acked;
            for (var index = FirstBatchEndingAtOrAfter(acked.Floor + 1); index < _batches.Count; index++)
            {
                var batch = _batches[index];
                if (!acked.ContainsAll(batch.First, batch.Last))
                {
                    // The batch's oldest: within one flush interval of the first sample the sink still owes.
                    return new DateTimeOffset(batch.OldestTicks, TimeSpan.Zero);
                }
            }

            return null;
        }
    }

    private int ReadBatches(long after, long through, int max, SequenceRangeSet? acked, SinkFilter filter, List<BufferedSample> into, BatchReader[] readers)
    {
        var read = 0;
        for (var index = FirstBatchEndingAtOrAfter(after + 1); index < _batches.Count && read < max; index++)
        {
            var batch = _batches[index];
            if (batch.First > through)
            {
                break;
            }

            if (acked is not null && acked.ContainsAll(batch.First, batch.Last))
            {
                continue;
            }

            var before = into.Count;
            var from = Math.Max(after + 1, batch.First);
            var reader = PickReader(readers, batch.First, from - batch.First);
            try
            {
                // A reader that comes back for more of the batch it read last resumes where it stopped: a live lane
                // reading a few samples at a time does not decode the batch's beginning again on every read.
                if (reader.BatchFirst != batch.First || reader.Cursor.Index > from - batch.First)
                {
                    if (reader.Data.Length < batch.Bytes)
                    {
                        reader.Data = new byte[Math.Max(batch.Bytes, reader.Data.Length * 2)];
                    }

                    reader.BatchFirst = -1;
                    BatchLoads++;
                    using (var blob = new SqliteBlob(_connection, "batches", "data", batch.First, readOnly: true))
                    {
                        blob.ReadExactly(reader.Data.AsSpan(0, batch.Bytes));
                    }

                    reader.Cursor = SampleBatchCodec.Begin(reader.Data.AsSpan(0, batch.Bytes));
                    reader.BatchFirst = batch.First;
                }

                read += SampleBatchCodec.Decode(reader.Data.AsSpan(0, batch.Bytes), batch.First, ref reader.Cursor, new TagLookup(this), filter, into, max - read);
            }
            catch (Exception ex) when (ex is InvalidDataException or IndexOutOfRangeException or ArgumentOutOfRangeException or KeyNotFoundException or EndOfStreamException)
            {
                // A damaged row (an SD card's bad block) would otherwise stop every output at the same place forever:
                // it goes, counted and logged as dropped, and reading goes on with the next batch.
                into.RemoveRange(before, into.Count - before);
                reader.BatchFirst = -1;
                DropUnreadable(index, ex.Message);
                index--;
            }
        }

        return read;
    }

    /// <summary>
    /// The reader for a read of <paramref name="batchFirst"/>'s batch from <paramref name="offset"/> on. A sink's
    /// live and history lanes interleave their reads, each moving forward: one that can resume there; else an unused
    /// one; else the one holding the nearest batch at or before it (the lane that moved on to this batch); else,
    /// when both hold later batches, the least recently used. (Least recently used alone would let a history lane
    /// reading two batches in a row evict the live lane's.)
    /// </summary>
    private BatchReader PickReader(BatchReader[] readers, long batchFirst, long offset)
    {
        BatchReader? resumes = null, unused = null, behind = null, oldest = null;
        foreach (var reader in readers)
        {
            if (reader.BatchFirst == batchFirst && reader.Cursor.Index <= offset)
            {
                resumes = reader;
                break;
            }

            if (reader.BatchFirst < 0)
            {
                unused ??= reader;
            }
            else if (reader.BatchFirst <= batchFirst && (behind is null || reader.BatchFirst > behind.BatchFirst))
            {
                behind = reader;
            }

            if (oldest is null || reader.LastUsed < oldest.LastUsed)
            {
                oldest = reader;
            }
        }

        var pick = resumes ?? unused ?? behind ?? oldest!;
        pick.LastUsed = ++_readerClock;
        return pick;
    }

    private SinkState StateOf(string sink)
    {
        if (!_sinkStates.TryGetValue(sink, out var state))
        {
            // A sink never seen: it owes everything still stored, nothing that was deleted or dropped.
            state = new SinkState(NewAcknowledgements());
            _sinkStates[sink] = state;
        }

        return state;
    }

    /// <summary>Everything up to the last sequence number that is not in a stored batch.</summary>
    private SequenceRangeSet NewAcknowledgements()
    {
        var acked = new SequenceRangeSet(_batches.Count == 0 ? _nextSequence - 1 : _batches[0].First - 1);
        AddGaps(acked);
        return acked;
    }

    private void AddGaps(SequenceRangeSet acked)
    {
        var expected = 1L;
        for (var index = 0; index < _batches.Count; index++)
        {
            var batch = _batches[index];
            if (batch.First > expected)
            {
                acked.Add(new SequenceRange(expected, batch.First - 1));
            }

            expected = batch.Last + 1;
        }

        if (expected <= _nextSequence - 1)
        {
            acked.Add(new SequenceRange(expected, _nextSequence - 1));
        }
    }

    private void SaveSink(string sink, SinkState state, SqliteTransaction transaction)
    {
        Run(_saveCursor, transaction, sink, state.Acked.Floor);
        if (state.Acked.Ranges.Count > 0 || state.SavedRanges)
        {
            Run(_deleteRanges, transaction, sink);
            foreach (var range in state.Acked.Ranges)
            {
                Run(_insertRange, transaction, sink, range.First, range.Last);
            }

            state.SavedRanges = state.Acked.Ranges.Count > 0;
        }
    }

    private int FirstBatchEndingAtOrAfter(long sequence)
    {
        int low = 0, high = _batches.Count;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (_batches[middle].Last < sequence)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _insertBatch.Dispose();
            _saveNextSequence.Dispose();
            _deleteBatch.Dispose();
            _saveCursor.Dispose();
            _deleteRanges.Dispose();
            _insertRange.Dispose();
            _connection.Dispose();
            _fileLock.Dispose();
        }
    }

    private sealed class SinkState(SequenceRangeSet acked)
    {
        public SequenceRangeSet Acked { get; } = acked;

        public SequenceRangeSet Leases { get; } = SequenceRangeSet.WithoutFloor();

        /// <summary>Two: one for each lane (live, history) reading the sink's samples.</summary>
        public BatchReader[] Readers { get; } = [new(), new()];

        /// <summary>Whether ack_ranges holds rows for this sink (so they must be rewritten even when none remain).</summary>
        public bool SavedRanges { get; set; }
    }

    /// <summary>One reader's copy of the last batch it read, and where its decode stopped.</summary>
    private sealed class BatchReader
    {
        public byte[] Data = [];
        public long BatchFirst = -1;
        public BatchCursor Cursor;
        public long LastUsed;
    }

    private readonly struct TagIds(SampleBuffer buffer, SqliteTransaction transaction) : ITagIds
    {
        public long IdOf(TagInfo tag) => buffer.TagId(tag, transaction);
    }

    private readonly struct TagLookup(SampleBuffer buffer) : ITagLookup
    {
        public TagInfo TagOf(long id) => buffer._tagsById[id];
    }

    /// <summary>after &lt; sequence ≤ through, and not acknowledged by the reading sink.</summary>
    private readonly struct SinkFilter(long after, long through, SequenceRangeSet? acked) : ISequenceFilter
    {
        public bool Includes(long sequence) => sequence > after && sequence <= through && (acked is null || !acked.Contains(sequence));
    }
}
