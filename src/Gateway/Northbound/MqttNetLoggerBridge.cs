using Microsoft.Extensions.Logging;
using MQTTnet.Diagnostics.Logger;

namespace Gateway.Northbound;

/// <summary>Routes MQTTnet's own log into ILogger.</summary>
internal sealed class MqttNetLoggerBridge(ILogger logger) : IMqttNetLogger
{
    public bool IsEnabled => logger.IsEnabled(LogLevel.Debug);

    public void Publish(MqttNetLogLevel logLevel, string source, string message, object[] parameters, Exception exception)
    {
        var level = logLevel switch
        {
            MqttNetLogLevel.Verbose => LogLevel.Trace,
            MqttNetLogLevel.Info => LogLevel.Debug,
            MqttNetLogLevel.Warning => LogLevel.Warning,
            _ => LogLevel.Error,
        };
        if (!logger.IsEnabled(level))
        {
            return;
        }

        var text = parameters is { Length: > 0 } ? string.Format(System.Globalization.CultureInfo.InvariantCulture, message, parameters) : message;
#pragma warning disable CA2254 // MQTTnet's messages are its own templates
        logger.Log(level, exception, "[{Source}] {Message}", source, text);
#pragma warning restore CA2254
    }
}
