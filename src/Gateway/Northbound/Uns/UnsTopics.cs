using Gateway.Configuration;
using Gateway.Drivers;

namespace Gateway.Northbound.Uns;

/// <summary>
/// The Unified Namespace topics of one gateway: <c>&lt;prefix&gt;/&lt;enterprise&gt;/&lt;site&gt;/&lt;area&gt;/&lt;line&gt;</c>
/// then <c>/&lt;machine&gt;/&lt;tag path&gt;</c> for a tag (built once per tag instance and cached), or
/// <c>/_gateway/&lt;id&gt;/status</c> and <c>/_gateway/&lt;id&gt;/history</c>. Not thread-safe.
/// </summary>
public sealed class UnsTopics
{
    private readonly string _linePrefix;
    private readonly Dictionary<TagInfo, string> _topics = new(ReferenceEqualityComparer.Instance);

    public UnsTopics(GatewayIdentity identity, string topicPrefix)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(topicPrefix);
        var prefix = topicPrefix.Trim('/');
        _linePrefix = (prefix.Length > 0 ? prefix + "/" : "") + $"{identity.Enterprise}/{identity.Site}/{identity.Area}/{identity.Line}";
        StatusTopic = $"{_linePrefix}/_gateway/{identity.Id}/status";
        HistoryTopic = $"{_linePrefix}/_gateway/{identity.Id}/history";
    }

    /// <summary>The retained status topic; its last will says <c>offline</c>.</summary>
    public string StatusTopic { get; }

    /// <summary>Where the backlog goes, as JSON arrays.</summary>
    public string HistoryTopic { get; }

    /// <summary>The live topic of a tag (cached by tag instance).</summary>
    public string Topic(TagInfo tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (!_topics.TryGetValue(tag, out var topic))
        {
            topic = $"{_linePrefix}/{tag.Machine}/{tag.Path}";
            _topics[tag] = topic;
        }

        return topic;
    }
}
