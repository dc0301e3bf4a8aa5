using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting;

/// <summary>
/// Gives what only the start needed back to the operating system, once, <see cref="Delay"/> after the start, when the
/// drivers have made their first reads; nothing after:
/// <list type="bullet">
/// <item>the start's garbage: loading and binding the configuration, the first connections and the first polls leave
/// the GC with tens of MB committed and free, which it would otherwise keep (measured at 1000 tags at 1 Hz: 42 MB
/// committed for an 11 MB heap, 24 MB after one aggressive collection);</item>
/// <item>the start's code pages (<see cref="ReleaseFilePages"/>): the command line, the configuration's schema walk and
/// binding, the host's and the web server's set-up run once, and the kernel keeps their pages of the executable (and
/// the pages around each, read ahead) resident until memory runs short. Measured, native AOT at 1000 tags at 1 Hz:
/// 35 MB of file pages resident, of which the running gateway touches again 4 MB; RSS 62 -> 45 MB.</item>
/// </list>
/// </summary>
public sealed partial class StartupTrim(TimeProvider timeProvider, ILogger<StartupTrim> logger) : BackgroundService
{
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Delay, timeProvider, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var released = ReleaseFilePages();
        LogTrimmed(logger, released.Advised / (1024 * 1024), released.Mappings, released.Refused);
    }

    /// <summary>
    /// Asks the kernel to reclaim now (<c>madvise(MADV_PAGEOUT)</c>, Linux 5.4 and later) the resident pages of every
    /// read-only file mapping of the process: the executable, its libraries, the framework's assemblies. They are clean
    /// copies of files, so nothing is lost: a page the gateway needs again is read back at its next use (from the
    /// page cache, or from the disk once), which is what the kernel does to them anyway under memory pressure; pages
    /// another process maps too are left alone by the kernel. Writable and anonymous memory (the heaps, the JIT's
    /// code, the stacks) is not touched. Returns what was asked and how many mappings the kernel refused (an older
    /// kernel refuses all: nothing changes then).
    /// </summary>
    internal static (long Advised, int Mappings, int Refused) ReleaseFilePages(string maps = "/proc/self/maps")
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, 0, 0);
        }

        long advised = 0;
        int mappings = 0, refused = 0;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(maps);
        }
        catch (IOException)
        {
            return (0, 0, 0);
        }

        foreach (var line in lines)
        {
            if (ReadOnlyFileMapping(line) is not { } range)
            {
                continue;
            }

            mappings++;
            if (Madvise((nint)range.Start, (nuint)(range.End - range.Start), MadvPageout) == 0)
            {
                advised += (long)(range.End - range.Start);
            }
            else
            {
                refused++;
            }
        }

        return (advised, mappings, refused);
    }

    /// <summary>
    /// The address range of a line of /proc/PID/maps when it maps a file on disk read-only (no <c>w</c>: the
    /// executable's code and read-only data, libraries, assemblies); null for anonymous, writable, deleted and
    /// pseudo mappings (<c>[heap]</c>, <c>memfd:</c>, <c>/dev/</c>).
    /// </summary>
    internal static (ulong Start, ulong End)? ReadOnlyFileMapping(string line)
    {
        // "start-end perms offset dev inode path", the path from the sixth field to the end of the line.
        var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 6 || fields[1].Length < 4 || fields[1][1] == 'w')
        {
            return null;
        }

        var path = fields[5].Trim();
        if (!path.StartsWith('/') || path.StartsWith("/dev/", StringComparison.Ordinal) || path.EndsWith(" (deleted)", StringComparison.Ordinal))
        {
            return null;
        }

        var dash = fields[0].IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0
            || !ulong.TryParse(fields[0].AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(fields[0].AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end)
            || end <= start)
        {
            return null;
        }

        return (start, end);
    }

    private const int MadvPageout = 21;

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Madvise(nint address, nuint length, int advice);

    [LoggerMessage(EventId = 1730, Level = LogLevel.Debug, Message = "Start-up trim: GC heap compacted, {AdvisedMb} MB of read-only file pages in {Mappings} mappings given back to the kernel ({Refused} refused)")]
    private static partial void LogTrimmed(ILogger logger, long advisedMb, int mappings, int refused);
}
