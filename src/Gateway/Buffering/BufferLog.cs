using Microsoft.Extensions.Logging;

namespace Gateway.Buffering;

internal static partial class BufferLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Buffer {Path} over its quota of {MaxBytes} bytes: dropping the oldest samples ({Dropped} so far); a summary follows every minute while it goes on")]
    public static partial void DropStarted(ILogger logger, string path, long maxBytes, long dropped);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Buffer resumed with {Count} samples ({Bytes} bytes) waiting in {Path}")]
    public static partial void Resumed(ILogger logger, long count, long bytes, string path);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Writing {Count} samples to the buffer failed; retrying")]
    public static partial void WriteFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Buffer {Path} still over its quota: dropped {Dropped} samples in the last {Seconds:F0} s ({Total} dropped since start)")]
    public static partial void DropSummary(ILogger logger, string path, long dropped, double seconds, long total);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Buffer {Path} back under its quota ({Total} samples dropped since start)")]
    public static partial void DropStopped(ILogger logger, string path, long total);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Buffer {Path}: migrated {Count} samples from the row-per-sample format into batches")]
    public static partial void Migrated(ILogger logger, long count, string path);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "Buffer {Path} was written by an earlier version: migrating its samples (about {Count}) into batches (once; the start waits for it)")]
    public static partial void Migrating(ILogger logger, string path, long count);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Error, Message = "Buffer {Path}: the batch of samples {First}-{Last} is unreadable ({Reason}); its {Lost} undelivered samples are dropped and counted")]
    public static partial void UnreadableBatch(ILogger logger, string path, long first, long last, string reason, long lost);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Error, Message = "The buffer's writer stopped before it could write its last {Count} samples (the disk kept failing until the shutdown timeout); they are lost")]
    public static partial void StopAbandoned(ILogger logger, int count);
}
