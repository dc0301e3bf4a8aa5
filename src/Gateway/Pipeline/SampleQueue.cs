using System.Threading.Channels;
using Gateway.Drivers;

namespace Gateway.Pipeline;

/// <summary>
/// The pipeline's bounded FIFO of samples: many writers, one reader, a whole batch in or out under one lock. A
/// bounded <see cref="Channel{T}"/> takes its lock once per sample on both sides, which at 100,000 samples a second
/// (ten Modbus devices at 100 Hz) was a lock and a queue node per sample twice over; here a driver's read is one
/// copy into a ring and the buffer writer's flush one copy out. When the ring is full a writer waits for room (the
/// disk is behind: back-pressure, never loss) and resumes, in order, once the reader has emptied at least half of it.
/// Readable as a <see cref="ChannelReader{T}"/> too, one sample at a time. The ring starts small and doubles up to its
/// capacity as bursts need it (a full ring is several megabytes the process would otherwise hold from the start).
/// </summary>
internal sealed class SampleQueue : ChannelReader<Sample>
{
    private const int InitialSize = 256;

    private readonly int _capacity;
    private Sample[] _ring;
    private int _mask;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _head;
    private int _count;
    private bool _completed;

    // The reader's pending WaitToReadAsync, completed (outside the lock) by the next write or by Complete.
    private TaskCompletionSource<bool>? _readerWait;

    // The writers waiting for room, completed once the reader has emptied at least half of the ring.
    private TaskCompletionSource? _room;

    /// <param name="capacity">How many samples the queue holds; a power of two.</param>
    public SampleQueue(int capacity)
    {
        if (capacity <= 0 || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "a power of two");
        }

        _capacity = capacity;
        _ring = new Sample[Math.Min(capacity, InitialSize)];
        _mask = _ring.Length - 1;
    }

    public int Capacity => _capacity;

    public override bool CanCount => true;

    public override int Count => Volatile.Read(ref _count);

    public override Task Completion => _completion.Task;

    /// <summary>Queues as many of <paramref name="samples"/> as there is room for, in order; returns how many (0 once completed).</summary>
    public int TryWrite(ReadOnlySpan<Sample> samples)
    {
        TaskCompletionSource<bool>? reader;
        int written;
        lock (_lock)
        {
            written = _completed ? 0 : Math.Min(samples.Length, _capacity - _count);
            if (written == 0)
            {
                return 0;
            }

            if (_count + written > _ring.Length)
            {
                Grow(_count + written);
            }

            var tail = (_head + _count) & _mask;
            var first = Math.Min(written, _ring.Length - tail);
            samples[..first].CopyTo(_ring.AsSpan(tail));
            samples[first..written].CopyTo(_ring);
            _count += written;
            reader = _readerWait;
            _readerWait = null;
        }

        reader?.TrySetResult(true);
        return written;
    }

    /// <summary>
    /// Queues every one of <paramref name="samples"/>, in order, waiting for room as long as it takes (or until
    /// <paramref name="cancellationToken"/>); throws <see cref="ChannelClosedException"/> once the queue is completed.
    /// </summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<Sample> samples, CancellationToken cancellationToken)
    {
        while (true)
        {
            samples = samples[TryWrite(samples.Span)..];
            if (samples.IsEmpty)
            {
                return;
            }

            Task room;
            lock (_lock)
            {
                if (_completed)
                {
                    throw new ChannelClosedException();
                }

                if (_count < _capacity)
                {
                    continue; // the reader made room meanwhile
                }

                room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await room.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Moves every queued sample to the end of <paramref name="batch"/>, in order; returns how many.</summary>
    public int DrainTo(List<Sample> batch)
    {
        TaskCompletionSource? room;
        int count;
        lock (_lock)
        {
            count = _count;
            if (count == 0)
            {
                return 0;
            }

            var first = Math.Min(count, _ring.Length - _head);
            batch.AddRange(_ring.AsSpan(_head, first));
            batch.AddRange(_ring.AsSpan(0, count - first));

            // No reference kept to the samples' tags and strings.
            Array.Clear(_ring, _head, first);
            Array.Clear(_ring, 0, count - first);
            _head = 0;
            _count = 0;
            room = TakeRoom();
        }

        room?.TrySetResult();
        CompleteIfDone();
        return count;
    }

    public override bool TryRead(out Sample item)
    {
        TaskCompletionSource? room;
        lock (_lock)
        {
            if (_count == 0)
            {
                item = default;
                return false;
            }

            item = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) & _mask;
            _count--;
            room = TakeRoom();
        }

        room?.TrySetResult();
        CompleteIfDone();
        return true;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        TaskCompletionSource<bool> wait;
        lock (_lock)
        {
            if (_count > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            // One reader: a wait left by a cancelled one is simply replaced (a late write completes that one for nobody).
            wait = _readerWait = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return cancellationToken.CanBeCanceled ? WaitCancellableAsync(wait, cancellationToken) : new ValueTask<bool>(wait.Task);
    }

    /// <summary>No more writes: the reader gets what is queued, then <see cref="WaitToReadAsync"/> answers false.</summary>
    public bool Complete()
    {
        TaskCompletionSource<bool>? reader;
        TaskCompletionSource? room;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            reader = _readerWait;
            _readerWait = null;
            room = _room;
            _room = null;
        }

        reader?.TrySetResult(false);
        room?.TrySetResult(); // the waiting writers then see the completion
        CompleteIfDone();
        return true;
    }

    private static async ValueTask<bool> WaitCancellableAsync(TaskCompletionSource<bool> wait, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource<bool>)state!).TrySetCanceled(token), wait))
        {
            return await wait.Task.ConfigureAwait(false);
        }
    }

    // Under _lock: the writers waiting for room are released once at least half of the ring is free, not per sample.
    private TaskCompletionSource? TakeRoom()
    {
        if (_room is null || _count > _capacity / 2)
        {
            return null;
        }

        var room = _room;
        _room = null;
        return room;
    }

    // Under _lock: a ring of at least `needed` slots (a power of two, at most the capacity), the queued samples moved
    // to its start in order.
    private void Grow(int needed)
    {
        var size = _ring.Length;
        while (size < needed)
        {
            size *= 2;
        }

        var ring = new Sample[Math.Min(size, _capacity)];
        var first = Math.Min(_count, _ring.Length - _head);
        _ring.AsSpan(_head, first).CopyTo(ring);
        _ring.AsSpan(0, _count - first).CopyTo(ring.AsSpan(first));
        _ring = ring;
        _mask = ring.Length - 1;
        _head = 0;
    }

    private void CompleteIfDone()
    {
        if (Volatile.Read(ref _count) == 0 && Volatile.Read(ref _completed))
        {
            _completion.TrySetResult();
        }
    }
}
