using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Channel;

namespace Gateway.Tests.Northbound.Mqtt;

/// <summary>
/// A socket stand-in under <c>CoalescingChannel</c>: each scripted chunk is one receive (or several, when the reader
/// asks for less), the end of the script closes the connection; everything sent is recorded.
/// </summary>
internal sealed class ScriptedChannel(IEnumerable<byte[]>? reads = null) : IMqttChannel
{
    private readonly Queue<byte[]> _reads = new(reads ?? []);
    private readonly List<byte> _sent = [];
    private readonly SemaphoreSlim _wrote = new(0);
    private byte[]? _current;
    private int _position;

    public X509Certificate2 ClientCertificate => null!;

    public EndPoint RemoteEndPoint => new IPEndPoint(IPAddress.Loopback, 1883);

    public EndPoint LocalEndPoint => new IPEndPoint(IPAddress.Loopback, 50000);

    public bool IsSecureConnection => false;

    public Task ConnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task DisconnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        while (_current is null || _position == _current.Length)
        {
            if (!_reads.TryDequeue(out _current))
            {
                return Task.FromResult(0);
            }

            _position = 0;
        }

        var taken = Math.Min(count, _current.Length - _position);
        Array.Copy(_current, _position, buffer, offset, taken);
        _position += taken;
        return Task.FromResult(taken);
    }

    public Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken)
    {
        lock (_sent)
        {
            foreach (var segment in buffer)
            {
                _sent.AddRange(segment.Span);
            }
        }

        _wrote.Release();
        return Task.CompletedTask;
    }

    /// <summary>Waits until at least <paramref name="length"/> bytes were sent (the channel sends from its own loop).</summary>
    public async Task<byte[]> SentAsync(int length)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            lock (_sent)
            {
                if (_sent.Count >= length)
                {
                    return [.. _sent];
                }
            }

            await _wrote.WaitAsync(timeout.Token);
        }
    }

    public void Dispose() => _wrote.Dispose();
}
