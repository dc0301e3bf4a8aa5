using System.Text;
using Gateway.Drivers;
using Gateway.Drivers.S7;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Gateway.Tests.S7;

/// <summary>
/// Runs tests/peers/s7/server.js (snap7's server through node-snap7) on a free loopback port (see
/// <see cref="NodePeerProcess"/>; <c>npm ci</c> builds node-snap7's native addon): ready once it prints that it listens.
/// </summary>
public sealed class Snap7Server : NodePeerProcess
{
    private readonly string[] _arguments;

    private Snap7Server(int port, string[] arguments)
        : base(PeerDirectory, port, keepLines: 0)
    {
        _arguments = arguments;
    }

    public static string PeerDirectory => FindPeerDirectory("s7", "server.js");

    protected override string Name => "the snap7 server";

    /// <summary>Starts a server; <paramref name="arguments"/> are the script's options (<c>--pdu 240</c>, <c>--trace</c>).</summary>
    public static async Task<Snap7Server> StartAsync(params string[] arguments)
    {
        await EnsureInstalledAsync(PeerDirectory, Path.Combine("node_modules", "node-snap7", "build", "Release", "node_snap7.node"));
        var server = new Snap7Server(PortAllocator.FreeTcpPort(), arguments);
        await server.RestartAsync();
        return server;
    }

    protected override Task<bool> IsReadyAsync() => Task.FromResult(Output.Contains("listening", StringComparison.Ordinal));

    /// <summary>Lines of items read since the output was last cleared (needs <c>--trace</c>; the output lines: one <c>read AREA DB START SIZE RESULT</c> line per item read).</summary>
    public int ItemsRead() => Output.Split('\n').Count(l => l.StartsWith("read ", StringComparison.Ordinal));

    /// <summary>Starts the server again on the same port.</summary>
    public Task RestartAsync() => StartNodeAsync("server.js", _arguments, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
}

/// <summary>One snap7 server shared by the tests of a class.</summary>
public sealed class Snap7Fixture : IAsyncLifetime
{
    public Snap7Server Server { get; private set; } = null!;

    public int Port => Server.Port;

    public async Task InitializeAsync() => Server = await Snap7Server.StartAsync("--trace");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Builds S7 drivers from JSON driver sections.</summary>
internal static class S7DriverBuilder
{
    public static S7Driver Build(string json, TimeProvider? timeProvider = null, Func<CancellationToken, ValueTask<Stream>>? connect = null)
    {
        var section = Section(json);
        var config = section.Get<DriverConfig>()!;
        var problems = new List<ConfigProblem>();
        var plan = S7DriverFactory.Resolve(config, section, "drivers[0]", problems);
        Assert.Empty(problems);
        var transport = connect is null
            ? new S7IsoTransport(plan.Settings.Host!, plan.Settings.Port, plan.LocalTsap, plan.RemoteTsap)
            : new S7IsoTransport(connect, "scripted", plan.LocalTsap, plan.RemoteTsap);
        var time = timeProvider ?? TimeProvider.System;
        return new S7Driver(config.Name, plan, new S7Client(transport, time, plan.Settings.PduSize), new DriverContext(time, NullLoggerFactory.Instance));
    }

    public static List<ConfigProblem> Problems(string json)
    {
        var section = Section(json);
        var config = section.Get<DriverConfig>()!;
        return [.. new S7DriverFactory().Validate(config, section, "drivers[0]")];
    }

    public static IConfigurationSection Section(string json)
    {
        var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("{\"d\":" + json + "}"))).Build();
        return root.GetSection("d");
    }

    /// <summary>A driver section for the snap7 server on <paramref name="port"/> with <paramref name="tags"/> (name, address, type or null).</summary>
    public static string Json(int port, IEnumerable<(string Name, string Address, string? Type)> tags, string extra = "")
    {
        var tagJson = string.Join(",", tags.Select(t => $"{{\"name\":\"{t.Name}\",\"address\":\"{t.Address}\"{(t.Type is null ? "" : $",\"type\":\"{t.Type}\"")}}}"));
        return $"{{\"name\":\"plc\",\"type\":\"s7\",\"machine\":\"press\",\"host\":\"127.0.0.1\",\"port\":{port},\"rack\":0,\"slot\":1,\"timeoutMs\":3000{extra},\"tags\":[{tagJson}]}}";
    }
}

/// <summary>Collects samples from a driver; <see cref="For"/> looks tags up by their path.</summary>
internal sealed class S7Samples : SampleRecorder
{
    public List<Sample> For(string name) => ForPath(name);

    public Sample Last(string name) => For(name)[^1];

    /// <summary>Waits (real time, <see cref="Eventually"/>) until <paramref name="condition"/> holds; the failure shows the last samples.</summary>
    public Task WaitForAsync(Func<S7Samples, bool> condition, TimeSpan timeout, string what) =>
        Eventually.TrueAsync(
            () => Task.FromResult(condition(this)),
            () => $"{what}; samples: {string.Join("; ", Snapshot().TakeLast(20).Select(s => $"{s.Tag.Path}={s.Value} {s.Quality} 0x{s.StatusCode:X8}"))}",
            timeout,
            poll: TimeSpan.FromMilliseconds(50));
}
