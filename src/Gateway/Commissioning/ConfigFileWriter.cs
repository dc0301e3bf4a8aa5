using System.Globalization;

namespace Gateway.Commissioning;

/// <summary>
/// Writes a configuration file atomically and keeps numbered backups: the new text goes to a temporary file in the
/// same directory (same file system, so the rename is atomic; the original's permission bits), is flushed to disk
/// (fsync), the current file is copied to <c>gateway.json.1</c> (the older backups shifted to <c>.2</c> ... and the
/// oldest past <see cref="MaxBackups"/> deleted), the temporary file is renamed over the original, and the directory
/// is flushed (fsync) so that the rename survives a power loss. A reader sees
/// either the old file or the new one, never a half-written one; a crash leaves at worst a stray temporary file.
/// </summary>
public static class ConfigFileWriter
{
    /// <summary>How many numbered backups are kept (<c>.1</c> the newest).</summary>
    public const int MaxBackups = 10;

    /// <summary>The prefix of the temporary files, hidden and named after the file (<c>.gateway.json.save-*</c>).</summary>
    public static string TemporaryPrefix(string path) => "." + Path.GetFileName(path) + ".save-";

    /// <summary>Writes <paramref name="bytes"/> to a new temporary file next to <paramref name="path"/>, flushed to disk.</summary>
    public static string WriteTemporary(string path, byte[] bytes)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, TemporaryPrefix(path) + Guid.NewGuid().ToString("N")[..12]);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = File.Exists(path) ? File.GetUnixFileMode(path) : UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        return temporary;
    }

    /// <summary>
    /// Moves the current file to backup <c>.1</c> (by copy: the original stays in place until the rename) and renames
    /// <paramref name="temporary"/> over <paramref name="path"/>. Returns the backup's name, or null when there was no file.
    /// </summary>
    /// <paramref name="syncFailed"/> hears when the directory cannot be flushed (the new file is in place, but a power
    /// loss now could bring back the old one); without it, that failure throws.
    public static string? Commit(string path, string temporary, Action<IOException>? syncFailed = null) =>
        Commit(path, temporary, syncFailed, DirectorySync.Flush);

    /// <summary><see cref="Commit(string, string, Action{IOException}?)"/> with the directory flush given (tests watch it).</summary>
    internal static string? Commit(string path, string temporary, Action<IOException>? syncFailed, Action<string> flushDirectory)
    {
        string? backup = null;
        if (File.Exists(path))
        {
            Rotate(path);
            backup = Backup(path, 1);
            File.Copy(path, backup, overwrite: true);
        }

        File.Move(temporary, path, overwrite: true);

        // The rename (and the backups' names) reach the disk only when the directory is flushed too.
        try
        {
            flushDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch (IOException ex) when (syncFailed is not null)
        {
            syncFailed(ex);
        }

        return backup;
    }

    /// <summary>The name of backup <paramref name="number"/>: <c>gateway.json.3</c>.</summary>
    public static string Backup(string path, int number) => path + "." + number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Deletes a temporary file that will not be committed; never throws.</summary>
    public static void Discard(string temporary)
    {
        try
        {
            File.Delete(temporary);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind: a hidden file next to the configuration, overwritten by nobody, harmless.
        }
    }

    /// <summary>Shifts <c>.1</c>..<c>.9</c> to <c>.2</c>..<c>.10</c>; <c>.10</c> is deleted first.</summary>
    private static void Rotate(string path)
    {
        var oldest = Backup(path, MaxBackups);
        if (File.Exists(oldest))
        {
            File.Delete(oldest);
        }

        for (var number = MaxBackups - 1; number >= 1; number--)
        {
            var from = Backup(path, number);
            if (File.Exists(from))
            {
                File.Move(from, Backup(path, number + 1), overwrite: true);
            }
        }
    }
}
