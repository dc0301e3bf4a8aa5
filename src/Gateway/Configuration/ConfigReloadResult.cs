using Gateway.Drivers;

namespace Gateway.Configuration;

/// <summary>The answer to one reload.</summary>
/// <param name="Result"><c>applied</c> (drivers restarted, added or removed), <c>unchanged</c> (no driver changed),
/// <c>refused</c> (the file is not valid: the running configuration is kept) or <c>failed</c> (valid, but a driver
/// could not be created: it does not run, the others were applied).</param>
/// <param name="Problems">Why the file was refused: every check-config problem, with its JSON path.</param>
/// <param name="Restarted">Drivers whose section changed: stopped and started again.</param>
/// <param name="Added">Drivers started.</param>
/// <param name="Removed">Drivers stopped (their tags left the live view).</param>
/// <param name="RestartRequired">Changed sections a reload does not apply (<c>mqtt</c>, <c>buffer</c>, <c>http</c>, ...): restart the gateway for them.</param>
/// <param name="Errors">Drivers that could not be created, as <c>drivers[i] (name): reason</c>.</param>
public sealed record ConfigReloadResult(
    string Result,
    IReadOnlyList<ConfigProblem> Problems,
    IReadOnlyList<string> Restarted,
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<string> RestartRequired,
    IReadOnlyList<string> Errors)
{
    public const string Applied = "applied";
    public const string Unchanged = "unchanged";
    public const string Refused = "refused";
    public const string Failed = "failed";

    /// <summary>True when the file was accepted and everything in it that a reload applies now runs.</summary>
    public bool Succeeded => Result is Applied or Unchanged;
}

/// <summary><c>{"path", "reason"}</c>: one problem of a refused configuration.</summary>
internal sealed record ProblemDocument(string Path, string Reason);

/// <summary>The answer of <c>POST /api/config/reload</c> (also what the dashboard shows after a save).</summary>
internal sealed record ReloadDocument(
    string Result,
    IEnumerable<ProblemDocument> Problems,
    IReadOnlyList<string> Restarted,
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<string> RestartRequired,
    IReadOnlyList<string> Errors)
{
    /// <summary>The document of a reload's answer.</summary>
    public static ReloadDocument From(ConfigReloadResult result) => new(
        result.Result,
        result.Problems.Select(p => new ProblemDocument(p.Path, p.Reason)),
        result.Restarted,
        result.Added,
        result.Removed,
        result.RestartRequired,
        result.Errors);
}
