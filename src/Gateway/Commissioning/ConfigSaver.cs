using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Drivers;

namespace Gateway.Commissioning;

/// <summary>One driver as the page submits it.</summary>
/// <param name="Index">Its index in the file's <c>drivers[]</c> as the page read it; null for a new driver.</param>
/// <param name="Driver">The whole driver object (secrets may be left as <see cref="ConfigSecrets.Mask"/>).</param>
public sealed record SubmittedDriver(int? Index, JsonObject Driver);

/// <summary>The result of a save.</summary>
/// <param name="Result"><c>saved</c> (written, then reloaded: see <paramref name="Reload"/>), <c>unchanged</c> (nothing
/// to write), <c>refused</c> (check-config's problems: the file and the running configuration are untouched) or
/// <c>conflict</c> (the file changed since the page read it).</param>
/// <param name="Problems">Why it was refused, each with its JSON path in the new document.</param>
/// <param name="Changes">What changed, driver by driver (names only).</param>
/// <param name="Backup">The previous file's backup (<c>gateway.json.1</c>) when saved.</param>
/// <param name="Hash">The file's hash after the call: what the next save gives as its base.</param>
/// <param name="Reload">The hot reload's answer, when saved.</param>
public sealed record SaveOutcome(string Result, IReadOnlyList<ConfigProblem> Problems, IReadOnlyList<string> Changes, string? Backup, string Hash, ConfigReloadResult? Reload)
{
    public const string Saved = "saved";
    public const string Unchanged = "unchanged";
    public const string Refused = "refused";
    public const string Conflict = "conflict";
}

/// <summary>
/// Saves the drivers the commissioning page submits: edits the file's text by spans (<see cref="ConfigTextEditor"/>),
/// checks the new text exactly as check-config does (<see cref="ConfigLoader.Load"/>, on the very temporary file that
/// is then renamed into place), refuses it with every problem, or writes it atomically with a numbered backup
/// (<see cref="ConfigFileWriter"/>) and hot-reloads. One save at a time; one audit line each (who, from where, what
/// changed: names, never values).
/// </summary>
public sealed partial class ConfigSaver : IDisposable
{
    internal static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private readonly string _path;
    private readonly IReadOnlyList<IDriverFactory> _factories;
    private readonly Func<string, CancellationToken, Task<ConfigReloadResult>> _reload;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <param name="path">The configuration file the gateway runs.</param>
    /// <param name="factories">The driver factories (check-config's).</param>
    /// <param name="reload">The hot reload (the host's <c>ConfigReloader.ReloadAsync</c>), given who asked.</param>
    /// <param name="logger">Where the audit lines go.</param>
    public ConfigSaver(string path, IReadOnlyList<IDriverFactory> factories, Func<string, CancellationToken, Task<ConfigReloadResult>> reload, ILogger logger)
    {
        _path = Path.GetFullPath(path);
        _factories = factories;
        _reload = reload;
        _logger = logger;
    }

    public string ConfigPath => _path;

    /// <summary>The hash a page gives back with its save: SHA-256 of the file's bytes, hex.</summary>
    public static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The file as the page sees it: the whole document with secrets masked, and its hash.</summary>
    public (JsonObject Document, string Hash) Read()
    {
        var bytes = File.ReadAllBytes(_path);
        var document = JsonNode.Parse(bytes, documentOptions: DocumentOptions) as JsonObject ?? throw new JsonException("the configuration is not a JSON object");
        return ((JsonObject)ConfigSecrets.Masked(document)!, Hash(bytes));
    }

    /// <summary>Saves <paramref name="drivers"/> (the whole list: a driver of the file not in it is deleted).</summary>
    /// <param name="drivers">Every driver, the file's in their order (by index), then the new ones.</param>
    /// <param name="baseHash">The hash the page read; null skips the check (scripts).</param>
    /// <param name="origin">Who asked, for the audit line: <c>http 127.0.0.1 (session)</c>.</param>
    /// <param name="cancellationToken">Cancels the wait for another save; a write once begun completes.</param>
    public async Task<SaveOutcome> SaveAsync(IReadOnlyList<SubmittedDriver> drivers, string? baseHash, string origin, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var bytes = await File.ReadAllBytesAsync(_path, CancellationToken.None);
            var hash = Hash(bytes);
            if (baseHash is not null && !string.Equals(baseHash, hash, StringComparison.OrdinalIgnoreCase))
            {
                return new SaveOutcome(SaveOutcome.Conflict, [new ConfigProblem("$", "the configuration file changed since this page read it: reload the page")], [], null, hash, null);
            }

            var original = (JsonNode.Parse(bytes, documentOptions: DocumentOptions) as JsonObject)?["drivers"] as JsonArray ?? [];
            var (edits, changes, problems) = Plan(drivers, original);
            if (problems.Count > 0)
            {
                LogRefused(_logger, origin, _path, problems.Count, string.Join("; ", problems));
                return new SaveOutcome(SaveOutcome.Refused, problems, changes, null, hash, null);
            }

            if (edits.Count == 0)
            {
                return new SaveOutcome(SaveOutcome.Unchanged, [], [], null, hash, null);
            }

            var text = ConfigTextEditor.Apply(bytes, edits);
            var temporary = ConfigFileWriter.WriteTemporary(_path, text);
            string? backup;
            try
            {
                var loaded = ConfigLoader.Load(temporary, _factories);
                if (!loaded.IsValid)
                {
                    LogRefused(_logger, origin, _path, loaded.Problems.Count, string.Join("; ", loaded.Problems));
                    return new SaveOutcome(SaveOutcome.Refused, loaded.Problems, changes, null, hash, null);
                }

                backup = ConfigFileWriter.Commit(_path, temporary, ex => LogDirectoryNotFlushed(_logger, _path, ex.Message));
            }
            finally
            {
                if (File.Exists(temporary))
                {
                    ConfigFileWriter.Discard(temporary);
                }
            }

            LogSaved(_logger, origin, _path, string.Join("; ", changes), backup ?? "none");
            var reload = await _reload(origin, CancellationToken.None);
            return new SaveOutcome(SaveOutcome.Saved, [], changes, backup, Hash(text), reload);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>The edits from the file's drivers to the submitted ones, and what they change.</summary>
    private static (List<DriverEdit> Edits, List<string> Changes, List<ConfigProblem> Problems) Plan(IReadOnlyList<SubmittedDriver> drivers, JsonArray original)
    {
        var edits = new List<DriverEdit>();
        var changes = new List<string>();
        var problems = new List<ConfigProblem>();
        var seen = new HashSet<int>();
        var last = -1;
        for (var i = 0; i < drivers.Count; i++)
        {
            var (index, driver) = drivers[i];
            if (index is not { } at)
            {
                continue;
            }

            if (at < 0 || at >= original.Count || !seen.Add(at) || at < last)
            {
                problems.Add(new ConfigProblem($"drivers[{i}]", $"index {at} is not a driver of the file read by the page, or appears twice or out of order"));
                continue;
            }

            last = at;
            ConfigSecrets.Restore(driver, original[at]);
        }

        for (var i = 0; i < drivers.Count; i++)
        {
            if (ConfigSecrets.HasMask(drivers[i].Driver))
            {
                problems.Add(new ConfigProblem($"drivers[{i}]", $"a secret is left as '{ConfigSecrets.Mask}' where nothing was saved before: type it, or leave the key out"));
            }
        }

        if (problems.Count > 0)
        {
            return (edits, changes, problems);
        }

        var kept = drivers.Where(d => d.Index is not null).ToDictionary(d => d.Index!.Value);
        for (var at = 0; at < original.Count; at++)
        {
            var before = original[at] as JsonObject;
            if (!kept.TryGetValue(at, out var submitted))
            {
                edits.Add(DriverEdit.Remove(at));
                changes.Add(DriverChangeSummary.Removed(before));
            }
            else if (!JsonNode.DeepEquals(before, submitted.Driver))
            {
                edits.Add(DriverEdit.Replace(at, submitted.Driver));
                changes.Add(before is null ? DriverChangeSummary.Added(submitted.Driver) : DriverChangeSummary.Changed(before, submitted.Driver));
            }
        }

        foreach (var added in drivers.Where(d => d.Index is null))
        {
            edits.Add(DriverEdit.Append(added.Driver));
            changes.Add(DriverChangeSummary.Added(added.Driver));
        }

        return (edits, changes, problems);
    }

    [LoggerMessage(EventId = 1763, Level = LogLevel.Warning, Message = "Config saved to {File}, but its directory could not be flushed to disk: a power loss now may bring back the previous file ({Reason})")]
    private static partial void LogDirectoryNotFlushed(ILogger logger, string file, string reason);

    [LoggerMessage(EventId = 1760, Level = LogLevel.Information, Message = "Config saved from the commissioning page by {Origin} ({File}): {Changes}; previous file kept as {Backup}")]
    private static partial void LogSaved(ILogger logger, string origin, string file, string changes, string backup);

    [LoggerMessage(EventId = 1761, Level = LogLevel.Warning, Message = "Config save from the commissioning page by {Origin} ({File}) refused, the file and the running configuration are kept; {Count} problem(s): {Problems}")]
    private static partial void LogRefused(ILogger logger, string origin, string file, int count, string problems);
}
