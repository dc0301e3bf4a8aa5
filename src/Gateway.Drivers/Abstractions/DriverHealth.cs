using System.Runtime.CompilerServices;

namespace Gateway.Drivers;

/// <summary>
/// The state of a driver that polls in several units: Connected while every unit answers, Degraded while some fail,
/// Disconnected while all do. The last error is cleared once every unit answers again. Thread-safe for units polled
/// in parallel.
/// </summary>
internal sealed class DriverHealth
{
    private volatile DriverState _phase = DriverState.Starting;
    private int _units;
    private int _failing;

    /// <summary>Starting, then (from <see cref="Started"/>) what the units' failures make it, Stopped at the end.</summary>
    public DriverState State
    {
        get
        {
            if (_phase != DriverState.Connected)
            {
                return _phase;
            }

            var failing = Volatile.Read(ref _failing);
            return failing == 0 ? DriverState.Connected : failing >= _units ? DriverState.Disconnected : DriverState.Degraded;
        }
    }

    public string? LastError { get; set; }

    /// <summary>One more unit of the driver (all are added before <see cref="Started"/>); each keeps whether it is failing, so that an outage is reported once.</summary>
    public UnitHealth Unit()
    {
        Interlocked.Increment(ref _units);
        return new(this);
    }

    /// <summary>The poll loops start.</summary>
    public void Started() => _phase = DriverState.Connected;

    /// <summary>The poll loops have ended.</summary>
    public void Stopped() => _phase = DriverState.Stopped;

    internal void Changed(int delta)
    {
        if (Interlocked.Add(ref _failing, delta) == 0)
        {
            LastError = null;
        }
    }
}

/// <summary>Whether one poll unit fails (see <see cref="DriverHealth"/>). Used from its own poll loop only.</summary>
internal sealed class UnitHealth(DriverHealth driver)
{
    public bool Failing { get; private set; }

    /// <summary>A poll of the unit failed; true when it answered until now (the driver state has changed).</summary>
    public bool Failed()
    {
        if (Failing)
        {
            return false;
        }

        Failing = true;
        driver.Changed(+1);
        return true;
    }

    /// <summary>A poll of the unit succeeded; true when it was failing (it has recovered: log it).</summary>
    public bool Answered()
    {
        if (!Failing)
        {
            return false;
        }

        Failing = false;
        driver.Changed(-1);
        return true;
    }
}

/// <summary>
/// Serializes the writes of a driver's poll loops to its one writer, so that one read's batch is never interleaved
/// with another's.
/// </summary>
internal sealed class WriterGate : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Hands one read's samples to <paramref name="writer"/> as one batch, in turn.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteBatchAsync(ISampleWriter writer, ReadOnlyMemory<Sample> samples, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await writer.WriteBatchAsync(samples, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Takes the gate for several writes; <see cref="Release"/> it in a finally.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _gate.WaitAsync(cancellationToken);

    public void Release() => _gate.Release();

    public void Dispose() => _gate.Dispose();
}
