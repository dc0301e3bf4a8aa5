using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Dashboard;
using Gateway.Observability;
using Gateway.Pipeline;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Dashboard;

/// <summary>The live feed's timer runs only while a browser watches: no wake-up twice a second on an unwatched gateway.</summary>
public sealed class DashboardFeedIdleTests : IAsyncLifetime, IDisposable
{
    private readonly TickCountingTime _time = new();
    private readonly FeedUnderTest _harness;
    private readonly DashboardFeed _feed;

    public DashboardFeedIdleTests()
    {
        _harness = new FeedUnderTest(_time);
        _feed = _harness.Feed;
    }

    public Task InitializeAsync() => _feed.StartAsync(CancellationToken.None);

    public Task DisposeAsync() => _feed.StopAsync(CancellationToken.None);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Timer_TicksOnlyWhileAClientIsConnected()
    {
        await Eventually.TrueAsync(() => _time.Timer is not null, "the feed's timer", TimeSpan.FromSeconds(10));
        var timer = _time.Timer!;
        Step(10);
        Assert.Equal(0, timer.Ticks); // nobody watches: not one tick

        using var aborted = new CancellationTokenSource();
        var context = new DefaultHttpContext { RequestAborted = aborted.Token };
        context.Response.Body = Stream.Null;
        var stream = _feed.StreamAsync(context);
        Assert.Equal(1, _feed.Clients);
        Step(4);
        Assert.Equal(4, timer.Ticks); // one tick per TagInterval while it watches

        await aborted.CancelAsync();
        await stream.WaitAsync(TimeSpan.FromSeconds(5));
        Step(1); // the first tick without a client stops the timer
        await Eventually.TrueAsync(() => timer.DueTime == Timeout.InfiniteTimeSpan, "the timer stopped", TimeSpan.FromSeconds(10));
        Step(10);
        Assert.Equal(5, timer.Ticks);
    }

    private void Step(int intervals)
    {
        for (var i = 0; i < intervals; i++)
        {
            _time.Advance(DashboardFeed.TagInterval);
        }
    }

    /// <summary>A fake clock that counts the callbacks of the first timer created on it and remembers its due time.</summary>
    private sealed class TickCountingTime : TimeProvider
    {
        private readonly FakeTimeProvider _fake = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));

        public CountingTimer? Timer { get; private set; }

        public void Advance(TimeSpan delta) => _fake.Advance(delta);

        public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

        public override long GetTimestamp() => _fake.GetTimestamp();

        public override long TimestampFrequency => _fake.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var counting = new CountingTimer(dueTime);
            counting.Inner = _fake.CreateTimer(
                s =>
                {
                    counting.Tick();
                    callback(s);
                },
                state,
                dueTime,
                period);
            Timer ??= counting;
            return counting;
        }
    }

    private sealed class CountingTimer(TimeSpan dueTime) : ITimer
    {
        private int _ticks;
        private long _dueTicks = dueTime.Ticks;

        public ITimer Inner { get; set; } = null!;

        public int Ticks => Volatile.Read(ref _ticks);

        public TimeSpan DueTime => TimeSpan.FromTicks(Interlocked.Read(ref _dueTicks));

        public void Tick() => Interlocked.Increment(ref _ticks);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Exchange(ref _dueTicks, dueTime.Ticks);
            return Inner.Change(dueTime, period);
        }

        public void Dispose() => Inner.Dispose();

        public ValueTask DisposeAsync() => Inner.DisposeAsync();
    }
}
