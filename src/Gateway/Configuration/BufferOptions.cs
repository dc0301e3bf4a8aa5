using System.ComponentModel.DataAnnotations;
using Gateway.Drivers;

namespace Gateway.Configuration;

/// <summary>The store-and-forward buffer on disk (SQLite, WAL).</summary>
public sealed class BufferOptions
{
    /// <summary>The SQLite file; relative paths are relative to the working directory (the state directory under systemd).</summary>
    [Required]
    public string Path { get; set; } = "data/buffer.db";

    /// <summary>Quota of buffered sample bytes; over it the oldest samples are dropped and counted. Default 256 MiB.</summary>
    [Range(4096, long.MaxValue)]
    public long MaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// The longest a sample waits in memory before it is written to disk, in milliseconds: what a kill -9 may lose at
    /// most. A poll's samples are written as soon as the poll's burst is over (2 ms without a new sample), so this
    /// bounds a steady stream; commits are at least a fiftieth of it apart (at most 10 ms).
    /// </summary>
    [Range(1, 60_000)]
    public int FlushIntervalMs { get; set; } = 100;

    /// <summary>How many samples the publisher reads from the buffer at a time.</summary>
    [Range(1, 100_000)]
    public int ReadBatchSize { get; set; } = 5000;
}

/// <summary>The buffer's file must be writable: a gateway that cannot buffer must not start.</summary>
public sealed class BufferRules : IConfigRule
{
    public void Check(ConfigContext context, List<ConfigProblem> problems) =>
        ConfigFiles.CheckWritable(context.Config.Buffer.Path, "buffer.path", problems);
}
