using System.Text.Json;

namespace Gateway.Northbound.Sparkplug;

/// <summary>What a STATE message did to what the node knows of its primary host.</summary>
public enum PrimaryHostChange
{
    /// <summary>Same state as before (a repeated or re-delivered retained STATE).</summary>
    Unchanged,

    /// <summary>The host said it is online: the node may (re)birth.</summary>
    CameOnline,

    /// <summary>The host said it is offline: the node ends its session.</summary>
    WentOffline,

    /// <summary>Its timestamp is older than one already seen (a stale retained STATE): ignored, as Sparkplug 3.0 asks.</summary>
    Stale,

    /// <summary>Not the Sparkplug 3.0 JSON <c>{"online":bool,"timestamp":ms}</c>: ignored.</summary>
    Malformed,
}

/// <summary>
/// The Sparkplug 3.0 primary host application as an edge node sees it through <c>spBv1.0/STATE/&lt;host_id&gt;</c>:
/// a retained JSON <c>{"online":true|false,"timestamp":&lt;ms since the epoch&gt;}</c>. A STATE whose timestamp is older
/// than the newest seen is ignored (a host's will carries the timestamp of its own online message, so an equal one is
/// taken). Pure: no clock, no I/O; the caller logs and acts on the change.
/// </summary>
public sealed class PrimaryHostState
{
    public PrimaryHostState(string hostId)
    {
        HostId = hostId;
        Topic = $"spBv1.0/STATE/{hostId}";
    }

    public string HostId { get; }

    /// <summary>The STATE topic the node subscribes to (QoS 1).</summary>
    public string Topic { get; }

    /// <summary>True once the newest STATE taken said online.</summary>
    public bool Online { get; private set; }

    /// <summary>The timestamp of the newest STATE taken, in milliseconds since the epoch; null before the first.</summary>
    public long? Timestamp { get; private set; }

    /// <summary>
    /// A new connection: the node must hear the host say online again before it births (the retained STATE comes with
    /// the subscription). The newest timestamp seen is kept, so that a stale retained STATE stays ignored.
    /// </summary>
    public void Forget() => Online = false;

    /// <summary>Takes a STATE payload; says what changed.</summary>
    public PrimaryHostChange Observe(ReadOnlySpan<byte> payload)
    {
        if (!TryParse(payload, out var online, out var timestamp))
        {
            return PrimaryHostChange.Malformed;
        }

        if (timestamp < Timestamp)
        {
            return PrimaryHostChange.Stale;
        }

        Timestamp = timestamp;
        if (online == Online)
        {
            return PrimaryHostChange.Unchanged;
        }

        Online = online;
        return online ? PrimaryHostChange.CameOnline : PrimaryHostChange.WentOffline;
    }

    /// <summary>Reads <c>{"online":bool,"timestamp":integer}</c> (other members are ignored; both are required).</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out bool online, out long timestamp)
    {
        online = false;
        timestamp = 0;
        bool? foundOnline = null;
        long? foundTimestamp = null;
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("online"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        return false;
                    }

                    foundOnline = reader.GetBoolean();
                }
                else if (reader.ValueTextEquals("timestamp"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
                    {
                        return false;
                    }

                    foundTimestamp = value;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        if (foundOnline is not { } isOnline || foundTimestamp is not { } at)
        {
            return false;
        }

        online = isOnline;
        timestamp = at;
        return true;
    }
}
