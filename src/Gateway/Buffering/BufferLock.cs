using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Gateway.Buffering;

/// <summary>Another process (or another buffer in this one) holds the buffer.</summary>
public sealed class BufferLockedException(string path, int? ownerPid)
    : InvalidOperationException(ownerPid is { } pid
        ? $"the buffer {path} is in use by another gateway (PID {pid.ToString(CultureInfo.InvariantCulture)}); stop it or give this one its own buffer.path"
        : $"the buffer {path} is in use by another gateway; stop it or give this one its own buffer.path")
{
    public string BufferPath { get; } = path;

    public int? OwnerPid { get; } = ownerPid;
}

/// <summary>
/// One process per buffer: an exclusive <c>flock</c> on <c>&lt;buffer&gt;.lock</c>, which holds the owner's PID.
/// The kernel releases the lock when the process dies (kill -9 included), so a stale file never blocks a start.
/// On systems without flock, a FileStream opened with <see cref="FileShare.None"/> does the same (without the PID).
/// </summary>
public sealed class BufferLock : IDisposable
{
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int OpenReadWrite = 2;
    private const int OpenCreate = 0x40;
    private const int OpenCloseOnExec = 0x80000;
    private const int PidWidth = 16;

    private int _fd = -1;
    private FileStream? _stream;

    private BufferLock()
    {
    }

    /// <summary>Takes the lock of the buffer at <paramref name="bufferPath"/>, or throws <see cref="BufferLockedException"/>.</summary>
    public static BufferLock Acquire(string bufferPath)
    {
        var path = System.IO.Path.GetFullPath(bufferPath) + ".lock";
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return new BufferLock { _stream = stream };
            }
            catch (IOException)
            {
                throw new BufferLockedException(bufferPath, null);
            }
        }

        var fd = Open(Encoding.UTF8.GetBytes(path + "\0"), OpenReadWrite | OpenCreate | OpenCloseOnExec, Convert.ToInt32("644", 8));
        if (fd < 0)
        {
            throw new IOException($"cannot open the buffer's lock file {path} (errno {Marshal.GetLastPInvokeError()})");
        }

        if (Flock(fd, LockExclusive | LockNonBlocking) != 0)
        {
            var owner = ReadPid(fd);
            _ = Close(fd);
            throw new BufferLockedException(bufferPath, owner);
        }

        // A fixed width (the descriptor is at offset 0): it overwrites whatever PID an earlier owner left, and no
        // call takes an off_t, whose width differs between 32- and 64-bit ARM.
        var pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture).PadRight(PidWidth - 1) + "\n");
        _ = Write(fd, pid, pid.Length);
        return new BufferLock { _fd = fd };
    }

    /// <summary>
    /// Why a gateway could not take the buffer now, or null when it could (the lock is released again at once):
    /// the host checks before it starts, so that the refusal is one line rather than a failed start-up's stack trace.
    /// </summary>
    public static BufferLockedException? Check(string bufferPath)
    {
        if (!Directory.Exists(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(bufferPath))))
        {
            return null;
        }

        try
        {
            using var probe = Acquire(bufferPath);
            return null;
        }
        catch (BufferLockedException refused)
        {
            return refused;
        }
        catch (IOException)
        {
            // Not ours to report: the buffer's own open says what is wrong with the directory.
            return null;
        }
    }

    private static int? ReadPid(int fd)
    {
        var buffer = new byte[32];
        var read = Read(fd, buffer, buffer.Length);
        if (read <= 0)
        {
            return null;
        }

        return int.TryParse(Encoding.ASCII.GetString(buffer, 0, (int)read).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
        if (_fd >= 0)
        {
            // Closing the descriptor releases the lock; the file stays (deleting it would race with a starting gateway).
            _ = Close(_fd);
            _fd = -1;
        }
    }

    // DllImport with blittable arguments (the path as NUL-terminated UTF-8): LibraryImport would need unsafe code.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(byte[] path, int flags, int mode);

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Flock(int fd, int operation);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern nint Write(int fd, byte[] buffer, nint count);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern nint Read(int fd, byte[] buffer, nint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int fd);
}
