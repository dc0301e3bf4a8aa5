using System.Text.Json.Nodes;
using Gateway.Commissioning;
using Gateway.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Commissioning;

/// <summary>Issue 16: a save from the page is checked as check-config checks, written atomically with backups, then reloaded.</summary>
public sealed class ConfigSaverTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gw-save-").FullName;
    private readonly List<string> _reloads = [];

    public ConfigSaverTests()
    {
        File.WriteAllText(FilePath, $$"""
            {
              // Lyon, line 1
              "gateway": { "id": "gw", "enterprise": "acme", "site": "lyon", "area": "assembly", "line": "line-1" },
              "drivers": [
                // the simulated press
                { "name": "sim", "type": "simulated", "intervalMs": 200, "machines": [ { "name": "m1", "idealCycleMs": 100 } ] }
              ],
              "buffer": { "path": "{{Path.Combine(_directory, "buffer.db").Replace("\\", "\\\\", StringComparison.Ordinal)}}" } /* on the SD card */
            }
            """);
    }

    private string FilePath => Path.Combine(_directory, "gateway.json");

    private ConfigSaver Saver() => new(FilePath, BuiltInDrivers.Factories, (origin, _) =>
    {
        _reloads.Add(origin);
        return Task.FromResult(new ConfigReloadResult(ConfigReloadResult.Applied, [], ["sim"], [], [], [], []));
    }, NullLogger.Instance);

    private static JsonObject Sim(int intervalMs) => new()
    {
        ["name"] = "sim",
        ["type"] = "simulated",
        ["intervalMs"] = intervalMs,
        ["machines"] = new JsonArray(new JsonObject { ["name"] = "m1", ["idealCycleMs"] = 100 }),
    };

    [Fact]
    public async Task Save_Valid_WritesTheFileKeepingItsComments_KeepsTheOldAsBackup1_AndReloads()
    {
        var old = await File.ReadAllBytesAsync(FilePath);
        using var saver = Saver();
        var (_, hash) = saver.Read();

        var outcome = await saver.SaveAsync([new SubmittedDriver(0, Sim(300))], hash, "http 127.0.0.1 (session)", CancellationToken.None);

        Assert.Equal(SaveOutcome.Saved, outcome.Result);
        var text = await File.ReadAllTextAsync(FilePath);
        Assert.Contains("// Lyon, line 1", text, StringComparison.Ordinal);
        Assert.Contains("/* on the SD card */", text, StringComparison.Ordinal);
        Assert.Contains("\"intervalMs\": 300", text, StringComparison.Ordinal);
        Assert.Equal(old, await File.ReadAllBytesAsync(FilePath + ".1"));
        Assert.Equal(FilePath + ".1", outcome.Backup);
        Assert.Equal(["http 127.0.0.1 (session)"], _reloads);
        Assert.Equal(["changed sim (settings changed: intervalMs)"], outcome.Changes);
        Assert.Equal(ConfigSaver.Hash(await File.ReadAllBytesAsync(FilePath)), outcome.Hash);
        Assert.Empty(Directory.GetFiles(_directory, ConfigFileWriter.TemporaryPrefix(FilePath) + "*"));
    }

    [Fact]
    public async Task Save_Refused_ListsEveryProblemWithItsJsonPath_AndLeavesTheFileAndTheRunningConfigUntouched()
    {
        var old = await File.ReadAllBytesAsync(FilePath);
        using var saver = Saver();
        var bad = Sim(200);
        bad["intervalMz"] = 5;
        bad["machines"]![0]!["idealCycleMs"] = "fast";
        var added = new JsonObject { ["name"] = "plc", ["type"] = "modbus-tcp", ["tags"] = new JsonArray(new JsonObject { ["name"] = "t", ["address"] = "holding:0" }) };

        var outcome = await saver.SaveAsync([new SubmittedDriver(0, bad), new SubmittedDriver(null, added)], null, "http 127.0.0.1 (session)", CancellationToken.None);

        Assert.Equal(SaveOutcome.Refused, outcome.Result);
        var paths = outcome.Problems.Select(p => p.Path).ToList();
        Assert.Contains("drivers[0].intervalMz", paths);
        Assert.Contains("drivers[0].machines[0].idealCycleMs", paths);
        Assert.Equal(old, await File.ReadAllBytesAsync(FilePath));
        Assert.False(File.Exists(FilePath + ".1"));
        Assert.Empty(_reloads);
        Assert.Empty(Directory.GetFiles(_directory, ConfigFileWriter.TemporaryPrefix(FilePath) + "*"));
    }

    [Fact]
    public async Task Save_TwelveTimes_KeepsTenNumberedBackups_NewestAsOne()
    {
        using var saver = Saver();
        var contents = new List<byte[]>();
        for (var i = 0; i < 12; i++)
        {
            contents.Add(await File.ReadAllBytesAsync(FilePath));
            var outcome = await saver.SaveAsync([new SubmittedDriver(0, Sim(300 + i))], null, "test", CancellationToken.None);
            Assert.Equal(SaveOutcome.Saved, outcome.Result);
        }

        Assert.Equal(contents[^1], await File.ReadAllBytesAsync(FilePath + ".1"));
        Assert.Equal(contents[^10], await File.ReadAllBytesAsync(FilePath + ".10"));
        Assert.False(File.Exists(FilePath + ".11"));
        Assert.Equal(ConfigFileWriter.MaxBackups, Directory.GetFiles(_directory, "gateway.json.*").Count(f => int.TryParse(Path.GetExtension(f).TrimStart('.'), out _)));
    }

    [Fact]
    public async Task Save_FileChangedSinceRead_IsAConflict_AndNothingIsWritten()
    {
        using var saver = Saver();
        var (_, hash) = saver.Read();
        await File.AppendAllTextAsync(FilePath, "\n");
        var changed = await File.ReadAllBytesAsync(FilePath);

        var outcome = await saver.SaveAsync([new SubmittedDriver(0, Sim(300))], hash, "test", CancellationToken.None);

        Assert.Equal(SaveOutcome.Conflict, outcome.Result);
        Assert.Equal(changed, await File.ReadAllBytesAsync(FilePath));
        Assert.Empty(_reloads);
    }

    [Fact]
    public async Task Save_SameDrivers_IsUnchanged_NoWriteNoBackupNoReload()
    {
        using var saver = Saver();
        var (document, hash) = saver.Read();

        var outcome = await saver.SaveAsync([new SubmittedDriver(0, document["drivers"]![0]!.AsObject())], hash, "test", CancellationToken.None);

        Assert.Equal(SaveOutcome.Unchanged, outcome.Result);
        Assert.False(File.Exists(FilePath + ".1"));
        Assert.Empty(_reloads);
    }

    [Fact]
    public async Task Save_DriverLeftOut_IsDeleted_NewOneAppended_AndTheAuditSaysSo()
    {
        using var saver = Saver();
        var second = Sim(250);
        second["name"] = "sim-2";
        second["machines"]![0]!["name"] = "m2";

        var outcome = await saver.SaveAsync([new SubmittedDriver(null, second)], null, "test", CancellationToken.None);

        Assert.Equal(SaveOutcome.Saved, outcome.Result);
        Assert.Equal(["removed sim", "added sim-2 (0 tags)"], outcome.Changes);
        var text = await File.ReadAllTextAsync(FilePath);
        Assert.DoesNotContain("\"name\": \"sim\",", text, StringComparison.Ordinal);
        Assert.Contains("\"sim-2\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_AreMaskedForThePage_AndAMaskLeftUnchangedIsRestoredFromTheFile()
    {
        var original = JsonNode.Parse("""{ "name": "ua", "password": "hunter2", "passwordFile": "/etc/gw/ua.pw", "nested": { "apiToken": "t0k" } }""")!;

        var masked = ConfigSecrets.Masked(original)!;
        var submitted = masked.DeepClone();
        ConfigSecrets.Restore(submitted, original);

        Assert.Equal(ConfigSecrets.Mask, masked["password"]!.GetValue<string>());
        Assert.Equal(ConfigSecrets.Mask, masked["nested"]!["apiToken"]!.GetValue<string>());
        Assert.Equal("/etc/gw/ua.pw", masked["passwordFile"]!.GetValue<string>());
        Assert.DoesNotContain("hunter2", masked.ToJsonString(), StringComparison.Ordinal);
        Assert.True(JsonNode.DeepEquals(original, submitted));
        Assert.True(ConfigSecrets.HasMask(masked));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
