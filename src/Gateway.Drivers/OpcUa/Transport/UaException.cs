using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.Transport;

/// <summary>A service or transport failure carrying an OPC UA status code.</summary>
public class UaException : Exception
{
    public UaException()
    {
    }

    public UaException(string message)
        : base(message)
    {
    }

    public UaException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public UaException(uint statusCode, string message, Exception? inner = null)
        : base($"{message} ({SampleStatus.Name(statusCode)})", inner)
    {
        StatusCode = statusCode;
    }

    public uint StatusCode { get; } = SampleStatus.BadUnexpectedError;
}

/// <summary>The peer could not be reached, refused the connection, or went away.</summary>
public sealed class UaConnectionException : UaException
{
    public UaConnectionException()
    {
    }

    public UaConnectionException(string message)
        : base(message)
    {
    }

    public UaConnectionException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public UaConnectionException(uint statusCode, string message, Exception? inner = null)
        : base(statusCode, message, inner)
    {
    }
}
