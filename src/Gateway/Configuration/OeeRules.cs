using Gateway.Drivers;
using Gateway.Oee;

namespace Gateway.Configuration;

/// <summary>
/// The <c>oee</c> section checks itself (<see cref="OeeConfigRules.Check"/>: one state source, counters that go
/// together, a shift plan, unique machines); its problems are reported on one line at <c>oee</c>, as check-config
/// has always printed them.
/// </summary>
public sealed class OeeSectionRule : IConfigRule
{
    public void Check(ConfigContext context, List<ConfigProblem> problems)
    {
        if (context.Config.Oee is { } oee && OeeConfigRules.Check(oee, "oee") is { Count: > 0 } found)
        {
            problems.Add(new ConfigProblem("oee", string.Join("; ", found)));
        }
    }
}

/// <summary>
/// The <c>oee</c> section against the drivers: every tag it refers to must be produced by an enabled driver. Runs
/// only on an otherwise valid configuration (a broken driver section would make every reference look unknown).
/// The section's own rules are <see cref="OeeSectionRule"/>.
/// </summary>
public sealed class OeeTagReferenceRule : IConfigRule
{
    public void Check(ConfigContext context, List<ConfigProblem> problems)
    {
        if (context.Config.Oee is { } oee && problems.Count == 0)
        {
            problems.AddRange(OeeConfigRules.CheckTags(oee, DriverRules.ConfiguredTagKeys(context)));
        }
    }
}
