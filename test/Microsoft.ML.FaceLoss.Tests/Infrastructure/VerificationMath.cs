namespace Microsoft.ML.FaceLoss.Tests.Infrastructure;

/// <summary>Small verification figures for tests: every pair of a labelled embedding set, cosine scores, AUC.</summary>
public static class VerificationMath
{
    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>The AUC (Mann-Whitney, ties one half) of same-identity against different-identity pair scores over all pairs.</summary>
    public static double AllPairsAuc(IReadOnlyList<float[]> embeddings, IReadOnlyList<string> identities)
    {
        var same = new List<double>();
        var different = new List<double>();
        for (int i = 0; i < embeddings.Count; i++)
            for (int j = i + 1; j < embeddings.Count; j++)
                (identities[i] == identities[j] ? same : different).Add(Cosine(embeddings[i], embeddings[j]));
        different.Sort();
        double wins = 0;
        foreach (double s in same)
        {
            int below = LowerBound(different, s), notAbove = UpperBound(different, s);
            wins += below + 0.5 * (notAbove - below);
        }
        return wins / ((double)same.Count * different.Count);
    }

    private static int LowerBound(List<double> sorted, double value)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi) { int mid = (lo + hi) / 2; if (sorted[mid] < value) lo = mid + 1; else hi = mid; }
        return lo;
    }

    private static int UpperBound(List<double> sorted, double value)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi) { int mid = (lo + hi) / 2; if (sorted[mid] <= value) lo = mid + 1; else hi = mid; }
        return lo;
    }
}
