using Gateway.Hosting;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

public sealed class StartupTrimTests
{
    [Theory]
    [InlineData("55d1c2a00000-55d1c4c00000 r-xp 00200000 fe:01 1312 /opt/gateway/gateway", 0x55d1c2a00000UL, 0x55d1c4c00000UL)]
    [InlineData("7f00aa000000-7f00aa100000 r--p 00000000 fe:01 77 /usr/lib/x86_64-linux-gnu/libc.so.6", 0x7f00aa000000UL, 0x7f00aa100000UL)]
    [InlineData("7f00aa000000-7f00aa100000 r--s 00000000 fe:01 77 /usr/share/dotnet/shared/My Folder/System.Private.CoreLib.dll", 0x7f00aa000000UL, 0x7f00aa100000UL)]
    public void ReadOnlyFileMapping_TakesReadOnlyMappingsOfFilesOnDisk(string line, ulong start, ulong end) =>
        Assert.Equal((start, end), StartupTrim.ReadOnlyFileMapping(line));

    [Theory]
    [InlineData("55d1c4c00000-55d1c4e00000 rw-p 02400000 fe:01 1312 /opt/gateway/gateway")] // the executable's data
    [InlineData("7f00ab000000-7f00ab400000 rw-p 00000000 00:00 0 ")] // anonymous: heaps
    [InlineData("7f00ab000000-7f00ab400000 r-xp 00000000 00:00 0 ")] // anonymous code
    [InlineData("564239edf000-564239fc6000 rw-p 00000000 00:00 0 [heap]")]
    [InlineData("7ffd1e9f8000-7ffd1e9fc000 r--p 00000000 00:00 0 [vvar]")]
    [InlineData("7f00ac000000-7f00ac800000 r-xs 00000000 00:01 2048 /memfd:doublemapper (deleted)")] // the JIT's code
    [InlineData("7f00ac000000-7f00ac800000 r--p 00000000 fe:01 99 /opt/gateway/old-gateway (deleted)")]
    [InlineData("7f00ad000000-7f00ad001000 r--s 00000000 00:05 12 /dev/gpiochip0")]
    [InlineData("garbage")]
    public void ReadOnlyFileMapping_LeavesEverythingElse(string line) => Assert.Null(StartupTrim.ReadOnlyFileMapping(line));

    [Fact]
    public void ReleaseFilePages_GivesTheFilePagesOfThisProcessBackAndTouchesNoAnonymousMemory()
    {
        // The test host maps the framework's assemblies and libraries: after the release the kernel counts fewer of
        // their pages resident (RssFile), and the anonymous memory (the heaps) stays. Pages another process maps too
        // (the framework's, under a build server) stay resident; the test's own assemblies are this process's alone.
        var heap = new byte[8 << 20];
        Random.Shared.NextBytes(heap);
        var (fileBefore, anonBefore) = Resident();

        var (advised, mappings, refused) = StartupTrim.ReleaseFilePages();
        var (fileAfter, anonAfter) = Resident();

        Assert.True(mappings > 10, $"{mappings} read-only file mappings");
        Assert.Equal(0, refused);
        Assert.True(advised > 0);
        Assert.True(fileAfter < fileBefore - 1024, $"RssFile {fileBefore} kB -> {fileAfter} kB");
        Assert.True(anonAfter > anonBefore - 1024, $"RssAnon {anonBefore} kB -> {anonAfter} kB");
        Assert.Equal(heap.Length, heap.Count(b => b == heap[0]) + heap.Count(b => b != heap[0])); // the heap is still there
    }

    private static (long FileKb, long AnonKb) Resident() => (ProcStatus.Kb("RssFile"), ProcStatus.Kb("RssAnon"));
}
