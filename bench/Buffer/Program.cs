using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// The disk buffer: the batch buffer (one SQLite row per flush, binary codec) against the row-per-sample buffer it
// replaced (RowSampleBuffer, the baseline), both measured in the same run: append, read and acknowledge, in samples/s
// (one "op" is one sample) and allocated bytes per sample.
// Usage: dotnet run -c Release --project bench/Buffer [-- --filter '*Append*']
// In process: on this 2-core machine shared by several builds, the generated runner project did not build within
// BenchmarkDotNet's timeout. Each iteration moves 100,000 samples, so a few iterations suffice (Monitoring strategy).
var config = DefaultConfig.Instance.AddJob(Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithStrategy(RunStrategy.Monitoring)
    .WithLaunchCount(1)
    .WithWarmupCount(2)
    .WithIterationCount(15));
BenchmarkSwitcher.FromAssembly(typeof(Gateway.Benchmarks.Buffer.BufferBenchmarks).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
