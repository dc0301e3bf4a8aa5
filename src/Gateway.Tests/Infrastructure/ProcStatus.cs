using System.Globalization;

namespace Gateway.Tests.Infrastructure;

/// <summary>The test process's own memory figures as the kernel reports them in /proc/self/status.</summary>
internal static class ProcStatus
{
    /// <summary>The kB value of a field (<c>VmRSS</c>, <c>RssFile</c>, <c>RssAnon</c>), read now.</summary>
    public static long Kb(string field)
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
