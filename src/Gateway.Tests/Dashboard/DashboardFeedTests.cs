using System.Text;
using System.Text.Json;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Dashboard;
using Gateway.Drivers;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Dashboard;

/// <summary>The live feed on a fake clock, with a client whose connection can be stalled.</summary>
public sealed class DashboardFeedTests : IAsyncLifetime, IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));
    private readonly FeedUnderTest _harness;
    private readonly SamplePipeline _pipeline;
    private readonly DashboardFeed _feed;
    private readonly TagInfo _counter = new("press", "total-count", "parts");
    private readonly TagInfo _temperature = new("press", "temperature", "degC");

    public DashboardFeedTests()
    {
        _harness = new FeedUnderTest(_time);
        _pipeline = _harness.Pipeline;
        _feed = _harness.Feed;
    }

    public Task InitializeAsync() => _feed.StartAsync(CancellationToken.None);

    public Task DisposeAsync() => _feed.StopAsync(CancellationToken.None);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task SlowClient_GetsOneCoalescedDeltaWithTheLatestValues_NotEveryFrame()
    {
        var client = new StallableStream();
        using var aborted = new CancellationTokenSource();
        var context = new DefaultHttpContext { RequestAborted = aborted.Token };
        context.Response.Body = client;
        var stream = _feed.StreamAsync(context);

        Publish(_counter, 1);
        await client.WaitForAsync(e => e.Contains("\"full\":true", StringComparison.Ordinal));
        await TickUntilAsync(client, e => Tags(e).Any(t => t.Value == 1));

        // The client stops reading: its connection stalls on the next frame (counter = 2).
        client.Stall();
        Publish(_counter, 2);
        await TickUntilAsync(client, _ => client.Stalled);
        for (var value = 3; value <= 20; value++)
        {
            Publish(_counter, value);
            Publish(_temperature, 20 + (value / 10.0));
            _time.Advance(DashboardFeed.TagInterval);
        }

        var before = client.Events.Count;
        client.Resume();
        await client.WaitForAsync(e => Tags(e).Any(t => t.Key == "press/total-count" && t.Value == 20));

        // After the stalled frame (2): one delta with each tag once, at its latest value; nothing in between.
        var after = client.Events.Skip(before).Where(e => e.StartsWith("event: tags", StringComparison.Ordinal)).ToList();
        var counters = after.SelectMany(Tags).Where(t => t.Key == "press/total-count").Select(t => t.Value).ToList();
        // (Usually [2, 20]; [20] when the stalled write was a health frame and 2 was coalesced too.)
        Assert.Equal(20, counters[^1]);
        Assert.DoesNotContain(counters, v => v is > 2 and < 20);
        Assert.InRange(counters.Count, 1, 2);
        var temperatures = after.SelectMany(Tags).Where(t => t.Key == "press/temperature").Select(t => t.Value).ToList();
        Assert.Equal([22.0], temperatures);

        await aborted.CancelAsync();
        await stream.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, _feed.Clients);
    }

    [Fact]
    public async Task DriverBatchThroughThePipeline_ReachesTheStream_EachTagAtItsLatestValue_SortedInTheFullFrame()
    {
        var writer = _pipeline.CreateWriter("press");
        var now = _time.GetUtcNow();
        // One batch of the driver: the feed takes its lock once for it (SamplePipeline.ObserveBatches).
        await writer.WriteBatchAsync(
            new[]
            {
                Sample.Good(_temperature, now, now, SampleValue.FromDouble(21.5)),
                Sample.Good(_counter, now, now, SampleValue.FromInteger(7)),
            },
            CancellationToken.None);
        await writer.WriteBatchAsync(new[] { Sample.Good(_counter, now, now, SampleValue.FromInteger(8)) }, CancellationToken.None);

        var client = new StallableStream();
        using var aborted = new CancellationTokenSource();
        var context = new DefaultHttpContext { RequestAborted = aborted.Token };
        context.Response.Body = client;
        var stream = _feed.StreamAsync(context);
        await client.WaitForAsync(e => e.Contains("\"full\":true", StringComparison.Ordinal));

        var full = client.Events.First(e => e.Contains("\"full\":true", StringComparison.Ordinal));
        Assert.Equal([("press/temperature", 21.5), ("press/total-count", 8.0)], Tags(full));

        await writer.WriteBatchAsync(new[] { Sample.Good(_temperature, now, now, SampleValue.FromDouble(22.5)) }, CancellationToken.None);
        await TickUntilAsync(client, e => Tags(e).Any(t => t.Value == 22.5));
        var delta = client.Events.Last(e => Tags(e).Any(t => t.Value == 22.5));
        Assert.Equal([("press/temperature", 22.5)], Tags(delta));

        await aborted.CancelAsync();
        await stream.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Stream_SendsStatusAndOee_EveryHealthInterval_AndNothingWhenNothingChanged()
    {
        var client = new StallableStream();
        using var aborted = new CancellationTokenSource();
        var context = new DefaultHttpContext { RequestAborted = aborted.Token };
        context.Response.Body = client;
        var stream = _feed.StreamAsync(context);
        await client.WaitForAsync(e => e.StartsWith("event: oee", StringComparison.Ordinal));
        var first = client.Events.Count;

        // The feed's timer may start a little after the feed (ExecuteAsync runs in the background): step the clock.
        await TickUntilAsync(client, e => client.Events.Skip(first).Any(x => x.StartsWith("event: status", StringComparison.Ordinal)));
        await client.WaitForAsync(e => e.StartsWith("event: oee", StringComparison.Ordinal), skip: first);
        Assert.DoesNotContain(client.Events.Skip(first), e => e.StartsWith("event: tags", StringComparison.Ordinal));

        await aborted.CancelAsync();
        await stream.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Stream_BeyondMaxClients_Answers503_AndFreesTheSlotWhenAClientLeaves()
    {
        using var aborted = new CancellationTokenSource();
        var clients = new List<(StallableStream Body, Task Stream)>();
        for (var i = 0; i < DashboardFeed.MaxClients; i++)
        {
            var body = new StallableStream();
            var context = new DefaultHttpContext { RequestAborted = aborted.Token };
            context.Response.Body = body;
            clients.Add((body, _feed.StreamAsync(context)));
        }

        await clients[^1].Body.WaitForAsync(e => e.StartsWith("event: oee", StringComparison.Ordinal));
        var extra = new DefaultHttpContext();
        await _feed.StreamAsync(extra).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, extra.Response.StatusCode);
        Assert.Equal(DashboardFeed.MaxClients, _feed.Clients);

        await aborted.CancelAsync();
        await Task.WhenAll(clients.Select(c => c.Stream)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, _feed.Clients);
    }

    private void Publish(TagInfo tag, double value)
    {
        var now = _time.GetUtcNow();
        var sample = Sample.Good(tag, now, now, tag == _counter ? SampleValue.FromInteger((long)value) : SampleValue.FromDouble(value));
        _feed.Observe(sample);
    }

    private async Task TickUntilAsync(StallableStream client, Func<string, bool> condition)
    {
        for (var i = 0; i < 500; i++)
        {
            _time.Advance(DashboardFeed.TagInterval);
            await Task.Delay(20);
            if (client.Events.Any(condition) || client.Stalled)
            {
                return;
            }
        }

        throw new TimeoutException("the feed sent nothing");
    }

    private static IEnumerable<(string Key, double Value)> Tags(string sseEvent)
    {
        if (!sseEvent.StartsWith("event: tags", StringComparison.Ordinal))
        {
            return [];
        }

        var data = sseEvent[(sseEvent.IndexOf("data: ", StringComparison.Ordinal) + 6)..];
        using var document = JsonDocument.Parse(data);
        return document.RootElement.GetProperty("tags").EnumerateArray()
            .Select(t => (t.GetProperty("tag").GetString()!, t.GetProperty("value").GetDouble())).ToList();
    }

    /// <summary>A response body that records each SSE event and can hold writes, like a client that stopped reading.</summary>
    private sealed class StallableStream : Stream
    {
        private readonly Lock _lock = new();
        private readonly List<string> _events = [];
        private readonly StringBuilder _partial = new();
        private TaskCompletionSource _gate = Open();
        private volatile bool _stalled;

        public IReadOnlyList<string> Events
        {
            get
            {
                lock (_lock)
                {
                    return [.. _events];
                }
            }
        }

        public bool Stalled => _stalled;

        public void Stall() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Resume()
        {
            _stalled = false;
            _gate.TrySetResult();
        }

        public async Task WaitForAsync(Func<string, bool> condition, int skip = 0)
        {
            for (var i = 0; i < 1000; i++)
            {
                if (Events.Skip(skip).Any(condition))
                {
                    return;
                }

                await Task.Delay(20);
            }

            throw new TimeoutException("expected event never came; got:\n" + string.Join("\n", Events));
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var gate = _gate;
            if (!gate.Task.IsCompleted)
            {
                _stalled = true;
                await gate.Task.WaitAsync(cancellationToken);
            }

            lock (_lock)
            {
                _partial.Append(Encoding.UTF8.GetString(buffer.Span));
                var text = _partial.ToString();
                int end;
                while ((end = text.IndexOf("\n\n", StringComparison.Ordinal)) >= 0)
                {
                    var item = text[..end];
                    if (item.StartsWith("event: ", StringComparison.Ordinal))
                    {
                        _events.Add(item);
                    }

                    text = text[(end + 2)..];
                }

                _partial.Clear().Append(text);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        private static TaskCompletionSource Open()
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gate.SetResult();
            return gate;
        }
    }
}
