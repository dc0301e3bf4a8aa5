using Gateway.Commissioning;

namespace Gateway.Tests.Commissioning;

/// <summary>Issue 16, the save's durability: the directory is flushed (fsync) after the rename.</summary>
public sealed class DirectorySyncTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dirsync-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Flush_MissingDirectory_ThrowsNamingIt_SoTheCallIsReal()
    {
        var missing = Path.Combine(_directory, "gone");

        DirectorySync.Flush(_directory);
        var error = Assert.Throws<IOException>(() => DirectorySync.Flush(missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("errno 2", error.Message, StringComparison.Ordinal); // ENOENT from open(2)
    }

    [Fact]
    public void Commit_RenamesKeepsTheBackup_AndTheDirectoryFlushSucceeds()
    {
        var path = Path.Combine(_directory, "gateway.json");
        File.WriteAllText(path, "{ \"old\": 1 }");
        var temporary = ConfigFileWriter.WriteTemporary(path, "{ \"new\": 2 }"u8.ToArray());
        var failures = new List<IOException>();

        var backup = ConfigFileWriter.Commit(path, temporary, failures.Add);

        Assert.Empty(failures);
        Assert.Equal("{ \"new\": 2 }", File.ReadAllText(path));
        Assert.Equal("{ \"old\": 1 }", File.ReadAllText(backup!));
        Assert.False(File.Exists(temporary));
    }

    [Fact]
    public void Commit_FlushesTheFilesDirectory_AfterTheRename()
    {
        var path = Path.Combine(_directory, "gateway.json");
        File.WriteAllText(path, "{ \"old\": 1 }");
        var temporary = ConfigFileWriter.WriteTemporary(path, "{ \"new\": 2 }"u8.ToArray());
        var flushed = new List<(string Directory, string Text)>();

        ConfigFileWriter.Commit(path, temporary, syncFailed: null, flushDirectory: d => flushed.Add((d, File.ReadAllText(path))));

        var (directory, text) = Assert.Single(flushed);
        Assert.Equal(Path.GetFullPath(_directory), directory);
        Assert.Equal("{ \"new\": 2 }", text); // flushed once the new file is in place, not before the rename
    }
}
