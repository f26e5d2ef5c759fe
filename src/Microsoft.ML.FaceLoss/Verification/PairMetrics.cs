namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>Verification figures of scored pairs (higher score = more alike).</summary>
internal static class PairMetrics
{
    /// <summary>
    /// The AUC (Mann-Whitney, ties one half) and the best balanced accuracy (TAR + TRR) / 2 over all
    /// thresholds, with the threshold (pairs scoring at or above it are accepted). O(n log n).
    /// </summary>
    public static (double Auc, double BalancedAccuracy, double Threshold) Summarize(IReadOnlyList<double> scores, IReadOnlyList<bool> same)
    {
        int n = scores.Count;
        var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ToArray();
        long positives = same.Count(s => s), negatives = n - positives;
        if (positives == 0 || negatives == 0) return (double.NaN, double.NaN, double.NaN);
        double auc = 0, best = -1, threshold = double.NaN;
        long acceptedSame = 0, acceptedDifferent = 0;
        for (int k = 0; k < n;)
        {
            // One group of tied scores at a time.
            int end = k;
            long groupSame = 0, groupDifferent = 0;
            while (end < n && scores[order[end]] == scores[order[k]])
            {
                if (same[order[end]]) groupSame++; else groupDifferent++;
                end++;
            }
            auc += groupDifferent * (acceptedSame + 0.5 * groupSame);
            acceptedSame += groupSame;
            acceptedDifferent += groupDifferent;
            double balanced = 0.5 * ((double)acceptedSame / positives + 1 - (double)acceptedDifferent / negatives);
            if (balanced > best)
            {
                best = balanced;
                threshold = scores[order[k]];
            }
            k = end;
        }
        return (auc / ((double)positives * negatives), best, threshold);
    }

    /// <summary>All pairs i &lt; j of labelled, L2-normalized embeddings, scored by cosine similarity.</summary>
    public static (double Auc, double BalancedAccuracy, double Threshold) AllPairs(IReadOnlyList<float[]> embeddings, IReadOnlyList<int> labels)
    {
        var scores = new List<double>();
        var same = new List<bool>();
        for (int i = 0; i < embeddings.Count; i++)
        {
            for (int j = i + 1; j < embeddings.Count; j++)
            {
                scores.Add(Dot(embeddings[i], embeddings[j]));
                same.Add(labels[i] == labels[j]);
            }
        }
        return Summarize(scores, same);
    }

    private static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }
}
