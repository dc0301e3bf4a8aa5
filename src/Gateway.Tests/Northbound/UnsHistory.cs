using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Northbound;

/// <summary>Reads UNS traffic as samples: live messages as they are, history arrays element by element.</summary>
internal static class UnsHistory
{
    public static bool IsHistory(string topic) => topic.Contains("/_gateway/", StringComparison.Ordinal) && topic.EndsWith("/history", StringComparison.Ordinal);

    /// <summary>Every sample carried, in arrival order: a history element becomes a message on its own topic, flagged.</summary>
    public static IEnumerable<(Received Sample, bool History)> Flatten(IEnumerable<Received> messages)
    {
        foreach (var message in messages)
        {
            if (IsHistory(message.Topic))
            {
                using var array = JsonDocument.Parse(message.Payload);
                foreach (var element in array.RootElement.EnumerateArray())
                {
                    yield return (new Received(element.GetProperty("topic").GetString()!, element.GetRawText(), false), true);
                }
            }
            else if (!message.Retained && !message.Topic.Contains("/_gateway/", StringComparison.Ordinal))
            {
                yield return (message, false);
            }
        }
    }

    /// <summary>The first occurrence of each distinct sample (topic, timestamp, value): QoS 1 may deliver twice, and a sample in flight when the connection broke comes again as history.</summary>
    public static List<(Received Sample, bool History)> Unique(IEnumerable<Received> messages)
    {
        var seen = new HashSet<(string, string, string)>();
        return [.. Flatten(messages).Where(m => seen.Add((m.Sample.Topic, m.Sample.Timestamp, m.Sample.Json.GetProperty("value").GetRawText())))];
    }
}
