using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa;
using Gateway.Observability;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// A TCP peer on a free loopback port that is not a working OPC UA server: it accepts and stays silent, answers
/// random bytes, or announces an absurd chunk length. The behaviour can change while the driver retries.
/// </summary>
internal sealed class MisbehavingPeer : IAsyncDisposable
{
    public enum Behaviour
    {
        Silent,
        RandomBytes,
        AbsurdChunkLength,
    }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _accepted = [];
    private readonly Task _loop;

    public MisbehavingPeer(Behaviour behaviour)
    {
        Mode = behaviour;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = AcceptLoopAsync();
    }

    public int Port { get; }

    public string Url => $"opc.tcp://127.0.0.1:{Port}";

    public Behaviour Mode { get; set; }

    public int Connections { get; private set; }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Connections++;
                lock (_accepted)
                {
                    _accepted.Add(socket);
                }

                switch (Mode)
                {
                    case Behaviour.RandomBytes:
                        await socket.SendAsync(Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 11)).ToArray());
                        break;
                    case Behaviour.AbsurdChunkLength:
                        var ack = new byte[8];
                        "ACKF"u8.CopyTo(ack);
                        BinaryPrimitives.WriteUInt32LittleEndian(ack.AsSpan(4), 0xFFFFFFF0);
                        await socket.SendAsync(ack);
                        break;
                    default:
                        break; // accepted, never answered
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        lock (_accepted)
        {
            foreach (var socket in _accepted)
            {
                socket.Dispose();
            }
        }

    }
}

public sealed class OpcUaMisbehavingServerTests
{
    private static (OpcUaDriver Driver, ListLoggerProvider Log) Create(string name, string url)
    {
        var (config, section) = DriverConfigs.Load($$"""
            { "drivers": [ { "name": "{{name}}", "type": "opcua", "machine": "m1", "endpointUrl": "{{url}}", "requestTimeoutMs": 300,
              "reconnectDelayMs": 100, "maxReconnectDelayMs": 200,
              "tags": [ { "name": "a", "address": "ns=1;s=A" }, { "name": "b", "address": "ns=1;s=B" } ] } ] }
            """);
        Assert.Empty(new OpcUaDriverFactory().Validate(config, section, "drivers[0]"));
        var log = new ListLoggerProvider();
        var factory = LoggerFactory.Create(builder => builder.AddProvider(log).SetMinimumLevel(LogLevel.Debug));
        return ((OpcUaDriver)new OpcUaDriverFactory().Create(config, section, new DriverContext(TimeProvider.System, factory)), log);
    }

    private static string[] Warnings(ListLoggerProvider log, string driver) =>
        log.Lines.Where(l => l.Level >= LogLevel.Warning && l.Message.Contains(driver, StringComparison.Ordinal)).Select(l => l.Message).ToArray();

    [Fact]
    public async Task Driver_ServerAcceptsTcpAndNeverAnswers_TagsGoBadOnceAndTheLadderRetries()
    {
        await using var peer = new MisbehavingPeer(MisbehavingPeer.Behaviour.Silent);
        var (driver, log) = Create("ua-silent", peer.Url);
        using var metrics = new GatewayMetrics(TimeProvider.System);
        await using (driver)
        {
            var writer = new CollectingWriter();
            using var cts = new CancellationTokenSource();
            var run = driver.RunAsync(writer, cts.Token);

            await OpcUaIntegrationTests.WaitUntilAsync(() => driver.ConnectFailures >= 3 && peer.Connections >= 3);
            await cts.CancelAsync();
            await run;

            foreach (var tag in driver.Tags)
            {
                var bad = writer.Samples.Where(s => s.Tag == tag).ToArray();
                Assert.Single(bad);
                Assert.Equal(Quality.Bad, bad[0].Quality);
                Assert.Equal(SampleStatus.BadTimeout, bad[0].StatusCode & 0xFFFF0000);
            }

            var warnings = Warnings(log, "ua-silent");
            var warning = Assert.Single(warnings);
            Assert.Contains("sent no Acknowledge to Hello within 0.3 s", warning, StringComparison.Ordinal);
            Assert.Contains("BadTimeout (0x800A0000)", warning, StringComparison.Ordinal);
            Assert.Contains("within 0.3 s", driver.LastError, StringComparison.Ordinal);
            Assert.True(metrics.Driver("ua-silent").Errors >= 3, $"errors counted: {metrics.Driver("ua-silent").Errors}");
        }
    }

    [Fact]
    public async Task Driver_FailureReasonChanges_EachNewReasonIsLoggedOnceAtWarning()
    {
        await using var peer = new MisbehavingPeer(MisbehavingPeer.Behaviour.RandomBytes);
        var (driver, log) = Create("ua-garbage", peer.Url);
        await using (driver)
        {
            var writer = new CollectingWriter();
            using var cts = new CancellationTokenSource();
            var run = driver.RunAsync(writer, cts.Token);

            await OpcUaIntegrationTests.WaitUntilAsync(() => driver.ConnectFailures >= 3);
            peer.Mode = MisbehavingPeer.Behaviour.AbsurdChunkLength;
            var switched = driver.ConnectFailures;
            await OpcUaIntegrationTests.WaitUntilAsync(() => driver.ConnectFailures >= switched + 4);
            await peer.DisposeAsync();
            var stopped = driver.ConnectFailures;
            await OpcUaIntegrationTests.WaitUntilAsync(() => driver.ConnectFailures >= stopped + 3);
            await cts.CancelAsync();
            await run;

            var warnings = Warnings(log, "ua-garbage");
            Assert.Equal(3, warnings.Length);
            Assert.Contains("BadTcpMessageTypeInvalid", warnings[0], StringComparison.Ordinal);
            Assert.Contains("BadTcpMessageTooLarge", warnings[1], StringComparison.Ordinal);
            Assert.Contains("cannot connect to 127.0.0.1", warnings[2], StringComparison.Ordinal);
            Assert.All(warnings, w => Assert.DoesNotContain("   at ", w, StringComparison.Ordinal));
            Assert.All(driver.Tags, tag => Assert.Single(writer.Samples, s => s.Tag == tag));
        }
    }
}
