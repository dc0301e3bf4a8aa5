using System.ComponentModel.DataAnnotations;
using Gateway.Drivers;

namespace Gateway.Configuration;

/// <summary>
/// Writes to PLCs from MQTT (UNS <c>&lt;tag topic&gt;/set</c>, Sparkplug DCMD). Each tag must still say
/// <c>writable: true</c>; this section only switches the MQTT side on or off and narrows who may write.
/// </summary>
public sealed class WritesOptions
{
    /// <summary>False: no write topic is subscribed and no DCMD is honoured, whatever the tags say. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// When not empty, only a message that names one of these in its MQTT 5 user property <c>client</c> (or <c>user</c>)
    /// may write. MQTT does not tell a subscriber who published: the broker's ACL on the <c>/set</c> and DCMD topics is
    /// what authenticates; this list is a second check on what the sender declares. Empty (default): anyone the broker lets publish.
    /// </summary>
    public List<string> AllowedClients { get; set; } = [];

    /// <summary>Longest wait for the PLC's acknowledgement and the read-back, in milliseconds. Default 5000.</summary>
    [Range(100, 60_000)]
    public int TimeoutMs { get; set; } = 5000;
}

/// <summary>Per tag: <c>min</c> not above <c>max</c>, both only on numeric writable tags.</summary>
public sealed class WriteRules : IConfigRule
{
    public void Check(ConfigContext context, List<ConfigProblem> problems)
    {
        var drivers = context.Config.Drivers;
        for (var i = 0; i < drivers.Count; i++)
        {
            for (var j = 0; j < drivers[i].Tags.Count; j++)
            {
                var tag = drivers[i].Tags[j];
                var path = $"drivers[{i}].tags[{j}]";
                if (tag.Min is null && tag.Max is null)
                {
                    continue;
                }

                if (!tag.Writable)
                {
                    problems.Add(new ConfigProblem(path + (tag.Min is null ? ".max" : ".min"), "applies to writes only: the tag is not writable (set \"writable\": true, or remove it)"));
                }

                if (tag.Min is { } min && tag.Max is { } max && min > max)
                {
                    problems.Add(new ConfigProblem(path + ".min", $"{min} is above max {max}"));
                }

                if (tag.Min is { } a && !double.IsFinite(a))
                {
                    problems.Add(new ConfigProblem(path + ".min", "must be a finite number"));
                }

                if (tag.Max is { } b && !double.IsFinite(b))
                {
                    problems.Add(new ConfigProblem(path + ".max", "must be a finite number"));
                }

                if (TagWriteTypes.Parse(tag.Type) is TagWriteType.Boolean or TagWriteType.Text)
                {
                    problems.Add(new ConfigProblem(path + (tag.Min is null ? ".max" : ".min"), $"a range needs a numeric type, the tag is '{tag.Type}'"));
                }
            }
        }
    }
}
