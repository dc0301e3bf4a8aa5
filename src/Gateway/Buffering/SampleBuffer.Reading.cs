using System.Globalization;
using System.Runtime.InteropServices;
using Gateway.Drivers;
using Gateway.Observability;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gateway.Buffering;

/// <summary>
/// The buffer's read side: a sink's samples in sequence order, leased as they are handed out, skipping what it
/// acknowledged; each lane (live, history) keeps its own decoded copy of the last batch it read, so a read resumes
/// where the previous one stopped instead of decoding the batch from its start.
/// </summary>
public sealed partial class SampleBuffer
{
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

    /// <summary>One reader's copy of the last batch it read, and where its decode stopped.</summary>
    private sealed class BatchReader
    {
        public byte[] Data = [];
        public long BatchFirst = -1;
        public BatchCursor Cursor;
        public long LastUsed;
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
