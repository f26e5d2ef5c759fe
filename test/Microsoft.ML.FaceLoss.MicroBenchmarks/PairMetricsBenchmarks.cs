using BenchmarkDotNet.Attributes;
using Microsoft.ML.FaceLoss.Verification;

namespace Microsoft.ML.FaceLoss.MicroBenchmarks;

/// <summary>The verification figures (10-fold accuracy, ROC, AUC, EER, TAR at FAR) of scored pairs.</summary>
[MemoryDiagnoser]
public class PairMetricsBenchmarks
{
    private double[] _scores = Array.Empty<double>();
    private bool[] _same = Array.Empty<bool>();

    [Params(6_000, 1_000_000)]
    public int Pairs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _same = Enumerable.Range(0, Pairs).Select(_ => random.Next(2) == 0).ToArray();
        _scores = _same.Select(s => (double)(float)((s ? 0.5 : 0.1) + 0.2 * (random.NextDouble() + random.NextDouble() - 1))).ToArray();
    }

    [Benchmark]
    public double TenFoldMetrics() => VerificationMetrics.Compute(_scores, _same, foldCount: 10).Accuracy;
}
