namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>Scores of embedding pairs.</summary>
internal static class PairScoreMath
{
    /// <summary>The cosine similarity of two vectors (0 where one is zero).</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }

    /// <summary>Minus the Euclidean distance of two vectors (higher = more alike).</summary>
    public static double NegativeEuclidean(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            sum += d * d;
        }
        return -Math.Sqrt(sum);
    }

    /// <summary>Every pair i &lt; j of a labelled embedding set, scored by cosine similarity.</summary>
    public static (List<double> Scores, List<bool> Same) AllPairs(IReadOnlyList<float[]> embeddings, IReadOnlyList<int> labels)
    {
        var scores = new List<double>();
        var same = new List<bool>();
        for (int i = 0; i < embeddings.Count; i++)
        {
            for (int j = i + 1; j < embeddings.Count; j++)
            {
                scores.Add(Cosine(embeddings[i], embeddings[j]));
                same.Add(labels[i] == labels[j]);
            }
        }
        return (scores, same);
    }
}
