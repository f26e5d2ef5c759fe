namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>The repeated measurements of one quantity: their minimum, median and maximum.</summary>
internal sealed class Measurement
{
    private readonly List<double> _values = new();

    public void Add(double value) => _values.Add(value);

    public int Count => _values.Count;

    public double Min => _values.Min();

    public double Max => _values.Max();

    public double Median => Quantile(0.5);

    /// <summary>
    /// The median of the paired ratios ours[i] / reference[i] (two measurements taken side by side,
    /// round by round), or the ratio of the medians where the counts differ. Pairing keeps the
    /// machine's drift between rounds out of the ratio.
    /// </summary>
    public static double PairedRatio(Measurement ours, Measurement reference)
    {
        if (ours.Count != reference.Count) return ours.Median / reference.Median;
        var ratios = new Measurement();
        for (int i = 0; i < ours.Count; i++) ratios.Add(ours._values[i] / reference._values[i]);
        return ratios.Median;
    }

    /// <summary>The q-quantile, linear between the order statistics.</summary>
    public double Quantile(double q)
    {
        var sorted = _values.Order().ToArray();
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    /// <summary>
    /// Runs <paramref name="ours"/> and <paramref name="reference"/> <paramref name="rounds"/> times
    /// each, alternating, and the order flipping every round (ABBA), so that a machine that speeds up
    /// or slows down during the run burdens both alike. Each function returns its figure.
    /// </summary>
    public static (Measurement Ours, Measurement Reference) Alternate(int rounds, Func<double> ours, Func<double> reference)
    {
        var a = new Measurement();
        var b = new Measurement();
        for (int round = 0; round < rounds; round++)
        {
            if (round % 2 == 0)
            {
                a.Add(ours());
                b.Add(reference());
            }
            else
            {
                b.Add(reference());
                a.Add(ours());
            }
        }
        return (a, b);
    }
}
