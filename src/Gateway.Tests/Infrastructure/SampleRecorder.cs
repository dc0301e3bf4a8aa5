using Gateway.Drivers;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Records what a driver writes, in order, and the poll overruns it reports; thread-safe (a driver's poll loops
/// write in parallel). The driver tests' one writer: their own collectors only add a name for a lookup.
/// </summary>
public class SampleRecorder : ISampleWriter
{
    private readonly List<Sample> _samples = [];
    private int _overruns;

    /// <summary>Polls the driver reported as not started on time.</summary>
    public int Overruns => Volatile.Read(ref _overruns);

    public ValueTask WriteAsync(Sample sample, CancellationToken cancellationToken)
    {
        lock (_samples)
        {
            _samples.Add(sample);
        }

        return ValueTask.CompletedTask;
    }

    public void ReportPollOverrun() => Interlocked.Increment(ref _overruns);

    private int _pollsUnderWay;
    private int _pollsEnded;

    /// <summary>Polls started and not yet ended (<see cref="ISampleWriter.PollStarted"/>).</summary>
    public int PollsUnderWay => Volatile.Read(ref _pollsUnderWay);

    /// <summary>Polls ended so far (<see cref="ISampleWriter.PollEnded"/>).</summary>
    public int PollsEnded => Volatile.Read(ref _pollsEnded);

    public void PollStarted() => Interlocked.Increment(ref _pollsUnderWay);

    public void PollEnded()
    {
        Interlocked.Decrement(ref _pollsUnderWay);
        Interlocked.Increment(ref _pollsEnded);
    }

    /// <summary>Every sample so far, oldest first.</summary>
    public List<Sample> Snapshot()
    {
        lock (_samples)
        {
            return [.. _samples];
        }
    }

    /// <summary>The samples of the tag with this key (<c>machine/path</c>).</summary>
    public List<Sample> ForKey(string key) => [.. Snapshot().Where(s => s.Tag.Key == key)];

    /// <summary>The samples of the tags with this path.</summary>
    public List<Sample> ForPath(string path) => [.. Snapshot().Where(s => s.Tag.Path == path)];

    public void Clear()
    {
        lock (_samples)
        {
            _samples.Clear();
        }
    }
}
