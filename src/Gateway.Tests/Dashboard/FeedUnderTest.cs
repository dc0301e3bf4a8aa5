using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Dashboard;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Dashboard;

/// <summary>A <see cref="DashboardFeed"/> on the given clock, with its buffer in a temporary folder and its own pipeline.</summary>
internal sealed class FeedUnderTest : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gw-feed-").FullName;
    private readonly GatewayMetrics _metrics;
    private readonly SampleBuffer _buffer;
    private readonly ServiceProvider _services;

    public FeedUnderTest(TimeProvider time)
    {
        _metrics = new GatewayMetrics(time);
        _buffer = new SampleBuffer(Path.Combine(_directory, "buffer.db"), 1 << 20, _metrics, NullLogger<SampleBuffer>.Instance);
        Pipeline = new SamplePipeline(_metrics);
        _services = new ServiceCollection().AddSingleton(time).BuildServiceProvider();
        var config = new GatewayConfig { Gateway = new GatewayIdentity { Id = "gw", Enterprise = "e", Site = "s", Area = "a", Line = "l" } };
        Feed = new DashboardFeed(_services, Options.Create(config), _metrics, _buffer, Pipeline, time, new Lifetime(), NullLogger<DashboardFeed>.Instance);
    }

    public SamplePipeline Pipeline { get; }

    public DashboardFeed Feed { get; }

    public void Dispose()
    {
        Feed.Dispose();
        _buffer.Dispose();
        _services.Dispose();
        _metrics.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
