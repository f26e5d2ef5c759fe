namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>
/// The figures of 1:1 verification over labelled, scored pairs (higher score = more alike), as
/// <c>../shared/spec/protocols.md</c> defines them: K-fold accuracy with each fold's threshold chosen
/// on the other folds (the LFW protocol), the ROC curve, its AUC, the equal error rate, and true
/// accept rates at fixed false accept rates. Exact on ties; O(n log n) in the number of pairs.
/// </summary>
public sealed class VerificationMetrics
{
    private readonly Dictionary<double, double?> _tarAtFar = new();

    private VerificationMetrics()
    {
    }

    /// <summary>The mean of the fold accuracies, each at the threshold chosen on the other folds.</summary>
    public double Accuracy { get; private init; }

    /// <summary>The (population) standard deviation of the fold accuracies.</summary>
    public double AccuracyStdDev { get; private init; }

    /// <summary>The accuracy of each fold.</summary>
    public IReadOnlyList<double> FoldAccuracies { get; private init; } = Array.Empty<double>();

    /// <summary>The threshold of each fold, chosen on the other folds.</summary>
    public IReadOnlyList<double> FoldThresholds { get; private init; } = Array.Empty<double>();

    /// <summary>The area under the ROC curve (Mann-Whitney; tied same/different pairs count one half).</summary>
    public double Auc { get; private init; }

    /// <summary>The equal error rate: where FAR = 1 - TAR, interpolated linearly between the ROC points around it.</summary>
    public double EqualErrorRate { get; private init; }

    /// <summary>The threshold with the highest accuracy over all pairs (the smallest such).</summary>
    public double Threshold { get; private init; }

    /// <summary>The accuracy over all pairs at <see cref="Threshold"/> (optimistic: chosen on the same pairs).</summary>
    public double BestAccuracy { get; private init; }

    /// <summary>The ROC curve from (0, 0) to (1, 1), one point per distinct score, thresholds descending.</summary>
    public IReadOnlyList<RocPoint> Roc { get; private init; } = Array.Empty<RocPoint>();

    /// <summary>The number of same-identity pairs.</summary>
    public int SamePairs { get; private init; }

    /// <summary>The number of different-identity pairs.</summary>
    public int DifferentPairs { get; private init; }

    /// <summary>The number of folds.</summary>
    public int Folds { get; private init; }

    /// <summary>
    /// The highest TAR among thresholds whose FAR is at most <paramref name="atFalseAcceptRate"/>; null
    /// where there are fewer than 1 / FAR different-identity pairs to measure it.
    /// </summary>
    public double? TrueAcceptRate(double atFalseAcceptRate)
    {
        if (_tarAtFar.TryGetValue(atFalseAcceptRate, out var cached)) return cached;
        if (!(atFalseAcceptRate > 0 && atFalseAcceptRate <= 1)) throw new ArgumentOutOfRangeException(nameof(atFalseAcceptRate));
        if (DifferentPairs < Math.Ceiling(1 / atFalseAcceptRate - 1e-9)) return null;
        return Roc.Where(p => p.FalseAcceptRate <= atFalseAcceptRate).Max(p => p.TrueAcceptRate);
    }

    /// <inheritdoc />
    public override string ToString()
        => $"accuracy {Accuracy:P2} +- {AccuracyStdDev:P2} ({Folds} folds), AUC {Auc:F4}, EER {EqualErrorRate:P2}, " +
           $"TAR@FAR=1e-2 {(TrueAcceptRate(1e-2) is { } t ? t.ToString("P2") : "n/a")}, threshold {Threshold:F4}, {SamePairs} same + {DifferentPairs} different pairs";

    /// <summary>Computes the figures of scored pairs.</summary>
    /// <param name="scores">The score of each pair.</param>
    /// <param name="same">Whether each pair shows one identity.</param>
    /// <param name="folds">The fold of each pair (any integers, one value per fold), or null to assign folds stratified: the i-th same and the i-th different pair go to fold i mod <paramref name="foldCount"/>.</param>
    /// <param name="foldCount">The number of folds when <paramref name="folds"/> is null. Default: 10.</param>
    public static VerificationMetrics Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> same, IReadOnlyList<int>? folds = null, int foldCount = 10)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(same);
        if (scores.Count != same.Count || (folds is not null && folds.Count != scores.Count))
            throw new ArgumentException("scores, same and folds must have one entry per pair.");
        if (scores.Any(s => !double.IsFinite(s))) throw new ArgumentException("Every score must be a finite number.", nameof(scores));
        int positives = same.Count(s => s), negatives = same.Count - positives;
        if (positives == 0 || negatives == 0)
            throw new ArgumentException($"Verification needs same and different pairs; got {positives} same and {negatives} different.");

        int[] fold = folds is not null ? Renumber(folds, out foldCount) : Stratified(same, foldCount);
        if (foldCount < 2) throw new ArgumentException("At least two folds are needed.");

        var all = Enumerable.Range(0, scores.Count).ToArray();
        var roc = RocCurve(scores, same, all, positives, negatives, out double auc);
        var (threshold, bestAccuracy) = BestThreshold(scores, same, all);
        var foldAccuracies = new double[foldCount];
        var foldThresholds = new double[foldCount];
        for (int k = 0; k < foldCount; k++)
        {
            var train = all.Where(i => fold[i] != k).ToArray();
            var test = all.Where(i => fold[i] == k).ToArray();
            if (test.Length == 0) throw new ArgumentException($"Fold {k} has no pairs.");
            var (t, _) = BestThreshold(scores, same, train);
            foldThresholds[k] = t;
            foldAccuracies[k] = test.Count(i => (scores[i] >= t) == same[i]) / (double)test.Length;
        }
        double mean = foldAccuracies.Average();
        var metrics = new VerificationMetrics
        {
            Accuracy = mean,
            AccuracyStdDev = Math.Sqrt(foldAccuracies.Sum(a => (a - mean) * (a - mean)) / foldCount),
            FoldAccuracies = foldAccuracies,
            FoldThresholds = foldThresholds,
            Auc = auc,
            EqualErrorRate = EqualError(roc),
            Threshold = threshold,
            BestAccuracy = bestAccuracy,
            Roc = roc,
            SamePairs = positives,
            DifferentPairs = negatives,
            Folds = foldCount,
        };
        foreach (double far in new[] { 1e-1, 1e-2, 1e-3 }) metrics._tarAtFar[far] = metrics.TrueAcceptRate(far);
        return metrics;
    }

    /// <summary>
    /// The threshold with the highest accuracy on the given pairs, and that accuracy. Candidates:
    /// one below the lowest score, the midpoints between consecutive distinct scores, one above the
    /// highest; ties go to the smallest. A pair is accepted when its score is at or above the threshold.
    /// </summary>
    internal static (double Threshold, double Accuracy) BestThreshold(IReadOnlyList<double> scores, IReadOnlyList<bool> same, int[] rows)
    {
        var order = rows.OrderBy(i => scores[i]).ToArray();
        int n = order.Length;
        int correct = rows.Count(i => same[i]); // below the lowest score: everything accepted
        double bestThreshold = n == 0 ? 0 : scores[order[0]] - 1, bestCorrect = correct;
        for (int k = 0; k < n;)
        {
            double value = scores[order[k]];
            // Raising the threshold past this score rejects every pair that has it.
            while (k < n && scores[order[k]] == value)
            {
                correct += same[order[k]] ? -1 : 1;
                k++;
            }
            double candidate = k < n ? (value + scores[order[k]]) / 2 : value + 1;
            if (correct > bestCorrect)
            {
                bestCorrect = correct;
                bestThreshold = candidate;
            }
        }
        return (bestThreshold, n == 0 ? double.NaN : bestCorrect / n);
    }

    private static List<RocPoint> RocCurve(IReadOnlyList<double> scores, IReadOnlyList<bool> same, int[] rows, int positives, int negatives, out double auc)
    {
        var order = rows.OrderByDescending(i => scores[i]).ToArray();
        var roc = new List<RocPoint> { new(double.PositiveInfinity, 0, 0) };
        long acceptedSame = 0, acceptedDifferent = 0;
        double wins = 0;
        for (int k = 0; k < order.Length;)
        {
            double value = scores[order[k]];
            long groupSame = 0, groupDifferent = 0;
            while (k < order.Length && scores[order[k]] == value)
            {
                if (same[order[k]]) groupSame++; else groupDifferent++;
                k++;
            }
            wins += groupDifferent * (acceptedSame + 0.5 * groupSame);
            acceptedSame += groupSame;
            acceptedDifferent += groupDifferent;
            roc.Add(new RocPoint(value, (double)acceptedDifferent / negatives, (double)acceptedSame / positives));
        }
        auc = wins / ((double)positives * negatives);
        return roc;
    }

    private static double EqualError(List<RocPoint> roc)
    {
        // g = FAR - (1 - TAR) rises from -1 at (0, 0) to 1 at (1, 1); the EER is where it crosses 0.
        static double G(RocPoint p) => p.FalseAcceptRate + p.TrueAcceptRate - 1;
        for (int i = 1; i < roc.Count; i++)
        {
            double before = G(roc[i - 1]), after = G(roc[i]);
            if (after >= 0)
            {
                double t = after == before ? 0 : -before / (after - before);
                return roc[i - 1].FalseAcceptRate + t * (roc[i].FalseAcceptRate - roc[i - 1].FalseAcceptRate);
            }
        }
        return 1;
    }

    private static int[] Stratified(IReadOnlyList<bool> same, int foldCount)
    {
        var fold = new int[same.Count];
        int sameSeen = 0, differentSeen = 0;
        for (int i = 0; i < same.Count; i++)
            fold[i] = same[i] ? sameSeen++ % foldCount : differentSeen++ % foldCount;
        return fold;
    }

    private static int[] Renumber(IReadOnlyList<int> folds, out int count)
    {
        var distinct = folds.Distinct().Order().ToList();
        count = distinct.Count;
        var index = distinct.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i);
        return folds.Select(f => index[f]).ToArray();
    }
}
