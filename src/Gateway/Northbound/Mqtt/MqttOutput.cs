using System.Net.Sockets;
using Gateway.Buffering;
using Gateway.Configuration;
using Gateway.Drivers;
using Gateway.Northbound.Delivery;
using Gateway.Observability;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using Polly;

namespace Gateway.Northbound.Mqtt;

/// <summary>
/// A northbound output over MQTT, composed of small parts: the connection (this class: connect, reconnect, broker
/// limits, status through the format's will), a <see cref="BufferDrainer"/> (live lane first, then the backlog as
/// history; acknowledgements as ranges), a <see cref="PublishWindow"/> (unawaited publications, delivered prefix) and
/// an <see cref="IMqttFormat"/> (what the messages look like). An <see cref="OutputHealth"/> reports overload, stalls
/// and the lag.
/// <para>
/// Reconnecting: failures back off exponentially (Polly, with jitter) up to <c>mqtt.maxReconnectDelayMs</c>. While the
/// broker is unreachable (the TCP connection itself is refused or times out) a cheap probe, one TCP connect a second,
/// runs during the wait and ends it as soon as the broker's port accepts again; the backoff then starts afresh. So a
/// broker back after a long outage is reconnected to within about a second, and one that refuses us (credentials, TLS,
/// ACL) is still not hammered.
/// </para>
/// </summary>
public sealed class MqttOutput : BackgroundService
{
    private readonly IMqttFormat _format;
    private readonly GatewayConfig _config;
    private readonly ISampleLog _log;
    private readonly BufferSignal _signal;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SinkCounters _counters;
    private readonly BufferDrainer _drainer;
    private readonly PublishWindow _window;
    private readonly MqttOutputContext _context;
    private readonly OutputHealth _health;
    private readonly IMqttClientAdapterFactory? _adapterFactory;
    private CoalescingAdapterFactory? _coalescing;
    private CoalescingChannel? _channel;
    private SemaphoreSlim? _wake;
    private MqttBrokerLimits? _loggedLimits;
    private string? _tlsRejection;
    private bool _tlsAccepted;
    private volatile int _waiting;
    private readonly NorthLinkSwitch? _northLink;

    public MqttOutput(IMqttFormat format, GatewayConfig config, ISampleLog log, BufferSignal signal, GatewayMetrics metrics, TimeProvider time, ILogger logger, IMqttClientAdapterFactory? adapterFactory = null, NorthLinkSwitch? northLink = null)
    {
        _northLink = northLink;
        _format = format;
        _config = config;
        _log = log;
        _signal = signal;
        _time = time;
        _logger = logger;
        _adapterFactory = adapterFactory;
        _counters = metrics.Sink(format.SinkName);
        _drainer = new BufferDrainer(log, _counters);
        _window = new PublishWindow(config.Mqtt.MaxInflight);
        _context = new MqttOutputContext(config, format.SinkName, Wake, _drainer.Restart)
        {
            CertificateRejected = reason =>
            {
                _tlsRejection = reason;
                MqttLog.CertificateRejected(logger, format.SinkName, Endpoint, reason);
            },
            CertificateAccepted = () => _tlsAccepted = true,
        };
        _health = new OutputHealth(format.SinkName, time, logger, _counters)
        {
            StallHint = config.Mqtt.Qos == 2
                ? " - mqtt.qos is 2: a broker that does not implement QoS 2 (RabbitMQ answers PUBLISH with PUBACK) never completes the exchange; set mqtt.qos to 1"
                : " - check the broker's log and load",
        };
    }

    public string SinkName => _format.SinkName;

    public string Endpoint => $"{_config.Mqtt.Host ?? "127.0.0.1 (embedded)"}:{_config.Mqtt.Port}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_context.Mqtt5 && _config.Mqtt.Username is { } user)
        {
            // MQTT 3.1.1 has no PUBACK reason code: a broker whose ACL denies a topic acknowledges the
            // publication and drops it (mosquitto does), so the buffer cannot tell delivered from discarded.
            MqttLog.Mqtt311AclBlind(_logger, SinkName, Endpoint, user);
        }

        var wake = _signal.Subscribe();
        _wake = wake;
        using var drill = _northLink?.OnCut(() => { if (_wake is { } w) { BufferSignal.Wake(w); } }); // a drill's cut wakes the sender to drop the link
        var factory = new MqttClientFactory(new MqttNetLoggerBridge(_logger));
        // Writes coalesced into few sends, reads served from a buffer (CoalescingChannel): MQTTnet's one system call per
        // packet was most of the CPU a publication cost.
        var adapters = _adapterFactory ?? new CoalescingAdapterFactory();
        _coalescing = adapters as CoalescingAdapterFactory;
        using var client = factory.CreateMqttClient(new MqttNetLoggerBridge(_logger), adapters);
        _context.Client = client;
        client.DisconnectedAsync += args =>
        {
            if (_counters.Connected)
            {
                _counters.ConnectedChanged(false);
                MqttLog.Disconnected(_logger, SinkName, Endpoint, args.ReasonString is { Length: > 0 } text ? $"{args.Reason} ({text})" : args.Reason.ToString());
            }

            Wake();
            return Task.CompletedTask;
        };
        client.ApplicationMessageReceivedAsync += args => _format.OnMessageAsync(_context, args);

        using var monitor = new CancellationTokenSource();
        var monitoring = MonitorAsync(monitor.Token);
        ReconnectProbe? probe = null;
        var reconnect = Backoff.Forever(
            _time,
            TimeSpan.FromMilliseconds(250),
            TimeSpan.FromMilliseconds(_config.Mqtt.MaxReconnectDelayMs),
            new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
            args =>
            {
                var failure = args.Outcome.Exception;
                if (failure is SessionFailedException failed)
                {
                    MqttLog.SessionFailed(_logger, SinkName, Endpoint, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, failed.Message, _log.Count);
                }
                else
                {
                    MqttLog.ConnectFailed(_logger, SinkName, Endpoint, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, DescribeConnectFailure(failure), _log.Count);
                }

                if (args.RetryDelay > ReconnectProbe.Interval && failure is not null && IsUnreachable(failure))
                {
                    probe?.Start(_config.Mqtt.Host ?? "127.0.0.1", _config.Mqtt.Port);
                }

                return ValueTask.CompletedTask;
            });

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                probe = new ReconnectProbe(attempt, _time, _logger, SinkName);
                try
                {
                    await reconnect.ExecuteAsync(
                        async ct =>
                        {
                            probe.Stop();
                            if (_northLink is not null)
                            {
                                await _northLink.WaitUntilRestoredAsync(ct); // no reconnect while a drill holds the link cut
                            }

                            await ConnectAsync(client, ct);
                            await RunSessionAsync(client, wake, ct);
                        },
                        attempt.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested && probe.Fired)
                {
                    // The broker's port accepts again: connect now, with the backoff started afresh.
                    MqttLog.BrokerReachable(_logger, SinkName, Endpoint);
                }
                finally
                {
                    await probe.DisposeAsync();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (client.IsConnected)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _format.OnStoppingAsync(_context, timeout.Token);
                    await client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token);
                }
                catch (Exception ex)
                {
                    MqttLog.PublishInterrupted(_logger, SinkName, Endpoint, MqttFailureExplainer.Describe(ex));
                }
            }

            _counters.ConnectedChanged(false);
            await monitor.CancelAsync();
            await monitoring;
        }
    }

    /// <summary>
    /// Wakes the loop (from MQTTnet's event handlers and the format): the handle may be signalled already, most of the
    /// time while data streams, where a plain Release would throw inside MQTTnet.
    /// </summary>
    private void Wake()
    {
        if (_wake is { } wake)
        {
            BufferSignal.Wake(wake);
        }
    }

    /// <summary>True when the broker could not be reached at all (nothing listens, no route, no answer): worth a probe.</summary>
    internal static bool IsUnreachable(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.TimedOut or SocketError.NetworkDown })
            {
                return true;
            }

            if (current is MqttCommunicationTimedOutException)
            {
                return true;
            }
        }

        return false;
    }

    private async Task MonitorAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                _health.Observe(_log.LastSequence, _counters.Published, _drainer.Lag(_time), _counters.Connected, _waiting);

                // The sending loop's waits have no timeout of their own (a timer per wait, one per acknowledgement,
                // was a fifth of the CPU at 1000 tags at 1 Hz): this tick wakes it every second to notice a stall.
                if (_wake is { } wake)
                {
                    BufferSignal.Wake(wake);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The buffer was disposed while stopping.
        }
    }

    private async Task ConnectAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        _tlsRejection = null;
        _tlsAccepted = false;
        byte[]? connAck = null;
        Task Inspect(MQTTnet.Diagnostics.PacketInspection.InspectMqttPacketEventArgs args)
        {
            if (args.Direction == MQTTnet.Diagnostics.PacketInspection.MqttPacketFlowDirection.Inbound && connAck is null && args.Buffer is [0x20, ..])
            {
                connAck = args.Buffer;
            }

            return Task.CompletedTask;
        }

        // Packet inspection copies every packet: it is on only while connecting, to read the CONNACK properties
        // MQTTnet does not surface (Receive Maximum, Maximum Packet Size).
        client.InspectPacketAsync += Inspect;
        MqttClientConnectResult result;
        try
        {
            result = await MqttProtocolFallback.ConnectAsync(client, () => _format.BuildOptions(_context), _context, _logger, Endpoint, cancellationToken);
        }
        finally
        {
            client.InspectPacketAsync -= Inspect;
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptions(), cancellationToken);
            }

            if (result.ResultCode == MqttClientConnectResultCode.RetainNotSupported && _context.RetainAvailable)
            {
                RetainNotAvailable();
            }

            throw new BrokerRefusedException(result.ResultCode, result.ReasonString);
        }

        _context.Limits = _context.Mqtt5 ? MqttBrokerLimits.From(connAck, result) : MqttBrokerLimits.None;
        if (!_context.Limits.RetainAvailable && _context.RetainAvailable)
        {
            RetainNotAvailable();
        }

        if (_context.Limits != MqttBrokerLimits.None && _context.Limits != _loggedLimits)
        {
            _loggedLimits = _context.Limits;
            var limits = _context.Limits;
            MqttLog.BrokerLimits(_logger, SinkName, limits.ReceiveMaximum, limits.MaximumPacketSize, (int)limits.MaximumQos, limits.RetainAvailable);
        }
    }

    private void RetainNotAvailable()
    {
        // A will with the retain flag is refused outright by such a broker (MQTT 5.0 §3.1.2.5): without it the
        // data still flows, only the status topic is no longer retained.
        _context.RetainAvailable = false;
        MqttLog.RetainNotAvailable(_logger, SinkName, Endpoint);
    }

    /// <summary>
    /// One connection's work until it fails. Returns when the session delivered something before failing (the next
    /// connection starts afresh), and throws <see cref="SessionFailedException"/> when it delivered nothing (the next
    /// one waits longer).
    /// </summary>
    private async Task RunSessionAsync(IMqttClient client, SemaphoreSlim wake, CancellationToken cancellationToken)
    {
        _counters.ConnectedChanged(true);
        MqttLog.Connected(_logger, SinkName, Endpoint, _log.Count);
        // The data goes out past MQTTnet (CoalescingChannel.TryPublish) but for QoS 2, which MQTTnet's exchange
        // (PUBREC, PUBREL, PUBCOMP) serves, and a connection not over the gateway's channel (an adapter factory of
        // someone else's: MQTTnet's own in the benchmark's comparison).
        _channel = _context.DataQos == MQTTnet.Protocol.MqttQualityOfServiceLevel.ExactlyOnce ? null : _coalescing?.Latest;
        if (_channel is { } channel)
        {
            channel.Acknowledgements.Wake = Wake;
        }

        _window.Resize(Math.Min(Math.Min(_config.Mqtt.MaxInflight, _context.Limits.ReceiveMaximum), PublishAcknowledgements.Capacity));
        _drainer.Restart();
        var deliveredBefore = _drainer.AcknowledgedSamples;
        var live = new OutgoingMessages();
        var history = new OutgoingMessages();
        var failed = false;
        try
        {
            await _format.OnConnectedAsync(_context, cancellationToken);
            await DrainAsync(client, wake, live, history, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            failed = true;
            Settle(live, history, failed: true);
            var reason = MqttFailureExplainer.Describe(ex);
            var deliveredNothing = _drainer.AcknowledgedSamples == deliveredBefore;
            if (!_context.Mqtt5 && MqttFailureExplainer.IsConnectionDrop(ex) && deliveredNothing)
            {
                // MQTT 3.1.1 has no way to refuse a publication but closing the connection (§3.3.5).
                reason += " - the broker closed the connection while publications awaited their acknowledgement: MQTT 3.1.1 brokers refuse that way a packet over their size limit (mosquitto: max_packet_size) or, for some brokers, a topic their ACL denies; see the broker's log";
            }

            if (ex is PublishRefusedException or MessageTooLargeException)
            {
                MqttLog.PublishRefused(_logger, SinkName, Endpoint, reason);
            }
            else
            {
                MqttLog.PublishInterrupted(_logger, SinkName, Endpoint, reason);
            }

            if (client.IsConnected)
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None);
            }

            _counters.ConnectedChanged(false);
            if (deliveredNothing)
            {
                throw new SessionFailedException(reason, ex);
            }

            return;
        }
        finally
        {
            if (!failed)
            {
                Settle(live, history, failed: false);
            }
        }

        _counters.ConnectedChanged(false);
    }

    /// <summary>Keeps what was acknowledged, forgets what was in flight (it is read again on the next connection).</summary>
    private void Settle(OutgoingMessages live, OutgoingMessages history, bool failed)
    {
        try
        {
            _window.TakeDelivered(_drainer);
        }
        catch (Exception)
        {
            // The first refused or failed publication ends what can be kept; it is reported by the caller.
        }

        _drainer.Flush();
        var abandoned = _window.Abandon();
        if (failed && abandoned > 0)
        {
            _counters.AddFailures(abandoned);
        }

        live.Clear();
        history.Clear();
        _waiting = 0;
    }

    /// <summary>
    /// Sends until the connection fails: each round takes the delivered prefix, reads the live lane for the free part of
    /// the window, then lets the history lane fill the rest but a quarter kept for live samples, and waits for an
    /// acknowledgement or new samples when there is nothing to send.
    /// </summary>
    private async Task DrainAsync(IMqttClient client, SemaphoreSlim wake, OutgoingMessages live, OutgoingMessages history, CancellationToken cancellationToken)
    {
        var readBatch = Math.Max(1, _config.Buffer.ReadBatchSize);
        var batch = new List<BufferedSample>(Math.Min(readBatch, 4096));
        var reserve = _window.Capacity / 4;
        var flushEvery = Math.Max(1, Math.Min(readBatch, 2000));
        var lastFlush = _time.GetTimestamp();
        var historyDrained = false;

        // One pending wait on the wake-up at a time, kept across rounds until it completes; cancelled when this
        // session ends however it ends, so that it cannot take a wake-up meant for the next session.
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task? woken = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (!client.IsConnected)
                {
                    throw new InvalidOperationException("the connection to the broker was lost");
                }

                if (_northLink?.IsCut == true)
                {
                    throw new NorthLinkCutException();
                }

                _window.TakeDelivered(_drainer, _config.Mqtt.Username);
                if (_drainer.PendingSamples >= flushEvery || (_drainer.PendingSamples > 0 && (_window.Count == 0 || _time.GetElapsedTime(lastFlush) >= FlushInterval)))
                {
                    _drainer.Flush();
                    lastFlush = _time.GetTimestamp();
                }

                var sent = 0;
                if (await _format.BeforeReadAsync(_context, cancellationToken))
                {
                    if (live.Count == 0 && _window.Free > 0 && (history.Count == 0 || !_format.SingleSequence))
                    {
                        batch.Clear();
                        if (_drainer.ReadLive((int)Math.Min((long)_window.Free * _format.LiveSamplesPerMessage, readBatch), batch) > 0)
                        {
                            _format.Encode(batch, DeliveryLane.Live, _context, live);
                        }
                    }

                    sent += Send(client, live, DeliveryLane.Live, keepFree: 0, cancellationToken);
                    if (live.Count == 0)
                    {
                        if (history.Count == 0 && _window.Free > reserve && !_drainer.HistoryDone)
                        {
                            batch.Clear();
                            if (_drainer.ReadHistory(_format.HistoryBatchSamples, batch) > 0)
                            {
                                _format.Encode(batch, DeliveryLane.History, _context, history);
                            }
                        }

                        sent += Send(client, history, DeliveryLane.History, keepFree: reserve, cancellationToken);
                        if (!historyDrained && _drainer.HistoryDone && history.Count == 0)
                        {
                            historyDrained = true;
                            _format.OnHistoryDrained(_context, live);
                            sent += Send(client, live, DeliveryLane.Live, keepFree: 0, cancellationToken);
                        }
                    }
                }

                _waiting = _window.Count;
                if (sent > 0)
                {
                    continue;
                }

                // Wait for the next acknowledgement or new samples (the writer's wake-up), or the monitor's tick every
                // second (stalls, a cut link): no timer per wait. Our own publications wake the loop in batches (one
                // wake-up of a pool thread per socket read was most of the wake-ups at 1 Hz): a quarter of the window
                // acknowledged while it waits for room, else the burst's last PUBACK; a refusal wakes it at once.
                _channel?.Acknowledgements.WakeAfter(live.Count > 0 || history.Count > 0 || _window.Free <= reserve ? Math.Max(1, reserve) : int.MaxValue);
                woken ??= wake.WaitAsync(session.Token);
                if (_window.Oldest is { } oldest)
                {
                    if (!oldest.IsCompleted && !woken.IsCompleted)
                    {
                        await Task.WhenAny((Task)oldest, woken).ConfigureAwait(false);
                    }
                }
                else if (_window.Count > 0)
                {
                    // The oldest is one of ours: the channel wakes the loop when its PUBACK (or room to send) comes.
                    await woken.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
                else
                {
                    _drainer.Flush();
                    lastFlush = _time.GetTimestamp();
                    await woken.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                if (woken.IsCompleted)
                {
                    woken = null;
                }

                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            await session.CancelAsync();
            if (woken is not null)
            {
                await woken.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Stops the output and disposes its format when it holds resources (the UNS encoder's pooled buffer).</summary>
    public override void Dispose()
    {
        base.Dispose();
        (_format as IDisposable)?.Dispose();
    }

    private int Send(IMqttClient client, OutgoingMessages messages, DeliveryLane lane, int keepFree, CancellationToken cancellationToken)
    {
        var sent = 0;
        var channel = _channel;
        while (_window.Free > keepFree && messages.TryPeek(out var outgoing))
        {
            CheckPacketSize(outgoing.Topic, outgoing.Length, outgoing.QualityOfServiceLevel);
            if (channel is not null)
            {
                if (!channel.TryPublish(outgoing.Topic, outgoing.RentedPayload.AsSpan(0, outgoing.Length), outgoing.QualityOfServiceLevel, out var packetIdentifier))
                {
                    break; // the send buffer is full: the channel wakes the loop once it has room
                }

                messages.TryTake(out _);
                PayloadPool.Shared.Return(outgoing.RentedPayload); // copied into the send buffer
                _window.AddOwn(channel.Acknowledgements, packetIdentifier, outgoing.Topic, lane, outgoing.Completes, outgoing.Samples);
            }
            else
            {
                messages.TryTake(out _);
                var message = new MqttApplicationMessage { Topic = outgoing.Topic, Payload = outgoing.Payload, QualityOfServiceLevel = outgoing.QualityOfServiceLevel };
                _window.Add(client.PublishAsync(message, cancellationToken), outgoing.Topic, lane, outgoing.Completes, outgoing.Samples, outgoing.RentedPayload);
            }

            sent++;
        }

        return sent;
    }

    /// <summary>Refuses, before sending, a message the broker announced it would not take (it would close the connection).</summary>
    private void CheckPacketSize(string topic, int payloadLength, MQTTnet.Protocol.MqttQualityOfServiceLevel qualityOfService)
    {
        var limit = _context.Limits.MaximumPacketSize;
        if (limit < MqttBrokerLimits.ProtocolMaximumPacketSize)
        {
            var size = MqttBrokerLimits.PublishPacketSize(topic, payloadLength, qualityOfService, _context.Mqtt5);
            if (size > limit)
            {
                throw new MessageTooLargeException(topic, size, limit);
            }
        }
    }

    private string DescribeConnectFailure(Exception? exception) =>
        MqttFailureExplainer.Connect(
            exception,
            _config.Mqtt.Tls is { Enabled: true },
            _tlsRejection,
            _tlsAccepted,
            _config.Mqtt.Tls is { Enabled: true, CertFile: not null },
            Endpoint,
            _context.Mqtt5);
}
