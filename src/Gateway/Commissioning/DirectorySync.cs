using System.Runtime.InteropServices;
using System.Text;

namespace Gateway.Commissioning;

/// <summary>
/// fsync of a directory: after a rename, the directory entry itself must reach the disk, or a power loss can bring
/// back the old file (or none) although the new one was flushed. Linux and other Unix only; a no-op on Windows, whose
/// file system journals the rename.
/// </summary>
internal static class DirectorySync
{
    private const int ReadOnly = 0;
    private const int CloseOnExec = 0x80000;

    /// <summary>Flushes <paramref name="directory"/>'s entries to disk; throws <see cref="IOException"/> naming it when that fails.</summary>
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Open(Encoding.UTF8.GetBytes(directory + "\0"), ReadOnly | CloseOnExec, 0);
        if (fd < 0)
        {
            throw new IOException($"cannot open the directory {directory} to flush it to disk (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of the directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // DllImport with blittable arguments (the path as NUL-terminated UTF-8): LibraryImport would need unsafe code.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(byte[] path, int flags, int mode);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int fd);
}
