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
    private readonly TagSlots<(TagInfo? Tag, long Id)> _tagIdCache = new();
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

    private readonly struct TagIds(SampleBuffer buffer, SqliteTransaction transaction) : ITagIds
    {
        public long IdOf(TagInfo tag) => buffer.TagId(tag, transaction);
    }
}
