using Gateway.Drivers;

namespace Gateway.Oee;

/// <summary>The rules between keys of the <c>oee</c> section, and the check of tag references against real tags.</summary>
public static class OeeConfigRules
{
    /// <summary>Rules the annotations cannot express: one state source, counters that go together, a shift plan, unique names.</summary>
    public static List<ConfigProblem> Check(OeeOptions options, string path)
    {
        var problems = new List<ConfigProblem>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Machines.Count; i++)
        {
            var machine = options.Machines[i];
            var machinePath = $"{path}.machines[{i}]";
            if (!string.IsNullOrEmpty(machine.Name) && !names.Add(machine.Name))
            {
                problems.Add(new ConfigProblem(machinePath + ".name", $"duplicate machine '{machine.Name}'"));
            }

            if (string.IsNullOrWhiteSpace(machine.RunningTag) == string.IsNullOrWhiteSpace(machine.StateTag))
            {
                problems.Add(new ConfigProblem(machinePath + ".stateTag", "set either runningTag (a boolean tag) or stateTag (a state code or string), not both, not neither"));
            }

            if (machine.StateMap is not null && string.IsNullOrWhiteSpace(machine.StateTag))
            {
                problems.Add(new ConfigProblem(machinePath + ".stateMap", "applies to stateTag only"));
            }

            var hasTotal = !string.IsNullOrWhiteSpace(machine.TotalCountTag);
            if (!string.IsNullOrWhiteSpace(machine.GoodCountTag) && !string.IsNullOrWhiteSpace(machine.RejectCountTag))
            {
                problems.Add(new ConfigProblem(machinePath + ".rejectCountTag", "set goodCountTag or rejectCountTag, not both"));
            }
            else if (!hasTotal && (!string.IsNullOrWhiteSpace(machine.GoodCountTag) || !string.IsNullOrWhiteSpace(machine.RejectCountTag)))
            {
                problems.Add(new ConfigProblem(machinePath + ".totalCountTag", "is required with goodCountTag or rejectCountTag (quality = good / total)"));
            }

            if (hasTotal && machine.IdealCycleMs is null)
            {
                problems.Add(new ConfigProblem(machinePath + ".idealCycleMs", "is required with totalCountTag (performance = ideal cycle x total / run time)"));
            }

            if (machine.ShiftPlan is null && options.ShiftPlan is null)
            {
                problems.Add(new ConfigProblem(machinePath + ".shiftPlan", "is required when oee.shiftPlan is not set"));
            }
        }

        return problems;
    }

    /// <summary>
    /// Every tag reference of <paramref name="options"/> that is not among <paramref name="knownTagKeys"/>
    /// (<c>machine/path</c>, as the drivers produce them).
    /// </summary>
    public static List<ConfigProblem> CheckTags(OeeOptions options, IReadOnlySet<string> knownTagKeys, string path = "oee")
    {
        var problems = new List<ConfigProblem>();
        for (var i = 0; i < options.Machines.Count; i++)
        {
            var machine = options.Machines[i];
            foreach (var (key, tag) in TagReferences(machine))
            {
                var full = machine.Name + "/" + tag;
                if (!knownTagKeys.Contains(full))
                {
                    var ofMachine = knownTagKeys.Where(k => k.StartsWith(machine.Name + "/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Take(12).ToList();
                    var hint = ofMachine.Count == 0 ? $"no driver produces tags of machine '{machine.Name}'" : "known: " + string.Join(", ", ofMachine.Select(k => k[(machine.Name.Length + 1)..]));
                    problems.Add(new ConfigProblem($"{path}.machines[{i}].{key}", $"no tag '{full}' ({hint})"));
                }
            }
        }

        return problems;
    }

    internal static IEnumerable<(string Key, string Tag)> TagReferences(OeeMachineOptions machine)
    {
        if (!string.IsNullOrWhiteSpace(machine.RunningTag))
        {
            yield return ("runningTag", machine.RunningTag);
        }

        if (!string.IsNullOrWhiteSpace(machine.StateTag))
        {
            yield return ("stateTag", machine.StateTag);
        }

        if (!string.IsNullOrWhiteSpace(machine.DownReasonTag))
        {
            yield return ("downReasonTag", machine.DownReasonTag);
        }

        if (!string.IsNullOrWhiteSpace(machine.TotalCountTag))
        {
            yield return ("totalCountTag", machine.TotalCountTag);
        }

        if (!string.IsNullOrWhiteSpace(machine.GoodCountTag))
        {
            yield return ("goodCountTag", machine.GoodCountTag);
        }

        if (!string.IsNullOrWhiteSpace(machine.RejectCountTag))
        {
            yield return ("rejectCountTag", machine.RejectCountTag);
        }
    }
}
