namespace Gateway.Drivers;

/// <summary>
/// The timeout of a client's requests, one at a time, without an allocation per request on the hot path: one
/// cancellation source, reset and reused while requests end before it fires, and the caller's token registered on it
/// (<see cref="CancellationToken.UnsafeRegister(Action{object?}, object?)"/>) rather than a linked source per
/// request. Not thread-safe: one request at a time (the caller's lock or its single loop sees to that).
/// </summary>
/// <example>
/// <code>
/// using var timeout = _timeout.Start(TimeSpan.FromSeconds(1), cancellationToken);
/// try { await stream.ReadAsync(buffer, timeout.Token); }
/// catch (OperationCanceledException) when (timeout.TimedOut) { throw new TimeoutException(...); }
/// </code>
/// </example>
internal sealed class ReusableTimeout(TimeProvider timeProvider) : IDisposable
{
    private CancellationTokenSource? _idle;

    /// <summary>
    /// Starts the timeout of one request: its <see cref="Lease.Token"/> is cancelled after <paramref name="timeout"/>
    /// or when <paramref name="cancellationToken"/> is. Dispose the lease when the request has ended.
    /// </summary>
    public Lease Start(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var source = _idle;
        _idle = null;
        if (source is not null && source.TryReset())
        {
            source.CancelAfter(timeout);
        }
        else
        {
            source?.Dispose();
            source = new CancellationTokenSource(timeout, timeProvider);
        }

        var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), source)
            : default;
        return new Lease(this, source, registration, cancellationToken);
    }

    public void Dispose()
    {
        _idle?.Dispose();
        _idle = null;
    }

    private void Return(CancellationTokenSource source, CancellationTokenRegistration registration)
    {
        // Unregister first: once it returns, the caller's token can no longer cancel the source being reused.
        registration.Dispose();
        if (source.IsCancellationRequested)
        {
            source.Dispose();
            return;
        }

        _idle?.Dispose();
        _idle = source;
    }

    /// <summary>One request's timeout.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly ReusableTimeout _owner;
        private readonly CancellationTokenSource _source;
        private readonly CancellationTokenRegistration _registration;
        private readonly CancellationToken _caller;

        internal Lease(ReusableTimeout owner, CancellationTokenSource source, CancellationTokenRegistration registration, CancellationToken caller)
        {
            _owner = owner;
            _source = source;
            _registration = registration;
            _caller = caller;
        }

        /// <summary>Cancelled when the timeout elapses or the caller cancels.</summary>
        public CancellationToken Token => _source.Token;

        /// <summary>The timeout elapsed (and the caller did not cancel).</summary>
        public bool TimedOut => _source.IsCancellationRequested && !_caller.IsCancellationRequested;

        public void Dispose() => _owner?.Return(_source, _registration);
    }
}
