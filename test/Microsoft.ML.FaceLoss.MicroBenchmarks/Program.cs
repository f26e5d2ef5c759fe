using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In process: the benchmarks run in this build, with its GC-safe TorchSharp and LibTorch loader fix,
// instead of a project that BenchmarkDotNet would generate and build without them.
// --job short (3 warm-ups, 3 iterations) unless a --job is given; --filter chooses benchmarks.
var job = args.Contains("--job") ? Job.Default : Job.ShortRun;
var config = DefaultConfig.Instance.AddJob(job.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
