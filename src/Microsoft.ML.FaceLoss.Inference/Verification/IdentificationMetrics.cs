namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>
/// The figures of 1:N identification: closed-set rank-k accuracy and the CMC curve over probes of
/// enrolled identities, and open-set detection-and-identification rates at fixed false-positive
/// identification rates, with probes of people not enrolled (see <c>../shared/spec/protocols.md</c>).
/// </summary>
public sealed class IdentificationMetrics
{
    private IdentificationMetrics()
    {
    }

    /// <summary>Share of enrolled probes whose identity is the best gallery identity.</summary>
    public double Rank1 { get; private init; }

    /// <summary>Share of enrolled probes whose identity is among the 5 best; null where fewer than 5 identities are kept per probe.</summary>
    public double? Rank5 { get; private init; }

    /// <summary>The CMC curve: rank-k accuracy for k = 1 .. the identities kept per probe.</summary>
    public IReadOnlyList<double> Cmc { get; private init; } = Array.Empty<double>();

    /// <summary>Probes whose identity is enrolled.</summary>
    public int EnrolledProbes { get; private init; }

    /// <summary>Probes of people not enrolled.</summary>
    public int UnenrolledProbes { get; private init; }

    private IReadOnlyList<(double Score, bool Correct)> Enrolled { get; init; } = Array.Empty<(double, bool)>();

    private IReadOnlyList<double> UnenrolledScores { get; init; } = Array.Empty<double>();

    /// <summary>
    /// The detection-and-identification rate at false-positive identification rate
    /// <paramref name="fpir"/>: with the threshold above which that share of unenrolled probes score,
    /// the share of enrolled probes that are rank-1 correct and score above it. Null without enough
    /// unenrolled probes (at least 1 / FPIR) or without enrolled ones.
    /// </summary>
    public double? DetectionAndIdentificationRate(double fpir)
    {
        if (!(fpir > 0 && fpir < 1)) throw new ArgumentOutOfRangeException(nameof(fpir));
        if (EnrolledProbes == 0 || UnenrolledScores.Count < Math.Ceiling(1 / fpir - 1e-9)) return null;
        var sorted = UnenrolledScores.OrderByDescending(s => s).ToArray();
        double threshold = sorted[(int)Math.Floor(fpir * sorted.Length)]; // at most fpir * n score above it
        return Enrolled.Count(p => p.Correct && p.Score > threshold) / (double)EnrolledProbes;
    }

    /// <inheritdoc />
    public override string ToString()
        => $"rank-1 {Rank1:P2}, rank-5 {(Rank5 is { } r5 ? r5.ToString("P2") : "n/a")}, " +
           $"DIR@FPIR=1e-1 {(DetectionAndIdentificationRate(0.1) is { } d ? d.ToString("P2") : "n/a")}; {EnrolledProbes} enrolled and {UnenrolledProbes} unenrolled probes";

    /// <summary>Computes the figures.</summary>
    /// <param name="trueIdentities">Each probe's identity.</param>
    /// <param name="rankedIdentities">Each probe's best gallery identities, best first (the same number for every probe).</param>
    /// <param name="bestScores">Each probe's best score.</param>
    /// <param name="enrolled">The gallery's identities.</param>
    public static IdentificationMetrics Compute(IReadOnlyList<string> trueIdentities, IReadOnlyList<IReadOnlyList<string>> rankedIdentities,
        IReadOnlyList<double> bestScores, IEnumerable<string> enrolled)
    {
        if (trueIdentities.Count != rankedIdentities.Count || trueIdentities.Count != bestScores.Count)
            throw new ArgumentException("One identity, ranking and score per probe is needed.");
        var gallery = enrolled.ToHashSet();
        int k = rankedIdentities.Count == 0 ? 0 : rankedIdentities.Min(r => r.Count);
        var hits = new int[k];
        var enrolledProbes = new List<(double, bool)>();
        var unenrolled = new List<double>();
        for (int i = 0; i < trueIdentities.Count; i++)
        {
            if (!gallery.Contains(trueIdentities[i]))
            {
                unenrolled.Add(bestScores[i]);
                continue;
            }
            int rank = -1;
            for (int r = 0; r < k && rank < 0; r++)
                if (rankedIdentities[i][r] == trueIdentities[i]) rank = r;
            if (rank >= 0) hits[rank]++;
            enrolledProbes.Add((bestScores[i], rank == 0));
        }
        var cmc = new double[k];
        for (int r = 0, cumulative = 0; r < k; r++)
        {
            cumulative += hits[r];
            cmc[r] = enrolledProbes.Count == 0 ? double.NaN : cumulative / (double)enrolledProbes.Count;
        }
        return new IdentificationMetrics
        {
            Rank1 = k > 0 ? cmc[0] : double.NaN,
            Rank5 = k >= 5 ? cmc[4] : null,
            Cmc = cmc,
            EnrolledProbes = enrolledProbes.Count,
            UnenrolledProbes = unenrolled.Count,
            Enrolled = enrolledProbes,
            UnenrolledScores = unenrolled,
        };
    }
}
