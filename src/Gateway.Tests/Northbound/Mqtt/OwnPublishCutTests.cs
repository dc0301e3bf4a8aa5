using System.Net;
using System.Net.Sockets;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Northbound.Uns;
using Gateway.Northbound.Mqtt;
using Gateway.Observability;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Integration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Northbound.Mqtt;

/// <summary>
/// The output's own publish path against a real mosquitto, through a relay that is cut while hundreds of publications
/// await their PUBACK (and bytes are in transit): nothing is lost, and each topic's samples keep their order.
/// </summary>
[Collection(nameof(ProcessTests))]
public sealed class OwnPublishCutTests
{
    [Theory]
    [InlineData(MqttVersion.V5)]
    [InlineData(MqttVersion.V311)]
    public async Task ConnectionCutMidWindow_EverySampleArrives_InOrderPerTopic_TheInFlightOnesAgainAsHistory(MqttVersion protocolVersion)
    {
        await using var broker = new Mosquitto();
        await broker.StartAsync();
        await using var collector = new MqttCollector(broker.Port);
        await collector.StartAsync();
        await using var relay = new CuttableRelay(broker.Port);
        var config = new GatewayConfig
        {
            Gateway = new GatewayIdentity { Id = "gw1", Enterprise = "acme", Site = "lyon", Area = "assembly", Line = "line-1" },
            Mqtt = new MqttOptions { Host = "127.0.0.1", Port = relay.Port, ProtocolVersion = protocolVersion, MaxInflight = 200, MaxReconnectDelayMs = 1000 },
        };
        var log = new InMemorySampleLog();
        var signal = new BufferSignal();
        using var metrics = new GatewayMetrics(TimeProvider.System);
        using var format = new UnsFormat(config);
        using var output = new MqttOutput(format, config, log, signal, metrics, TimeProvider.System, NullLogger.Instance);
        await output.StartAsync(CancellationToken.None);

        const int Total = 30_000;
        var appended = 0;
        var cut = false;
        while (appended < Total)
        {
            log.Append(500, firstValue: appended);
            appended += 500;
            signal.Notify();
            await Task.Delay(5);
            if (!cut && appended >= Total / 3)
            {
                // Mid-stream, with the window full of publications awaiting their PUBACK.
                await Eventually.TrueAsync(() => log.Acknowledged(UnsFormat.Name).Count > 0, "a first acknowledgement");
                relay.Cut();
                cut = true;
            }
        }

        await Eventually.TrueAsync(() => log.AllAcknowledged(UnsFormat.Name), "every sample acknowledged", TimeSpan.FromSeconds(60));
        await collector.WaitUntilAsync(m => Samples(m).Select(s => s.Value).Distinct().Count() == Total, TimeSpan.FromSeconds(30), $"{Total} distinct samples");
        await output.StopAsync(CancellationToken.None);

        Assert.True(relay.Connections >= 2, $"{relay.Connections} connections: the cut did not happen");
        var samples = Samples(collector.Messages);
        Assert.Equal(Enumerable.Range(0, Total).Select(i => (long)i), samples.Select(s => s.Value).Distinct().Order());
        Assert.Contains(samples, s => s.History); // what was in flight came again, flagged as history
        var live = samples.Where(s => !s.History).Select(s => s.Value).Distinct().ToList();
        var history = samples.Where(s => s.History).Select(s => s.Value).Distinct().ToList();
        Assert.Equal(live.Order(), live);
        Assert.Equal(history.Order(), history);
    }

    private static List<(long Value, bool History)> Samples(IReadOnlyList<Received> messages) =>
        [.. UnsHistory.Flatten(messages).Where(m => m.Sample.Topic.EndsWith("/m1/count", StringComparison.Ordinal)).Select(m => (m.Sample.LongValue, m.History))];

    /// <summary>Forwards TCP connections to the broker; <see cref="Cut"/> closes the current ones, bytes in transit lost.</summary>
    private sealed class CuttableRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly int _target;
        private readonly List<TcpClient> _open = [];
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _connections;

        public CuttableRelay(int target)
        {
            _target = target;
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => Volatile.Read(ref _connections);

        public void Cut()
        {
            lock (_open)
            {
                foreach (var client in _open)
                {
                    try
                    {
                        client.Client?.LingerState = new LingerOption(true, 0); // a reset: what was not yet read is dropped
                    }
                    catch (ObjectDisposedException)
                    {
                        // Closed by its pump already.
                    }

                    client.Dispose();
                }

                _open.Clear();
            }
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var outbound = new TcpClient();
                    await outbound.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                    Interlocked.Increment(ref _connections);
                    lock (_open)
                    {
                        _open.Add(inbound);
                        _open.Add(outbound);
                    }

                    _ = PumpAsync(inbound, outbound);
                    _ = PumpAsync(outbound, inbound);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private static async Task PumpAsync(TcpClient from, TcpClient to)
        {
            try
            {
                await from.GetStream().CopyToAsync(to.GetStream());
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
            {
                // Cut.
            }
            finally
            {
                from.Dispose();
                to.Dispose();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            Cut();
            _stop.Dispose();
        }
    }
}
