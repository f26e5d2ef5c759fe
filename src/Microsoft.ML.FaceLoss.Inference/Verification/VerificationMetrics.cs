namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>
/// The figures of 1:1 verification over labelled, scored pairs (higher score = more alike), as
/// <c>../shared/spec/protocols.md</c> defines them: K-fold accuracy with each fold's threshold chosen
/// on the other folds (the LFW protocol), the ROC curve, its AUC, the equal error rate, and true
/// accept rates at fixed false accept rates. Exact on ties; one sort of the scores and a linear pass per fold.
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
    /// <remarks>
    /// The scores are sorted once; the ROC curve, the threshold over all pairs and each fold's
    /// threshold are then sweeps over that one order (a fold's sweep skips its own pairs), so the cost
    /// is one sort plus a linear pass per fold.
    /// </remarks>
    public static VerificationMetrics Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> same, IReadOnlyList<int>? folds = null, int foldCount = 10)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(same);
        if (scores.Count != same.Count || (folds is not null && folds.Count != scores.Count))
            throw new ArgumentException("scores, same and folds must have one entry per pair.");
        var values = scores as double[] ?? scores.ToArray();
        var isSame = same as bool[] ?? same.ToArray();
        foreach (double s in values)
            if (!double.IsFinite(s)) throw new ArgumentException("Every score must be a finite number.", nameof(scores));
        int positives = 0;
        foreach (bool s in isSame) if (s) positives++;
        int negatives = isSame.Length - positives;
        if (positives == 0 || negatives == 0)
            throw new ArgumentException($"Verification needs same and different pairs; got {positives} same and {negatives} different.");

        int[] fold = folds is not null ? Renumber(folds, out foldCount) : Stratified(isSame, foldCount);
        if (foldCount < 2) throw new ArgumentException("At least two folds are needed.");
        var foldSize = new int[foldCount];
        foreach (int f in fold) foldSize[f]++;
        for (int k = 0; k < foldCount; k++)
            if (foldSize[k] == 0) throw new ArgumentException($"Fold {k} has no pairs.");

        // One sort: sorted[j] is the score of pair order[j], ascending.
        var sorted = (double[])values.Clone();
        var order = new int[sorted.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(sorted, order);
        var sortedSame = new bool[order.Length];
        var sortedFold = new int[order.Length];
        for (int j = 0; j < order.Length; j++)
        {
            sortedSame[j] = isSame[order[j]];
            sortedFold[j] = fold[order[j]];
        }

        var roc = RocCurve(sorted, sortedSame, positives, negatives, out double auc);
        var (threshold, bestAccuracy) = BestThreshold(sorted, sortedSame, sortedFold, leftOut: -1);
        var foldAccuracies = new double[foldCount];
        var foldThresholds = new double[foldCount];
        for (int k = 0; k < foldCount; k++)
            (foldThresholds[k], _) = BestThreshold(sorted, sortedSame, sortedFold, leftOut: k);
        var foldCorrect = new int[foldCount];
        for (int i = 0; i < isSame.Length; i++)
            if ((values[i] >= foldThresholds[fold[i]]) == isSame[i]) foldCorrect[fold[i]]++;
        for (int k = 0; k < foldCount; k++) foldAccuracies[k] = foldCorrect[k] / (double)foldSize[k];
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
    internal static (double Threshold, double Accuracy) BestThreshold(IReadOnlyList<double> scores, IReadOnlyList<bool> same)
    {
        var sorted = scores.ToArray();
        var order = new int[sorted.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(sorted, order);
        var sortedSame = new bool[order.Length];
        for (int j = 0; j < order.Length; j++) sortedSame[j] = same[order[j]];
        return BestThreshold(sorted, sortedSame, new int[order.Length], leftOut: -1);
    }

    /// <summary>
    /// <see cref="BestThreshold(IReadOnlyList{double}, IReadOnlyList{bool})"/> over the pairs of
    /// ascending <paramref name="sorted"/> scores whose fold is not <paramref name="leftOut"/>.
    /// </summary>
    private static (double Threshold, double Accuracy) BestThreshold(double[] sorted, bool[] same, int[] fold, int leftOut)
    {
        int n = sorted.Length, included = 0, correct = 0; // below the lowest score: everything accepted
        for (int j = 0; j < n; j++)
        {
            if (fold[j] == leftOut) continue;
            included++;
            if (same[j]) correct++;
        }
        int k = 0;
        while (k < n && fold[k] == leftOut) k++;
        double bestThreshold = included == 0 ? 0 : sorted[k] - 1, bestCorrect = correct;
        while (k < n)
        {
            double value = sorted[k];
            // Raising the threshold past this score rejects every pair that has it.
            for (; k < n && sorted[k] == value; k++)
                if (fold[k] != leftOut) correct += same[k] ? -1 : 1;
            while (k < n && fold[k] == leftOut) k++;
            double candidate = k < n ? (value + sorted[k]) / 2 : value + 1;
            if (correct > bestCorrect)
            {
                bestCorrect = correct;
                bestThreshold = candidate;
            }
        }
        return (bestThreshold, included == 0 ? double.NaN : bestCorrect / included);
    }

    /// <summary>The ROC curve and its AUC from ascending <paramref name="sorted"/> scores, walked from the highest down.</summary>
    private static List<RocPoint> RocCurve(double[] sorted, bool[] same, int positives, int negatives, out double auc)
    {
        var roc = new List<RocPoint> { new(double.PositiveInfinity, 0, 0) };
        long acceptedSame = 0, acceptedDifferent = 0;
        double wins = 0;
        for (int k = sorted.Length - 1; k >= 0;)
        {
            double value = sorted[k];
            long groupSame = 0, groupDifferent = 0;
            for (; k >= 0 && sorted[k] == value; k--)
            {
                if (same[k]) groupSame++; else groupDifferent++;
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

    private static int[] Stratified(bool[] same, int foldCount)
    {
        var fold = new int[same.Length];
        int sameSeen = 0, differentSeen = 0;
        for (int i = 0; i < same.Length; i++)
            fold[i] = same[i] ? sameSeen++ % foldCount : differentSeen++ % foldCount;
        return fold;
    }

    private static int[] Renumber(IReadOnlyList<int> folds, out int count)
    {
        var distinct = folds.Distinct().Order().ToArray();
        count = distinct.Length;
        var renumbered = new int[folds.Count];
        for (int i = 0; i < renumbered.Length; i++) renumbered[i] = Array.BinarySearch(distinct, folds[i]);
        return renumbered;
    }
}
