using BenchmarkDotNet.Running;

BenchmarkRunner.Run<Gateway.Benchmarks.Sparkplug.SparkplugEncodingBenchmarks>(args: args);
