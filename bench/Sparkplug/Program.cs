using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In process: the generated project's build takes longer than BenchmarkDotNet's two-minute limit on a busy 2-core box.
var config = DefaultConfig.Instance.AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(8).WithToolchain(InProcessEmitToolchain.Instance));
BenchmarkRunner.Run<Gateway.Benchmarks.Sparkplug.SparkplugEncodingBenchmarks>(config, args);
