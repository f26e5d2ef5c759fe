using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.FaceLoss.Verification;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>
/// <see cref="VerificationMetrics.Compute"/> on many scored pairs with 10 folds, against sorting the
/// scores of each fold's training pairs once (what choosing each fold's threshold needs at least,
/// done the plain way).
/// </summary>
internal static class VerificationSpeed
{
    public static JsonObject Run(int pairs, int folds, int rounds)
    {
        var random = new Random(1);
        var same = new bool[pairs];
        var scores = new double[pairs];
        for (int i = 0; i < pairs; i++)
        {
            same[i] = random.Next(2) == 0;
            // Cosines of float embeddings: normal around 0.5 (same) or 0.1 (different), float precision.
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            scores[i] = (float)Math.Clamp((same[i] ? 0.5 : 0.1) + 0.2 * gaussian, -1, 1);
        }
        var fold = new int[pairs];
        for (int i = 0; i < pairs; i++) fold[i] = i % folds;

        double Ours()
        {
            var clock = Stopwatch.StartNew();
            var metrics = VerificationMetrics.Compute(scores, same, foldCount: folds);
            if (metrics.Folds != folds) throw new InvalidOperationException();
            return clock.Elapsed.TotalSeconds;
        }
        double SortPerFold()
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < folds; k++)
            {
                var training = new double[pairs - (pairs / folds + (k < pairs % folds ? 1 : 0))];
                int n = 0;
                for (int i = 0; i < pairs; i++)
                    if (fold[i] != k) training[n++] = scores[i];
                Array.Sort(training);
            }
            return clock.Elapsed.TotalSeconds;
        }
        Ours();
        SortPerFold();
        var (ours, reference) = Measurement.Alternate(rounds, Ours, SortPerFold);
        return SpeedFigure.Make("verification metrics", "s", Better.Lower, ours, reference,
            "Array.Sort of the training pairs' scores of each fold (one sort per fold)", 1.5, 2.0,
            new JsonObject { ["pairs"] = pairs, ["folds"] = folds, ["figures"] = "10-fold accuracy, ROC, AUC, EER, TAR at FAR 1e-1, 1e-2, 1e-3" });
    }
}
