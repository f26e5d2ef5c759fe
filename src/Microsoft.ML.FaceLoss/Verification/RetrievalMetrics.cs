using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>
/// Retrieval figures of deep metric learning over a labelled embedding set: each item is a query
/// against all the others (itself excluded), ranked by cosine similarity: precision@1, R-precision
/// and MAP@R (Musgrave et al., "A metric learning reality check", 2020).
/// </summary>
public sealed class RetrievalMetrics
{
    private RetrievalMetrics()
    {
    }

    /// <summary>Share of queries whose nearest other item has the query's label.</summary>
    public double PrecisionAt1 { get; private init; }

    /// <summary>Mean over queries of the share of the R nearest that have the query's label (R = the other items of that label).</summary>
    public double RPrecision { get; private init; }

    /// <summary>Mean over queries of (1/R) times the sum of precision@i over the positions i of the R nearest that hold a match.</summary>
    public double MapAtR { get; private init; }

    /// <summary>Queries counted.</summary>
    public int Queries { get; private init; }

    /// <summary>Queries skipped because no other item has their label.</summary>
    public int SkippedQueries { get; private init; }

    /// <inheritdoc />
    public override string ToString() => $"P@1 {PrecisionAt1:F4}, R-precision {RPrecision:F4}, MAP@R {MapAtR:F4} over {Queries} queries ({SkippedQueries} skipped)";

    /// <summary>Computes the figures; similarities are batched matrix products.</summary>
    public static RetrievalMetrics Compute(IReadOnlyList<float[]> embeddings, IReadOnlyList<string> labels, int batchSize = 512)
    {
        if (embeddings.Count != labels.Count) throw new ArgumentException("One label per embedding is needed.");
        int n = embeddings.Count;
        if (n < 2) throw new ArgumentException("Retrieval needs at least two items.");
        int d = embeddings[0].Length;
        var labelIndex = labels.Distinct().Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
        var label = labels.Select(l => labelIndex[l]).ToArray();
        var counts = label.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        int maxR = counts.Values.Max() - 1;

        double p1 = 0, rPrecision = 0, map = 0;
        int queries = 0, skipped = 0;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var all = nn.functional.normalize(tensor(embeddings.SelectMany(e => e).ToArray(), new long[] { n, d }), p: 2, dim: 1);
        for (int start = 0; start < n; start += batchSize)
        {
            using var batchScope = NewDisposeScope();
            int count = Math.Min(batchSize, n - start);
            var similarity = all.narrow(0, start, count).mm(all.t());
            similarity.index_put_(float.NegativeInfinity, arange(count), arange(start, start + count)); // the query itself
            var nearest = similarity.topk(Math.Max(1, maxR), dim: 1).indexes.contiguous().data<long>().ToArray();
            int k = Math.Max(1, maxR);
            for (int q = 0; q < count; q++)
            {
                int query = start + q;
                int r = counts[label[query]] - 1;
                if (r == 0)
                {
                    skipped++;
                    continue;
                }
                queries++;
                int matches = 0;
                double precisionSum = 0;
                for (int i = 0; i < r; i++)
                {
                    if (label[nearest[q * k + i]] != label[query]) continue;
                    matches++;
                    precisionSum += matches / (double)(i + 1);
                }
                p1 += label[nearest[q * k]] == label[query] ? 1 : 0;
                rPrecision += matches / (double)r;
                map += precisionSum / r;
            }
        }
        return new RetrievalMetrics
        {
            PrecisionAt1 = queries == 0 ? double.NaN : p1 / queries,
            RPrecision = queries == 0 ? double.NaN : rPrecision / queries,
            MapAtR = queries == 0 ? double.NaN : map / queries,
            Queries = queries,
            SkippedQueries = skipped,
        };
    }
}
