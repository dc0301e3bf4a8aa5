using System.IO.Ports;
using System.Net.Sockets;

namespace Gateway.Drivers.Modbus;

/// <summary>Serial parity as written in the configuration.</summary>
public enum ModbusParity
{
    None,
    Even,
    Odd,
}

/// <summary>An RS-485/RS-232 port (or a pseudo-terminal) through System.IO.Ports.</summary>
public sealed class SerialPortLine : IModbusSerialLine
{
    private readonly string _portName;
    private readonly int _baudRate;
    private readonly ModbusParity _parity;
    private readonly int _dataBits;
    private readonly int _stopBits;
    private SerialPort? _port;

    public SerialPortLine(string portName, int baudRate, ModbusParity parity = ModbusParity.Even, int dataBits = 8, int stopBits = 1)
    {
        _portName = portName;
        _baudRate = baudRate;
        _parity = parity;
        _dataBits = dataBits;
        _stopBits = stopBits;
    }

    /// <summary>Start + data + parity + stop bits: the length of one character on the wire.</summary>
    public int BitsPerCharacter => 1 + _dataBits + (_parity == ModbusParity.None ? 0 : 1) + _stopBits;

    public bool IsOpen => _port?.IsOpen == true;

    public ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        var port = new SerialPort(_portName, _baudRate, _parity switch
        {
            ModbusParity.Even => Parity.Even,
            ModbusParity.Odd => Parity.Odd,
            _ => Parity.None,
        }, _dataBits, _stopBits == 2 ? StopBits.Two : StopBits.One)
        {
            Handshake = Handshake.None,
            ReadTimeout = SerialPort.InfiniteTimeout,
            WriteTimeout = 1000,
        };
        try
        {
            port.Open();
        }
        catch (ArgumentException ex)
        {
            // System.IO.Ports reports a line setting the device refuses (tcsetattr) as an ArgumentException without saying which.
            port.Dispose();
            throw new ModbusConnectionException(
                $"cannot open serial port {_portName}: it refused the line settings {_baudRate} baud, {_parity.ToString().ToLowerInvariant()} parity, {_dataBits} data bits, {_stopBits} stop bit(s) ({ex.Message}); pseudo-terminals and some USB adapters support only some of them",
                ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            port.Dispose();
            throw new ModbusConnectionException($"cannot open serial port {_portName}: {ex.Message}", ex);
        }

        _port = port;
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Port.BaseStream.WriteAsync(data, cancellationToken);

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        Port.BaseStream.ReadAsync(buffer, cancellationToken);

    public void DiscardInput()
    {
        if (_port?.IsOpen == true)
        {
            _port.DiscardInBuffer();
        }
    }

    private SerialPort Port => _port ?? throw new InvalidOperationException($"serial port {_portName} is not open");

    public void Close()
    {
        var port = _port;
        _port = null;
        port?.Dispose();
    }

    public void Dispose() => Close();
}

/// <summary>RTU frames over a TCP socket (serial-to-Ethernet converters in transparent mode).</summary>
public sealed class TcpSerialLine : IModbusSerialLine
{
    private readonly string _host;
    private readonly int _port;
    private Socket? _socket;
    private NetworkStream? _stream;

    public TcpSerialLine(string host, int port)
    {
        _host = host;
        _port = port;
    }

    public bool IsOpen => _stream is not null;

    public async ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        var stream = (NetworkStream)await ModbusTcpTransport.ConnectAsync(_host, _port, cancellationToken);
        _stream = stream;
        _socket = stream.Socket;
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Stream.WriteAsync(data, cancellationToken);

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        Stream.ReadAsync(buffer, cancellationToken);

    public void DiscardInput()
    {
        if (_socket is { } socket && _stream is not null)
        {
            var scratch = new byte[256];
            while (socket.Available > 0)
            {
                if (socket.Receive(scratch, Math.Min(scratch.Length, socket.Available), SocketFlags.None) <= 0)
                {
                    break;
                }
            }
        }
    }

    private NetworkStream Stream => _stream ?? throw new InvalidOperationException($"{_host}:{_port} is not connected");

    public void Close()
    {
        var stream = _stream;
        _stream = null;
        _socket = null;
        stream?.Dispose();
    }

    public void Dispose() => Close();
}
